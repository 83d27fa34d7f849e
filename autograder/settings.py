"""What the instructor chooses to tell students, read from one TOML file (``optkit.toml``).

The file has one table, ``[feedback]``; every key is optional::

    [feedback]
    hints = true                 # show the fallback hint of a failed case (it can spell out the recipe)
    hidden_cases = "visible"     # when students see hidden cases: visible | after_due_date | after_published | hidden
    hidden_labels = true         # show hidden cases' labels (they state the case's inputs) or "hidden case 3"

``hidden_cases`` is Gradescope's ``visibility`` of each hidden case's test; on
a feedback page (released after grading) ``hidden`` leaves hidden cases out and
the other values show them.  The named misconception of a failed case is always
shown: it says what went wrong, not how to write the answer.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SETTINGS_FILE = "optkit.toml"
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


class SettingsError(ValueError):
    """The settings file is missing, unreadable or holds a value that is not allowed."""


@dataclass(frozen=True)
class FeedbackSettings:
    """How much feedback students get (the defaults are the kit's behaviour before settings existed)."""

    hints: bool = True
    hidden_cases: str = "visible"
    hidden_labels: bool = True

    def __post_init__(self) -> None:
        for name in ("hints", "hidden_labels"):
            if type(getattr(self, name)) is not bool:
                raise SettingsError(f"feedback.{name} must be true or false, not {getattr(self, name)!r}")
        if self.hidden_cases not in VISIBILITIES:
            raise SettingsError(f"feedback.hidden_cases must be one of {', '.join(VISIBILITIES)}, "
                                f"not {self.hidden_cases!r}")

    @property
    def shows_hidden_cases(self) -> bool:
        """Whether a feedback page (released after grading) lists the hidden cases."""
        return self.hidden_cases != "hidden"

    def describe(self) -> str:
        """One line for reports: the policy students were graded under."""
        return (f"hints {'on' if self.hints else 'off'}; hidden cases {self.hidden_cases}; "
                f"hidden case labels {'shown' if self.hidden_labels else 'not shown'}")


DEFAULT_SETTINGS = FeedbackSettings()


def load_settings(path: Path | None = None) -> FeedbackSettings:
    """The settings of ``path``; without a path, of ``./optkit.toml`` if it exists, else the defaults."""
    if path is None:
        path = Path(SETTINGS_FILE)
        if not path.is_file():
            return DEFAULT_SETTINGS
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"cannot read the settings file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path} is not valid TOML: {error}") from None
    try:
        return parse_settings(data)
    except SettingsError as error:
        raise SettingsError(f"{path}: {error}") from None


def parse_settings(data: dict[str, Any]) -> FeedbackSettings:
    """Settings from parsed TOML, refusing unknown tables and keys (a typo must not go unnoticed)."""
    unknown = sorted(set(data) - {"feedback"})
    if unknown:
        raise SettingsError(f"unknown table(s) {unknown}; the only table is [feedback]")
    table = data.get("feedback", {})
    if not isinstance(table, dict):
        raise SettingsError("feedback must be a table: [feedback]")
    allowed = [field.name for field in fields(FeedbackSettings)]
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SettingsError(f"unknown key(s) {unknown} in [feedback]; allowed: {', '.join(allowed)}")
    return FeedbackSettings(**table)
