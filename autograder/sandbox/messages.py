"""The messages between the grader and the sandbox worker, as typed records.

Each crosses the wire (see :mod:`.wire`) as a JSON header naming its ``event``;
:func:`parse` turns a header back into its record and raises ``WireError`` for
anything else.  Student code's own frames (``case``, ``load_error``, ``done``)
are not among these: the worker relays them as opaque bytes inside a
:class:`Frame`, and the grader reads them as untrusted data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from autograder.sandbox.wire import WireError

# How a child that cannot go on says why, in its exit status (a child could fake them: they only choose words).
EXIT_OUT_OF_MEMORY, EXIT_NOT_CONFINED = 86, 87


@dataclass(frozen=True)
class CaseSpec:
    """One call: arguments as wire trees (their arrays are in the request's buffers).

    ``args`` and ``kwargs`` are None when an earlier request to the same worker carried this case's inputs:
    the worker keeps them, so large arrays cross the pipe once per worker.
    """

    id: str
    args: Any
    kwargs: Any
    watch_inputs: bool = False


@dataclass(frozen=True)
class SnippetSpec:
    source: str
    filename: str
    line: int = 1


@dataclass(frozen=True)
class JobSpec:
    exercise: str
    function: str
    snippets: tuple[SnippetSpec, ...]
    cases: tuple[CaseSpec, ...]


@dataclass(frozen=True)
class LimitSpec:
    timeout: float
    memory_bytes: int
    output_bytes: int
    output_shown: int
    result_bytes: int
    parallel: int
    exercises_per_child: int = 1  # 0: a request's jobs dealt into ``parallel`` chains, a child each


@dataclass(frozen=True)
class Request:
    """grader -> worker: run these jobs (one batch; the worker stays up for the next)."""

    event: ClassVar[str] = "request"
    jobs: tuple[JobSpec, ...]
    limits: LimitSpec

    @classmethod
    def from_header(cls, header: dict) -> Request:
        try:
            jobs = tuple(JobSpec(job["exercise"], job["function"],
                                 tuple(SnippetSpec(**snippet) for snippet in job["snippets"]),
                                 tuple(CaseSpec(**case) for case in job["cases"])) for job in header["jobs"])
            return cls(jobs, LimitSpec(**header["limits"]))
        except (KeyError, TypeError) as error:
            raise WireError(f"malformed request: {error}") from None


@dataclass(frozen=True)
class Level:
    """worker -> grader, first of all: the confinement the worker set up and checked for its children."""

    event: ClassVar[str] = "level"
    enforced: bool  # False: --no-isolation, resource limits only
    landlock_abi: int  # 0: no Landlock
    seccomp: bool
    uid: str  # the uid children run under, in words ("" when it is the grader's)
    missing: tuple[str, ...] = ()  # what keeps the confinement below the minimum, in words

    @property
    def isolated(self) -> bool:
        return self.enforced and not self.missing

    def describe(self) -> str:
        if not self.enforced:
            return "NOT ISOLATED (--no-isolation): student code ran with your permissions, limited in time, " \
                   "memory, processes and output only"
        if self.missing:
            return "NOT ISOLATED: " + "; ".join(self.missing)
        parts = [f"Landlock ABI {self.landlock_abi}", "seccomp", *([self.uid] if self.uid else []), "rlimits"]
        return " + ".join(parts)


@dataclass(frozen=True)
class Started:
    event: ClassVar[str] = "started"
    exercise: str
    pid: int


@dataclass(frozen=True)
class Frame:
    """A complete frame a child wrote (relayed untouched as the one buffer of this message)."""

    event: ClassVar[str] = "frame"
    exercise: str
    bytes: int


@dataclass(frozen=True)
class Ended:
    event: ClassVar[str] = "ended"
    exercise: str
    timed_out: bool
    overflow: str | None  # "bytes" or "frames": the child sent more than it was asked for
    exit_code: int | None
    signal: int | None
    seconds: float
    output: str  # the start of what the child printed
    output_size: int


MESSAGES: dict[str, Any] = {kind.event: kind for kind in (Request, Level, Started, Frame, Ended)}


def header(message: Any) -> dict[str, Any]:
    """The JSON header of a message (only a request nests dataclasses; the others, sent per frame, are flat)."""
    if isinstance(message, Request):
        return {"event": message.event, **asdict(message)}
    return {"event": message.event, **{field.name: getattr(message, field.name) for field in fields(message)}}


def parse(raw: Any) -> Any:
    """The message a header holds (``WireError`` if it holds none)."""
    kind = MESSAGES.get(str(raw.get("event"))) if isinstance(raw, dict) else None
    if kind is None:
        raise WireError(f"not a sandbox message: {str(raw)[:100]}")
    if kind is Request:
        return Request.from_header(raw)
    try:
        values = {field.name: raw[field.name] for field in fields(kind)}
    except KeyError as error:
        raise WireError(f"{kind.event} message without {error}") from None
    if kind is Level:
        values["missing"] = tuple(values["missing"])
    return kind(**values)
