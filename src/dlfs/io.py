"""Writing files atomically, and network parameters to and from ``.npz`` files (never pickle).

Every file dlfs writes goes through ``atomic_file`` (or ``write_text``), and a folder of results
through ``atomic_dir``: a reader sees the old version or the new one, never half of one.

The book pickles whole networks; a pickle runs code when loaded. Here a file holds plain arrays:
every entry of ``network.params`` plus its non-trainable ``buffers`` (batch-norm running
statistics), saved with ``allow_pickle=False`` semantics and read back with it.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from dlfs._said import Said, SaidValueError


def _create_beside(path: Path, suffix: str, create):
    """Calls ``create`` on a new name ``.NAME.RANDOM<suffix>`` beside ``path``; returns the
    name and what ``create`` returned.

    Not tempfile.mkstemp/mkdtemp: they make private files (0600) and folders (0700), whereas a
    result should get the mode any new file gets under the user's umask.
    """
    while True:
        name = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            return name, create(name)
        except FileExistsError:
            continue


def _create_file(name: Path) -> int:
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


@contextlib.contextmanager
def atomic_file(path, mode: str = "wb", suffix: str = ".tmp") -> Iterator[IO]:
    """Opens a temporary file beside ``path``; renames it to ``path`` only when the block ends
    without an exception, and removes it otherwise. Readers never see a half-written file.

    ``mode`` is "wb" or "w" (UTF-8 text). Every file dlfs writes goes through here.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    tmp, fd = _create_beside(path, suffix, _create_file)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path, text: str) -> Path:
    """Writes ``text`` (UTF-8) to ``path`` atomically (see atomic_file)."""
    with atomic_file(path, "w") as handle:
        handle.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path) -> Iterator[Path]:
    """Yields a new empty folder beside ``path`` to fill; when the block ends without an
    exception it takes the place of ``path`` (a folder already there is removed), otherwise it
    is removed. Readers see the old folder or the finished new one (or, for a moment, none),
    never a half-written one.

    ``path``'s parent folder must exist.
    """
    path = Path(path)
    tmp, _ = _create_beside(path, "", os.mkdir)
    try:
        yield tmp
        old = None
        if path.exists():
            # Two renames, since no portable call swaps two folders.
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
        tmp.rename(path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def writable_folder(path) -> Path:
    """Creates the folder ``path`` (and its parents) if needed and checks that a file can be
    created in it; raises OSError otherwise."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # Creating a file is the only sure test (os.access misjudges ACLs and network mounts).
    probe, fd = _create_beside(path / "write-test", "", _create_file)
    os.close(fd)
    probe.unlink()
    return path


class FolderBusy(OSError):
    """Another process holds ``folder_lock`` on the folder."""


@contextlib.contextmanager
def folder_lock(path) -> Iterator[Path]:
    """Holds an exclusive lock on the existing folder ``path`` for the block; raises FolderBusy
    at once if another process holds it.

    The lock is flock(2) on the folder itself, so no lock file is left behind, and the kernel
    lets it go when its holder dies, even by SIGKILL. Where flock is missing (Windows) the block
    runs unlocked.
    """
    path = Path(path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield path
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusy(f"another process holds the lock on {path}") from None
        yield path
    finally:
        os.close(fd)


def remove_leftovers(folder, names) -> list[Path]:
    """Removes what an interrupted atomic_dir or atomic_file left in ``folder`` for each of
    ``names``: ``.NAME.XXXXXXXX`` folders and ``.NAME.XXXXXXXX.tmp`` files (XXXXXXXX hex), and
    ``.NAME.old``. Returns what it removed.

    Only safe while nothing else writes those names: call it holding ``folder_lock``.
    """
    folder = Path(folder)
    removed = []
    for name in names:
        pattern = re.compile(rf"\.{re.escape(name)}\.([0-9a-f]{{8}}(\.tmp)?|old)")
        for entry in folder.glob(f".{glob.escape(name)}.*"):
            if not pattern.fullmatch(entry.name):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


class ParamsError(Said, ValueError):
    """A parameter file load_params refuses; ``text(lang)`` says why in ``lang``."""


def _arrays_of(network) -> dict[str, np.ndarray]:
    arrays = dict(network.params)
    arrays.update(getattr(network, "buffers", {}))
    return arrays


def save_params(network, path) -> Path:
    """Writes ``network``'s params and buffers to ``path`` (a ``.npz``), atomically.

    The file is written beside its destination under a temporary name and renamed into place,
    so an interrupted save never leaves a half-written file under the real name.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end in .npz, got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"the folder {str(path.parent)!r} of path does not exist; create it first")
    arrays = {key: np.ascontiguousarray(value) for key, value in _arrays_of(network).items()}
    with atomic_file(path) as handle:
        np.savez(handle, **arrays)
    return path


def npy_header(member) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from the start of an open ``.npy`` stream (a zip member of
    an ``.npz``), reading no array data, so a huge declared shape costs nothing.

    Raises ValueError (the reason, no file name) when the stream is no plain ``.npy`` array,
    Python objects (a pickle) included.
    """
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise SaidValueError(key="said.npy_version", version=version)
    if dtype.hasobject:
        raise SaidValueError(key="said.npy_pickle")
    return shape, fortran, dtype


def npy_nbytes(shape, dtype: np.dtype) -> int:
    """The bytes an array of ``shape`` and ``dtype`` takes, as a Python int (no overflow)."""
    return math.prod(shape) * dtype.itemsize


def size_text(n: int) -> str:
    """``n`` bytes for a person: '512 B', '47 MiB', '6.12 PiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    raise AssertionError("unreachable")


def _npy_header(member, key: str, path: Path):
    """(shape, dtype) from the header of a parameter file's entry ``key``."""
    try:
        shape, _, dtype = npy_header(member)
    except ValueError as error:
        raise ParamsError(key="bounds.params_not_npy", path=str(path), array=key,
                          reason=error) from None
    return shape, dtype


def _check_header(key: str, shape, dtype: np.dtype, target: np.ndarray, path: Path) -> None:
    if shape != target.shape:
        raise ParamsError(key="bounds.params_shape", path=str(path), array=key, shape=shape,
                          wanted=target.shape)
    if dtype.kind != "f":
        raise ParamsError(key="bounds.params_dtype", path=str(path), array=key,
                          code=dtype.str, dtype=str(dtype))


def _read_checked(archive: zipfile.ZipFile, key: str, target: np.ndarray, path: Path):
    """The entry ``key`` as the network's dtype, after its header and values are checked."""
    with archive.open(f"{key}.npy") as member:
        shape, dtype = _npy_header(member, key, path)
        _check_header(key, shape, dtype, target, path)  # before numpy allocates the data
    with archive.open(f"{key}.npy") as member:
        try:
            stored = np.lib.format.read_array(member, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise ParamsError(key="bounds.params_unreadable_entry", path=str(path), array=key,
                              reason=str(error)) from None
    with np.errstate(over="ignore"):
        value = stored.astype(target.dtype)
    if not np.isfinite(value).all():
        problem = ("nan" if np.isnan(stored).any() else "inf" if np.isinf(stored).any()
                   else "too_large")
        raise ParamsError(key=f"bounds.params_{problem}", path=str(path), array=key,
                          dtype=str(target.dtype))
    return value


def load_params(network, path) -> None:
    """Copies the arrays saved in ``path`` into ``network`` in place.

    Every key must be present, with the network's shape, a real floating dtype and finite
    values (after conversion to the network's dtype). Every array is checked before any is
    copied, so a failed load leaves the network as it was. Each entry's shape is read from its
    header before its data, so a file declaring a huge array is refused without allocating it.
    """
    path = Path(path)
    if not path.is_file():
        raise ParamsError(key="bounds.params_no_file", path=str(path))
    if path.stat().st_size == 0:
        raise ParamsError(key="bounds.params_empty", path=str(path))
    targets = _arrays_of(network)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            stored_keys = {name.removesuffix(".npy") for name in names}
            odd = sorted(name for name in names if not name.endswith(".npy"))
            if odd or len(names) != len(stored_keys):
                raise ParamsError(key="bounds.params_odd_entries" if odd else
                                  "bounds.params_repeated_entry", path=str(path),
                                  entries=", ".join(odd))
            headers = {}
            for name in names:  # every header first, no data read yet
                with archive.open(name) as member:
                    headers[name.removesuffix(".npy")] = _npy_header(
                        member, name.removesuffix(".npy"), path)
            missing = sorted(set(targets) - stored_keys)
            if missing:
                raise ParamsError(key="bounds.params_missing", path=str(path),
                                  keys=", ".join(missing))
            unexpected = sorted(stored_keys - set(targets))
            if unexpected:
                raise ParamsError(key="bounds.params_unexpected", path=str(path),
                                  keys=", ".join(unexpected))
            for key, target in targets.items():
                _check_header(key, *headers[key], target, path)
            values = {key: _read_checked(archive, key, target, path)
                      for key, target in targets.items()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise ParamsError(key="bounds.params_unreadable", path=str(path),
                          reason=str(error)) from None
    for key, target in targets.items():
        target[...] = values[key]
