"""MNIST and Fashion-MNIST, offline and online (book 3.6.1's ``load_mnist``, without pickle).

Where the four IDX files are looked for, in order:

  1. ``root``, the folder passed in (or ``root/<name>``);
  2. ``$DLFS_DATA`` (or ``$DLFS_DATA/<name>``);
  3. the user cache, ``$XDG_CACHE_HOME/dlfs/<name>`` (default ``~/.cache/dlfs/<name>``);
  4. the system folder ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist``);
  5. a download from each mirror in turn into the first of root, $DLFS_DATA and the cache,
     each file's checksum verified before it is renamed into place.

Parsed arrays are cached as ``.npy`` (never pickle) in the user cache beside a JSON record of the
source file and the ``.npy``'s SHA-256, so a second load skips gunzip and parsing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlfs import _checks
from dlfs._progress import progress_bar
from dlfs.data.idx import DatasetError, decompress, parse_idx
from dlfs.io import atomic_file

FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class FileSpec:
    """One IDX file: its published name and the digests that identify its content.

    ``md5`` is the digest of the published ``.gz`` (what torchvision checks); ``sha256`` that of
    the uncompressed IDX bytes, which survives recompression (Debian's package recompresses).
    A file is accepted when either known digest matches.
    """

    key: str
    filename: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    n_train: int
    n_test: int
    classes: tuple[str, ...]
    debian_package: str | None = None

    @property
    def system_dir(self) -> Path:
        return Path("/usr/share/datasets") / self.name


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    files=(
        FileSpec("train_images", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        FileSpec("train_labels", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        FileSpec("test_images", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                 "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        FileSpec("test_labels", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                 "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    n_train=60_000,
    n_test=10_000,
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=(
        FileSpec("train_images", "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                 "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
        FileSpec("train_labels", "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
        FileSpec("test_images", "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
        FileSpec("test_labels", "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    n_train=60_000,
    n_test=10_000,
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
    debian_package="dataset-fashion-mnist",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def get_spec(name: str) -> DatasetSpec:
    key = str(name).lower().replace("_", "-")
    if key == "fashion":
        key = "fashion-mnist"
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[key]


# -- where the files are ---------------------------------------------------------------------


def cache_dir() -> Path:
    """The user cache folder of dlfs: $XDG_CACHE_HOME/dlfs, default ~/.cache/dlfs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlfs"


@dataclass(frozen=True)
class Place:
    """A folder looked in: ``label`` says why (root, $DLFS_DATA, cache, system)."""

    label: str
    directory: Path


def places(spec: DatasetSpec, root=None) -> list[Place]:
    """Every folder looked in, in order."""
    found: list[Place] = []
    if root is not None:
        found += [Place("root", Path(root) / spec.name), Place("root", Path(root))]
    env = os.environ.get("DLFS_DATA")
    if env:
        found += [Place("$DLFS_DATA", Path(env) / spec.name), Place("$DLFS_DATA", Path(env))]
    found.append(Place("user cache", cache_dir() / spec.name))
    found.append(Place("system", spec.system_dir))
    return found


def download_dir(spec: DatasetSpec, root=None) -> Path:
    """Where a download is put: root/<name>, else $DLFS_DATA/<name>, else the user cache."""
    if root is not None:
        return Path(root) / spec.name
    env = os.environ.get("DLFS_DATA")
    return Path(env) / spec.name if env else cache_dir() / spec.name


def _file_in(directory: Path, file: FileSpec) -> Path | None:
    for candidate in (directory / file.filename, directory / file.filename.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Location:
    place: Place
    paths: dict[str, Path]


def find_dataset(name: str, root=None) -> Location | None:
    """The first folder holding all four files of ``name``, or None."""
    spec = get_spec(name)
    for place in places(spec, root):
        paths = {file.key: _file_in(place.directory, file) for file in spec.files}
        if all(paths.values()):
            return Location(place, paths)
    return None


# -- checksums, download --------------------------------------------------------------------


def _verify(file: FileSpec, raw: bytes, content: bytes, name: str) -> None:
    md5 = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(content).hexdigest()
    if (file.md5 and md5 == file.md5) or (file.sha256 and sha256 == file.sha256):
        return
    if not (file.md5 or file.sha256):
        return
    expected = " or ".join(
        part for part in (file.md5 and f"MD5 {file.md5} (gzip)",
                          file.sha256 and f"SHA-256 {file.sha256} (uncompressed)") if part)
    raise DatasetError(
        f"{name}: checksum mismatch: got MD5 {md5} / SHA-256 {sha256}, expected {expected}; "
        "the file is corrupt or not the published one"
    )


def _fetch(url: str, target: Path, file: FileSpec, timeout: float, progress: bool) -> None:
    """Downloads ``url`` to a temporary file beside ``target``, verifies, renames into place."""
    with atomic_file(target, suffix=".part") as out, \
            urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = progress_bar(total, progress, unit="B", unit_scale=True, desc=target.name)
        chunks = []
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        raw = b"".join(chunks)
        _verify(file, raw, decompress(raw, url), url)
        out.write(raw)


def download(name: str, root=None, timeout: float = 30.0, progress: bool = True) -> Path:
    """Fetches the files of ``name`` that are missing from its download folder.

    Tries each mirror in turn per file; raises DatasetError listing every URL and its error
    when a file cannot be had from any.
    """
    spec = get_spec(name)
    directory = download_dir(spec, root)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"cannot create the download folder {directory}: {error}") from error
    failures: list[str] = []
    for file in spec.files:
        if _file_in(directory, file):
            continue
        for mirror in spec.mirrors:
            url = mirror + file.filename
            try:
                _fetch(url, directory / file.filename, file, timeout, progress)
                break
            except (urllib.error.URLError, OSError, DatasetError) as error:
                reason = getattr(error, "reason", None) or error
                failures.append(f"{url}: {reason}")
        else:
            raise DatasetError(
                f"could not download {file.filename} of {spec.title}:\n  " + "\n  ".join(failures)
            )
    return directory


_download = download  # load_raw's argument is called download, as in the book


def _not_found(spec: DatasetSpec, root, download_error: str | None) -> DatasetError:
    lines = [f"{spec.title} was not found. Looked in:"]
    for place in places(spec, root):
        lines.append(f"  - {place.directory}  ({place.label})")
    if os.environ.get("DLFS_DATA") is None:
        lines.append("  ($DLFS_DATA is not set)")
    if download_error:
        lines.append("Downloading failed:")
        lines.extend("  " + line.strip()
                     for line in download_error.splitlines()[1:] or [download_error])
    else:
        lines.append("Downloading was not allowed (download=False).")
    names = ", ".join(f.filename for f in spec.files)
    lines.append("To fix it, any one of:")
    lines.append("  - connect to the network and load again (the files are downloaded once);")
    lines.append(f"  - put {names} in a folder and pass it as root=...;")
    lines.append("  - or set DLFS_DATA to such a folder;")
    if spec.debian_package:
        lines.append(f"  - on Debian/Ubuntu: sudo apt-get install {spec.debian_package}")
    return DatasetError("\n".join(lines))


# -- parsing with a .npy cache ---------------------------------------------------------------


def _parsed_cache(spec: DatasetSpec) -> Path:
    return cache_dir() / "parsed" / spec.name


def _read_cached(path: Path, cache: Path, key: str) -> np.ndarray | None:
    record_path, npy_path = cache / f"{key}.json", cache / f"{key}.npy"
    try:
        record = json.loads(record_path.read_text())
        stat = path.stat()
        if (record["source"], record["size"], record["mtime_ns"]) != (
                str(path.resolve()), stat.st_size, stat.st_mtime_ns):
            return None
        raw = npy_path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != record["npy_sha256"]:
            return None
        return np.load(io.BytesIO(raw), allow_pickle=False)
    except (OSError, ValueError, KeyError):
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
                  "mtime_ns": stat.st_mtime_ns, "npy_sha256": hashlib.sha256(raw).hexdigest()}
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
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from error
    content = decompress(raw, str(path))
    if verify:
        _verify(file, raw, content, str(path))
    array = parse_idx(content, str(path))
    if verify:
        _write_cached(array, path, cache, file.key)
    return array


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
                error = str(failure)
            location = find_dataset(spec.name, root)
        if location is None:
            raise _not_found(spec, root, error)
    files = {file.key: file for file in spec.files}
    arrays = {key: _read_file(spec, files[key], path, verify)
              for key, path in location.paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        image_path = location.paths[f"{split}_images"]
        label_path = location.paths[f"{split}_labels"]
        if images.ndim != 3:
            raise DatasetError(f"{image_path}: images must be 3-D (N, rows, cols), "
                               f"got shape {images.shape}")
        if labels.ndim != 1:
            raise DatasetError(f"{label_path}: labels must be 1-D, got shape {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise DatasetError(
                f"{image_path} holds {images.shape[0]} images but {label_path} holds "
                f"{labels.shape[0]} labels"
            )
        if labels.size and labels.max() >= len(spec.classes):
            raise DatasetError(f"{label_path}: label {labels.max()} is outside the valid range "
                               f"0..{len(spec.classes) - 1}")
    return arrays, location


# -- the book's interface --------------------------------------------------------------------


def _prepare(images, labels, normalize, flatten, one_hot_label, dtype, n_classes):
    x = images.astype(dtype) / dtype.type(255) if normalize else images
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

