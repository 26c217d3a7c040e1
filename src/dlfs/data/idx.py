"""The IDX file format of MNIST and Fashion-MNIST, read and written with NumPy.

    offset 0   0x00 0x00            two zero bytes
    offset 2   type code            0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32,
                                    0x0E float64 (all big-endian)
    offset 3   ndim
    offset 4   ndim × uint32        the dimensions, big-endian
    then       prod(dims) elements

Files may be gzip-compressed (the usual ``.gz``); compression is detected from the content.
Every inconsistency raises ``DatasetError`` naming the file.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from dlfs.io import atomic_file

TYPE_CODES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(Exception):
    """A data file is missing, corrupt or inconsistent; the message names the file."""


def decompress(raw: bytes, name: str) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(f"{name}: corrupt or truncated gzip data ({error})") from error


def parse_idx(content: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array an uncompressed IDX byte string holds, in native byte order."""
    if len(content) < 4:
        raise DatasetError(f"{name}: {len(content)} bytes is too short for an IDX header")
    if content[0] != 0 or content[1] != 0:
        raise DatasetError(
            f"{name}: wrong magic number 0x{content[:4].hex()} (an IDX file starts with 0x0000)"
        )
    code, ndim = content[2], content[3]
    if code not in TYPE_CODES:
        raise DatasetError(f"{name}: unknown IDX element type 0x{code:02x}")
    if ndim == 0:
        raise DatasetError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DatasetError(f"{name}: truncated header ({len(content)} bytes, {header} needed)")
    dims = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = TYPE_CODES[code]
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(content) != expected:
        raise DatasetError(
            f"{name}: header says dimensions {dims} ({expected} bytes with the header), "
            f"but the file holds {len(content)} bytes"
        )
    data = np.frombuffer(content, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path) -> np.ndarray:
    """Reads an IDX file, gzip-compressed or not."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from error
    return parse_idx(decompress(raw, str(path)), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes (uncompressed) of ``array``."""
    array = np.asarray(array)
    matches = [(code, dtype) for code, dtype in TYPE_CODES.items()
               if dtype.kind == array.dtype.kind and dtype.itemsize == array.dtype.itemsize]
    if not matches:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    code, dtype = matches[0]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(dtype, copy=False).tobytes()


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Writes ``array`` as IDX, atomically; gzip-compressed (with no timestamp, so the same
    array gives the same bytes) when ``compress`` or the name ends in ``.gz``."""
    path = Path(path)
    content = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    with atomic_file(path) as handle:
        handle.write(content)
    return path
