"""Hostile graded cells: every known attack on a Python autograder, written once for any exercise.

Each :class:`Attack` turns an exercise into a graded-cell source that attacks
the grader, and says what grading it must give.  Almost all of them must score
zero with feedback naming what happened; a few are harmless by the grader's
design and keep full points -- their ``rule`` says why that is honest.

Definitions are all that run in the sandbox (see ``autograder/notebook/extract.py``),
so an attack "at load time" hides in a top-level assignment the graded function
refers to, and a bare top-level statement never runs.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Callable
from dataclasses import dataclass

from autograder.notebook.assignment import Exercise
from autograder.paths import HIDDEN_TESTS_DIR, MASTER_NOTEBOOK, REPO_ROOT, UTILS_DIR

from .model import Expect, Outcome, Workspace
from .sources import wrapped

TIME_LIMIT = r"stopped after \d+(\.\d+)? s \(time limit\)"
WRONG = r"wrong values|not the expected value|, expected "
REFUSED = r"the grader's sandbox does not allow this"  # the kernel's EPERM/EACCES, as the feedback words it
BLOCKED_OPEN = REFUSED
LEAKED = "LEAKED:"  # what a leak attack raises with the stolen text when it gets through (see the controls)
ENDED_ITSELF = r"ended its own process"
SHAPELESS = r"should (be|return)|has \d+ items?, but"


@dataclass(frozen=True)
class Attack:
    name: str
    source: Callable[[Exercise, Workspace], str]
    expect: Expect


def zero(message: str) -> Expect:
    return Expect(Outcome.ZERO, message)


def full(rule: str) -> Expect:
    return Expect(Outcome.FULL, None, rule)


def _cell(before: str = "", **options) -> Callable[[Exercise, Workspace], str]:
    """An attack that only depends on the exercise: ``wrapped`` with fixed arguments."""
    return lambda exercise, workspace: wrapped(exercise, before, **options)


# Code that turns the reference's result into look-alikes of the right values.
SUBCLASSES = '''
class SneakyArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)


class SneakyFloat(float):
    def __eq__(self, other):
        return True


def _sneak(value):
    if type(value) is dict:
        return {key: _sneak(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_sneak(item) for item in value)
    if type(value) is np.ndarray:
        return value.view(SneakyArray)
    return SneakyFloat(value)
'''

LIAR = '''
class Liar:
    """Equal to everything, close to everything, and an array of anything."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__

    def __abs__(self):
        return 0.0

    def __lt__(self, other):
        return True

    __le__ = __lt__

    def __float__(self):
        return 0.0

    def __len__(self):
        return 0
'''

ARRAY_LIKE = '''
class ArrayLike:
    """Converts to the right array, but is not one."""

    def __init__(self, value):
        self.value = value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __float__(self):
        return float(self.value)

    def __getitem__(self, index):
        return self.value[index]

    @property
    def shape(self):
        return np.shape(self.value)


def _array_like(value):
    if type(value) is dict:
        return {key: _array_like(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_array_like(item) for item in value)
    return ArrayLike(value)
'''

STUBBORN = '''
class Stubborn:
    def __del__(self):
        while True:
            pass
'''

LINGERING = '''
class Lingering:
    def __del__(self):
        while True:
            pass


_KEEP = Lingering()
'''

DAG = '''
def _dag(depth):
    """2 ** depth paths through depth + 1 objects: a naive encoder or comparer never finishes."""
    node = [1.0]
    for _ in range(depth):
        node = [node, node]
    return node
'''

DEEPER = '''
def _deeper(n):
    return _deeper(n + 1) + 1
'''

PATCH_EVERYTHING = '''
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *args, **kwargs: True
math.isclose = lambda *args, **kwargs: True
try:
    np.ndarray.__eq__ = lambda self, other: np.ones(self.shape, dtype=bool)
except TypeError:
    pass
'''

SIGNALS = '''
import signal
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGALRM, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)
signal.alarm(1)
'''

FORGE = '''
def _frame(message):
    header = json.dumps(message).encode()
    return struct.pack("<II", len(header), 0) + header
'''


def _forge(exercise: Exercise, workspace: Workspace) -> str:
    before = (f'os.write(3, _frame({{"kind": "case", "id": "{exercise.name}: public case", '
              '"value": {"t": "py", "v": 1}}))\n'
              'os.write(3, _frame({"kind": "done"}))\n'
              "os._exit(0)")
    return wrapped(exercise, before, top="import json\nimport os\nimport struct\n" + FORGE)


FORGE_RIGHT_ID = '''
value = {reference}(*args, **kwargs)
case_id = sys._getframe(1).f_locals["case"]["id"]  # the worker's own frame, one level up
buffers = []
header = json.dumps({{"kind": "case", "id": case_id, "value": _wire.encode(value, buffers)}}).encode()
frame = struct.pack("<II", len(header), len(buffers)) + header
for buffer in buffers:
    frame += struct.pack("<Q", len(buffer)) + buffer
os.write(3, frame)
'''


def forged_frame_without_inputs(exercise: Exercise) -> str:
    """Sends the right value for the right case id itself, through the worker's own wire module, but
    without the arguments-after-the-call that cases watching their inputs expect."""
    top = "import json\nimport os\nimport struct\nimport sys\n_wire = sys.modules['wire']"
    return wrapped(exercise, FORGE_RIGHT_ID.format(reference=f"_reference_{exercise.name}"), top=top)


def frame_flood(exercise: Exercise) -> str:
    """Writes an endless stream of tiny, valid, meaningless frames to the result pipe."""
    before = 'chunk = (struct.pack("<II", 2, 0) + b"{}") * 100_000\nwhile True:\n    os.write(3, chunk)'
    return wrapped(exercise, before, top="import os\nimport struct")


def _read(path) -> Callable[[Exercise, Workspace], str]:
    return _cell(f"secret = open({str(path)!r}).read()\nraise RuntimeError({LEAKED!r} + secret[:300])")


def _read_hidden(exercise: Exercise, workspace: Workspace) -> str:
    tests = HIDDEN_TESTS_DIR / f"test_{exercise.name}.py"
    return wrapped(exercise, f"secret = open({str(tests)!r}).read()\nraise RuntimeError({LEAKED!r} + secret[:300])")


# --- the old audit hook's bypasses: each first switches the hook off (when there is one), then steals.
# Since no check runs inside the child any more, they meet the kernel exactly as a plain read does.
STEAL = f"raise RuntimeError({LEAKED!r} + repr(secret[:300]))"

UNHOOK_GLOBALS = f'''
for module in list(sys.modules.values()):
    for name in ("BLOCKED_EVENTS", "FILE_EVENTS", "BLOCKED_MODULES", "LIBRARY_ROOTS", "PACKAGE_ROOTS"):
        if hasattr(module, name):
            setattr(module, name, ())
builtins.open = io.open
secret = open({str(MASTER_NOTEBOOK)!r}).read()
{STEAL}
'''

UNHOOK_CLOSURES = f'''
for thing in gc.get_objects():
    if type(thing).__name__ == "function" and thing.__name__ in ("hook", "inside") and thing.__closure__:
        for cell in thing.__closure__:
            try:
                cell.cell_contents = ("/",) if isinstance(cell.cell_contents, tuple) else cell.cell_contents
            except ValueError:
                pass
secret = open({str(HIDDEN_TESTS_DIR / "test_update_lr.py")!r}).read()
{STEAL}
'''

LYING_PATH = f'''
class Everywhere(str):
    def startswith(self, *args, **kwargs):
        return True

    def __fspath__(self):
        return str(self)

secret = open(Everywhere({str(MASTER_NOTEBOOK)!r})).read()
{STEAL}
'''

DIR_FD = f'''
folder = os.open({str(HIDDEN_TESTS_DIR)!r}, os.O_RDONLY | os.O_DIRECTORY)
secret = os.read(os.open("test_update_lr.py", os.O_RDONLY, dir_fd=folder), 300).decode()
{STEAL}
'''

CLIMB = f'''
secret = open("../" * 40 + {str(MASTER_NOTEBOOK)!r}.lstrip("/")).read()
{STEAL}
'''

PROC_OF_GRADER = f'''
secret = open(f"/proc/{{os.getppid()}}/root{MASTER_NOTEBOOK}").read()
secret += repr(os.listdir(f"/proc/{{os.getppid()}}/cwd"))
{STEAL}
'''

GIT = f'''
git = {str(REPO_ROOT / ".git")!r}
secret = repr(os.listdir(git)) if os.path.isdir(git) else open(git).read()
{STEAL}
'''

SITE_PACKAGES = f'''
secret = repr(os.listdir({sysconfig.get_paths()["purelib"]!r}))
{STEAL}
'''

CHECKOUT = f'''
secret = repr(os.listdir({str(REPO_ROOT)!r}))
{STEAL}
'''


def _read_submission(exercise: Exercise, workspace: Workspace) -> str:
    """The notebook being graded stands for any other student's file: it lives outside the sandbox too."""
    return wrapped(exercise, f"secret = open({str(workspace.submission)!r}).read()\n{STEAL}")


# --- reaching processes, the network, the disk, later runs
PRLIMIT_GRADER = "resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))"
PIDFD_GRADER = "os.pidfd_open(os.getppid())"
RAW_PIDFD_SIGNAL = '''
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, os.getppid(), 0)  # pidfd_open, then pidfd_send_signal(SIGKILL) to the worker
if pidfd < 0 or libc.syscall(424, pidfd, 9, None, 0) != 0:
    raise OSError(ctypes.get_errno(), "pidfd")
'''
RAW_SOCKET = '''
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(41, 1, 1, 0) < 0:  # socket(AF_UNIX, SOCK_STREAM) without the socket module
    raise OSError(ctypes.get_errno(), "socket")
'''
ABSTRACT_UNIX = 'socket.socket(socket.AF_UNIX).connect("\\0optkit-isolation-listener")'
FILL_DISK = '''
for folder in (".", "/tmp", "/dev/shm", os.path.expanduser("~")):
    with open(os.path.join(folder, "optkit-filler.bin"), "wb") as stream:
        stream.write(b"x" * (1 << 26))
'''
CONFTEST = f'''
with open({str(HIDDEN_TESTS_DIR / "conftest.py")!r}, "w") as stream:
    stream.write("import pytest\\n@pytest.hookimpl(tryfirst=True)\\ndef pytest_runtest_call(item):\\n    pass\\n")
'''
CHMOD_HIDDEN = f"os.chmod({str(HIDDEN_TESTS_DIR)!r}, 0)"
OUTPUT_TRICK = f'''
print("my own print")
for make in (lambda: os.symlink({str(MASTER_NOTEBOOK)!r}, "output.txt"), lambda: os.mkfifo("output.txt")):
    try:
        make()
    except OSError:
        pass
'''


def _write_results(exercise: Exercise, workspace: Workspace) -> str:
    fake = '{"score": 100, "tests": []}'
    return wrapped(exercise, f"with open({str(workspace.results)!r}, 'w') as stream:\n    stream.write({fake!r})")


def _remove_results(exercise: Exercise, workspace: Workspace) -> str:
    return wrapped(exercise, f"os.remove({str(workspace.results)!r})", top="import os")


def _write_outside(exercise: Exercise, workspace: Workspace) -> str:
    return wrapped(exercise, f"open({str(workspace.outside)!r}, 'w').write('pwned')")


def _subprocess(exercise: Exercise, workspace: Workspace) -> str:
    return wrapped(exercise, f'subprocess.run(["sh", "-c", "echo pwned > {workspace.outside}"])',
                   top="import subprocess")


def _system(exercise: Exercise, workspace: Workspace) -> str:
    return wrapped(exercise, f'os.system("echo pwned > {workspace.outside}")', top="import os")


NOTHING_RUNS = "top-level statements that are not definitions never run in the sandbox"

ATTACKS: tuple[Attack, ...] = (
    # --- time, memory, processes
    Attack("endless-loop", _cell("while True:\n    pass"), zero(TIME_LIMIT)),
    Attack("memory-bomb", _cell("hoard = []\nwhile True:\n    hoard.append(bytearray(10**7))"),
           zero(r"ran out of memory")),
    Attack("fork-bomb", _cell("while True:\n    os.fork()", top="import os"), zero(REFUSED)),
    Attack("subprocess-shell", _subprocess, zero(REFUSED + r"|No module named 'subprocess'")),
    Attack("os-system", _system,
           full("os.system cannot start a shell (it returns 127 and the function goes on); the file the shell "
                "would write never appears (test_nothing_left_behind)")),
    Attack("exec-shell", _cell('os.execv("/bin/sh", ["sh", "-c", "exit 0"])', top="import os"), zero(REFUSED)),
    Attack("sleep", _cell("time.sleep(60)", top="import time"), zero(TIME_LIMIT)),
    Attack("abort", _cell("os.abort()", top="import os"), zero(r"crashed \(SIGABRT\)")),
    # --- leaving early
    Attack("sys-exit-top-level-statement", _cell(top="import sys\nsys.exit(0)"), full(NOTHING_RUNS)),
    Attack("sys-exit-at-load", _cell("_EXIT_NOW", top="_EXIT_NOW = __import__('sys').exit(0)"), zero(r"SystemExit")),
    Attack("sys-exit-in-function", _cell("sys.exit(0)", top="import sys"), zero(r"SystemExit")),
    Attack("sys-exit-caught", _cell("try:\n    sys.exit(0)\nexcept SystemExit:\n    pass", top="import sys"),
           full("a SystemExit the student's own code catches changes nothing")),
    Attack("os-exit-in-function", _cell("os._exit(0)", top="import os"), zero(ENDED_ITSELF)),
    Attack("os-exit-at-load", _cell("_LEAVE_NOW", top="_LEAVE_NOW = __import__('os')._exit(0)"), zero(ENDED_ITSELF)),
    Attack("raise-keyboard-interrupt", _cell("raise KeyboardInterrupt"), zero(r"KeyboardInterrupt")),
    Attack("raise-system-exit", _cell("raise SystemExit(0)"), zero(r"SystemExit")),
    Attack("forged-result-frames", _forge, zero(ENDED_ITSELF)),
    # --- other processes: the grader, the worker, anyone
    Attack("kill-parent", _cell("os.kill(os.getppid(), signal.SIGKILL)", top="import os\nimport signal"),
           zero(REFUSED)),
    Attack("killpg-parent-group", _cell("os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)",
                                        top="import os\nimport signal"), zero(REFUSED)),
    Attack("prlimit-grader", _cell(PRLIMIT_GRADER, top="import os\nimport resource"), zero(REFUSED)),
    Attack("pidfd-grader", _cell(PIDFD_GRADER, top="import os"), zero(REFUSED)),
    Attack("raw-pidfd-signal", _cell(RAW_PIDFD_SIGNAL, top="import ctypes\nimport os"), zero(REFUSED)),
    Attack("signals-ignored-then-loop", _cell(SIGNALS + "while True:\n    pass"), zero(TIME_LIMIT)),
    Attack("signals-ignored-honest", _cell(SIGNALS + "signal.alarm(0)"),
           full("ignoring signals is allowed: the grader stops a child with SIGKILL, which cannot be ignored")),
    # --- output
    Attack("fake-all-tests-passed", _cell('print("All tests passed!\\n" * 3)', spoil=True), zero(WRONG)),
    Attack("print-honest", _cell('print("All tests passed!")'),
           full("printing is allowed; the output is shown apart from the grader's verdict")),
    Attack("megabytes-of-output", _cell('print("x" * (10 ** 7))'), zero(r"printed too much output")),
    Attack("output-file-symlink-and-fifo", _cell(OUTPUT_TRICK, top="import os"),
           full("output goes to a memfd the worker owns: there is no output file to replace any more, and the "
                "output shown is the student's own print (test_isolation_cli checks it)")),
    # --- lying results
    Attack("monkey-patch-numpy", _cell(PATCH_EVERYTHING, spoil=True), zero(WRONG)),
    Attack("ndarray-subclass", _cell(top=SUBCLASSES, result="_sneak(value)"), zero(r"Sneaky(Array|Float)")),
    Attack("lying-eq-object", _cell(top=LIAR, result="Liar()"), zero(r"Liar")),
    Attack("array-like-object", _cell(top=ARRAY_LIKE, result="_array_like(value)"), zero(r"ArrayLike")),
    Attack("shared-dag-result", _cell(top=DAG, result="_dag(30)"), zero(SHAPELESS)),
    Attack("self-containing-result", _cell("loop = []\nloop.append(loop)", result="loop"), zero(SHAPELESS)),
    Attack("huge-array-result", _cell(result="np.ones(9 * 10**6)"), zero(r"returned more than \d+ MB")),
    Attack("huge-int-result", _cell(result="10 ** 5000"),
           zero(r"too large|could not be (sent|read)|not plain data")),
    # --- files: reading what belongs to the instructor or to others
    Attack("read-master-notebook", _read(MASTER_NOTEBOOK), zero(REFUSED)),
    Attack("read-hidden-tests", _read_hidden, zero(REFUSED)),
    Attack("read-utils", _read(UTILS_DIR / "public_tests.py"), zero(REFUSED)),
    Attack("read-own-submission-file", _read_submission, zero(REFUSED)),
    Attack("unhook-worker-globals", _cell(UNHOOK_GLOBALS, top="import builtins\nimport io\nimport sys"),
           zero(REFUSED)),
    Attack("unhook-closure-cells", _cell(UNHOOK_CLOSURES, top="import gc"), zero(REFUSED)),
    Attack("lying-str-path", _cell(LYING_PATH), zero(REFUSED)),
    Attack("dir-fd-open", _cell(DIR_FD, top="import os"), zero(REFUSED)),
    Attack("climb-relative-path", _cell(CLIMB), zero(REFUSED)),
    Attack("proc-of-grader", _cell(PROC_OF_GRADER, top="import os"), zero(REFUSED)),
    Attack("read-git", _cell(GIT, top="import os"), zero(REFUSED)),
    Attack("list-site-packages", _cell(SITE_PACKAGES, top="import os"), zero(REFUSED)),
    Attack("list-checkout", _cell(CHECKOUT, top="import os"), zero(REFUSED)),
    # --- files: writing, anywhere
    Attack("write-results-json", _write_results, zero(REFUSED)),
    Attack("remove-results-json", _remove_results, zero(REFUSED)),
    Attack("write-outside-scratch", _write_outside, zero(REFUSED)),
    Attack("fill-the-disk", _cell(FILL_DISK, top="import os"), zero(REFUSED)),
    Attack("conftest-into-hidden-tests", _cell(CONFTEST), zero(REFUSED)),
    Attack("chmod-hidden-tests", _cell(CHMOD_HIDDEN, top="import os"), zero(REFUSED)),
    # --- network and raw system calls
    Attack("ctypes-raw-socket", _cell(RAW_SOCKET, top="import ctypes"), zero(REFUSED)),
    Attack("socket", _cell('socket.socket().connect(("127.0.0.1", 9))', top="import socket"), zero(REFUSED)),
    Attack("abstract-unix-socket", _cell(ABSTRACT_UNIX, top="import socket"), zero(REFUSED)),
    # --- recursion and finalizers
    Attack("deep-recursion", _cell("_deeper(0)", top=DEEPER), zero(r"RecursionError")),
    Attack("del-loops-during-call", _cell("Stubborn()", top=STUBBORN), zero(TIME_LIMIT)),
    Attack("del-loops-at-exit", _cell("_KEEP", top=LINGERING),
           full("finalizers that would only run at interpreter exit never run: the child leaves with os._exit")),
)

# Attacks that only read and report what they stole: safe to run without the sandbox, as controls showing that
# the attack code really steals (their feedback then holds LEAKED).
LEAK_ATTACKS = ("read-master-notebook", "read-hidden-tests", "read-own-submission-file", "unhook-worker-globals",
                "unhook-closure-cells", "lying-str-path", "dir-fd-open", "climb-relative-path", "read-git",
                "list-site-packages", "list-checkout")
