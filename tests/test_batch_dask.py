"""``grade-all --scheduler`` on real Dask processes: a ``dask scheduler`` and ``dask worker``, and a LocalCluster.

Each run grades a copy of the same class; the CSV must equal the local run's.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from batch_class import TIMEOUT, autograder, ledger_lines, mixed_notebooks, read_csv, write_folder
from distributed import Client, LocalCluster


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, assignment):
    root = tmp_path_factory.mktemp("dask")
    write_folder(root / "local", mixed_notebooks(assignment))
    run = autograder("grade-all", str(root / "local"), "--jobs", "2", "--csv", str(root / "local.csv"),
                     "--timeout", TIMEOUT)
    assert run.returncode == 0, run.stderr
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory):
    """A real ``dask scheduler`` and one ``dask worker`` (one process, one thread) on localhost."""
    folder = tmp_path_factory.mktemp("dask-processes")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                 str(port), "--no-dashboard"], cwd=folder, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)]
    started.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "1",
                                     "--nthreads", "1", "--no-dashboard"], cwd=folder,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(1, timeout=120)
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _grade_on(address: str, root, name: str, assignment) -> subprocess.CompletedProcess:
    write_folder(root / name, mixed_notebooks(assignment))
    return autograder("grade-all", str(root / name), "--scheduler", address, "--csv", str(root / f"{name}.csv"),
                      "--timeout", TIMEOUT)


def test_a_dask_scheduler_and_worker_give_the_local_grades(local_run, dask_processes, assignment):
    run = _grade_on(dask_processes, local_run, "processes", assignment)
    assert run.returncode == 0, run.stderr
    assert (local_run / "processes.csv").read_text() == (local_run / "local.csv").read_text()
    local = {line["student"]: line["report"] for line in ledger_lines(local_run / "local")}
    remote = {line["student"]: line["report"] for line in ledger_lines(local_run / "processes")}
    for student, report in local.items():  # the whole report, feedback included, apart from timings and paths
        for data in (report, remote[student]):
            data.pop("submission"), data.pop("seconds")
            for exercise in data["exercises"]:
                exercise.pop("seconds")
        assert remote[student] == report, student


def test_a_local_cluster_gives_the_local_grades(local_run, assignment):
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        run = _grade_on(cluster.scheduler_address, local_run, "cluster", assignment)
    assert run.returncode == 0, run.stderr
    assert read_csv(local_run / "cluster.csv") == read_csv(local_run / "local.csv")


def test_an_unreachable_scheduler_is_a_tool_failure(tmp_path, assignment):
    write_folder(tmp_path / "subs", {"ada": mixed_notebooks(assignment)["ada_complete"]})
    run = autograder("grade-all", str(tmp_path / "subs"), "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert run.returncode == 1
    assert "could not be reached" in run.stderr
