"""Speed and memory of the autograder, against executing the notebook as ``nbgrader autograde`` does.

What is measured, all in one run:

1. Our grader, cold: ``python -m autograder grade SUB --results out.json --quiet`` as a fresh
   subprocess for each sample submission (the reference solution, the untouched release, typical
   mistakes, a hostile exercise, an endless loop, a truncated file), ``--repeats`` times each.
   Timed runs are not observed; peak memory comes from the kernel's accounting of every run
   (``os.wait4``) plus one extra run per submission whose process tree is sampled in /proc.
2. The baseline: the same reference notebook executed top to bottom with nbclient in a fresh
   ipykernel, next to the release's helper modules and images (what ``nbgrader autograde`` does for
   each student; like nbgrader, errors do not stop it). With ``--nbgrader``, also real
   ``nbgrader autograde`` on a throwaway course (its ``generate_assignment`` step is not timed).
3. Batch throughput: the reference graded ``--warm`` times in this process with ``grade_submission``.

Timings are information, not a test: the script exits 0 unless something crashes.

Usage: ``python benchmarks/grading_speed.py [--repeats 5] [--baseline-repeats 1] [--skip-baseline]
[--nbgrader] [--warm 20]``
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from autograder.demo import endless_cell, hostile_cell, typical_mistakes
from autograder.notebook.assignment import load_assignment
from autograder.paths import ASSIGNMENT, NOTEBOOK_NAME, RELEASE_DIR, REPO_ROOT, SOURCE_DIR, UTILS_DIR
from autograder.samples import build_submission, complete_solutions, write_notebook

TARGET_WALL_S = 1.0
TARGET_RATIO = 20.0
TARGET_MEMORY_MB = 200.0
REFERENCE = "reference"
SAMPLE_INTERVAL_S = 0.002  # /proc sampling period during the memory run of our grader
BASELINE_SAMPLE_INTERVAL_S = 0.05  # coarser for the long baseline: the sampler must not slow it down
T = TypeVar("T")
TIMING_VARIABLES = ("PYTHONDONTWRITEBYTECODE", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")

NBCLIENT_RUNNER = """
import sys
from pathlib import Path

import nbclient
import nbformat

path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                                 resources={"metadata": {"path": str(path.parent)}})
client.execute()
errors = [output.get("ename", "?") for cell in notebook.cells if cell.cell_type == "code"
          for output in cell.get("outputs", []) if output.get("output_type") == "error"]
Path(sys.argv[2]).write_text(",".join(errors))
"""

NBGRADER_SCORE = """
import sys
from nbgrader.api import Gradebook

with Gradebook("sqlite:///" + sys.argv[1]) as gradebook:
    submission = gradebook.find_submission(sys.argv[2], "student1")
    print(f"{submission.score:g}/{submission.max_score:g}")
"""


# ---------------------------------------------------------------------------------------------------------------------
# Measuring one command: wall time, kernel-accounted peak RSS, optional /proc sampling of its process tree
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class TreeMemory:
    """Peaks seen by sampling a process tree in /proc (kB); depth 0 is the command, 1 its children, 2+ below."""

    peak_by_depth: dict[int, int] = field(default_factory=dict)  # largest VmHWM of any process at that depth
    processes_by_depth: dict[int, int] = field(default_factory=dict)  # how many distinct processes were seen
    peak_rss_sum: int = 0  # largest simultaneous sum of RSS over the tree (shared pages counted once per process)
    peak_pss_sum: int | None = None  # the same with PSS (shared pages split between their users); None: unreadable
    samples: int = 0


class TreeSampler(threading.Thread):
    """Samples the process tree rooted at ``root`` every ``interval`` seconds until stopped.

    VmHWM is the kernel's own high-water mark of a process's RSS, so a sample taken at any time
    before a process exits sees its peak so far; only growth in its last ``interval`` can be missed.
    """

    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.memory = TreeMemory()
        self._tree = ProcessTree(root)
        self._seen: dict[int, int] = {}  # pid -> depth
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._sample()
            self._stopping.wait(self.interval)

    def stop(self) -> TreeMemory:
        self._stopping.set()
        self.join()
        for depth in set(self._seen.values()):
            self.memory.processes_by_depth[depth] = sum(1 for d in self._seen.values() if d == depth)
        return self.memory

    def _sample(self) -> None:
        rss_sum, pss_sum = 0, 0
        pss_readable = True
        for pid, depth in self._tree.members().items():
            status = _read_status(pid)
            if not status:
                continue  # gone, or a zombie
            self._seen.setdefault(pid, depth)
            peak = self.memory.peak_by_depth
            peak[depth] = max(peak.get(depth, 0), status.get("VmHWM", 0))
            rss_sum += status.get("VmRSS", 0)
            pss = _read_pss(pid)
            pss_readable = pss_readable and pss is not None
            pss_sum += pss or 0
        self.memory.samples += 1
        self.memory.peak_rss_sum = max(self.memory.peak_rss_sum, rss_sum)
        if pss_readable:
            self.memory.peak_pss_sum = max(self.memory.peak_pss_sum or 0, pss_sum)


class ProcessTree:
    """Finds ``root`` and its descendants in /proc, reading each process's parent only once.

    A process outside the tree never joins it, and a process inside keeps its depth (orphans are
    reparented away, not into the tree), so only processes not seen before are looked at.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self._depth: dict[int, int | None] = {root: 0}  # None: not in the tree

    def members(self) -> dict[int, int]:
        """The pids of the tree that exist now, with their depth (0 for ``root``)."""
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
        parents = {pid: _parent(pid) for pid in pids if pid not in self._depth}
        for pid in sorted(parents, key=lambda pid: (parents[pid] not in self._depth, pid)):
            self._depth[pid] = self._depth_below(parents, parents[pid])
        return {pid: depth for pid in pids if (depth := self._depth.get(pid)) is not None}

    def _depth_below(self, parents: dict[int, int | None], parent: int | None) -> int | None:
        if parent not in self._depth:  # a parent first seen in this scan: resolve it first
            if parent not in parents:
                return None
            self._depth[parent] = self._depth_below(parents, parents[parent])
        depth = self._depth.get(parent)
        return None if depth is None else depth + 1


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _read_status(pid: int) -> dict[str, int]:
    """The kB fields of /proc/PID/status that we use (empty if the process is gone or a zombie)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    fields = (line.split() for line in lines if line.startswith(("VmHWM:", "VmRSS:")))
    return {parts[0].rstrip(":"): int(parts[1]) for parts in fields}


def _read_pss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return 0  # a process without mappings (exiting)


@dataclass
class Run:
    """One finished command."""

    wall: float  # seconds from spawning to reaping
    tree_max_kb: int  # wait4's ru_maxrss: largest RSS of the command or of any descendant reaped below it
    returncode: int
    memory: TreeMemory | None = None


def run_command(argv: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None,
                sample_interval: float | None = None) -> Run:
    """Run ``argv`` to completion (output to ``log``); time it and take its peak memory."""
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid, sample_interval) if sample_interval else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    memory = sampler.stop() if sampler else None
    return Run(wall, int(usage.ru_maxrss), process.returncode, memory)


def checked(run: Run, what: str, log: Path) -> Run:
    """``run``, or a crash with the end of its log if the command failed."""
    if run.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{what} failed with exit code {run.returncode}:\n{tail}")
    return run


# ---------------------------------------------------------------------------------------------------------------------
# The submissions
# ---------------------------------------------------------------------------------------------------------------------

def write_submissions(folder: Path) -> dict[str, Path]:
    """The reference solution and a mixed set of what students hand in, as notebook files."""
    assignment = load_assignment()
    complete = complete_solutions(assignment)
    notebooks = {
        REFERENCE: build_submission(complete),
        "untouched-release": build_submission({}),
        "typical-mistakes": build_submission(typical_mistakes(assignment)),
        "hostile-os-exit": build_submission({**complete, "update_lr": hostile_cell(assignment.exercise("update_lr"))}),
        "endless-loop": build_submission(
            {**complete, "schedule_lr_decay": endless_cell(assignment.exercise("schedule_lr_decay"))}),
    }
    paths = {name: write_notebook(notebook, folder / name / NOTEBOOK_NAME) for name, notebook in notebooks.items()}
    truncated = folder / "truncated-file" / NOTEBOOK_NAME
    truncated.parent.mkdir(parents=True)
    truncated.write_text(paths[REFERENCE].read_text()[:1000])
    paths["truncated-file"] = truncated
    return paths


# ---------------------------------------------------------------------------------------------------------------------
# Our grader
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class GraderFigures:
    """Our grader on one submission."""

    name: str
    walls: list[float]
    tree_max_kb: int  # over every run, timed and sampled
    memory: TreeMemory
    score: str

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def upper_bound_kb(self) -> int:
        """Grader + worker + largest sandbox child, each at its own peak: an upper bound of the total."""
        return sum(self.memory.peak_by_depth.get(depth, 0) for depth in (0, 1, 2))


def bench_grader(name: str, submission: Path, repeats: int, scratch: Path) -> GraderFigures:
    """Grade ``submission`` with the CLI ``repeats`` times (timed), then once more with /proc sampling."""
    results, log = scratch / f"{name}.json", scratch / f"{name}.log"
    argv = [sys.executable, "-m", "autograder", "grade", str(submission), "--results", str(results), "--quiet"]
    timed = [checked(run_command(argv, REPO_ROOT, log), f"grading {name}", log) for _ in range(repeats)]
    sampled = checked(run_command(argv, REPO_ROOT, log, sample_interval=SAMPLE_INTERVAL_S), f"grading {name}", log)
    assert sampled.memory is not None
    return GraderFigures(name, [run.wall for run in timed], max(run.tree_max_kb for run in [*timed, sampled]),
                         sampled.memory, _score(results))


def _score(results: Path) -> str:
    data = json.loads(results.read_text())
    total = sum(test["max_score"] for test in data["tests"])
    return f"{round(data['score'], 2):g}/{round(total, 2):g}" if "score" in data else "no score"


# ---------------------------------------------------------------------------------------------------------------------
# The baselines: nbclient executing the notebook, and optionally nbgrader autograde itself
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class BaselineFigures:
    """One way of executing the reference notebook."""

    label: str
    walls: list[float]
    tree_max_kb: int
    memory: TreeMemory | None
    note: str

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def bench_nbclient(submission: Path, repeats: int, scratch: Path) -> BaselineFigures:
    """Execute the submission in a fresh kernel next to the release's helper modules and images."""
    runs: list[Run] = []
    errors = ""
    for attempt in range(repeats):
        folder = scratch / f"nbclient-{attempt}"
        shutil.copytree(RELEASE_DIR, folder, ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
        notebook = shutil.copy(submission, folder / NOTEBOOK_NAME)
        log, error_file = scratch / f"nbclient-{attempt}.log", folder / "errors.txt"
        argv = [sys.executable, "-c", NBCLIENT_RUNNER, str(notebook), str(error_file)]
        interval = BASELINE_SAMPLE_INTERVAL_S if attempt == 0 else None
        runs.append(checked(run_command(argv, folder, log, sample_interval=interval), "nbclient execution", log))
        errors = error_file.read_text()
    note = f"cells raising: {errors}" if errors else "every cell ran without error"
    return BaselineFigures("nbclient (notebook top to bottom)", [run.wall for run in runs],
                           max(run.tree_max_kb for run in runs), runs[0].memory, note)


def bench_nbgrader(submission: Path, repeats: int, scratch: Path) -> BaselineFigures:
    """Real ``nbgrader autograde`` of one student on a throwaway course built from the master notebook."""
    from autograder.release import CODE_STUB, stage_sources

    course = scratch / "nbgrader-course"
    stage_sources(SOURCE_DIR, UTILS_DIR, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.ClearSolutions.code_stub = {{'python': {CODE_STUB!r}}}\n")
    env = {**os.environ, "PATH": os.pathsep.join(filter(None, [str(Path(sys.executable).parent),
                                                               os.environ.get("PATH")]))}
    nbgrader = [sys.executable, "-m", "nbgrader"]
    log = scratch / "nbgrader.log"
    generate = checked(run_command([*nbgrader, "generate_assignment", ASSIGNMENT], course, log, env),
                       "nbgrader generate_assignment", log)
    _progress(f"   (nbgrader generate_assignment, not counted: {generate.wall:.1f} s)")
    submitted = course / "submitted" / "student1" / ASSIGNMENT
    submitted.mkdir(parents=True)
    shutil.copy(submission, submitted / NOTEBOOK_NAME)
    argv = [*nbgrader, "autograde", ASSIGNMENT, "--force"]
    intervals = [BASELINE_SAMPLE_INTERVAL_S] + [None] * (repeats - 1)  # sample the first run only
    runs = [checked(run_command(argv, course, log, env, interval), "nbgrader autograde", log) for interval in intervals]
    score = subprocess.run([sys.executable, "-c", NBGRADER_SCORE, str(course / "gradebook.db"), ASSIGNMENT],
                           capture_output=True, text=True, check=True, env=env).stdout.strip()
    return BaselineFigures("nbgrader autograde (CLI)", [run.wall for run in runs],
                           max(run.tree_max_kb for run in runs), runs[0].memory, f"gradebook score {score}")


# ---------------------------------------------------------------------------------------------------------------------
# Batch throughput, warm, in this process
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class WarmFigures:
    count: int
    seconds: float
    rss_before_kb: int
    rss_after_kb: int
    score: float


def bench_warm(submission: Path, count: int) -> WarmFigures:
    """Grade ``submission`` ``count`` times in a row in this process, after one untimed warm-up."""
    from autograder.grade import grade_submission

    assignment = load_assignment()
    report = grade_submission(submission, assignment=assignment)
    rss_before = _current_rss_kb()
    started = time.perf_counter()
    for _ in range(count):
        report = grade_submission(submission, assignment=assignment)
    seconds = time.perf_counter() - started
    return WarmFigures(count, seconds, rss_before, _current_rss_kb(), report.score)


def _current_rss_kb() -> int:
    return _read_status(os.getpid()).get("VmRSS", 0)


# ---------------------------------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------------------------------

def _progress(message: str) -> None:
    print(message, flush=True)


def _mb(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def print_grader_table(figures: list[GraderFigures]) -> None:
    print("\nOur grader, cold command per submission (python -m autograder grade SUB --results out.json --quiet)")
    print(f"{'submission':<18} {'score':>8} {'first':>7} {'median':>7} {'min':>7}  {'largest proc':>12}"
          f"  {'grader':>7} {'worker':>7} {'child':>7} {'children':>8}  {'sum g+w+c':>9} {'tree RSS':>9}"
          f" {'tree PSS':>9}")
    for row in figures:
        peaks, counts = row.memory.peak_by_depth, row.memory.processes_by_depth
        print(f"{row.name:<18} {row.score:>8} {row.walls[0]:>6.2f}s {row.median:>6.2f}s {min(row.walls):>6.2f}s"
              f"  {_mb(row.tree_max_kb):>12}  {_mb(peaks.get(0)):>7} {_mb(peaks.get(1)):>7} {_mb(peaks.get(2)):>7}"
              f" {counts.get(2, 0):>8}  {_mb(row.upper_bound_kb):>9} {_mb(row.memory.peak_rss_sum):>9}"
              f" {_mb(row.memory.peak_pss_sum):>9}")
    print("""
  first/median/min: wall time of the timed runs, from spawning the command to reaping it (runs not observed).
  largest proc: peak RSS of the largest single process of the command's tree (grader, sandbox worker or one of
      its children), from the kernel's accounting (os.wait4 ru_maxrss), max over every run. Exact.
  grader / worker / child: peak RSS (VmHWM) of the grader process, of the sandbox worker, and of the largest
      sandbox child (one per chain of exercises, forked from the worker; 'children' counts those seen),
      sampled in /proc every 2 ms during one extra run. A forked child's RSS counts the pages it shares with the worker.
  sum g+w+c: grader + worker + largest child, each at its own peak: an upper bound of the total footprint.
  tree RSS / tree PSS: the largest simultaneous sum over the tree, sampled; PSS splits shared pages between
      the processes that share them, so 'tree PSS' is the closest figure to the memory really used.""")


def print_baselines(ours: GraderFigures, baselines: list[BaselineFigures]) -> None:
    print(f"\nThe reference submission, executed as nbgrader autograde does (ours: median {ours.median:.2f} s)")
    print(f"{'baseline':<36} {'runs':>4} {'median':>8} {'min':>8} {'ratio':>7}  {'largest proc':>12}"
          f" {'tree RSS':>9} {'tree PSS':>9}  note")
    for row in baselines:
        memory = row.memory or TreeMemory()
        print(f"{row.label:<36} {len(row.walls):>4} {row.median:>7.2f}s {min(row.walls):>7.2f}s"
              f" {row.median / ours.median:>6.1f}x  {_mb(row.tree_max_kb):>12} {_mb(memory.peak_rss_sum):>9}"
              f" {_mb(memory.peak_pss_sum):>9}  {row.note}")
    print("  ratio: baseline median / our median. Baseline memory sampled every 50 ms (first run only).")


def print_targets(ours: GraderFigures, baselines: list[BaselineFigures]) -> None:
    print("\nTargets (information only; this script does not fail on them)")
    _target(f"one submission under {TARGET_WALL_S:g} s wall from a cold command",
            f"median {ours.median:.2f} s, min {min(ours.walls):.2f} s", ours.median < TARGET_WALL_S)
    for row in baselines:
        ratio = row.median / ours.median
        _target(f"at least {TARGET_RATIO:g}x faster than {row.label}", f"{ratio:.1f}x", ratio >= TARGET_RATIO)
    pss = ours.memory.peak_pss_sum
    measured = (f"tree PSS {_mb(pss)} (sampled); largest single process {_mb(ours.tree_max_kb)} (exact);"
                f" upper bound grader+worker+child RSS {_mb(ours.upper_bound_kb)}")
    _target(f"peak memory under {TARGET_MEMORY_MB:g} MB", measured,
            pss is not None and pss / 1024 < TARGET_MEMORY_MB)


def _target(what: str, measured: str, met: bool) -> None:
    print(f"  [{'PASS' if met else 'MISS'}] {what}: {measured}")


def print_warm(warm: WarmFigures) -> None:
    rate = warm.count / warm.seconds
    print(f"\nBatch throughput, warm (grade_submission in one process, {warm.count} gradings of the reference)")
    print(f"  {rate:.2f} submissions/s, {warm.seconds / warm.count * 1000:.0f} ms each; score {warm.score:g};"
          f" this process's RSS {_mb(warm.rss_before_kb)} before, {_mb(warm.rss_after_kb)} after")


def print_environment() -> None:
    """What the figures depend on: machine, load, code version, and environment variables that change timings."""
    git = ["git", "-C", str(REPO_ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "autograder"], capture_output=True, text=True).stdout
    settings = [f"{name}={os.environ[name]}" for name in TIMING_VARIABLES if name in os.environ]
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, {_load()};"
          f" commit {commit or 'unknown'}{' + uncommitted changes in autograder/' if dirty else ''};"
          f" {time.strftime('%Y-%m-%d %H:%M')}; {' '.join(settings) or 'no timing-related variables set'}", flush=True)


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# ---------------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed cold runs per submission (default %(default)s)")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="runs of each baseline (default %(default)s)")
    parser.add_argument("--skip-baseline", action="store_true", help="do not execute the notebook")
    parser.add_argument("--nbgrader", action="store_true", help="also time real `nbgrader autograde`")
    parser.add_argument("--warm", type=int, default=20, metavar="K",
                        help="in-process gradings for the throughput figure, 0 to skip (default %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.baseline_repeats < 1 or args.warm < 0:
        parser.error("--repeats and --baseline-repeats must be at least 1, --warm at least 0")
    return args


def timed_step(label: str, step: Callable[[], T]) -> T:
    _progress(f"-> {label} ...")
    started = time.perf_counter()
    result = step()
    _progress(f"   done in {time.perf_counter() - started:.1f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_environment()
    with tempfile.TemporaryDirectory(prefix="optkit-bench-") as tmp:
        scratch = Path(tmp)
        submissions = write_submissions(scratch / "submissions")
        figures: list[GraderFigures] = []
        for name, path in submissions.items():
            figures.append(timed_step(f"grading {name} ({args.repeats} timed runs + 1 sampled)",
                                      functools.partial(bench_grader, name, path, args.repeats, scratch)))
        reference = figures[0]
        baselines: list[BaselineFigures] = []
        if not args.skip_baseline:
            baselines.append(timed_step(f"executing the reference notebook with nbclient ({args.baseline_repeats}x)",
                                        lambda: bench_nbclient(submissions[REFERENCE], args.baseline_repeats,
                                                               scratch)))
        if args.nbgrader:
            baselines.append(timed_step(f"nbgrader autograde of the reference ({args.baseline_repeats}x)",
                                        lambda: bench_nbgrader(submissions[REFERENCE], args.baseline_repeats,
                                                               scratch)))
        warm = timed_step(f"grading the reference {args.warm}x in-process",
                          lambda: bench_warm(submissions[REFERENCE], args.warm)) if args.warm else None
        print_grader_table(figures)
        if baselines:
            print_baselines(reference, baselines)
        print_targets(reference, baselines)
        if warm:
            print_warm(warm)
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\n(benchmark process itself: peak RSS {_mb(peak_self)}; {_load()} at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
