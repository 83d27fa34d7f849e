"""Plain-data wire format between the grader and the sandbox: JSON plus raw array bytes.

Only exact built-in containers and scalars, exact ``numpy.ndarray`` of numeric
dtypes and numpy numeric scalars cross the wire; anything else becomes an
:class:`Opaque` placeholder that names its type.  Nothing is ever pickled, so
decoding what a hostile process sent can build plain data and nothing else.

A frame is ``<u32 header length><u32 buffer count><header JSON>`` followed by
``<u64 length><bytes>`` for each buffer.

What the grader receives is bounded before it costs memory: frame bytes (the
caller's ``max_bytes``), JSON values in a header (counted before parsing),
nesting depth and values decoded; an honest result too large to check arrives
as an Opaque that says so.

This module imports only the standard library and numpy: the sandbox worker
loads it by path, outside the ``autograder`` package.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

import numpy as np

# A buffer of raw bytes as frames carry them: bytes read from a stream, or views of bytes or of arrays.
Chunk: TypeAlias = bytes | bytearray | memoryview


class Readable(Protocol):
    """What frames are read from: a binary stream, or a :class:`MemoryStream`."""

    def read(self, size: int, /) -> Any: ...


class Writable(Protocol):
    """What frames are written to: a binary stream."""

    def write(self, data: Any, /) -> Any: ...

    def flush(self) -> Any: ...

MAX_DEPTH = 32
MAX_NODES = 250_000  # values one encoded result may hold; more becomes an Opaque saying so
MAX_DECODED_NODES = 1_000_000  # what decode accepts: above MAX_NODES, so only a forged frame reaches it
BYTES_PER_VALUE = 32  # a frame may hold one JSON value per this many bytes of its budget (a value costs ~64)
FEW_VALUES = 100_000  # and any frame this many
NUMERIC_KINDS = frozenset("biufc")
MAX_INT_BITS = 12_000  # about 3600 digits: below Python's limit for converting int to text (JSON)
FRAME_HEAD = struct.Struct("<II")
LARGE_READ = 1 << 16  # buffers this large are read into a bytearray (see _read_exactly)
BUFFER_HEAD = struct.Struct("<Q")


class WireError(ValueError):
    """A frame that is malformed, too large or holds something not allowed."""


class _TooLarge(Exception):
    """More than MAX_NODES values to encode."""


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value that cannot cross the wire as plain data."""

    type_name: str
    reason: str = "not plain data"


def encode(value: Any, buffers: list[Chunk]) -> Any:
    """Turn ``value`` into a JSON-able tree; raw array bytes are appended to ``buffers``.

    The buffers are byte views of the arrays (copies only of non-contiguous ones): write them before the
    arrays change.  A dict, list or array met a second time is sent as an alias of the first, so
    the receiver sees shared objects (``v is s``) as shared.  A value of more than
    MAX_NODES parts is sent as an Opaque that says so.
    """
    start, count = len(buffers), [0]
    try:
        return _encode(value, buffers, 0, {}, count)
    except _TooLarge:
        del buffers[start:]
        return {"t": "opaque", "type": type(value).__name__,
                "reason": f"a structure of more than {MAX_NODES:,} values, too large to check"}


def _encode(value: Any, buffers: list[Chunk], depth: int, seen: dict[int, int], count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _TooLarge
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": kind.__name__, "reason": "nested too deeply"}
    if kind is int and value.bit_length() > MAX_INT_BITS:
        return {"t": "opaque", "type": "int", "reason": "an integer too large to send back"}
    if value is None or kind in (bool, int, str):
        return {"t": "py", "v": value}
    if kind is float:
        return {"t": "float", "v": repr(value)}
    numeric = kind is np.ndarray and value.dtype.kind in NUMERIC_KINDS and value.dtype.fields is None
    if kind in (list, dict) or numeric:
        if id(value) in seen:
            return {"t": "alias", "of": seen[id(value)]}
        seen[id(value)] = len(seen)
    if kind in (list, tuple):
        return {"t": kind.__name__, "items": [_encode(item, buffers, depth + 1, seen, count) for item in value]}
    if kind is dict:
        return {"t": "dict", "items": [[_encode(k, buffers, depth + 1, seen, count),
                                        _encode(v, buffers, depth + 1, seen, count)] for k, v in value.items()]}
    if kind is np.ndarray or (isinstance(value, np.generic) and kind is value.dtype.type):
        dtype = value.dtype
        if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
            return {"t": "opaque", "type": f"{kind.__name__} of dtype {dtype}", "reason": "not a numeric dtype"}
        buffers.append(np.ascontiguousarray(value).reshape(-1).view(np.uint8).data)  # its bytes, no copy
        tag = "ndarray" if kind is np.ndarray else "npscalar"
        return {"t": tag, "dtype": dtype.str, "shape": list(np.shape(value)), "buffer": len(buffers) - 1}
    return {"t": "opaque", "type": f"{kind.__module__}.{kind.__qualname__}"}


def decode(tree: Any, buffers: Sequence[Chunk]) -> Any:
    """Rebuild plain data from :func:`encode`'s output, validating every node.

    Arrays are copies of read-only buffers (small ones received) and views of writable ones (large ones
    received, a sandbox child's private copy-on-write mapping of its inputs).

    Whatever the tree holds, the only exception is WireError (also past MAX_DECODED_NODES values).
    """
    try:
        return _decode(tree, buffers, 0, _Decoding())
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as error:
        raise WireError(f"malformed value ({type(error).__name__})") from None


@dataclass
class _Decoding:
    """What one decode has built so far: objects an alias may name, values counted, buffers turned into views."""

    made: list[Any] = field(default_factory=list)
    count: int = 0
    viewed: set[int] = field(default_factory=set)


def _decode(node: Any, buffers: Sequence[Chunk], depth: int, state: _Decoding) -> Any:
    if depth > MAX_DEPTH + 1 or not isinstance(node, dict):
        raise WireError("malformed value")
    state.count += 1
    if state.count > MAX_DECODED_NODES:
        raise WireError("too many values")
    tag = node.get("t")
    if tag == "py":
        value = node.get("v")
        if value is not None and type(value) not in (bool, int, str):
            raise WireError("malformed scalar")
        return value
    if tag == "float":
        return float(_expect(node, "v", str))
    if tag == "alias":
        index = _expect(node, "of", int)
        if not 0 <= index < len(state.made):
            raise WireError("bad alias")
        return state.made[index]
    if tag == "tuple":
        return tuple(_decode(item, buffers, depth + 1, state) for item in _expect(node, "items", list))
    if tag == "list":
        items: list[Any] = []
        state.made.append(items)
        items.extend(_decode(item, buffers, depth + 1, state) for item in _expect(node, "items", list))
        return items
    if tag == "dict":
        return _decode_dict(node, buffers, depth, state)
    if tag in ("ndarray", "npscalar"):
        array = _decode_array(node, buffers, tag == "npscalar", state.viewed)
        if tag == "ndarray":
            state.made.append(array)
        return array
    if tag == "opaque":
        return Opaque(str(_expect(node, "type", str))[:200], str(node.get("reason", "not plain data"))[:200])
    raise WireError(f"unknown tag {tag!r}")


def _decode_dict(node: dict, buffers: Sequence[Chunk], depth: int, state: _Decoding) -> dict:
    pairs = _expect(node, "items", list)
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise WireError("malformed dict")
    result: dict[Any, Any] = {}
    state.made.append(result)
    for raw_key, raw_value in pairs:
        key = _decode(raw_key, buffers, depth + 1, state)
        if not (type(key) in (str, int, bool, float, tuple) or key is None):
            raise WireError("dict key is not plain data")
        result[key] = _decode(raw_value, buffers, depth + 1, state)
    return result


def _decode_array(node: dict, buffers: Sequence[Chunk], scalar: bool, viewed: set[int]) -> Any:
    """An array over its buffer: a view of a writable buffer the first time (later arrays naming the same buffer get
    copies: no two decoded arrays share memory unless an alias says they are one), else a copy."""
    try:
        dtype = np.dtype(_expect(node, "dtype", str))
    except TypeError as error:
        raise WireError("bad dtype") from error
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise WireError(f"dtype {dtype} is not allowed")
    shape = _expect(node, "shape", list)
    if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise WireError("bad shape")
    index = _expect(node, "buffer", int)
    if not 0 <= index < len(buffers):
        raise WireError("bad buffer index")
    data = buffers[index]
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise WireError("buffer size does not match shape and dtype")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    if not array.flags.writeable or index in viewed:
        array = array.copy()
    viewed.add(index)
    return array[()] if scalar else array


def _expect(node: dict, key: str, kind: type) -> Any:
    value = node.get(key)
    if type(value) is not kind:
        raise WireError(f"malformed field {key!r}")
    return value


def encode_header(message: dict) -> bytes:
    """A frame's header as JSON bytes (raises ValueError or RecursionError for what JSON cannot hold)."""
    return json.dumps(message, separators=(",", ":")).encode()


def write_frame(stream: Writable, message: dict | bytes, buffers: Sequence[Chunk] = (), flush: bool = True) -> None:
    """Write one frame (header JSON, or already-encoded header bytes, plus buffers), then flush unless told not to
    (a writer of several frames in a row flushes once after them)."""
    header = message if isinstance(message, bytes) else encode_header(message)
    stream.write(FRAME_HEAD.pack(len(header), len(buffers)) + header)
    for buffer in buffers:
        stream.write(BUFFER_HEAD.pack(len(buffer)))
        stream.write(buffer)
    if flush:
        stream.flush()


def read_frame(stream: Readable, max_bytes: int) -> tuple[dict, list[Chunk]] | None:
    """Read one frame; None at a clean end of stream.  Raises WireError past ``max_bytes``, or when the
    header may hold more JSON values than FEW_VALUES or one per BYTES_PER_VALUE bytes of ``max_bytes``:
    values are counted (brackets, braces and commas, an upper bound) before parsing, since parsing a header
    of tiny values costs 20 times its size.  So a 65 MB result frame holds at most 2 million values."""
    head = stream.read(FRAME_HEAD.size)
    if not head:
        return None  # a clean end, between frames
    if len(head) < FRAME_HEAD.size:
        head = bytes(head) + _read_exactly(stream, FRAME_HEAD.size - len(head))
    header_size, count = FRAME_HEAD.unpack(head)
    budget = max_bytes - header_size
    if budget < 0 or count > 100_000:
        raise WireError("frame too large")
    header = bytes(_read_exactly(stream, header_size))
    if json_values_bound(header) > max(FEW_VALUES, max_bytes // BYTES_PER_VALUE):
        raise WireError("frame header holds too many values")
    try:
        message = json.loads(header)
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, numbers too long, nesting too deep
        raise WireError("frame header is not JSON") from error
    if not isinstance(message, dict):
        raise WireError("frame header is not an object")
    buffers: list[Chunk] = []
    for _ in range(count):
        (size,) = BUFFER_HEAD.unpack(_read_exactly(stream, BUFFER_HEAD.size))
        budget -= size
        if budget < 0:
            raise WireError("frame too large")
        buffers.append(_read_exactly(stream, size))
    return message, buffers


def json_values_bound(data: bytes) -> int:
    """At least as many as the values in the JSON text ``data`` (containers plus separators), counted
    without parsing it: parsing tiny values costs 20 times their text, so callers check this first."""
    return sum(data.count(mark) for mark in (b"{", b"[", b","))


def _read_exactly(stream: Readable, size: int) -> Any:
    """``size`` bytes (one chunk as the stream gave it, or joined; a large read from a file object straight into a
    bytearray, so that arrays decoded from it are views, not copies); WireError at an early end."""
    readinto = getattr(stream, "readinto", None)
    if size >= LARGE_READ and readinto is not None:
        data = bytearray(size)
        with memoryview(data) as view:
            filled = 0
            while filled < size:
                count = readinto(view[filled:])
                if not count:
                    raise WireError("stream ended inside a frame")
                filled += count
        return data
    chunks: list[Any] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            raise WireError("stream ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class MemoryStream:
    """Bytes in memory read as a stream whose reads are views, not copies (for :func:`read_frame`)."""

    def __init__(self, data: Chunk) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def read(self, size: int) -> memoryview:
        chunk = self._view[self._offset:self._offset + size]
        self._offset += len(chunk)
        return chunk
