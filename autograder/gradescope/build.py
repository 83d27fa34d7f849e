"""``python -m autograder gradescope``: the zip to upload as a Gradescope autograder.

The zip holds ``setup.sh`` and ``run_autograder`` (from ``templates/``), the
kit as a wheel written here (pure Python, no build tool needed), the pinned
grading dependencies (``requirements.txt``: the versions of the environment
that builds the zip), ``optkit.json`` (the assignment and its limits), the feedback settings
(``optkit.toml``, when given) and the
assignment's grading data under ``course/``: the master notebook, the helper
modules and the hidden tests, which ``setup.sh`` makes readable by root only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from importlib import metadata
from pathlib import Path

from autograder import __version__
from autograder.course import PACKAGE_DIR, AssignmentFiles, CourseError
from autograder.gradescope import CONFIG_NAME, COURSE_DIR, SETTINGS_NAME

TEMPLATES = Path(__file__).resolve().parent / "templates"
EXECUTABLES = ("setup.sh", "run_autograder")
GRADING_REQUIREMENTS = ("numpy", "nbformat", "pytest")
DISTRIBUTION = "optimization_methods_kit"
CACHES = frozenset({"__pycache__", ".ipynb_checkpoints"})
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # the same inputs give the same zip


class BuildError(RuntimeError):
    """The package could not be built."""


def build_package(files: AssignmentFiles, out: Path, settings: Path | None = None, timeout: float = 5.0,
                  memory_mb: int = 256) -> Path:
    """Write the Gradescope autograder zip for ``files`` (with the feedback ``settings`` file, if any) to
    ``out`` (replaced atomically); return ``out``."""
    try:
        files.check()
    except CourseError as error:
        raise BuildError(str(error)) from None
    entries: dict[str, bytes] = {name: (TEMPLATES / name).read_bytes() for name in EXECUTABLES}
    entries["requirements.txt"] = requirements().encode()
    entries[CONFIG_NAME] = json.dumps({"assignment": files.name, "timeout": timeout, "memory_mb": memory_mb},
                                      indent=2).encode()
    entries[f"{DISTRIBUTION}-{__version__}-py3-none-any.whl"] = kit_wheel()
    if settings is not None:
        entries[SETTINGS_NAME] = Path(settings).read_bytes()
    for folder in (files.source_dir, files.utils_dir, files.hidden_tests):
        for path in _files(folder):
            if path == files.mutant_catalogue or (folder == files.source_dir and path != files.master):
                continue  # not needed to grade: the mutant catalogue, the master's images
            entries[f"{COURSE_DIR}/{path.relative_to(files.course).as_posix()}"] = path.read_bytes()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries.items()):
            _add(archive, name, data, 0o755 if name in EXECUTABLES else 0o644)
    partial.replace(out)
    return out


def requirements() -> str:
    """The grading dependencies, pinned to the versions installed here."""
    lines = []
    for name in GRADING_REQUIREMENTS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            raise BuildError(f"{name} is not installed here, so its version cannot be pinned") from None
    return "\n".join(lines) + "\n"


def kit_wheel() -> bytes:
    """The ``autograder`` package (without any bundled course) as a pure-Python wheel, in memory."""
    dist_info = f"{DISTRIBUTION}-{__version__}.dist-info"
    contents = {f"autograder/{path.relative_to(PACKAGE_DIR).as_posix()}": path.read_bytes()
                for path in _files(PACKAGE_DIR, skipped=CACHES | {"course"})}
    contents[f"{dist_info}/METADATA"] = (f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {__version__}\n"
                                         "Summary: the assignment kit's autograder, for Gradescope\n").encode()
    contents[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: optkit\nRoot-Is-Purelib: true\n"
                                      b"Tag: py3-none-any\n")
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in contents.items()]
    contents[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents.items():
            _add(wheel, name, data, 0o644)
    return buffer.getvalue()


def _files(folder: Path, skipped: frozenset[str] = CACHES) -> list[Path]:
    """The files under ``folder``, caches (and ``skipped`` folders) left out."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix != ".pyc"
                  and not skipped & set(path.relative_to(folder).parts[:-1]))


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
