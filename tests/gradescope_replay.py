"""Replaying Gradescope's run on this machine, with its real file layout under a temporary root.

:func:`install` unpacks an autograder zip into ``ROOT/source`` and runs its
``setup.sh`` as Gradescope does (as root), except that pip installs nothing from
the network: the venv sees this environment's packages (``--system-site-packages``)
and pip runs with ``--no-index`` (the test-only settings documented in setup.sh).
:func:`submit` lays out ``ROOT/submission`` (and ``submission_metadata.json``),
runs ``run_autograder`` and returns results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest


def _env(root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "OPTKIT_COURSE")}
    return {**env, "OPTKIT_GRADESCOPE_ROOT": str(root), "OPTKIT_PYTHON": sys.executable,
            "OPTKIT_VENV_OPTIONS": "--system-site-packages", "OPTKIT_PIP_OPTIONS": "--no-index"}


def new_root() -> Path:
    """A temporary folder laid out as /autograder (traversable, as /autograder is)."""
    root = Path(tempfile.mkdtemp(prefix="optkit-gradescope-"))
    root.chmod(0o755)
    return root


def install(package: Path, root: Path) -> subprocess.CompletedProcess:
    """Unpack the zip into ROOT/source and run setup.sh there, as root."""
    with zipfile.ZipFile(package) as archive:
        archive.extractall(root / "source")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", env=_env(root),
                           capture_output=True, text=True, timeout=600)
    if setup.returncode != 0:
        pytest.fail(f"setup.sh failed ({setup.returncode}):\n{setup.stdout}\n{setup.stderr}")
    return setup


def submit(root: Path, files: dict[str, bytes], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Lay out one submission, run run_autograder, return results.json (which must be valid JSON)."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    (root / "submission_metadata.json").unlink(missing_ok=True)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=_env(root),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = root / "results" / "results.json"
    assert results.stat().st_mode & 0o777 == 0o644
    return json.loads(results.read_text())


def check_isolation_field(results: dict[str, Any]) -> None:
    """The sandbox's isolation level, when the grader reports one (extra_data.isolation)."""
    isolation = results.get("extra_data", {}).get("isolation")
    if isolation is not None:
        assert isinstance(isolation, (str, dict)) and isolation


def shown_text(results: dict[str, Any]) -> str:
    """Everything results.json shows: the top output and every test's name and output."""
    return "\n".join([results.get("output", ""), *(f"{t['name']}\n{t.get('output', '')}" for t in results["tests"])])
