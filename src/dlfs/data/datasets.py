"""MNIST and Fashion-MNIST, offline and online (book 3.6.1's ``load_mnist``, without pickle).

The files are looked for where ``dlfs.data.locations`` says (root, ``$DLFS_DATA``, the user
cache, ``/usr/share/datasets``) and, when missing, downloaded by ``dlfs.data.fetch`` with their
checksums (``dlfs.data.specs``) verified.

Parsed arrays are cached as ``.npy`` (never pickle) in the user cache beside a JSON record of the
source file and the ``.npy``'s SHA-256, so a second load skips gunzip and parsing.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import sys
import warnings
from pathlib import Path
from stat import S_ISREG

import numpy as np

from dlfs import _checks, catalogue
from dlfs._said import Phrase, run_lang
from dlfs.data.fetch import download
from dlfs.data.idx import GZIP_MAGIC, MAX_BYTES, DatasetError, decompress, parse_idx, read_bounded
from dlfs.data.locations import (
    Location,
    Place,
    cache_dir,
    download_dir,
    find_dataset,
    places,
)
from dlfs.data.specs import (
    DATASETS,
    FASHION_MNIST,
    FILE_KEYS,
    MNIST,
    DatasetSpec,
    FileSpec,
    check_digest,
    get_spec,
)
from dlfs.io import atomic_file

__all__ = [  # the names this module held before it was split, kept importable from here
    "DATASETS", "FASHION_MNIST", "FILE_KEYS", "MNIST", "DatasetSpec", "FileSpec", "Location",
    "Place", "cache_dir", "download", "download_dir", "find_dataset", "get_spec", "load_dataset",
    "load_fashion_mnist", "load_mnist", "load_raw", "places",
]

_download = download  # load_raw's argument is called download, as in the book
IMAGE_SHAPE = (28, 28)  # rows, cols of every MNIST and Fashion-MNIST image


def _not_found(spec: DatasetSpec, root, download_error: DatasetError | None) -> DatasetError:
    lines = [("bounds.not_found", {"title": spec.title})]
    for place in places(spec, root):
        lines.append(("bounds.not_found_place", {"folder": str(place.directory),
                                                 "label": place.label}))
    if os.environ.get("DLFS_DATA") is None:
        lines.append(("bounds.not_found_no_env", {}))
    if download_error is not None:  # its lines after the first, each indented
        lines.append(("bounds.not_found_download_failed", {}))
        failures = (download_error.lines or [("bounds.raw_line", {"line": str(download_error)})])
        lines.extend((key, {**fields, "indent": "  "}) for key, fields in
                     failures[1:] or failures)
    else:
        lines.append(("bounds.not_found_download_off", {}))
    names = ", ".join(f.filename for f in spec.files)
    lines += [("bounds.not_found_fix", {}), ("bounds.not_found_fetch", {"name": spec.name}),
              ("bounds.not_found_root", {"names": names}), ("bounds.not_found_env", {})]
    if spec.debian_package and sys.platform.startswith("linux"):
        lines.append(("bounds.not_found_apt", {"package": spec.debian_package}))
    return DatasetError(lines=lines)


# -- parsing with a .npy cache ---------------------------------------------------------------


def _parsed_cache(spec: DatasetSpec) -> Path:
    return cache_dir() / "parsed" / spec.name


_RECORD_TYPES = {"source": str, "size": int, "mtime_ns": int, "npy_size": int,
                 "npy_sha256": str}
_RECORD_LIMIT = 1 << 16  # a record is about 200 bytes


class _BadCache(Exception):
    """A cache file that is not what dlfs writes: ignored, with a warning. ``what``: the
    catalogue's said.cache_KEY, formatted with ``fields``."""

    def __init__(self, key: str, **fields):
        self.what = Phrase(f"said.cache_{key}", **fields)
        super().__init__(str(self.what))


def _cache_bytes(path: Path, size: int | None, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (not a link), of exactly ``size`` bytes when
    given, else at most ``limit``; never reads more."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _BadCache("link") from None
        raise _BadCache("unreadable", reason=error.strerror or error) from None
    with os.fdopen(fd, "rb") as handle:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode):
            raise _BadCache("not_regular")
        if (size is not None and stat.st_size != size) or stat.st_size > limit:
            raise _BadCache("size", size=stat.st_size, expected=size or limit)
        return handle.read(stat.st_size)


def _read_cached(path: Path, cache: Path, key: str) -> np.ndarray | None:
    """The cached array of ``path``, or None when there is none or it is stale. A cache file
    that is not what dlfs writes is ignored with a warning (the caller rebuilds it)."""
    record_path, npy_path = cache / f"{key}.json", cache / f"{key}.npy"
    if not os.path.lexists(record_path):
        return None
    culprit = record_path
    try:
        try:
            record = json.loads(_cache_bytes(record_path, None, _RECORD_LIMIT))
        except ValueError:
            raise _BadCache("not_json") from None
        if isinstance(record, dict) and set(record) == set(_RECORD_TYPES) - {"npy_size"}:
            return None  # written by an older dlfs: rebuilt quietly
        if not (isinstance(record, dict) and set(record) == set(_RECORD_TYPES) and all(
                type(record[name]) is kind for name, kind in _RECORD_TYPES.items())):
            raise _BadCache("not_record", fields=", ".join(_RECORD_TYPES))
        stat = path.stat()
        if (record["source"], record["size"], record["mtime_ns"]) != (
                str(path.resolve()), stat.st_size, stat.st_mtime_ns):
            return None  # the source changed
        culprit = npy_path
        raw = _cache_bytes(npy_path, record["npy_size"], MAX_BYTES)
        if hashlib.sha256(raw).hexdigest() != record["npy_sha256"]:
            raise _BadCache("sha256")
        try:
            return np.load(io.BytesIO(raw), allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise _BadCache("not_npy", error=error) from None
    except _BadCache as problem:
        warnings.warn(catalogue.text("said.cache_ignored", run_lang(), culprit=culprit,
                                     problem=problem.what.text(run_lang()), path=path),
                      UserWarning, stacklevel=4)
        return None
    except OSError:
        return None


def _write_cached(array: np.ndarray, path: Path, cache: Path, key: str) -> None:
    """Best effort: a read-only home only means no cache."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        raw = buffer.getvalue()
        stat = path.stat()
        record = {"source": str(path.resolve()), "size": stat.st_size,
                  "mtime_ns": stat.st_mtime_ns, "npy_size": len(raw),
                  "npy_sha256": hashlib.sha256(raw).hexdigest()}
        for name, data in ((f"{key}.npy", raw), (f"{key}.json", json.dumps(record).encode())):
            with atomic_file(cache / name) as handle:
                handle.write(data)
    except OSError:
        pass


def _read_file(spec: DatasetSpec, file: FileSpec, path: Path, verify: bool) -> np.ndarray:
    cache = _parsed_cache(spec)
    cached = _read_cached(path, cache, file.key) if verify else None
    if cached is not None:
        return cached
    raw = read_bounded(path)
    content = decompress(raw, str(path))
    # A user may gunzip the published files; without the SHA-256 of the uncompressed file
    # (unknown for MNIST's training files) only its shape, type and range can be checked.
    uncheckable = verify and file.md5 and not file.sha256 and not raw.startswith(GZIP_MAGIC)
    if verify and not uncheckable:
        check_digest(file, raw, content, str(path))
    array = parse_idx(content, str(path))
    if uncheckable:
        _check_published(spec, file.key, array, path)
    if verify:
        _write_cached(array, path, cache, file.key)
    return array


def _check_published(spec: DatasetSpec, key: str, array: np.ndarray, path: Path) -> None:
    """Raises DatasetError unless ``array`` has the published shape, dtype and label range of
    ``spec``'s ``key``; warns that no checksum could be checked when it has."""
    count = spec.n_train if key.startswith("train") else spec.n_test
    shape = (count, *IMAGE_SHAPE) if key.endswith("images") else (count,)
    if array.dtype != np.uint8 or array.shape != shape:
        raise DatasetError(key="bounds.unverified_shape", path=str(path), title=spec.title,
                           array=key, shape=shape, dtype=str(array.dtype), got=array.shape)
    if key.endswith("labels") and array.size and array.max() >= len(spec.classes):
        raise DatasetError(key="bounds.unverified_label", path=str(path),
                           label=int(array.max()), largest=len(spec.classes) - 1)
    warnings.warn(catalogue.text("said.unchecked", run_lang(), path=path, title=spec.title,
                                 array=key), UserWarning, stacklevel=4)


def _check_split(spec: DatasetSpec, arrays: dict, location: Location, split: str) -> None:
    """The images are uint8 (N, 28, 28), the labels unsigned class indices (N,), both N."""
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    image_path = location.paths[f"{split}_images"]
    label_path = location.paths[f"{split}_labels"]
    if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE or images.ndim != 3:
        raise DatasetError(key="bounds.split_images", path=str(image_path), title=spec.title,
                           dtype=str(images.dtype), shape=images.shape)
    if labels.dtype.kind != "u" or labels.ndim != 1:
        raise DatasetError(key="bounds.split_labels", path=str(label_path), title=spec.title,
                           dtype=str(labels.dtype), shape=labels.shape)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(key="bounds.split_counts", images_path=str(image_path),
                           images=images.shape[0], labels_path=str(label_path),
                           labels=labels.shape[0])
    if labels.size and labels.max() >= len(spec.classes):
        raise DatasetError(key="bounds.split_label_range", path=str(label_path),
                           label=int(labels.max()), largest=len(spec.classes) - 1)


def load_raw(name: str, root=None, download: bool = True, verify: bool = True,
             progress: bool = True) -> tuple[dict[str, np.ndarray], Location]:
    """The four arrays as stored (uint8 images (N, 28, 28), labels (N,)) and where they were."""
    spec = get_spec(name)
    location = find_dataset(spec.name, root)
    if location is None:
        error = None
        if download:
            try:
                _download(spec.name, root, progress=progress)
            except DatasetError as failure:
                error = failure
            location = find_dataset(spec.name, root)
        if location is None:
            raise _not_found(spec, root, error)
    files = {file.key: file for file in spec.files}
    arrays = {key: _read_file(spec, files[key], path, verify)
              for key, path in location.paths.items()}
    for split in ("train", "test"):
        _check_split(spec, arrays, location, split)
    return arrays, location


# -- the book's interface --------------------------------------------------------------------


def _prepare(images, labels, normalize, flatten, one_hot_label, dtype, n_classes):
    if normalize:
        x = images.astype(dtype)
        x /= dtype.type(255)  # in place: a second copy of 60 000 images costs a quarter second
    else:
        x = images
    x = x.reshape(x.shape[0], -1) if flatten else x.reshape(x.shape[0], 1, *x.shape[1:])
    t = labels.astype(np.int64)
    if one_hot_label:
        t = np.eye(n_classes, dtype=dtype if normalize else np.uint8)[t]
    return x, t


def load_dataset(name: str = "mnist", root=None, download: bool = True, normalize: bool = True,
                 flatten: bool = True, one_hot_label: bool = False, dtype=np.float32,
                 verify: bool = True, progress: bool = True):
    """((x_train, t_train), (x_test, t_test)) of "mnist" or "fashion-mnist".

    normalize: pixels as ``dtype`` in [0, 1] (else uint8 0..255).
    flatten: x of shape (N, 784) (else (N, 1, 28, 28)).
    one_hot_label: t of shape (N, 10) (else int64 class indices (N,)).
    verify: check each file's checksum on first parse (off for home-made IDX files).
    Raises DatasetError when the files cannot be found, fetched or parsed; its message lists
    every place tried and how to fix it.
    """
    spec = get_spec(name)
    dtype = _checks.float_dtype("dtype", dtype)
    arrays, _ = load_raw(spec.name, root, download, verify, progress)
    prepare = dict(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label,
                   dtype=dtype, n_classes=len(spec.classes))
    return (_prepare(arrays["train_images"], arrays["train_labels"], **prepare),
            _prepare(arrays["test_images"], arrays["test_labels"], **prepare))


def load_mnist(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               **kwargs):
    """The book's ``load_mnist`` (dataset/mnist.py): same arguments, same return shape."""
    return load_dataset("mnist", normalize=normalize, flatten=flatten,
                        one_hot_label=one_hot_label, **kwargs)


def load_fashion_mnist(normalize: bool = True, flatten: bool = True,
                       one_hot_label: bool = False, **kwargs):
    """Fashion-MNIST with load_mnist's interface."""
    return load_dataset("fashion-mnist", normalize=normalize, flatten=flatten,
                        one_hot_label=one_hot_label, **kwargs)

