"""The IDX file format of MNIST and Fashion-MNIST, read and written with NumPy.

    offset 0   0x00 0x00            two zero bytes
    offset 2   type code            0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32,
                                    0x0E float64 (all big-endian)
    offset 3   ndim
    offset 4   ndim × uint32        the dimensions, big-endian
    then       prod(dims) elements

Files may be gzip-compressed (the usual ``.gz``); compression is detected from the content.
Every inconsistency raises ``DatasetError`` naming the file. Nothing is read or inflated beyond
what the header declares (at most ``max_bytes``, 1 GiB by default): a small gzip that would
inflate to gigabytes is refused without allocating them.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from stat import S_ISREG

import numpy as np

from dlfs._said import Said
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
MAX_BYTES = 1 << 30  # MNIST's largest file is 47 MB; a learner's own data 20 times that
_LONGEST_HEADER = 4 + 4 * 255


class DatasetError(Said):
    """A data file is missing, corrupt or inconsistent; the message names the file.

    ``DatasetError(key=KEY, **fields)`` is the catalogue's entry KEY: ``str()`` is its English
    line, ``text(lang)`` the line in ``lang``. ``DatasetError(message)`` is a fixed line.
    """


def _header(content: bytes, name: str, max_bytes: int = MAX_BYTES):
    """(dims, dtype, header length, total length) from the start of an IDX byte string."""
    if len(content) < 4:
        raise DatasetError(key="bounds.idx_too_short", name=name, size=len(content))
    if content[0] != 0 or content[1] != 0:
        raise DatasetError(key="bounds.idx_magic", name=name, magic=content[:4].hex())
    code, ndim = content[2], content[3]
    if code not in TYPE_CODES:
        raise DatasetError(key="bounds.idx_type", name=name, code=f"{code:02x}")
    if ndim == 0:
        raise DatasetError(key="bounds.idx_no_dims", name=name)
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DatasetError(key="bounds.idx_short_header", name=name, size=len(content),
                           needed=header)
    dims = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    dtype = TYPE_CODES[code]
    total = header + math.prod(dims) * dtype.itemsize  # Python ints: 4 × 2³¹ cannot overflow
    if total > max_bytes:
        raise DatasetError(key="bounds.idx_too_large", name=name, size=total, limit=max_bytes)
    return dims, dtype, header, total


def decompress(raw: bytes, name: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic.

    Inflates in steps: first the header, then at most one byte more than the header declares,
    so a gzip that inflates beyond its header is refused without allocating the excess.
    """
    if not raw.startswith(GZIP_MAGIC):
        return raw
    out = bytearray()
    total = None
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = raw
    try:
        while True:
            room = (total if total is not None else _LONGEST_HEADER) + 1 - len(out)
            chunk = inflater.decompress(pending, room)
            out += chunk
            pending = inflater.unconsumed_tail
            if total is None and len(out) >= 4 and len(out) >= 4 + 4 * out[3]:
                total = _header(bytes(out[:4 + 4 * out[3]]), name, max_bytes)[3]
            if total is not None and len(out) > total:
                raise DatasetError(key="bounds.idx_gzip_excess", name=name, size=total)
            if inflater.eof:
                pending = inflater.unused_data
                if not pending.strip(b"\x00"):  # gzip allows trailing zeros
                    return bytes(out)
                if not pending.startswith(GZIP_MAGIC):
                    raise DatasetError(key="bounds.idx_gzip_trailing", name=name)
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a further gzip member
            elif not pending and len(chunk) < room:  # all input used, no end of stream
                raise DatasetError(key="bounds.idx_gzip_early", name=name)
    except zlib.error as error:
        raise DatasetError(key="bounds.idx_gzip_corrupt", name=name,
                           reason=str(error)) from error


def parse_idx(content: bytes, name: str = "<bytes>", max_bytes: int = MAX_BYTES) -> np.ndarray:
    """The array an uncompressed IDX byte string holds, in native byte order."""
    dims, dtype, header, expected = _header(content, name, max_bytes)
    if len(content) != expected:
        raise DatasetError(key="bounds.idx_size", name=name, dims=dims, expected=expected,
                           size=len(content))
    data = np.frombuffer(content, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_bounded(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused when larger than ``max_bytes``."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if not S_ISREG(stat.st_mode):
                raise DatasetError(key="bounds.idx_not_regular", name=str(path))
            if stat.st_size > max_bytes:
                raise DatasetError(key="bounds.idx_file_too_large", name=str(path),
                                   size=stat.st_size, limit=max_bytes)
            return handle.read(stat.st_size + 1)  # read(n) would allocate n bytes at once
    except OSError as error:
        raise DatasetError(key="bounds.idx_unreadable", name=str(path),
                           reason=str(error.strerror or error)) from error


def read_idx(path, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Reads an IDX file, gzip-compressed or not, of at most ``max_bytes`` (1 GiB) inflated."""
    path = Path(path)
    raw = read_bounded(path, max_bytes)
    return parse_idx(decompress(raw, str(path), max_bytes), str(path), max_bytes)


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
