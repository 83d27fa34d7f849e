"""Throughput of ``grade-all`` on a generated class, beside looping the single-submission CLI.

What is measured, all in one run:

1. ``python -m autograder grade-all DIR --jobs J`` on COUNT generated submissions, a mix of
   complete (40%), typical mistakes (25%), untouched release (15%), broken JSON (10%) and hostile
   (10%: the demo's results-forging ``os._exit`` exercise; one in a thousand submissions also has the
   demo's endless loop, which costs its 5 s time limit).  Each notebook carries its student id, so
   all contents differ, and so does the code of every answered function (a comment of the student's
   own); exercises left as released are identical, as in a real class.  Wall time from spawn to exit
   gives the throughput; per-submission latency (p50/p95) is each grade's own time as the ledger
   recorded it.  Every process under grade-all is sampled in /proc: per batch worker, the peak of its
   own RSS (VmHWM) and the peak PSS of the worker together with the sandbox processes it started.
   Three runs: with a fresh confined child per
   exercise (the default), then with ``--child-per-submission`` (each submission's exercises in one
   child), each run grading every submission (``--force``); then the default again on a class whose
   students of one kind send byte-identical code (the best case for the grader's known runs, which
   do not run the same code twice).
2. The same work done by looping ``python -m autograder grade SUB``: SAMPLE submissions of the same
   mix, one after another, extrapolated to COUNT (said so in the output).
3. A cold single ``grade`` of the complete submission (median of 3), the figure that must not get slower.
4. With ``--profile``: cProfile of 20 complete submissions graded in this process by one Grader.

Timings are information, not a test: the script exits 0 unless something crashes.

Usage: ``python benchmarks/batch_speed.py [--count 1000] [--jobs 2] [--sample 20] [--profile]``
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

from autograder.demo import endless_cell, hostile_cell, typical_mistakes
from autograder.grade import Grader
from autograder.notebook.assignment import load_assignment
from autograder.paths import RELEASE_NOTEBOOK
from autograder.samples import build_submission, complete_solutions

TARGET_RATE = 25.0
SAME_CODE = "a fresh child per exercise, students of a kind sending identical code"
MODES = {"a fresh child per exercise (default)": [], "one child per submission": ["--child-per-submission"]}
TARGET_WORKER_MB = 200.0
SAMPLE_INTERVAL_S = 0.05
STUDENT_MARK = "@STUDENT@"


def generate(folder: Path, count: int, same_code: bool = False) -> list[Path]:
    """COUNT submissions of the mix, each with its student id in a Markdown cell (distinct files).

    Each student's answered functions also carry a comment of their own (distinct code, as students write it),
    unless ``same_code``: then the students of one kind send byte-identical code, which the grader runs
    once per batch worker (autograder/sandbox/known_runs.py).  Exercises left as released are identical
    either way, as in a real class.
    """
    assignment = load_assignment()
    complete = complete_solutions(assignment)
    hostile = {**complete, "update_lr": hostile_cell(assignment.exercise("update_lr"))}
    kinds = [("complete", complete), ("mistakes", typical_mistakes(assignment)), ("untouched", None),
             ("broken", complete), ("hostile", hostile)]
    own = (lambda answers: answers) if same_code else _own_code
    texts = {name: nbformat.writes(build_submission(own(answers))) if answers else RELEASE_NOTEBOOK.read_text()
             for name, answers in kinds}
    endless = nbformat.writes(build_submission(own(
        {**hostile, "schedule_lr_decay": endless_cell(assignment.exercise("schedule_lr_decay"))})))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        share = number % 20  # 8 complete, 5 mistakes, 3 untouched, 2 broken, 2 hostile in every 20
        kind = "complete" if share < 8 else "mistakes" if share < 13 else "untouched" if share < 16 \
            else "broken" if share < 18 else "hostile"
        text = endless if kind == "hostile" and number % 1000 == 999 else texts[kind]
        text = text.replace('"cells": [', f'"cells": [{{"cell_type": "markdown", "metadata": {{}}, '
                                          f'"source": "student {number}"}}, ', 1)
        text = text.replace(STUDENT_MARK, str(number))
        if kind == "broken":
            text = text[: len(text) // 2]
        path = folder / f"s{number:05d}_{kind}.ipynb"
        path.write_text(text)
        paths.append(path)
    return paths


def _own_code(answers: dict[str, str]) -> dict[str, str]:
    """Each answer with a comment line (naming the student, filled in later) as the first line of its function."""
    marked = {}
    for name, source in answers.items():
        lines = source.splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
        end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(":"))
        marked[name] = "".join([*lines[:end + 1], f"    # written by student {STUDENT_MARK}\n", *lines[end + 1:]])
    return marked


class TreeSampler(threading.Thread):
    """Samples the processes under ``root``: per direct child (a batch worker), its VmHWM and subtree PSS."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.worker_hwm: dict[int, int] = {}
        self.worker_tree_pss: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_INTERVAL_S):
            parents = {pid: _parent(pid) for pid in _pids()}
            for worker in [pid for pid, parent in parents.items() if parent == self.root and _is_worker(pid)]:
                hwm = _status(worker).get("VmHWM", 0)
                self.worker_hwm[worker] = max(self.worker_hwm.get(worker, 0), hwm)
                tree = [pid for pid in parents if _descends(pid, worker, parents)]
                pss = sum(_pss(pid) for pid in tree)
                self.worker_tree_pss[worker] = max(self.worker_tree_pss.get(worker, 0), pss)


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _descends(pid: int, ancestor: int, parents: dict[int, int | None]) -> bool:
    current: int | None = pid
    while current is not None:
        if current == ancestor:
            return True
        current = parents.get(current)
    return False


def _is_worker(pid: int) -> bool:
    """A batch worker (multiprocessing's spawn), not its resource tracker."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines) if v.strip().endswith("kB")}


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def bench_batch(folder: Path, jobs: int, options: list[str]) -> dict:
    """grade-all over the folder (``--force``: every submission, whatever an earlier run recorded)."""
    ledger = folder / ".optkit" / "optimization_methods.jsonl"
    recorded = len(ledger.read_text().splitlines()) if ledger.exists() else 0
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-all", str(folder), "--jobs", str(jobs),
                                "--csv", str(folder.parent / "grades.csv"), "--force", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sampler = TreeSampler(process.pid)
    sampler.start()
    summary, _ = process.communicate()
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    seconds = [json.loads(line)["report"]["seconds"] for line in ledger.read_text().splitlines()[recorded:]]
    return {"exit": process.returncode, "wall": wall, "count": len(seconds), "latencies": seconds,
            "worker_hwm": sampler.worker_hwm, "worker_pss": sampler.worker_tree_pss, "summary": summary}


def bench_cli_loop(paths: list[Path], scratch: Path) -> float:
    started = time.perf_counter()
    for path in paths:
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--quiet",
                        "--results", str(scratch / "results.json")], capture_output=True, check=True)
    return (time.perf_counter() - started) / len(paths)


def bench_cold(path: Path, scratch: Path) -> float:
    return statistics.median(bench_cli_loop([path], scratch) for _ in range(3))


def profile(path: Path, count: int = 20) -> str:
    grader = Grader()
    grader.grade(path)  # warm-up: imports, reference results
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [grader.grade(path) for _ in range(count)])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def _print_batch(label: str, batch: dict, args: argparse.Namespace, per_cli: float) -> None:
    rate = batch["count"] / batch["wall"]
    hwm = max(batch["worker_hwm"].values(), default=0) / 1024
    pss = max(batch["worker_pss"].values(), default=0) / 1024
    print(f"\ngrade-all --jobs {args.jobs}, {label}: {batch['count']} graded in {batch['wall']:.1f} s, "
          f"exit {batch['exit']}")
    print(f"  throughput            {rate:.2f} submissions/s (target {TARGET_RATE:g}: "
          f"{'met' if rate >= TARGET_RATE else 'NOT met'}); {rate * per_cli:.1f}x a loop of `grade`")
    print(f"  latency p50 / p95     {_percentile(batch['latencies'], 0.5):.3f} s / "
          f"{_percentile(batch['latencies'], 0.95):.3f} s per submission")
    verdict = "met" if max(hwm, pss) < TARGET_WORKER_MB else "NOT met"
    print(f"  peak per worker       {hwm:.0f} MB RSS (the worker process), {pss:.0f} MB PSS (worker + its "
          f"sandbox processes); target {TARGET_WORKER_MB:g} MB: {verdict}")
    print(f"  workers seen          {len(batch['worker_hwm'])}")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=20, help="submissions graded by the CLI loop")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="optkit-batch-bench-") as scratch:
        root = Path(scratch)
        paths = generate(root / "class", args.count)
        generate(root / "same-code", args.count, same_code=True)
        batches = {}
        for label, options in MODES.items():
            print(f"{args.count} submissions; grade-all --jobs {args.jobs} {' '.join(options)} ...", flush=True)
            batches[label] = bench_batch(root / "class", args.jobs, options)
        print(f"{args.count} submissions, the same code for the students of a kind ...", flush=True)
        batches[SAME_CODE] = bench_batch(root / "same-code", args.jobs, [])
        step = max(1, len(paths) // args.sample)
        print(f"CLI loop on {args.sample} of them ...", flush=True)
        per_cli = bench_cli_loop(paths[::step][: args.sample], root)
        cold = bench_cold(paths[0], root)
        for label, batch in batches.items():
            _print_batch(label, batch, args, per_cli)
        print(f"looping `grade` (measured on {args.sample}, extrapolated to {args.count}): {per_cli:.2f} s each, "
              f"{per_cli * args.count:.0f} s in all, {1 / per_cli:.2f} submissions/s")
        print(f"cold single `grade` of a complete submission: {cold:.2f} s (median of 3)")
        print("\n" + batches[next(iter(MODES))]["summary"])
        if args.profile:
            print(profile(paths[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
