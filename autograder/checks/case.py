"""A test case: one call of a graded function, judged against the reference solution."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class Case:
    """Arguments for one call of ``exercise``'s function, with how it counts and what it reveals.

    ``hidden`` cases never show their expected values in feedback; ``weight``
    is the case's share of the exercise's points relative to its siblings;
    ``watch_inputs`` asks for the arguments back after the call, to check what
    the function did to them.
    """

    exercise: str
    label: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    hidden: bool = True
    weight: float = 1.0
    watch_inputs: bool = False

    @property
    def id(self) -> str:
        return f"{self.exercise}: {self.label}"

    def fresh_args(self) -> tuple[tuple, dict[str, Any]]:
        """Deep copies of the arguments, so that no call can change another's inputs."""
        return copy.deepcopy(self.args), copy.deepcopy(self.kwargs)

    def __str__(self) -> str:
        return self.label
