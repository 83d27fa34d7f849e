"""Isolation the kernel enforces, attacked through the real CLI in each of the three deployments.

Deployments (each a parametrisation; see SECURITY.md):

- ``root``: as CI and a VM run the grader;
- ``root-without-cap-sys-admin``: a Docker container as on Gradescope, reproduced with
  ``setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin`` (the fixture checks CapEff really lacks it);
- ``unprivileged-user``: an instructor's laptop, reproduced with a system user created by ``useradd``
  (kept between sessions) and ``setpriv --reuid/--regid --clear-groups``.  Python lives in /root/.pyenv
  here and /root is 0700, so the fixture gives /root the search bit (o+x, no listing) for the session and
  restores its mode afterwards; the user gets a home, a TMPDIR and the run folders as its own.

Every attack of ``tests/corpus/attacks.py`` is graded in every deployment (the hostile notebooks of the
corpus), then: concurrent gradings where one submission tries to kill, signal and prlimit the other's
processes (the victim must still score full); listeners outside (Unix pathname and abstract sockets, TCP)
that must see no connection; persistence (an untouched release graded afterwards scores as usual and the
hidden tests are unchanged); fail-closed behaviour and the ``--no-isolation`` opt-out.  Controls run the
leak attacks with ``--no-isolation`` (as root only) to show that the attack code really steals when
nothing stops it.

Not run here, and why: ``kill(-1, SIGKILL)`` (a failure would kill every process of the machine as root;
tests/test_sandbox.py sends the harmless SIGCONT to -1 instead); attacks on a kernel without Landlock or
seccomp (this kernel has both: the fail-closed path is driven by the OPTKIT_ASSUME_NO_* switches, which can
only lower isolation).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from corpus import catalogue, hostile_batches
from corpus import notebooks as nb
from corpus.attacks import ATTACKS, LEAK_ATTACKS, LEAKED, REFUSED
from corpus.model import Variant, Workspace
from corpus.run import STALE, outcome_problem, per_exercise, prepare, processes_under, schema_problems
from corpus.sources import wrapped

from autograder.notebook.assignment import load_assignment
from autograder.paths import HIDDEN_TESTS_DIR

ASSIGNMENT = load_assignment()
HOSTILE = [variant for variant in catalogue(ASSIGNMENT) if variant.id.startswith("hostile-")]
GRADER_USER = "optkit-grader"
CAP_SYS_ADMIN = 21
CLI_TIMEOUT = 180.0
ISOLATED = re.compile(r"isolation: Landlock ABI \d+ \+ seccomp \+ (own uid per child \+ )?rlimits")
# What must never appear in anything the grader writes: lines of the hidden tests, of the .git pointer/HEAD.
SECRETS = [HIDDEN_TESTS_DIR.joinpath(f"test_{e.name}.py").read_text().splitlines()[0] for e in ASSIGNMENT.exercises]
LISTENER_NAME = "optkit-isolation-listener"


@dataclass
class Deployment:
    """How the CLI is started: a command prefix, who owns the run folders, and extra environment."""

    name: str
    prefix: list[str]
    owner: tuple[int, int] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def hand_over(self, root: Path) -> None:
        """Give the run folder to the deployment's user (after the test wrote its files there)."""
        if self.owner:
            for path in (root, *root.rglob("*")):
                os.chown(path, *self.owner)

    def command(self, *args: str) -> list[str]:
        return [*self.prefix, sys.executable, "-m", "autograder", *args]

    def environment(self, workspace: Workspace, **extra: str) -> dict[str, str]:
        return {**os.environ, "TMPDIR": str(workspace.tmp), **self.env, **extra}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    results: dict | None
    leftover_files: list[str]
    leftover_processes: list[str]


def grade(deployment: Deployment, root: Path, notebook: bytes, *options: str, **env: str) -> Run:
    workspace = prepare(root)
    workspace.submission.write_bytes(notebook)
    workspace.results.write_text(json.dumps(STALE))
    deployment.hand_over(root)
    process = subprocess.run(
        deployment.command("grade", str(workspace.submission), "--results", str(workspace.results), *options),
        capture_output=True, text=True, cwd=root, env=deployment.environment(workspace, **env), timeout=CLI_TIMEOUT,
        check=False)
    try:
        results = json.loads(workspace.results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        results = None
    leftovers = sorted(str(p.relative_to(root)) for p in workspace.tmp.rglob("*"))
    leftovers += [workspace.outside.name] if workspace.outside.exists() else []
    return Run(process.returncode, process.stdout, process.stderr, results, leftovers,
               processes_under(root, wait=3.0))


# --------------------------------------------------------------------------- deployments


@pytest.fixture(scope="session")
def grader_user():
    """A system user for the unprivileged deployment (created once, kept), and /root made searchable."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("creating a user (useradd) and switching to it needs root")
    try:
        pwd.getpwnam(GRADER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", GRADER_USER],
                       check=True, capture_output=True)
    user = pwd.getpwnam(GRADER_USER)
    python_home = Path(sys.executable).resolve()
    blocked = [parent for parent in python_home.parents if not parent.stat().st_mode & stat.S_IXOTH]
    modes = {folder: folder.stat().st_mode for folder in blocked}
    for folder in blocked:
        folder.chmod(modes[folder] | stat.S_IXOTH)  # search only: the user can reach Python, not list /root
    try:
        yield user
    finally:
        for folder, mode in modes.items():
            folder.chmod(stat.S_IMODE(mode))


@pytest.fixture(scope="session", params=["root", "root-without-cap-sys-admin", "unprivileged-user"])
def deployment(request, traversable_tmp) -> Deployment:
    if os.geteuid() != 0:
        pytest.skip("the three deployments are reproduced from root (CI runs as root)")
    if request.param != "root" and not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is needed to drop a capability or switch users")
    if request.param == "root":
        return Deployment("root", [])
    if request.param == "root-without-cap-sys-admin":
        chosen = Deployment(request.param, ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin"])
        assert not _capabilities(chosen) & (1 << CAP_SYS_ADMIN), "setpriv did not drop CAP_SYS_ADMIN"
        return chosen
    user = request.getfixturevalue("grader_user")
    home = traversable_tmp / "grader-home"
    home.mkdir(exist_ok=True)
    os.chown(home, user.pw_uid, user.pw_gid)
    chosen = Deployment(request.param, ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                                        "--clear-groups"], (user.pw_uid, user.pw_gid), {"HOME": str(home)})
    assert _capabilities(chosen) == 0 and _uid(chosen) == user.pw_uid
    return chosen


def _probe(deployment: Deployment, code: str) -> str:
    return subprocess.run([*deployment.prefix, sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, **deployment.env}).stdout


def _capabilities(deployment: Deployment) -> int:
    status = _probe(deployment, "print(open('/proc/self/status').read())")
    return int(re.search(r"CapEff:\s*([0-9a-f]+)", status).group(1), 16)


def _uid(deployment: Deployment) -> int:
    return int(_probe(deployment, "import os; print(os.getuid())"))


@pytest.fixture(scope="session")
def hidden_tests_snapshot():
    """The hidden tests folder as it was before any attack ran: names, sizes, modes."""
    return _snapshot(HIDDEN_TESTS_DIR)


def _snapshot(folder: Path) -> dict[str, tuple[int, int, float]]:
    """Names, sizes, modes and times of the folder and its files (pytest's __pycache__ aside)."""
    return {p.name: (p.stat().st_size, p.stat().st_mode, p.stat().st_mtime)
            for p in [folder, *folder.iterdir()] if p.name != "__pycache__"}


@pytest.fixture(scope="session")
def hostile_runs(deployment, traversable_tmp, hidden_tests_snapshot) -> dict[str, tuple[Variant, Run]]:
    """Every hostile notebook of the corpus, graded in this deployment (a few at a time)."""
    def one(variant: Variant) -> tuple[Variant, Run]:
        root = traversable_tmp / deployment.name / variant.id
        workspace = prepare(root)
        return variant, grade(deployment, root, variant.build(workspace), *variant.options, "--quiet")

    with ThreadPoolExecutor(2) as pool:
        return {variant.id: result for variant, result in zip(HOSTILE, pool.map(one, HOSTILE), strict=True)}


# --------------------------------------------------------------------------- every attack, every deployment


@pytest.mark.parametrize("variant", HOSTILE, ids=[variant.id for variant in HOSTILE])
def test_every_attack_fails_in_every_deployment(variant, hostile_runs, assignment):
    _, run = hostile_runs[variant.id]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.results is not None and not schema_problems(run.results, assignment)
    assert ISOLATED.search(run.stdout) and ISOLATED.search(run.results["output"]), run.stdout
    assert run.results["extra_data"]["isolation"] in run.stdout
    problems = {name: outcome_problem(variant.expect[name], *per_exercise(run.results)[name])
                for name in variant.expect}
    assert not any(problems.values()), {name: problem for name, problem in problems.items() if problem}
    text = json.dumps(run.results) + run.stdout + run.stderr
    assert LEAKED not in text and "PWNED" not in text
    assert not any(secret in text for secret in SECRETS)
    assert run.leftover_files == [] and run.leftover_processes == []


def test_the_output_shown_is_the_students_own_print(hostile_runs):
    """The old output.txt symlink/FIFO trick: the output shown is exactly what the student printed."""
    (variant, run), = [hostile_runs[v.id] for v in HOSTILE if "output-file-symlink-and-fifo" in v.tags]
    batch = next(batch for batch in hostile_batches(ASSIGNMENT) if variant.tags == {a.name for a in batch.values()})
    name = next(name for name, attack in batch.items() if attack.name == "output-file-symlink-and-fifo")
    first = next(test for test in run.results["tests"] if test["tags"][0] == name)
    printed = first["output"].split("Your code printed:\n", 1)[1]
    assert printed and set(printed.splitlines()) == {"my own print"}, printed


def test_nothing_persists_into_later_gradings(hostile_runs, deployment, traversable_tmp, hidden_tests_snapshot,
                                              assignment):
    """After every attack (conftest.py into the hidden tests, chmod, disk filling), the hidden tests are as they
    were and an untouched release still scores 0, a complete one 100."""
    assert _snapshot(HIDDEN_TESTS_DIR) == hidden_tests_snapshot
    untouched = grade(deployment, traversable_tmp / deployment.name / "after-release",
                      nb.to_bytes(nb.solved(assignment, {e.name: _stub(e) for e in assignment.exercises})), "--quiet")
    complete = grade(deployment, traversable_tmp / deployment.name / "after-complete",
                     nb.to_bytes(nb.solved(assignment)), "--quiet")
    assert untouched.results["score"] == 0, untouched.stdout
    assert complete.results["score"] == pytest.approx(assignment.total_points), complete.stdout
    assert not Path("/dev/shm/optkit-filler.bin").exists() and not Path("/tmp/optkit-filler.bin").exists()


def _stub(exercise) -> str:
    return f"# GRADED FUNCTION: {exercise.name}\ndef {exercise.name}(*args, **kwargs):\n    raise NotImplementedError\n"


# --------------------------------------------------------------------------- two gradings at once


VICTIM_DELAY = 2.5  # each victim exercise sleeps this long in its first case, then answers right: every sandbox
# child (a chain of four exercises) lives about 10 s
ATTACK_PIDS = '''
import ctypes, os, resource, signal
libc = ctypes.CDLL(None, use_errno=True)
outcomes = []
for pid in TARGETS + [os.getppid()]:
    for attempt in (lambda: os.kill(pid, signal.SIGKILL), lambda: os.kill(pid, 0),
                    lambda: resource.prlimit(pid, resource.RLIMIT_CPU, (0, 0)), lambda: os.pidfd_open(pid),
                    lambda: os.sched_setaffinity(pid, {0}), lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)):
        try:
            attempt()
            outcomes.append("PWNED " + str(pid))
        except OSError as error:
            outcomes.append(error.errno)
    pidfd = libc.syscall(434, pid, 0)
    if pidfd >= 0 and libc.syscall(424, pidfd, 9, None, 0) == 0:
        outcomes.append("PWNED by pidfd " + str(pid))
if any(isinstance(outcome, str) for outcome in outcomes):
    raise RuntimeError(repr(outcomes))
raise PermissionError(1, "every attempt was refused")
'''


def test_a_submission_cannot_touch_another_graded_at_the_same_time(deployment, traversable_tmp, assignment):
    """The victim's exercises are slow but right; while they run, the attacker's update_lr goes for the
    victim's grader, worker and children (their exact pids, found by this test from outside: never a guessed
    pid, so that a failure could only hurt the victim) and for its own worker."""
    update_lr = assignment.exercise("update_lr")
    once = f"if not _SLEPT:\n    _SLEPT.append(1)\n    time.sleep({VICTIM_DELAY})"  # the first case only
    slow = {e.name: wrapped(e, once, top="import time\n_SLEPT = []") for e in assignment.exercises}
    victim_root = traversable_tmp / deployment.name / "concurrent-victim"
    workspace = prepare(victim_root)
    workspace.submission.write_bytes(nb.to_bytes(nb.solved(assignment, slow)))
    deployment.hand_over(victim_root)
    victim = subprocess.Popen(
        deployment.command("grade", str(workspace.submission), "--results", str(workspace.results), "--quiet",
                           "--timeout", "20"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=victim_root,
        env=deployment.environment(workspace))
    try:
        targets = _wait_for_children(victim_root, victim.pid)
        attack = wrapped(update_lr, 'exec(ATTACK, {"TARGETS": TARGETS})',
                         top=f"TARGETS = {targets!r}\nATTACK = {ATTACK_PIDS!r}")
        attacker = grade(deployment, traversable_tmp / deployment.name / "concurrent-attacker",
                         nb.to_bytes(nb.solved(assignment, {update_lr.name: attack})), "--quiet")
        assert victim.poll() is None, "the attack came too late: the victim had finished (a loaded machine?)"
        stdout, stderr = victim.communicate(timeout=CLI_TIMEOUT)
    finally:
        victim.kill()
    results = json.loads(workspace.results.read_text())
    assert victim.returncode == 0, stderr
    assert results["score"] == pytest.approx(assignment.total_points), stdout
    score, points, feedback = per_exercise(attacker.results)[update_lr.name]
    assert score == 0 and re.search(REFUSED, feedback) and "PWNED" not in feedback, feedback
    assert attacker.results["score"] == pytest.approx(assignment.total_points - points)


def _wait_for_children(root: Path, grader_pid: int) -> list[int]:
    """The victim's grader, worker and sandbox children, once a child is running (seen from outside)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = {int(line.split()[1]) for line in processes_under(root)} | {grader_pid}
        if len(found) >= 4:  # the grader, its worker and its two children (two chains of slow exercises)
            return sorted(found)
        time.sleep(0.05)
    raise AssertionError("the victim's sandbox children never appeared")


# --------------------------------------------------------------------------- listeners outside


class Listener:
    """Accepts connections on a socket in a thread and counts them."""

    def __init__(self, family: int, address) -> None:
        self.socket = socket.socket(family)
        self.socket.bind(address)
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def test_listeners_outside_the_sandbox_are_unreachable(deployment, traversable_tmp, assignment):
    folder = traversable_tmp / deployment.name / "listeners"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)
    path = folder / "listener.sock"
    path.unlink(missing_ok=True)
    listeners = {"pathname": Listener(socket.AF_UNIX, str(path)),
                 "abstract": Listener(socket.AF_UNIX, f"\0{LISTENER_NAME}-{deployment.name}"),
                 "tcp": Listener(socket.AF_INET, ("127.0.0.1", 0))}
    path.chmod(0o777)
    addresses = {"pathname": (socket.AF_UNIX, str(path)), "abstract": (socket.AF_UNIX, f"\0{LISTENER_NAME}-"
                                                                                       f"{deployment.name}"),
                 "tcp": (socket.AF_INET, listeners["tcp"].socket.getsockname())}
    try:
        for family, address in addresses.values():  # the control: they do accept connections
            with socket.socket(family) as client:
                client.connect(address)
        time.sleep(0.5)
        assert all(listener.accepted == 1 for listener in listeners.values())
        names = [e.name for e in assignment.exercises][:3]
        cells = {name: wrapped(assignment.exercise(name), f"socket.socket({int(family)}).connect({address!r})",
                               top="import socket")
                 for name, (family, address) in zip(names, addresses.values(), strict=True)}
        run = grade(deployment, traversable_tmp / deployment.name / "sockets",
                    nb.to_bytes(nb.solved(assignment, cells)), "--quiet")
        time.sleep(0.5)
        assert all(listener.accepted == 1 for listener in listeners.values())
    finally:
        for listener in listeners.values():
            listener.close()
    per = per_exercise(run.results)
    for name in names:
        assert per[name][0] == 0 and re.search(REFUSED, per[name][2]), per[name][2]


# --------------------------------------------------------------------------- fail closed, opt out


@pytest.mark.parametrize("switch", ["OPTKIT_ASSUME_NO_LANDLOCK", "OPTKIT_ASSUME_NO_SECCOMP"])
def test_below_the_minimum_grading_is_refused_unless_waived(switch, deployment, traversable_tmp, assignment):
    notebook = nb.to_bytes(nb.solved(assignment))
    root = traversable_tmp / deployment.name / f"refused-{switch}"
    refused = grade(deployment, root, notebook, "--quiet", **{switch: "1"})
    piece = "Landlock" if "LANDLOCK" in switch else "seccomp"
    assert refused.returncode == 1
    assert re.search(rf"refusing to run untrusted student code: {piece}.*--no-isolation", refused.stderr)
    assert "score" not in refused.results and "--no-isolation" in refused.results["output"]
    assert refused.leftover_processes == [] and refused.leftover_files == []
    waived = grade(deployment, traversable_tmp / deployment.name / f"waived-{switch}", notebook, "--no-isolation",
                   **{switch: "1"})
    assert waived.returncode == 0
    assert waived.results["score"] == pytest.approx(assignment.total_points)
    assert "isolation: NOT ISOLATED (--no-isolation)" in waived.stdout
    assert "NOT ISOLATED" in waived.results["output"] and "NOT ISOLATED" in waived.results["extra_data"]["isolation"]


def test_a_switch_can_only_lower_isolation(traversable_tmp, assignment):
    """Unknown or zero values of the switches change nothing; they have no way to turn a missing piece on."""
    root_deployment = Deployment("root", [])
    run = grade(root_deployment, traversable_tmp / "switches", nb.to_bytes(nb.solved(assignment)), "--quiet",
                OPTKIT_ASSUME_NO_LANDLOCK="0", OPTKIT_ASSUME_NO_SECCOMP="yes", OPTKIT_ASSUME_LANDLOCK="1")
    assert run.returncode == 0 and ISOLATED.search(run.stdout)


@pytest.mark.skipif(os.geteuid() != 0, reason="the control runs student code unconfined: only where CI runs it")
def test_controls_the_leak_attacks_do_steal_when_nothing_stops_them(traversable_tmp, assignment):
    """The same attack cells, graded with --no-isolation: each one's feedback then carries what it stole."""
    attacks = [attack for attack in ATTACKS if attack.name in LEAK_ATTACKS]
    names = [e.name for e in assignment.exercises]
    for start in range(0, len(attacks), len(names)):
        batch = dict(zip(names, attacks[start:start + len(names)], strict=False))
        root = traversable_tmp / f"control-{start}"
        workspace = prepare(root)
        cells = {name: attack.source(assignment.exercise(name), workspace) for name, attack in batch.items()}
        run = grade(Deployment("root", []), root, nb.to_bytes(nb.solved(assignment, cells)), "--no-isolation",
                    "--quiet", "--timeout", "5")
        per = per_exercise(run.results)
        for name, attack in batch.items():
            assert LEAKED in per[name][2], f"{attack.name}: {per[name][2][:500]}"
        assert "NOT ISOLATED" in run.results["output"]
    shutil.rmtree(traversable_tmp / "control-0", ignore_errors=True)
