"""A learner's own data set: a folder of IDX files in MNIST's layout, or an .npz file.

    DIR/train-images-idx3-ubyte[.gz]   DIR/train-labels-idx1-ubyte[.gz]
    DIR/t10k-images-idx3-ubyte[.gz]    DIR/t10k-labels-idx1-ubyte[.gz]
    FILE.npz holding x_train, t_train, x_test, t_test

Samples may be images (N, rows, cols) or vectors (N, D); both become (N, D). uint8 pixels are
scaled to [0, 1]; floats are kept as they are when finite and within ±100 (larger values, such
as pixels 0..255 stored as floats, would make the book's learning rates diverge). Labels are
class indices 0..K−1, every class present in the training set. No checksum is checked: the
published checksums identify the named public data sets only.

No array larger than 1 GiB (the IDX reader's limit) is unpacked: each .npz entry's declared size
and its .npy header (shape, dtype) are read first, so a small file that would inflate to
gigabytes is refused naming the file, the array, its size and the limit. uint8 pixels become
float32 only after every check.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from dlfs.data.idx import MAX_BYTES, DatasetError, read_idx
from dlfs.data.lab import Data
from dlfs.data.locations import file_in
from dlfs.data.specs import MNIST
from dlfs.io import npy_header, npy_nbytes, size_text

NPZ_KEYS = ("x_train", "t_train", "x_test", "t_test")
FLOAT_LIMIT = 100.0  # the largest |x| kept as is; beyond it the data wants scaling
_LONGEST_NPY_HEADER = 65536 + 12  # format 2.0: magic, version, 4-byte length, header


def load_own_data(path) -> Data:
    """The data set at ``path`` (a folder of IDX files or an .npz file) as a Data named
    "own:NAME". Raises DatasetError, one line naming the file and the problem."""
    path = Path(path)
    if path.is_dir():
        arrays, names = _read_idx_folder(path)
    elif path.is_file() and path.suffix == ".npz":
        arrays, names = _read_npz(path)
    else:
        raise DatasetError(key="bounds.own_not_data", path=str(path))
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    for x, key in ((x_train, "x_train"), (x_test, "x_test")):
        _check_samples(x, names[key])
    if x_test[0].size != x_train[0].size:
        raise DatasetError(key="bounds.own_widths_differ", name=names["x_test"],
                           width=x_test[0].size, other=_short(names["x_train"]),
                           other_width=x_train[0].size)
    t_train = _labels(arrays["t_train"], names["t_train"], len(x_train),
                      _short(names["x_train"]))
    t_test = _labels(arrays["t_test"], names["t_test"], len(x_test), _short(names["x_test"]))
    _check_classes(t_train, t_test, names)
    # converted last: a uint8 set becomes four times larger as float32
    x_train, x_test = _as_vectors(x_train), _as_vectors(x_test)
    return Data(f"own:{path.name}", path.name, str(path.resolve()),
                x_train, t_train, x_test, t_test)


def _short(name: str) -> str:
    """A file named a second time in one message: its key (x_train) or file name."""
    return name.rsplit("[", 1)[-1].rstrip("]") if name.endswith("]") else Path(name).name


def _read_idx_folder(folder: Path):
    keys = {"train_images": "x_train", "train_labels": "t_train",
            "test_images": "x_test", "test_labels": "t_test"}
    found = {file.key: file_in(folder, file) for file in MNIST.files}
    missing = [file.filename.removesuffix(".gz") for file in MNIST.files if not found[file.key]]
    if missing:
        raise DatasetError(key="bounds.own_idx_missing", folder=str(folder),
                           missing=", ".join(missing), keys=", ".join(NPZ_KEYS))
    arrays = {keys[key]: read_idx(found_path) for key, found_path in found.items()}
    return arrays, {keys[key]: str(found_path) for key, found_path in found.items()}


def _read_npz(path: Path, max_bytes: int = MAX_BYTES):
    """The four arrays of the .npz at ``path``, each refused before it is unpacked when its zip
    entry or its .npy header declares more than ``max_bytes`` (a small file can inflate to
    gigabytes)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            held = list(entries)
            missing = [key for key in NPZ_KEYS if key not in held]
            if missing:
                raise DatasetError(key="bounds.own_npz_missing" if held else
                                   "bounds.own_npz_empty", path=str(path),
                                   missing=", ".join(missing), keys=", ".join(NPZ_KEYS),
                                   held=", ".join(held))
            arrays = {key: _read_member(archive, entries[key], path, key, max_bytes)
                      for key in NPZ_KEYS}
    except DatasetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise DatasetError(key="bounds.own_npz_unreadable", path=str(path),
                           reason=str(error)) from None
    return arrays, {key: f"{path} [{key}]" for key in NPZ_KEYS}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str,
                 max_bytes: int) -> np.ndarray:
    """The array ``key`` of an .npz, its sizes checked before any data is read."""
    limit = size_text(max_bytes)
    if info.file_size > max_bytes + _LONGEST_NPY_HEADER:  # what the zip entry declares
        raise DatasetError(key="bounds.npz_entry_too_large", file=str(path), array=key,
                           size=size_text(info.file_size), limit=limit)
    with archive.open(info) as member:
        try:
            shape, _, dtype = npy_header(member)
        except ValueError as error:
            raise DatasetError(key="bounds.npz_not_npy", file=str(path), array=key,
                               reason=error) from None
        header = member.tell()
    nbytes = npy_nbytes(shape, dtype)
    if nbytes > max_bytes:
        raise DatasetError(key="bounds.npz_array_too_large", file=str(path), array=key,
                           shape=shape, dtype=str(dtype), size=size_text(nbytes), limit=limit)
    if nbytes > info.file_size - header:
        raise DatasetError(key="bounds.npz_array_truncated", file=str(path), array=key,
                           shape=shape, dtype=str(dtype), size=size_text(nbytes),
                           held=size_text(max(info.file_size - header, 0)))
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _check_samples(x: np.ndarray, name: str) -> None:
    """(N, ...) uint8, or finite floats within ±FLOAT_LIMIT."""
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
        raise DatasetError(key="bounds.own_samples_shape", name=name, shape=x.shape)
    if x.dtype == np.uint8:
        return
    if x.dtype.kind != "f":
        raise DatasetError(key="bounds.own_samples_dtype", name=name, dtype=str(x.dtype))
    if not np.isfinite(x).all():
        raise DatasetError(key="bounds.own_samples_not_finite", name=name)
    largest = float(np.abs(x).max())
    if largest > FLOAT_LIMIT:
        raise DatasetError(key="bounds.own_samples_unscaled", name=name, largest=largest,
                           limit=FLOAT_LIMIT)


def _as_vectors(x: np.ndarray) -> np.ndarray:
    """Checked samples as (N, D) float32, uint8 pixels scaled to [0, 1]."""
    if x.dtype == np.uint8:
        vectors = x.reshape(len(x), -1).astype(np.float32)
        vectors /= np.float32(255)  # in place: no second float32 copy
        return vectors
    return x.reshape(len(x), -1).astype(np.float32)


def _labels(t: np.ndarray, name: str, count: int, samples: str) -> np.ndarray:
    if t.ndim != 1:
        raise DatasetError(key="bounds.own_labels_one_hot" if t.ndim == 2 else
                           "bounds.own_labels_shape", name=name, shape=t.shape)
    if t.dtype.kind not in "iu":
        raise DatasetError(key="bounds.own_labels_dtype", name=name, dtype=str(t.dtype))
    if len(t) != count:
        raise DatasetError(key="bounds.own_labels_count", name=name, labels=len(t),
                           samples=samples, count=count)
    if t.min() < 0:
        raise DatasetError(key="bounds.own_labels_negative", name=name, label=int(t.min()))
    return t.astype(np.int64)


def _check_classes(t_train: np.ndarray, t_test: np.ndarray, names: dict) -> None:
    classes = int(t_train.max()) + 1
    absent = sorted(set(range(classes)) - set(np.unique(t_train).tolist()))
    if classes < 2:
        raise DatasetError(key="bounds.own_one_class", name=names["t_train"])
    if absent:
        raise DatasetError(key="bounds.own_absent_class", name=names["t_train"],
                           absent=", ".join(map(str, absent[:5])) + (" …" if len(absent) > 5
                                                                     else ""),
                           largest=classes - 1)
    if t_test.max() >= classes:
        raise DatasetError(key="bounds.own_unseen_class", name=names["t_test"],
                           label=int(t_test.max()), largest=classes - 1)
