"""What one confined sandbox child costs, the floor under every exercise the grader runs.

A request of eight trivial jobs (``def f(x): return x + 1``, one call each: the student's work is nil) is sent
to one sandbox worker again and again, one child at a time.  Per job, the script prints the CPU time of the
worker and its children (from ``/proc/<worker>/stat``: its own plus its reaped children's), the grader's
own CPU time and the wall time, in three set-ups measured in the same run, alternated round by round:

- a fresh child per job, kernel-confined (the default: Landlock, seccomp, own uid, rlimits);
- the same with ``--no-isolation`` (resource limits only): what the confinement adds;
- the eight jobs in one child (``--child-per-submission``): the fork, page faults and exit shared by eight.

It ends with the ceiling that the per-child cost alone puts on ``grade-all`` with eight exercises per
submission on this machine's cores.  Timings are information, not a test: the script exits 0.

Usage: ``python benchmarks/child_cost.py [--requests 60] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

from autograder.sandbox.runner import Call, Job, Limits, Sandbox, Snippet

JOBS_PER_REQUEST = 8  # the course's exercises per submission
SOURCE = "def f(x):\n    return x + 1\n"
SETUPS = {  # label -> (exercises per child, isolation)
    "fresh child per job, confined (default)": (1, True),
    "fresh child per job, --no-isolation": (1, False),
    "one child for the 8 jobs, confined": (0, True),
}


@dataclass
class Costs:
    """Milliseconds per job, one value per round."""

    sandbox_cpu: list[float]
    grader_cpu: list[float]
    wall: list[float]


def requests(number: int) -> list[Job]:
    """Eight trivial jobs, their code distinct from every other request's (as two students' code is)."""
    return [Job(f"exercise{index}", "f", (Snippet(f"{SOURCE}# request {number}\n", "<cell 1>"),),
                (Call(f"case{index}", (index,)),)) for index in range(JOBS_PER_REQUEST)]


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure(sandbox: Sandbox, count: int, first: int) -> tuple[float, float, float]:
    """Run ``count`` requests; milliseconds per job of sandbox CPU, grader CPU and wall time."""
    pid = sandbox._process.pid  # the worker's pid, for its CPU time
    cpu, grader, wall = tree_cpu(pid), time.process_time(), time.perf_counter()
    for number in range(first, first + count):
        runs = sandbox.run(requests(number))
        if runs["exercise3"].values.get("case3") != 4:
            raise RuntimeError(f"the sandbox did not run the job: {runs['exercise3']}")
    jobs = count * JOBS_PER_REQUEST / 1000
    return ((tree_cpu(pid) - cpu) / jobs, (time.process_time() - grader) / jobs, (time.perf_counter() - wall) / jobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=60, help="requests of 8 jobs per set-up and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the set-ups alternated in each")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds of {args.requests} "
          f"requests of {JOBS_PER_REQUEST} trivial jobs per set-up, one child at a time", flush=True)
    sandboxes = {label: Sandbox(Limits(parallel=1, exercises_per_child=per_child), isolation=isolation)
                 for label, (per_child, isolation) in SETUPS.items()}
    costs = {label: Costs([], [], []) for label in SETUPS}
    try:
        for sandbox in sandboxes.values():
            sandbox.require_isolation()  # refused where confinement is unavailable (--no-isolation: never)
            measure(sandbox, 3, -3)  # warm-up: the worker's first requests
        for round_number in range(args.rounds):
            for label, sandbox in sandboxes.items():
                sandbox_cpu, grader_cpu, wall = measure(sandbox, args.requests, round_number * args.requests)
                costs[label].sandbox_cpu.append(sandbox_cpu)
                costs[label].grader_cpu.append(grader_cpu)
                costs[label].wall.append(wall)
    finally:
        for sandbox in sandboxes.values():
            sandbox.close()
    print(f"\n{'per job (median of rounds)':<42} {'worker+child CPU':>17} {'grader CPU':>11} {'wall':>9}")
    for label, cost in costs.items():
        print(f"{label:<42} {statistics.median(cost.sandbox_cpu):>14.2f} ms {statistics.median(cost.grader_cpu):>8.2f}"
              f" ms {statistics.median(cost.wall):>6.2f} ms")
    per_child = statistics.median(costs[next(iter(SETUPS))].sandbox_cpu)
    cores = os.cpu_count() or 1
    print(f"\nA fresh confined child per exercise costs {per_child:.1f} ms of CPU before any student work: with "
          f"{JOBS_PER_REQUEST} exercises per submission, {cores} cores can grade at most "
          f"{cores * 1000 / (per_child * JOBS_PER_REQUEST):.0f} submissions/s on children alone.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
