"""Plain-data wire format between the grader and the sandbox: JSON plus raw array bytes.

Only exact built-in containers and scalars, exact ``numpy.ndarray`` of numeric
dtypes and numpy numeric scalars cross the wire; anything else becomes an
:class:`Opaque` placeholder that names its type.  Nothing is ever pickled, so
decoding what a hostile process sent can build plain data and nothing else.

A frame is ``<u32 header length><u32 buffer count><header JSON>`` followed by
``<u64 length><bytes>`` for each buffer.

This module imports only the standard library and numpy: the sandbox worker
loads it by path, outside the ``autograder`` package.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

MAX_DEPTH = 32
NUMERIC_KINDS = frozenset("biufc")
FRAME_HEAD = struct.Struct("<II")
BUFFER_HEAD = struct.Struct("<Q")


class WireError(ValueError):
    """A frame that is malformed, too large or holds something not allowed."""


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value that cannot cross the wire as plain data."""

    type_name: str
    reason: str = "not plain data"


def encode(value: Any, buffers: list[bytes]) -> Any:
    """Turn ``value`` into a JSON-able tree; raw array bytes are appended to ``buffers``."""
    return _encode(value, buffers, 0)


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": kind.__name__, "reason": "nested too deeply"}
    if value is None or kind in (bool, int, str):
        return {"t": "py", "v": value}
    if kind is float:
        return {"t": "float", "v": repr(value)}
    if kind in (list, tuple):
        return {"t": kind.__name__, "items": [_encode(item, buffers, depth + 1) for item in value]}
    if kind is dict:
        return {"t": "dict", "items": [[_encode(k, buffers, depth + 1), _encode(v, buffers, depth + 1)]
                                       for k, v in value.items()]}
    if kind is np.ndarray or (isinstance(value, np.generic) and kind is value.dtype.type):
        dtype = value.dtype
        if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
            return {"t": "opaque", "type": f"{kind.__name__} of dtype {dtype}", "reason": "not a numeric dtype"}
        buffers.append(np.ascontiguousarray(value).tobytes())
        tag = "ndarray" if kind is np.ndarray else "npscalar"
        return {"t": tag, "dtype": dtype.str, "shape": list(np.shape(value)), "buffer": len(buffers) - 1}
    return {"t": "opaque", "type": f"{kind.__module__}.{kind.__qualname__}"}


def decode(tree: Any, buffers: list[bytes]) -> Any:
    """Rebuild plain data from :func:`encode`'s output, validating every node."""
    return _decode(tree, buffers, 0)


def _decode(node: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH + 1 or not isinstance(node, dict):
        raise WireError("malformed value")
    tag = node.get("t")
    if tag == "py":
        value = node.get("v")
        if value is not None and type(value) not in (bool, int, str):
            raise WireError("malformed scalar")
        return value
    if tag == "float":
        return float(_expect(node, "v", str))
    if tag in ("list", "tuple"):
        items = [_decode(item, buffers, depth + 1) for item in _expect(node, "items", list)]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        pairs = _expect(node, "items", list)
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
            raise WireError("malformed dict")
        keys = [_decode(k, buffers, depth + 1) for k, _ in pairs]
        if not all(type(k) in (str, int, bool, float, tuple) or k is None for k in keys):
            raise WireError("dict key is not plain data")
        return {k: _decode(v, buffers, depth + 1) for k, (_, v) in zip(keys, pairs, strict=True)}
    if tag in ("ndarray", "npscalar"):
        return _decode_array(node, buffers, scalar=tag == "npscalar")
    if tag == "opaque":
        return Opaque(str(_expect(node, "type", str))[:200], str(node.get("reason", "not plain data"))[:200])
    raise WireError(f"unknown tag {tag!r}")


def _decode_array(node: dict, buffers: list[bytes], scalar: bool) -> Any:
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
    if len(data) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise WireError("buffer size does not match shape and dtype")
    array = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return array[()] if scalar else array


def _expect(node: dict, key: str, kind: type) -> Any:
    value = node.get(key)
    if type(value) is not kind:
        raise WireError(f"malformed field {key!r}")
    return value


def write_frame(stream: BinaryIO, message: dict, buffers: list[bytes] = ()) -> None:
    """Write one frame (header JSON plus buffers) and flush."""
    header = json.dumps(message, separators=(",", ":")).encode()
    stream.write(FRAME_HEAD.pack(len(header), len(buffers)) + header)
    for buffer in buffers:
        stream.write(BUFFER_HEAD.pack(len(buffer)))
        stream.write(buffer)
    stream.flush()


def read_frame(stream: BinaryIO, max_bytes: int) -> tuple[dict, list[bytes]] | None:
    """Read one frame; None at a clean end of stream.  Raises WireError past ``max_bytes``."""
    head = _read_exactly(stream, FRAME_HEAD.size, allow_eof=True)
    if head is None:
        return None
    header_size, count = FRAME_HEAD.unpack(head)
    budget = max_bytes - header_size
    if budget < 0 or count > 100_000:
        raise WireError("frame too large")
    try:
        message = json.loads(_read_exactly(stream, header_size))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError("frame header is not JSON") from error
    if not isinstance(message, dict):
        raise WireError("frame header is not an object")
    buffers = []
    for _ in range(count):
        (size,) = BUFFER_HEAD.unpack(_read_exactly(stream, BUFFER_HEAD.size))
        budget -= size
        if budget < 0:
            raise WireError("frame too large")
        buffers.append(_read_exactly(stream, size))
    return message, buffers


def _read_exactly(stream: BinaryIO, size: int, allow_eof: bool = False) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if allow_eof and remaining == size:
                return None
            raise WireError("stream ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
