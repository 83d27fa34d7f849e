"""One pytest session over the hidden tests: collected once, its test items run again for each submission.

A :class:`~autograder.grade.Grader` grades many submissions with the same
hidden tests.  Starting pytest and collecting the test modules is the same work
every time, so a :class:`HiddenTests` session is configured and collected once
and kept open; :meth:`HiddenTests.run` then runs every collected item through
pytest's own per-test protocol (setup, call, teardown, reports), ending with a
full teardown, as a plain ``pytest`` run would.  What differs from one
submission to the next lives in the grading plugin, which starts each
submission afresh (:meth:`~autograder.checks.plugin.GradingPlugin.start`).

This drives pytest the way ``pytest.main`` does (``_prepareconfig``, configure,
session start, collection; at the end session finish and unconfigure), with the
run loop in our hands.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.config import _prepareconfig

AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


class HiddenTestsError(RuntimeError):
    """The hidden tests could not be collected (a broken test module, configuration or plugin)."""


class HiddenTests:
    """A configured pytest session whose items (collected once) can be run any number of times."""

    def __init__(self, tests_dir: Path, ini: Path, plugin: object) -> None:
        args = [str(tests_dir), "-c", str(ini), "--rootdir", str(tests_dir), "--confcutdir", str(tests_dir),
                "-p", "no:terminal", "-p", "no:capture"]  # confcutdir: no conftest.py of the folders above
        self._problems: list[str] = []
        self._log = io.StringIO()
        self.config: pytest.Config | None = None
        self.session: pytest.Session | None = None
        try:
            # Installed pytest plugins (xdist, ...) stay out of grading: they cost start-up time and add nothing.
            with self._quiet(), temporary_environment({AUTOLOAD: "1"}):
                self.config = _prepareconfig(args, [plugin, self])
                self.config._do_configure()
                self.session = pytest.Session.from_config(self.config)
                self.config.hook.pytest_sessionstart(session=self.session)
                self.config.hook.pytest_collection(session=self.session)
        except Exception as error:  # noqa: BLE001 - whatever broke, the hidden tests cannot run: say what
            self._problems.append(f"{type(error).__name__}: {error}")
        if self._problems or self.session is None or not self.session.items:
            self.close()
            raise HiddenTestsError("the hidden tests could not run:\n" + "\n".join(self._problems or ["no tests"])
                                   + self._log.getvalue()[-3000:])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._problems.append(f"{report.nodeid}: {str(report.longrepr)[-2000:]}")

    def run(self) -> None:
        """Run every item once (the plugin's hooks record the outcomes), then tear everything down."""
        if self.session is None:
            raise HiddenTestsError("the hidden tests' session was closed")
        items = self.session.items
        self._log = io.StringIO()
        with self._quiet():
            for index, item in enumerate(items):
                following = items[index + 1] if index + 1 < len(items) else None  # None: full teardown
                item.ihook.pytest_runtest_protocol(item=item, nextitem=following)

    def close(self) -> None:
        """Finish the session and unconfigure pytest (once; later calls do nothing)."""
        config, session = self.config, self.session
        self.config = self.session = None
        if config is None:
            return
        with self._quiet():
            if session is not None:
                with contextlib.suppress(Exception):  # a session that never started has nothing to finish
                    config.hook.pytest_sessionfinish(session=session, exitstatus=pytest.ExitCode.OK)
            config._ensure_unconfigure()

    def _quiet(self) -> contextlib.redirect_stdout:
        """Whatever pytest or a plugin prints goes to the log (kept for the error message of a failed start)."""
        return contextlib.redirect_stdout(self._log)


@contextlib.contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ while the block runs (processes started in it inherit them), then as before."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
