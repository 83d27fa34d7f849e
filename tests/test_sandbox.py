"""Unit tests of autograder/sandbox (wire format, runner, worker confinement) and autograder/notebook.

- wire: plain data round-trips with exact types; anything else becomes Opaque; decoding hostile
  trees and frames raises WireError and nothing else.
- runner and worker: what student code can and cannot do in its kernel-confined child (every refusal is the
  kernel's: no check runs inside the child), limits, independence of exercises and of runs, no process left
  behind.
- extraction: the marked cell versus the fallback, the dependency closure (symtable-based: locals are
  not pulled in), syntax error messages.
- submission reading: every kind of unreadable file gets a SubmissionError with a precise message.
"""

from __future__ import annotations

import collections
import io
import json
import math
import os
import re
import signal
import struct
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from corpus.attacks import OUTPUT_TRICK
from corpus.run import processes_under

from autograder.notebook.assignment import PREAMBLE, PREAMBLE_NAMES
from autograder.notebook.extract import ExtractionError, FunctionFinder
from autograder.notebook.submission import MAX_BYTES, CodeCell, SubmissionError, read_submission
from autograder.paths import HIDDEN_TESTS_DIR, INSTRUCTOR_ONLY, MASTER_NOTEBOOK, RELEASE_NOTEBOOK, UTILS_DIR
from autograder.sandbox import confine, runner, wire
from autograder.sandbox.messages import EXIT_NOT_CONFINED, EXIT_OUT_OF_MEMORY, Ended
from autograder.sandbox.runner import Call, Job, Limits, Sandbox, Snippet
from autograder.sandbox.wire import MAX_DEPTH, Opaque, WireError

# =========================================================================== wire: round trips


def _round_trip(value):
    """Encode, frame, read back and decode, as the worker and the grader do."""
    buffers: list[bytes] = []
    tree = wire.encode(value, buffers)
    stream = io.BytesIO()
    wire.write_frame(stream, {"value": tree}, buffers)
    stream.seek(0)
    message, received = wire.read_frame(stream, max_bytes=1 << 30)
    assert wire.read_frame(stream, max_bytes=1 << 30) is None  # a clean end of stream
    return wire.decode(message["value"], received)


def _identical(got, want) -> bool:
    """Same exact types all the way down, same values (NaN equals NaN), same dtypes and shapes."""
    if type(got) is not type(want):
        return False
    if isinstance(want, np.ndarray):
        return got.dtype == want.dtype and got.shape == want.shape and np.array_equal(
            got, want, equal_nan=want.dtype.kind in "fc")
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(_identical(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return list(got) == list(want) and all(_identical(got[k], want[k]) for k in want)
    if isinstance(want, (float, np.floating, np.complexfloating)) and want != want:  # NaN
        return got != got and (not isinstance(want, np.generic) or got.dtype == want.dtype)
    if isinstance(want, float) and want == 0:
        return math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, np.generic):
        return got.dtype == want.dtype and got == want
    return got == want


PLAIN = {
    "none": None,
    "true": True,
    "false": False,
    "zero": 0,
    "negative": -5,
    "big-int": 2**200,
    "float": 1.5,
    "negative-zero": -0.0,
    "inf": float("inf"),
    "nan": float("nan"),
    "tiny-float": 5e-324,
    "str": "learning rate",
    "unicode-and-nul": "ünïcødé \x00 \U0001f600",
    "empty-list": [],
    "empty-tuple": (),
    "empty-dict": {},
    "nested": {"W1": [1, (2.0, "3")], "b1": {"x": None}},
    "dict-keys": {1: "int", "s": "str", (1, "a"): "tuple", None: "none", False: "bool", 2.5: "float"},
    "np-float64": np.float64(1.5),
    "np-float32": np.float32(0.25),
    "np-int64": np.int64(-7),
    "np-uint8": np.uint8(200),
    "np-bool": np.bool_(True),
    "np-complex": np.complex128(1 + 2j),
    "np-nan": np.float64("nan"),
    "array-float64": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "array-float32": np.linspace(0, 1, 5, dtype=np.float32),
    "array-int8": np.array([-128, 0, 127], dtype=np.int8),
    "array-uint64": np.array([2**64 - 1], dtype=np.uint64),
    "array-bool": np.array([[True, False]]),
    "array-complex64": np.array([1 + 1j, -2j], dtype=np.complex64),
    "array-big-endian": np.array([1.0, 2.0], dtype=">f8"),
    "array-0d": np.array(3.0),
    "array-empty": np.zeros((0, 3)),
    "array-3d": np.arange(24).reshape(2, 3, 4),
    "array-with-nan": np.array([np.nan, np.inf, -np.inf, 0.0]),
    "array-transposed": np.arange(6.0).reshape(2, 3).T,
    "array-strided": np.arange(20.0)[::3],
    "array-fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "mini-batches": [(np.ones((2, 3)), np.zeros((1, 3))), (np.ones((2, 1)), np.zeros((1, 1)))],
    "adam-state": ({"W1": np.ones((2, 2))}, {"dW1": np.zeros((2, 2))}, {"dW1": np.full((2, 2), 1e-8)}),
}


@pytest.mark.parametrize("value", list(PLAIN.values()), ids=list(PLAIN))
def test_plain_data_round_trips_with_exact_types(value):
    assert _identical(_round_trip(value), value)


def test_decoded_arrays_are_fresh_writeable_copies():
    original = np.arange(6.0).reshape(2, 3)[:, ::2]
    decoded = _round_trip(original)
    assert decoded.flags.writeable and decoded.base is None
    decoded[0, 0] = 99
    assert original[0, 0] == 0


def test_large_received_arrays_are_views_and_never_share_memory():
    """Buffers of 64 KB or more are read into a bytearray and decoded as views (no copy); a forged tree that names
    one buffer twice still gets two arrays that share no memory."""
    big = np.arange(float(wire.LARGE_READ)).reshape(-1, 16)
    stream = io.BytesIO()
    buffers: list = []
    wire.write_frame(stream, {"value": wire.encode([big, big * 2], buffers)}, buffers)
    message, received = wire.read_frame(io.BytesIO(stream.getvalue()), max_bytes=1 << 30)
    first, second = wire.decode(message["value"], received)
    assert isinstance(received[0], bytearray) and np.shares_memory(first, received[0])
    assert np.array_equal(first, big) and np.array_equal(second, big * 2) and first.flags.writeable
    twice = {"t": "list", "items": [message["value"]["items"][0], message["value"]["items"][0]]}
    one, other = wire.decode(twice, received)
    assert np.array_equal(one, other) and not np.shares_memory(one, other)


class _Sub(np.ndarray):
    pass


class _Float(float):
    pass


class _Int(int):
    pass


class _Str(str):
    pass


class _List(list):
    pass


_Point = collections.namedtuple("_Point", "x y")


class _Hostile:
    """Every method a careless encoder might call raises."""

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __hash__(self):
        raise RuntimeError("hash")

    def __len__(self):
        raise RuntimeError("len")

    def __iter__(self):
        raise RuntimeError("iter")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("array")

    def __float__(self):
        raise RuntimeError("float")

    def __repr__(self):
        raise RuntimeError("repr")

    def __reduce__(self):
        raise RuntimeError("reduce")


class _HostileArray(np.ndarray):
    def tobytes(self, *args, **kwargs):
        raise RuntimeError("tobytes")

    def __array__(self, *args, **kwargs):
        raise RuntimeError("array")


NOT_PLAIN = {
    "ndarray-subclass": (np.zeros(3).view(_Sub), "_Sub"),
    "masked-array": (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "MaskedArray"),
    "recarray": (np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), "recarray"),
    "hostile-array-subclass": (np.zeros(2).view(_HostileArray), "_HostileArray"),
    "float-subclass": (_Float(1.5), "_Float"),
    "int-subclass": (_Int(3), "_Int"),
    "str-subclass": (_Str("x"), "_Str"),
    "list-subclass": (_List([1]), "_List"),
    "namedtuple": (_Point(1, 2), "_Point"),
    "ordered-dict": (collections.OrderedDict(a=1), "OrderedDict"),
    "defaultdict": (collections.defaultdict(int), "defaultdict"),
    "set": ({1, 2}, "set"),
    "frozenset": (frozenset({1}), "frozenset"),
    "bytes": (b"raw", "bytes"),
    "bytearray": (bytearray(b"raw"), "bytearray"),
    "python-complex": (1 + 2j, "complex"),
    "object-array": (np.array([1, "a", None], dtype=object), "dtype object"),
    "structured-array": (np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]), "dtype"),
    "string-array": (np.array(["a", "bc"]), "dtype <U2"),
    "bytes-array": (np.array([b"a"]), "dtype |S1"),
    "datetime-array": (np.array(["2024-01-01"], dtype="datetime64[D]"), "datetime64"),
    "np-str-scalar": (np.str_("x"), "str_"),
    "np-datetime-scalar": (np.datetime64("2024-01-01"), "datetime64"),
    "np-void-scalar": (np.zeros(1, dtype=[("a", "f8")])[0], "void"),
    "function": (len, "builtin_function_or_method"),
    "lambda": (lambda: 1, "function"),
    "class": (_Float, "type"),
    "module": (np, "module"),
    "generator": ((x for x in ()), "generator"),
    "ellipsis": (..., "ellipsis"),
    "hostile-object": (_Hostile(), "_Hostile"),
}


@pytest.mark.parametrize(("value", "type_name"), list(NOT_PLAIN.values()), ids=list(NOT_PLAIN))
def test_anything_but_exact_plain_types_becomes_opaque(value, type_name):
    got = _round_trip(value)
    assert type(got) is Opaque
    assert type_name in got.type_name


def test_opaque_values_keep_their_place_inside_plain_containers():
    got = _round_trip({"W1": np.zeros(2).view(_Sub), "b1": [1, _Float(2.0)], "t": (np.zeros(1), _Hostile())})
    assert type(got["W1"]) is Opaque and got["b1"][0] == 1 and type(got["b1"][1]) is Opaque
    assert type(got["t"][0]) is np.ndarray and type(got["t"][1]) is Opaque


def test_nesting_deeper_than_the_limit_is_cut_off():
    value: list = [1.0]
    for _ in range(MAX_DEPTH + 5):
        value = [value]
    got = _round_trip(value)
    depth = 0
    while type(got) is list:
        got, depth = got[0], depth + 1
    assert type(got) is Opaque and "nested too deeply" in got.reason
    assert depth == MAX_DEPTH + 1


def test_self_referencing_containers_do_not_recurse_forever():
    loop: list = []
    loop.append(loop)
    cycle: dict = {}
    cycle["self"] = cycle
    got_loop, got_cycle = _round_trip(loop), _round_trip(cycle)
    assert got_loop[0] is got_loop
    assert got_cycle["self"] is got_cycle


def test_shared_objects_stay_shared_and_distinct_ones_distinct():
    """v is s, or v["dW1"] is s["dW1"], is a mistake the hidden tests look for: the wire must keep it visible."""
    shared = np.zeros((2, 2))
    same_dict = {"dW1": shared}
    got = _round_trip((same_dict, same_dict, {"dW1": shared}, {"dW1": np.zeros((2, 2))}, [shared, shared]))
    assert got[0] is got[1]
    assert got[0]["dW1"] is got[2]["dW1"] is got[4][0] is got[4][1]
    assert got[3]["dW1"] is not got[0]["dW1"]


def test_a_shared_dag_crosses_in_linear_size():
    """A list of two references to a list of two references ... (2**30 paths) is 31 objects, not 2**30."""
    value: list = [1.0]
    for _ in range(30):
        value = [value, value]
    buffers: list[bytes] = []
    assert len(json.dumps(wire.encode(value, buffers))) < 5000
    got = _round_trip(value)
    assert got[0] is got[1]


def test_a_key_that_is_not_plain_data_is_refused_not_trusted():
    buffers: list[bytes] = []
    tree = wire.encode({object(): 1}, buffers)
    with pytest.raises(WireError):
        wire.decode(tree, buffers)


# =========================================================================== wire: hostile input


def _array(dtype="<f8", shape=(1,), buffer=0):
    return {"t": "ndarray", "dtype": dtype, "shape": list(shape), "buffer": buffer}


def _nested(depth: int) -> dict:
    node: dict = {"t": "py", "v": 1}
    for _ in range(depth):
        node = {"t": "list", "items": [node]}
    return node



HOSTILE_TREES = {
    "not-a-dict": ([1, 2], []),
    "no-tag": ({"v": 1}, []),
    "unknown-tag": ({"t": "pickle", "v": "gASVCAAAAAAAAACMBHBvc2l4lC4="}, []),
    "py-list-value": ({"t": "py", "v": [1]}, []),
    "py-float-value": ({"t": "py", "v": 1.5}, []),
    "py-dict-value": ({"t": "py", "v": {"a": 1}}, []),
    "float-not-text": ({"t": "float", "v": 1.5}, []),
    "list-without-items": ({"t": "list"}, []),
    "items-not-a-list": ({"t": "tuple", "items": {"a": 1}}, []),
    "dict-pair-of-three": ({"t": "dict", "items": [[{"t": "py", "v": 1}, {"t": "py", "v": 2}, 3]]}, []),
    "dict-opaque-key": ({"t": "dict", "items": [[{"t": "opaque", "type": "x"}, {"t": "py", "v": 1}]]}, []),
    "opaque-without-type": ({"t": "opaque"}, []),
    "too-deep": (_nested(MAX_DEPTH + 5), []),
    "object-dtype": (_array("|O"), [b"\0" * 8]),
    "structured-dtype": (_array("f8,i4"), [b"\0" * 12]),
    "void-dtype": (_array("|V8"), [b"\0" * 8]),
    "unicode-dtype": (_array("<U1"), [b"\0" * 4]),
    "datetime-dtype": (_array("<M8[s]"), [b"\0" * 8]),
    "garbage-dtype": (_array("not a dtype"), [b""]),
    "dtype-not-text": (_array(8), [b"\0" * 8]),
    "size-mismatch": (_array("<f8", (2,)), [b"\0" * 8]),
    "negative-dimension": (_array("<f8", (-1,)), [b""]),
    "bool-dimension": (_array("<f8", (True,)), [b"\0" * 8]),
    "float-dimension": (_array("<f8", (1.0,)), [b"\0" * 8]),
    "too-many-dimensions": (_array("<f8", (1,) * 40), [b"\0" * 8]),
    "huge-declared-size": (_array("<f8", (10**12,)), [b"\0" * 8]),
    "buffer-index-out-of-range": (_array(buffer=3), [b"\0" * 8]),
    "buffer-index-negative": (_array(buffer=-1), [b"\0" * 8]),
    "buffer-index-bool": (_array(buffer=True), [b"\0" * 8]),
    "alias-before-anything": ({"t": "alias", "of": 0}, []),
    "alias-out-of-range": ({"t": "list", "items": [{"t": "alias", "of": 5}]}, []),
    "alias-negative": ({"t": "list", "items": [{"t": "alias", "of": -1}]}, []),
    "alias-index-bool": ({"t": "list", "items": [{"t": "alias", "of": True}]}, []),
    "alias-as-dict-key": ({"t": "dict", "items": [[{"t": "alias", "of": 0}, {"t": "py", "v": 1}]]}, []),
    "bad-float-text": pytest.param({"t": "float", "v": "one point five"}, []),
    "unhashable-tuple-key": pytest.param(
        {"t": "dict", "items": [[{"t": "tuple", "items": [{"t": "list", "items": []}]}, {"t": "py", "v": 1}]]}, []),
    "dimension-over-int64": pytest.param(_array("<f8", (2**70,)), [b""]),
    "dimensions-wrapping-to-zero": pytest.param(_array("<f8", (2**32, 2**32)), [b""]),
    "giant-subarray-dtype": pytest.param(_array("(99999999999999,)f8"), [b""]),
}


def _params(table: dict) -> list:
    """pytest params named after the table's keys; a value is a tuple of arguments or a pytest.param."""
    return [pytest.param(*case.values, marks=case.marks, id=name) if hasattr(case, "marks") else
            pytest.param(*case, id=name) for name, case in table.items()]


@pytest.mark.parametrize(("tree", "buffers"), _params(HOSTILE_TREES))
def test_hostile_trees_raise_wire_error_and_nothing_else(tree, buffers):
    with pytest.raises(WireError):
        wire.decode(tree, buffers)


def _frame(header: bytes, count: int = 0, tail: bytes = b"") -> bytes:
    return struct.pack("<II", len(header), count) + header + tail



HOSTILE_FRAMES = {
    "head-cut-short": (b"\x05\x00\x00",),
    "header-cut-short": (struct.pack("<II", 100, 0) + b'{"a": 1}',),
    "buffer-cut-short": (_frame(b"{}", 1, struct.pack("<Q", 100) + b"abc"),),
    "buffer-length-cut-short": (_frame(b"{}", 1, b"\x01\x02"),),
    "header-larger-than-allowed": (struct.pack("<II", 2**32 - 1, 0),),
    "buffer-larger-than-allowed": (_frame(b"{}", 1, struct.pack("<Q", 2**63)),),
    "buffers-add-up-past-the-limit": (_frame(b"{}", 3, struct.pack("<Q", 600_000) + b"\0" * 600_000
                                             + struct.pack("<Q", 600_000)),),
    "too-many-buffers": (_frame(b"{}", 2**31),),
    "header-not-json": (_frame(b"\x80\x04pickle"),),
    "header-not-utf8": (_frame(b"\xff\xfe{}"),),
    "header-is-a-list": (_frame(b"[1, 2]"),),
    "header-is-a-number": (_frame(b"42"),),
    "header-nested-too-deep": pytest.param(_frame(b"[" * 100_000 + b"]" * 100_000)),
    "header-giant-number": pytest.param(_frame(b'{"v": ' + b"9" * 5000 + b"}")),
}


@pytest.mark.parametrize("data", _params(HOSTILE_FRAMES))
def test_hostile_frames_raise_wire_error_and_nothing_else(data):
    with pytest.raises(WireError):
        wire.read_frame(io.BytesIO(data), max_bytes=1 << 20)


def test_frame_limits_are_checked_before_reading():
    """A declared size over the budget is refused from the 8-byte head, before anything is allocated."""
    head = io.BytesIO(struct.pack("<II", 1 << 30, 0))
    with pytest.raises(WireError, match="too large"):
        wire.read_frame(head, max_bytes=1 << 20)
    assert head.tell() == 8


# =========================================================================== runner and worker

PREAMBLE_SNIPPET = Snippet(PREAMBLE, "<preamble>")


def _job(name: str, source: str, calls: tuple[tuple, ...] = ((),), function: str = "probe") -> Job:
    return Job(name, function, (PREAMBLE_SNIPPET, Snippet(textwrap.dedent(source), "<cell 1>")),
               tuple(Call(f"{name}: {k}", args) for k, args in enumerate(calls)))


def _only(run: runner.ExerciseRun):
    """The single case's value, or a description of what stopped it."""
    if run.load_error:
        return f"load error {run.load_error.type}: {run.load_error.message}"
    if run.errors:
        error = next(iter(run.errors.values()))
        return f"{error.type}: {error.message}"
    if run.values:
        return next(iter(run.values.values()))
    return f"stopped: {run.stopped}"


@pytest.fixture
def isolated_tmp(traversable_tmp, monkeypatch, tmp_path_factory):
    """The sandbox's scratch space under a folder of this test's own, so its processes can be found."""
    tmp_path_factory.getbasetemp()  # fixed before tempfile's folder is redirected, so tmp_path stays valid
    folder = Path(tempfile.mkdtemp(dir=traversable_tmp))
    folder.chmod(0o711)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


OUTSIDE_FILE = "/tmp/optkit-sandbox-tests-pwned.txt"  # must never exist
VICTIM = "/tmp/optkit-sandbox-tests-victim.txt"  # exists during the probes; must stay as it is
R = re.compile
REFUSED = R(r"PermissionError: the grader's sandbox does not allow this")  # the kernel said no

# name -> (source defining probe(), expected: a compiled regex the outcome must match, an exact plain value,
# or None when a dedicated test looks at the value).  No check runs inside the child any more: every refusal
# below comes from Landlock, seccomp or the child's uid (see SECURITY.md).
PROBES = {
    "read-master-notebook": (f"def probe():\n    return open({str(MASTER_NOTEBOOK)!r}).read()", REFUSED),
    "read-hidden-tests": (f"def probe():\n    return open({str(HIDDEN_TESTS_DIR / 'test_update_lr.py')!r}).read()",
                          REFUSED),
    "read-utils-with-os-open": (f"import os\ndef probe():\n    return os.open({str(UTILS_DIR / 'testCases.py')!r}, 0)",
                                REFUSED),
    "read-with-numpy": (f"def probe():\n    return np.fromfile({str(RELEASE_NOTEBOOK)!r}, dtype=np.uint8)", REFUSED),
    "read-etc-passwd": ("def probe():\n    return open('/etc/passwd').read()", REFUSED),
    "read-proc-of-grader": ("import os\ndef probe():\n    return open(f'/proc/{os.getppid()}/environ').read()",
                            REFUSED),
    "read-own-proc": ("def probe():\n    return open('/proc/self/status').read()", REFUSED),
    "write-in-working-folder": ("def probe():\n    open('notes.txt', 'w').write('x')", REFUSED),
    "write-outside": (f"def probe():\n    open({OUTSIDE_FILE!r}, 'w').write('x')", REFUSED),
    "write-parent-of-working-folder": ("def probe():\n    open('../escaped.txt', 'w').write('x')", REFUSED),
    "write-dev-shm": ("def probe():\n    open('/dev/shm/optkit-pwned', 'w').write('x')", REFUSED),
    "list-hidden-tests": (f"import os\ndef probe():\n    return os.listdir({str(HIDDEN_TESTS_DIR)!r})", REFUSED),
    "list-working-folder": ("import os\ndef probe():\n    return os.listdir('.')", []),
    "remove-outside": (f"import os\ndef probe():\n    os.remove({VICTIM!r})", REFUSED),
    "rename-outside": (f"import os\ndef probe():\n    os.rename({VICTIM!r}, {VICTIM + '.moved'!r})", REFUSED),
    "mkdir-outside": (f"import os\ndef probe():\n    os.mkdir({VICTIM + '.d'!r})", REFUSED),
    "chmod-outside": (f"import os\ndef probe():\n    os.chmod({VICTIM!r}, 0o777)", REFUSED),
    "utime-outside": (f"import os\ndef probe():\n    os.utime({VICTIM!r}, (0, 0))", REFUSED),
    "symlink-in-working-folder": ("import os\ndef probe():\n    os.symlink('/', 'root')", REFUSED),
    "fifo-in-working-folder": ("import os\ndef probe():\n    os.mkfifo('output.txt')", REFUSED),
    "fork": ("import os\ndef probe():\n    return os.fork()", REFUSED),
    "system": ("import os\ndef probe():\n    return os.system('true')", 127 << 8),  # glibc: the spawn was refused
    "exec": ("import os\ndef probe():\n    os.execv('/bin/sh', ['sh'])", REFUSED),
    "posix-spawn": ("import os\ndef probe():\n    os.posix_spawn('/bin/true', ['true'], {})", REFUSED),
    "kill-grader": ("import os, signal\ndef probe():\n    os.kill(os.getppid(), signal.SIGKILL)", REFUSED),
    "kill-everything": ("import os, signal\ndef probe():\n    os.kill(-1, signal.SIGCONT)", REFUSED),
    "killpg-of-grader": ("import os, signal\ndef probe():\n    os.killpg(os.getpgid(os.getppid()), signal.SIGCONT)",
                         REFUSED),
    "signal-itself": ("import os, signal\ndef probe():\n    signal.signal(signal.SIGUSR1, lambda *a: None)\n"
                      "    os.kill(os.getpid(), signal.SIGUSR1)\n    return 'delivered'", "delivered"),
    "prlimit-grader": ("import os, resource\ndef probe():\n"
                       "    resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))", REFUSED),
    "own-limits": ("import resource\ndef probe():\n    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
                   "    return resource.getrlimit(resource.RLIMIT_NPROC)", (0, 0)),
    "threads": ("import threading\ndef probe():\n    threading.Thread(target=print).start()",
                R(r"can't start new thread")),
    "socket-tcp": ("import socket\ndef probe():\n    socket.socket().connect(('127.0.0.1', 9))", REFUSED),
    "socket-unix": ("import socket\ndef probe():\n    socket.socket(socket.AF_UNIX).connect('\\0optkit')", REFUSED),
    "ctypes-raw-socket": ("import ctypes, os\ndef probe():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
                          "    return [libc.syscall(41, 2, 1, 0), ctypes.get_errno()]", [-1, 1]),
    "ctypes-x32-call": ("import ctypes\ndef probe():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
                        "    return [libc.syscall(0x40000000 | 41, 2, 1, 0), ctypes.get_errno()]", None),
    "raise-limits": ("import resource\ndef probe():\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))",
                     R(r"ValueError: not allowed to raise maximum limit")),
    "environment": ("import os\ndef probe():\n    return sorted(os.environ)", None),
    "identity": ("import os, resource\ndef probe():\n    return [os.geteuid(), os.getsid(0) == os.getpid(), "
                 "resource.getrlimit(resource.RLIMIT_NPROC)[1], os.getcwd(), os.getgroups()]", None),
    "open-descriptors": ("""
        import os, stat
        def probe():
            open_fds, others = [], set()
            for fd in range(1024):
                try:
                    status = os.fstat(fd)
                except OSError:
                    continue
                if fd < 4:
                    open_fds.append(fd)
                else:  # only the output memfds of the child's chain: anonymous regular files
                    others.add("memfd" if stat.S_ISREG(status.st_mode) and status.st_nlink == 0 else f"fd {fd}")
            return [open_fds, sorted(others)]
        """, [[0, 1, 2, 3], ["memfd"]]),
}


@pytest.fixture(scope="module")
def probes(traversable_tmp) -> dict[str, object]:
    """Every probe, each in its own child, all in one batch."""
    victim = Path(VICTIM)
    victim.write_text("original")
    victim.chmod(0o644)
    os.utime(victim, (1000, 1000))
    os.environ["OPTKIT_TEST_SECRET"] = "s3cret"
    try:
        with Sandbox(Limits(timeout=5.0), hidden=INSTRUCTOR_ONLY) as sandbox:
            runs = sandbox.run([_job(name, source) for name, (source, _) in PROBES.items()])
        assert victim.read_text() == "original" and victim.stat().st_mode & 0o777 == 0o644
        assert victim.stat().st_mtime == 1000
        assert not Path(VICTIM + ".d").exists() and not Path(VICTIM + ".moved").exists()
        assert not Path("/dev/shm/optkit-pwned").exists()
    finally:
        del os.environ["OPTKIT_TEST_SECRET"]
        victim.unlink()
    return {name: _only(run) for name, run in runs.items()}


@pytest.mark.parametrize("name", [name for name, (_, expected) in PROBES.items() if expected is not None])
def test_sandbox_probe(name, probes):
    expected = PROBES[name][1]
    got = probes[name]
    if isinstance(expected, re.Pattern):
        assert isinstance(got, str) and expected.search(got), got
    else:
        assert got == expected
    assert not Path(OUTSIDE_FILE).exists()


def test_probes_are_refused_by_the_kernel_not_by_python(probes):
    """The refusals carry the kernel's own errors (EACCES from Landlock, EPERM from seccomp)."""
    assert "[Errno 13] Permission denied" in probes["read-master-notebook"]
    assert "[Errno 1] Operation not permitted" in probes["fork"]


def test_x32_system_calls_are_refused(probes):
    if os.uname().machine != "x86_64":
        pytest.skip("x32 exists on x86_64 only")
    assert probes["ctypes-x32-call"] == [-1, 1]


def test_child_runs_under_its_own_uid_in_its_own_session_in_an_empty_folder(probes):
    uid, own_session, nproc, cwd, groups = probes["identity"]
    if os.geteuid() == 0:
        assert uid >= confine.OWN_UID_BASE and groups == []
    else:
        assert uid == os.geteuid()
    assert own_session
    assert nproc == 0
    assert Path(cwd).name.startswith("optkit-sandbox-")


def test_protected_folders_cannot_be_read_or_listed(isolated_tmp):
    """Landlock leaves metadata (stat) visible, never contents: every open of the kit is refused."""
    secrets = [MASTER_NOTEBOOK, HIDDEN_TESTS_DIR / "test_update_lr.py", Path(__file__), MASTER_NOTEBOOK.parent,
               HIDDEN_TESTS_DIR, Path(__file__).parent, Path(runner.__file__).parents[2] / ".git"]
    source = f"""
        import os
        def probe():
            answers = []
            for path in {[str(p) for p in secrets]!r}:
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError as error:
                    answers.append(error.errno)
                else:
                    answers.append("opened")
                    os.close(fd)
            return answers
        """
    with Sandbox(Limits(timeout=5.0), hidden=INSTRUCTOR_ONLY) as sandbox:
        runs = sandbox.run([_job("open", source)])
    assert _only(runs["open"]) == [13] * len(secrets)


def test_child_sees_no_grader_environment(probes):
    names = probes["environment"]
    assert isinstance(names, list)
    assert "OPTKIT_TEST_SECRET" not in names
    allowed = {*runner.PASSED_ENVIRONMENT, *runner.SINGLE_THREADED, *runner.FIXED_MALLOC, "HOME", "PYTHONHASHSEED"}
    assert set(names) <= allowed | {"LC_CTYPE"}


@pytest.mark.parametrize("per_child", [1, 0], ids=["child-per-exercise", "child-per-submission"])
def test_exercises_do_not_share_state(isolated_tmp, per_child):
    """What one exercise's code changes (builtins, numpy, the seed, sys.stdout) is gone in the next: a fresh child,
    or (one child per submission) the state the worker left put back."""
    first = _job("first", "import builtins, sys\ndef probe():\n    builtins.LEAKED = 1\n    np.allclose = None\n"
                          "    np.random.seed(5)\n    sys.stdout = None\n    return 1")
    second = _job("second", "import builtins\ndef probe():\n    print('mine')\n"
                            "    return [hasattr(builtins, 'LEAKED'), np.allclose is None, np.random.rand()]")
    with Sandbox(Limits(timeout=5.0, parallel=1, exercises_per_child=per_child)) as sandbox:
        fresh = _only(sandbox.run([second])["second"])
        runs = sandbox.run([first, second])
    assert _only(runs["first"]) == 1
    assert _only(runs["second"]) == [False, False, fresh[2]]
    assert runs["second"].output == "mine\n"


@pytest.mark.parametrize("per_child", [1, 0], ids=["child-per-exercise", "child-per-submission"])
def test_an_exercise_that_ends_its_child_costs_only_itself(isolated_tmp, per_child):
    """An exercise that exits, hangs or floods is reported; the others run (in a chain: the rest of it goes on
    in a new child)."""
    jobs = [_job("before", "def probe():\n    print('before')\n    return 1"),
            _job("exits", "import os\ndef probe():\n    print('bye')\n    os._exit(7)"),
            _job("hangs", "def probe():\n    while True:\n        pass"),
            _job("floods", "def probe():\n    return np.ones(1 << 18)"),  # 2 MB, over the 1 MB limit
            _job("after", "def probe():\n    print('after')\n    return 2")]
    with Sandbox(Limits(timeout=1.0, parallel=1, result_mb=1, exercises_per_child=per_child)) as sandbox:
        runs = sandbox.run(jobs)
    assert (_only(runs["before"]), runs["before"].output) == (1, "before\n")
    assert "exit code 7" in (runs["exits"].stopped or "") and runs["exits"].output == "bye\n"
    assert re.search(r"stopped after 1 s \(time limit\)", runs["hangs"].stopped or "")
    assert runs["floods"].stopped == "your code returned more than 1 MB of data"
    assert (_only(runs["after"]), runs["after"].output, runs["after"].stopped) == (2, "after\n", None)
    assert runs["after"].seconds < 1


@pytest.mark.parametrize("per_child", [1, 0], ids=["child-per-exercise", "child-per-submission"])
def test_end_of_job_frames_forged_by_student_code_cost_only_its_own_chain(isolated_tmp, per_child):
    """A child may write the end-of-job frame itself. With a child per exercise that only ends its own exercise;
    in a chain, the chain's jobs end early with no result (its own exercises' loss, never credit: frames are
    judged by case id). Another child runs as if nothing happened."""
    forger = _job("forger", "import os\ndef probe(x):\n    os.write(3, bytes(8))\n    return x", calls=((1,),))
    same = _job("same-chain", "def probe():\n    return 3")
    with Sandbox(Limits(timeout=5.0, parallel=2, exercises_per_child=per_child)) as sandbox:
        runs = sandbox.run([forger, same, _job("other", "def probe():\n    return 4")])
    assert runs["forger"].stopped == "your code's process gave no result for some cases"
    assert runs["forger"].values == {}
    if per_child == 1:
        assert (_only(runs["same-chain"]), runs["same-chain"].stopped) == (3, None)
    else:
        assert runs["same-chain"].stopped == "your code's process gave no result for some cases"
    assert (_only(runs["other"]), runs["other"].stopped) == (4, None)


def test_one_worker_serves_many_runs_and_nothing_carries_over(isolated_tmp):
    """The long-lived worker: a second run gets fresh children; what the first tried to leave is not there."""
    leave = _job("leave", "import builtins\ndef probe():\n    builtins.LEAKED = 1\n"
                          "    try:\n        open('left.txt', 'w')\n    except OSError:\n        pass\n    return 1")
    look = _job("look", "import builtins, os\ndef probe():\n    return [hasattr(builtins, 'LEAKED'), os.listdir('.')]")
    with Sandbox(Limits(timeout=5.0)) as sandbox:
        pids = []
        for _ in range(3):
            assert _only(sandbox.run([leave])["leave"]) == 1
            assert _only(sandbox.run([look])["look"]) == [False, []]
            pids.append(sandbox._process.pid)
        assert len(set(pids)) == 1


def test_limits_time_memory_output_and_result_size(isolated_tmp):
    limits = Limits(timeout=1.0, memory_mb=64, output_kb=16, result_mb=1)
    jobs = [
        _job("loop", "def probe():\n    while True:\n        pass"),
        _job("memory", "def probe():\n    return bytearray(200 << 20)"),
        _job("output", "def probe():\n    print('x' * 100_000)"),
        _job("result", "def probe():\n    return np.ones(1 << 18)"),  # 2 MB
        _job("honest", "def probe(x):\n    return x * 2", calls=((1.5,), (np.arange(3),))),
    ]
    with Sandbox(limits) as sandbox:
        runs = sandbox.run(jobs)
    assert re.search(r"stopped after 1 s \(time limit\)", runs["loop"].stopped or "")
    assert runs["memory"].errors and next(iter(runs["memory"].errors.values())).type == "MemoryError"
    assert "[Errno 27]" in next(iter(runs["output"].errors.values())).message
    assert runs["output"].output.startswith("x" * 100)
    assert runs["result"].stopped == "your code returned more than 1 MB of data"
    values = runs["honest"].values
    assert values["honest: 0"] == 3.0 and type(values["honest: 0"]) is float
    assert np.array_equal(values["honest: 1"], [0, 2, 4])
    assert runs["loop"].seconds < 3


def test_a_child_out_of_memory_is_told_so_even_when_it_cannot_report_it(isolated_tmp):
    """Memory exhausted while the error itself is being sent: the child's exit code says what happened."""
    hoard = _job("hoard", """
        def probe():
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        """)
    with Sandbox(Limits(timeout=5.0, memory_mb=64)) as sandbox:
        run = sandbox.run([hoard])["hoard"]
    outcome = run.stopped or next(iter(run.errors.values())).type
    assert re.search(r"ran out of memory|MemoryError", outcome), outcome
    assert "ended its own process" not in outcome


def test_the_output_shown_is_read_from_the_workers_own_descriptor(isolated_tmp):
    """The old output.txt trick: a symlink or FIFO in its place changes nothing, the output is the print only."""
    source = "import os\ndef probe():\n" + textwrap.indent(OUTPUT_TRICK, "    ") + "    return 1\n"
    with Sandbox(Limits(timeout=5.0)) as sandbox:
        run = sandbox.run([_job("trick", source)])["trick"]
    assert _only(run) == 1
    assert run.output == "my own print\n"


def test_no_process_outlives_the_run(isolated_tmp):
    """The scanner finds the running worker, and finds nothing once the sandbox is closed (even after a timeout)."""
    sandbox = Sandbox(Limits(timeout=0.5))
    assert processes_under(isolated_tmp), "the scanner should see the freshly started worker"
    sandbox.run([_job("loop", "def probe():\n    while True:\n        pass"),
                 _job("stubborn", """
                    import signal
                    def probe():
                        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                            signal.signal(number, signal.SIG_IGN)
                        while True:
                            pass
                    """)])
    sandbox.close()
    assert processes_under(isolated_tmp, wait=3.0) == []
    assert list(isolated_tmp.iterdir()) == []


def test_a_worker_that_dies_is_reported_as_lost_never_as_the_students_result(isolated_tmp, tmp_path):
    fake_worker = tmp_path / "python"
    fake_worker.write_text("#!/bin/sh\nexit 3\n")
    fake_worker.chmod(0o755)
    with Sandbox(Limits(timeout=1.0), python=str(fake_worker)) as sandbox, \
            pytest.raises(runner.IsolationUnavailable, match="did not start"):
        sandbox.run([_job("lost", "def probe():\n    return 1")])
    with Sandbox(Limits(timeout=1.0), python=str(fake_worker), isolation=False) as sandbox, \
            pytest.raises(runner.SandboxLost, match=r"the sandbox worker .*\(exit code 3\)"):
        try:
            sandbox.run([_job("lost", "def probe():\n    return 1")])
        finally:
            assert not sandbox.usable


def _ended(**fields) -> Ended:
    defaults = {"exercise": "x", "timed_out": False, "overflow": None, "exit_code": None, "signal": None,
                "seconds": 0.0, "output": "", "output_size": 0}
    return Ended(**{**defaults, **fields})


@pytest.mark.parametrize(("ending", "expected"), [
    ({"timed_out": True}, r"stopped after 2 s \(time limit\)"),
    ({"overflow": "bytes"}, r"returned more than 64 MB"),
    ({"overflow": "frames"}, r"wrote to the grader.s channel"),
    ({"signal": int(signal.SIGXFSZ)}, r"printed more than 256 KB"),
    ({"signal": int(signal.SIGXCPU)}, r"too much CPU time"),
    ({"signal": int(signal.SIGSEGV)}, r"crashed \(SIGSEGV\)"),
    ({"signal": 200}, r"killed by signal 200"),
    ({"exit_code": 0}, r"ended its own process \(exit code 0\)"),
    ({"exit_code": EXIT_OUT_OF_MEMORY}, r"ran out of memory \(the grader's limit is 256 MB\)"),
    ({"exit_code": EXIT_NOT_CONFINED}, r"could not confine .* tell your instructor"),
    ({}, r"gave no result for some cases"),
])
def test_describe_ending(ending, expected):
    assert re.search(expected, runner.describe_ending(_ended(**ending), Limits(timeout=2.0)))


@pytest.mark.parametrize("data", [
    pytest.param(b"\x00\x01garbage", id="garbage"),
    pytest.param(_frame(b"not json"), id="not-json"),
    pytest.param(_frame(json.dumps({"kind": "case", "id": "c", "value": {"t": "float", "v": "x"}}).encode()),
                 id="bad-float"),
    pytest.param(_frame(json.dumps({"kind": "case", "id": "c", "value": _array("<f8", (2,))}).encode(), 1,
                                struct.pack("<Q", 3) + b"abc"), id="size-mismatch"),
    pytest.param(_frame(b"[" * 100_000 + b"]" * 100_000), id="deep-json"),
    pytest.param(_frame(json.dumps({"kind": "case", "id": "c", "value": _array("<f8", (2**70,))}).encode(),
                                1, struct.pack("<Q", 0)), id="shape-overflow"),
])
def test_runner_turns_any_hostile_student_frame_into_a_stopped_run(data):
    run = runner.ExerciseRun("x")
    runner._apply_student_frame(run, {"c"}, data)
    assert run.stopped == "your code's process sent back something the grader could not read"
    assert run.values == {}


# =========================================================================== extraction


def locate(cells: list[CodeCell], name: str) -> tuple[Snippet, ...]:
    return FunctionFinder(cells, PREAMBLE_NAMES).locate(name)


def _cells(*sources: str) -> list[CodeCell]:
    return [CodeCell(index, textwrap.dedent(source)) for index, source in enumerate(sources)]


def _load(snippets) -> dict:
    """Run extracted snippets as the worker does (trusted test code here) and return the namespace."""
    namespace: dict = {}
    exec(compile(PREAMBLE, "<preamble>", "exec"), namespace)
    for snippet in snippets:
        exec(compile("\n" * (snippet.line - 1) + snippet.source, snippet.filename, "exec"), namespace)
    return namespace


def _sources(snippets) -> str:
    return "\n".join(snippet.source for snippet in snippets)


def test_the_marked_cell_wins_over_later_definitions():
    cells = _cells("# GRADED FUNCTION: f\ndef f():\n    return 'marked'\n",
                   "def f():\n    return 'exploratory redefinition'\n")
    assert _load(locate(cells, "f"))["f"]() == "marked"


def test_the_last_marked_cell_wins():
    cells = _cells("# GRADED FUNCTION: f\ndef f():\n    return 'first'\n",
                   "# GRADED FUNCTION: f\ndef f():\n    return 'second'\n")
    assert _load(locate(cells, "f"))["f"]() == "second"


def test_a_later_marked_copy_with_a_syntax_error_falls_back_to_the_earlier_one():
    cells = _cells("# GRADED FUNCTION: f\ndef f():\n    return 'works'\n",
                   "# GRADED FUNCTION: f\ndef f(:\n    return 'broken'\n")
    assert _load(locate(cells, "f"))["f"]() == "works"


def test_without_a_marker_the_last_defining_cell_is_used():
    cells = _cells("def f():\n    return 'old'\n", "print('exploring')\n", "def f():\n    return 'new'\n")
    assert _load(locate(cells, "f"))["f"]() == "new"


def test_marker_variations_are_recognised():
    cells = _cells("#GRADED FUNCTION:f\ndef f():\n    return 'tight'\n", "def f():\n    return 'later'\n")
    assert _load(locate(cells, "f"))["f"]() == "tight"


def test_within_one_cell_the_last_definition_wins():
    cells = _cells("# GRADED FUNCTION: f\ndef f():\n    return 'draft'\n\ndef f():\n    return 'final'\n")
    assert _load(locate(cells, "f"))["f"]() == "final"


def test_snippets_keep_their_cell_and_line_for_tracebacks():
    cells = _cells("import json\n", "x = 1\n\n\n# GRADED FUNCTION: f\n\ndef f():\n    return json.dumps(1)\n")
    snippets = locate(cells, "f")
    assert [(s.filename, s.line) for s in snippets] == [("<cell defining `json`>", 1), ("<cell defining `f`>", 6)]
    assert snippets[1].source.startswith("def f():")


def test_dependencies_are_pulled_in_transitively_across_cells():
    cells = _cells(
        "import json as js\nfrom collections import OrderedDict\n",
        "SCALE: float = 2.0\nLOW, HIGH = 1, 3\n",
        "def _helper(x):\n    return _inner(x) * SCALE\n",
        "def _inner(x):\n    return x + LOW + HIGH\n",
        "class Box:\n    kind = OrderedDict\n    def dump(self, v):\n        return js.dumps(v)\n",
        "def unrelated():\n    return undefined_name\n",
        "# GRADED FUNCTION: f\ndef f(x, box=Box()):\n    return box.dump(_helper(x))\n",
    )
    snippets = locate(cells, "f")
    assert "unrelated" not in _sources(snippets)
    assert _load(snippets)["f"](1) == "10.0"


def test_decorators_and_default_values_are_dependencies():
    cells = _cells("def deco(fn):\n    return fn\n", "DEFAULT = 3\n",
                   "# GRADED FUNCTION: f\n@deco\ndef f(x=DEFAULT):\n    return x\n")
    snippets = locate(cells, "f")
    assert snippets[-1].source.startswith("@deco")
    assert _load(snippets)["f"]() == 3


def test_locals_and_closures_are_not_taken_for_notebook_globals():
    """Names assigned inside the function (or its nested scopes) are locals: the notebook's same-named
    exploratory assignments, which would fail in the sandbox, must not be pulled in."""
    cells = _cells(
        "learning_rate = update_lr_test_case()\nv = load_everything()\nk = explode()\n",
        """\
        # GRADED FUNCTION: f
        def f(grads):
            learning_rate = 0.5
            v = {}
            def step(key):
                v[key] = learning_rate * grads[key]
            for k in grads:
                step(k)
            squares = [k * k for k in range(3)]
            return v, squares, (lambda learning_rate: learning_rate)(1)
        """,
    )
    snippets = locate(cells, "f")
    assert len(snippets) == 1
    assert _load(snippets)["f"]({"a": 2.0}) == ({"a": 1.0}, [0, 1, 4], 1)


def test_exploratory_statements_never_run():
    cells = _cells(
        "def helper():\n    return 1\n\nwhile True:\n    pass\n",
        "# GRADED FUNCTION: f\ndef f():\n    return helper()\n\nraise SystemExit('must not run')\nprint(f())\n",
    )
    snippets = locate(cells, "f")
    assert "while True" not in _sources(snippets) and "SystemExit" not in _sources(snippets)
    assert _load(snippets)["f"]() == 1


def test_preamble_names_and_builtins_are_not_looked_up_in_the_notebook():
    cells = _cells("np = None\nmath = 'shadowed'\nlen = 3\n",
                   "# GRADED FUNCTION: f\ndef f(x):\n    return math.floor(np.sqrt(len(x)))\n")
    snippets = locate(cells, "f")
    assert len(snippets) == 1
    assert _load(snippets)["f"]([0] * 9) == 3


def test_magics_and_shell_lines_are_ignored():
    cells = _cells("%%time\n%load_ext autoreload\n# GRADED FUNCTION: f\ndef f():\n    return 1\n\n%timeit f()\n!ls\n")
    assert _load(locate(cells, "f"))["f"]() == 1


def test_windows_line_endings():
    cells = [CodeCell(0, "# GRADED FUNCTION: f\r\ndef f():\r\n    x = 1\r\n    return x + 1\r\n")]
    assert _load(locate(cells, "f"))["f"]() == 2


def test_continuation_lines_starting_with_operators_are_python_not_magics():
    cells = _cells("# GRADED FUNCTION: f\ndef f(m, n):\n    if (m % n\n            != 0):\n        return (m\n"
                   "                % n)\n    return 0\n")
    assert _load(locate(cells, "f"))["f"](7, 3) == 1


def test_a_global_updated_with_augmented_assignment_is_a_dependency():
    cells = _cells("COUNT = 0\n", "# GRADED FUNCTION: f\ndef f():\n    global COUNT\n    COUNT += 1\n"
                                  "    return 'counted'\n")
    assert _load(locate(cells, "f"))["f"]() == "counted"


def test_a_module_imported_again_later_still_serves_earlier_cells():
    cells = _cells("import functools\nSTEP = functools.partial(max, 0)\n",
                   "# GRADED FUNCTION: f\ndef f(x):\n    return STEP(x)\n",
                   "import functools  # again, further down the notebook\n")
    assert _load(locate(cells, "f"))["f"](-3) == 0


def test_the_release_stub_needs_nothing_but_itself():
    cells = read_submission(RELEASE_NOTEBOOK)
    for name in ("update_lr", "schedule_lr_decay"):
        assert len(locate(cells, name)) == 1, name


def test_syntax_error_message_names_cell_line_and_text():
    cells = _cells("x = 1\n", "# GRADED FUNCTION: f\n\ndef f():\n    return (1 +\n")
    with pytest.raises(ExtractionError) as caught:
        locate(cells, "f")
    message = str(caught.value)
    assert message.startswith("the cell defining `f` has a syntax error at line 4: ")
    assert "return (1 +" in message


def test_syntax_error_in_an_unmarked_defining_cell():
    cells = _cells("def f(:\n    pass\n")
    with pytest.raises(ExtractionError, match=r"the cell defining `f` has a syntax error at line 1"):
        locate(cells, "f")


def test_null_bytes_are_reported_as_a_syntax_error():
    cells = [CodeCell(4, "# GRADED FUNCTION: f\ndef f():\n    return '\x00'\n", 12)]
    with pytest.raises(ExtractionError, match=r"the cell In \[12\] has characters Python cannot read"):
        locate(cells, "f")


def test_a_syntax_error_elsewhere_does_not_matter():
    cells = _cells("def g(:\n", "# GRADED FUNCTION: f\ndef f():\n    return 1\n", "print(f(\n")
    assert _load(locate(cells, "f"))["f"]() == 1


def test_marked_cell_without_the_function():
    cells = _cells("# GRADED FUNCTION: f\n# nothing here yet\n")
    with pytest.raises(ExtractionError, match=r"does not define f\(\) any more"):
        locate(cells, "f")


def test_missing_function():
    cells = _cells("def g():\n    pass\n")
    with pytest.raises(ExtractionError, match=r"no function named f was found"):
        locate(cells, "f")


# =========================================================================== submission reading

CELL = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "def f():\n    pass"}
NOTEBOOK = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [CELL]}


def _json(value) -> bytes:
    return json.dumps(value).encode()


UNREADABLE = {
    "empty": (b"", r"^the submission is empty"),
    "blank": (b" \n\t\n", r"^the submission is empty"),
    "pdf": (b"%PDF-1.7\n\xe2\xe3\xcf\xd3", r"not a text file"),
    "utf16": (_json(NOTEBOOK).decode().encode("utf-16"), r"not a text file"),
    "invalid-json": (b'{"cells": [}', r"not valid notebook JSON \(line 1, column 12: .*\); was the file truncated"),
    "truncated": (_json(NOTEBOOK)[:-9], r"not valid notebook JSON \(line 1, column \d+"),
    "deep": (b"[" * 50_000 + b"]" * 50_000, r"nested too deeply"),
    "list": (b"[]", r"JSON but not a Jupyter notebook"),
    "null": (b"null", r"JSON but not a Jupyter notebook"),
    "number": (b"3", r"JSON but not a Jupyter notebook"),
    "no-cells": (_json({"metadata": {}, "nbformat": 4}), r"JSON but not a Jupyter notebook \(it has no cells\)"),
    "cells-dict": (_json({**NOTEBOOK, "cells": {"0": CELL}}), r"'cells' entry is not a list"),
    "cells-null": (_json({**NOTEBOOK, "cells": None}), r"'cells' entry is not a list"),
    "no-code": (_json({**NOTEBOOK, "cells": [{"cell_type": "markdown", "metadata": {}, "source": "hi"}]}),
                r"no code cells"),
    "code-without-source": (_json({**NOTEBOOK, "cells": [{"cell_type": "code", "source": 42}]}), r"no code cells"),
    "future-major": (_json({**NOTEBOOK, "nbformat": 5}), r"structure is damaged"),
    "nbformat-text": (_json({**NOTEBOOK, "nbformat": "4"}), r"structure is damaged"),
    "worksheets-not-a-list": (_json({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": 7}),
                              r"structure is damaged"),
    "giant-number": pytest.param(b'{"nbformat": 4' + b"0" * 5000 + b', "cells": []}', r"."),
}


@pytest.mark.parametrize(("data", "message"), _params(UNREADABLE))
def test_unreadable_submissions_say_why(data, message, tmp_path):
    path = tmp_path / "submission.ipynb"
    path.write_bytes(data)
    with pytest.raises(SubmissionError) as caught:
        read_submission(path)
    assert re.search(message, str(caught.value)), str(caught.value)


def test_missing_and_unopenable_paths(tmp_path):
    with pytest.raises(SubmissionError, match=r"could not be opened"):
        read_submission(tmp_path / "nowhere.ipynb")
    with pytest.raises(SubmissionError, match=r"is a folder"):
        read_submission(tmp_path)


def test_oversized_file_is_refused_without_parsing(tmp_path):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as stream:
        stream.truncate(MAX_BYTES + 1)
    with pytest.raises(SubmissionError, match=r"larger than 50 MB"):
        read_submission(path)


def test_code_cells_keep_their_notebook_position(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# title"}, "not a cell", None,
             {**CELL, "source": ["def f():\n", 5, "    return 1\n"]}, {"cell_type": "raw", "source": "x"},
             {**CELL, "source": "g = 2"}]
    path = tmp_path / "n.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + _json({**NOTEBOOK, "cells": cells}))
    code = read_submission(path)
    assert [(cell.index, cell.label("f"), cell.source) for cell in code] == [
        (3, "cell defining `f`", "def f():\n    return 1\n"), (5, "cell defining `f`", "g = 2")]


def test_nbformat_v3_worksheets_are_read(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": "hello", "metadata": {}},
        {"cell_type": "code", "input": ["def f():\n", "    return 3"], "language": "python", "outputs": [],
         "metadata": {}}]}]}
    path = tmp_path / "v3.ipynb"
    path.write_bytes(_json(v3))
    assert [(cell.index, cell.source) for cell in read_submission(path)] == [(1, "def f():\n    return 3")]


# --------------------------------------------------------------------------- the worker's relay buffer


def _frames_through_relay(frames: list[bytes], piece: int) -> tuple[list[bytes], int]:
    """Send ``frames`` through a pipe in pieces of ``piece`` bytes; cut them out of a Relay as the worker does."""
    from autograder.sandbox import worker

    relay, received = worker.Relay(size=64), []
    stream = b"".join(frames)
    read_fd, write_fd = os.pipe()
    try:
        for start in range(0, len(stream), piece):
            os.write(write_fd, stream[start:start + piece])
            relay.fill(read_fd)
            while not _pipe_empty(read_fd):
                relay.fill(read_fd)
            while True:
                with relay.view() as data:
                    size = worker._frame_size(data)
                    if size is None:
                        break
                    received.append(bytes(data[:size]))
                relay.consume(size)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return received, len(relay._map)


def _pipe_empty(fd: int) -> bool:
    import select

    return not select.select([fd], [], [], 0)[0]


def _frame(message: dict, *buffers: bytes) -> bytes:
    stream = io.BytesIO()
    wire.write_frame(stream, message, list(buffers))
    return stream.getvalue()


@pytest.mark.parametrize("piece", [1, 7, 100, 4096])
def test_the_relay_cuts_frames_whatever_pieces_the_pipe_gives(piece):
    frames = [_frame({"kind": "case", "id": str(n)}, bytes([n]) * (n * 37)) for n in range(1, 20)]
    frames += [wire.FRAME_HEAD.pack(0, 0), _frame({"big": 1}, os.urandom(5000), b"", b"x")]
    received, size = _frames_through_relay(frames, piece)
    assert received == frames  # whole, in order, byte for byte
    assert size >= 5000  # grown past its 64 bytes for the largest frame


def test_the_relay_buffer_is_not_inherited_by_children():
    """MADV_DONTFORK: a forked child gets no mapping at the buffer's address (nothing to copy, no COW faults)."""
    import ctypes

    from autograder.sandbox import worker

    relay = worker.Relay()
    anchor = ctypes.c_char.from_buffer(relay._map)
    address = ctypes.addressof(anchor)
    del anchor

    def mapped(maps: str) -> bool:
        return any(int(low, 16) <= address < int(high, 16)
                   for low, high in (line.split()[0].split("-") for line in maps.splitlines()))

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_fd, b"mapped" if mapped(Path("/proc/self/maps").read_text()) else b"absent")
        os._exit(0)
    os.close(write_fd)
    answer = os.read(read_fd, 16)
    os.close(read_fd)
    os.waitpid(pid, 0)
    assert mapped(Path("/proc/self/maps").read_text())
    assert answer == b"absent"
