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
        raise DatasetError(f"{path}: not a folder of IDX files nor an .npz file")
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    for x, key in ((x_train, "x_train"), (x_test, "x_test")):
        _check_samples(x, names[key])
    if x_test[0].size != x_train[0].size:
        raise DatasetError(f"{names['x_test']}: {x_test[0].size} values per sample, but "
                           f"{_short(names['x_train'])} has {x_train[0].size}")
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
        raise DatasetError(f"{folder}: no {', '.join(missing)} (gzipped or not); a data folder "
                           "holds MNIST's four IDX files, or pass an .npz file with "
                           f"{', '.join(NPZ_KEYS)}")
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
                raise DatasetError(f"{path}: no {', '.join(missing)}; an .npz for dlfs holds "
                                   f"{', '.join(NPZ_KEYS)} (this one holds "
                                   f"{', '.join(held) or 'nothing'})")
            arrays = {key: _read_member(archive, entries[key], path, key, max_bytes)
                      for key in NPZ_KEYS}
    except DatasetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise DatasetError(f"{path}: not a readable .npz of plain arrays ({error})") from None
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
                               reason=str(error)) from None
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
        raise DatasetError(f"{name}: samples must be (N, D) vectors or (N, rows, cols) images, "
                           f"at least one, got shape {x.shape}")
    if x.dtype == np.uint8:
        return
    if x.dtype.kind != "f":
        raise DatasetError(f"{name}: samples must be uint8 pixels (0..255) or floats, got "
                           f"{x.dtype}; convert them with x.astype(np.uint8) or "
                           "x.astype(np.float32)")
    if not np.isfinite(x).all():
        raise DatasetError(f"{name}: holds NaN or infinite values")
    largest = float(np.abs(x).max())
    if largest > FLOAT_LIMIT:
        raise DatasetError(f"{name}: float values up to {largest:g}; scale them to about "
                           f"[0, 1] (pixels: divide by 255), since values beyond "
                           f"±{FLOAT_LIMIT:g} make the book's learning rates diverge")


def _as_vectors(x: np.ndarray) -> np.ndarray:
    """Checked samples as (N, D) float32, uint8 pixels scaled to [0, 1]."""
    if x.dtype == np.uint8:
        vectors = x.reshape(len(x), -1).astype(np.float32)
        vectors /= np.float32(255)  # in place: no second float32 copy
        return vectors
    return x.reshape(len(x), -1).astype(np.float32)


def _labels(t: np.ndarray, name: str, count: int, samples: str) -> np.ndarray:
    if t.ndim != 1:
        hint = "; one-hot? pass t.argmax(axis=1)" if t.ndim == 2 else ""
        raise DatasetError(f"{name}: labels must be 1-D class indices, got shape "
                           f"{t.shape}{hint}")
    if t.dtype.kind not in "iu":
        raise DatasetError(f"{name}: labels must be whole numbers (class indices), got "
                           f"{t.dtype}; convert them with t.astype(int)")
    if len(t) != count:
        raise DatasetError(f"{name}: {len(t)} labels, but {samples} holds {count} samples")
    if t.min() < 0:
        raise DatasetError(f"{name}: label {t.min()} is negative; labels are 0..K-1")
    return t.astype(np.int64)


def _check_classes(t_train: np.ndarray, t_test: np.ndarray, names: dict) -> None:
    classes = int(t_train.max()) + 1
    absent = sorted(set(range(classes)) - set(np.unique(t_train).tolist()))
    if classes < 2 or absent:
        problem = ("only one class" if classes < 2 else
                   f"no sample of class {', '.join(map(str, absent[:5]))}"
                   f"{' …' if len(absent) > 5 else ''} below its largest label {classes - 1}")
        raise DatasetError(f"{names['t_train']}: {problem}; labels must be 0..K-1 with K >= 2 "
                           "and every class present (renumber them, e.g. with np.unique(t, "
                           "return_inverse=True))")
    if t_test.max() >= classes:
        raise DatasetError(f"{names['t_test']}: label {t_test.max()}, a class the training "
                           f"labels (0..{classes - 1}) never have")
