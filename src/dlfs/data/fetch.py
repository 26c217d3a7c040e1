"""Downloading a data set: each mirror in turn, each file's checksum verified before it is
renamed into place, so a folder never holds a half-downloaded or corrupt file.

Two limits per file and mirror: a stall (no byte for ``stall`` seconds, 30 by default) and an
overall deadline (``deadline`` seconds, 300 by default, enough for MNIST's 9.9 MB at 35 kB/s);
the environment variables DLFS_DOWNLOAD_STALL and DLFS_DOWNLOAD_DEADLINE set them for every
download (``dlfs data --fetch``, ``load_dataset(..., download=True)``).
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from dlfs._progress import progress_bar
from dlfs.data.idx import MAX_BYTES, DatasetError, decompress
from dlfs.data.locations import download_dir, file_in
from dlfs.data.specs import FileSpec, check_digest, get_spec
from dlfs.io import atomic_file

STALL_ENV, DEADLINE_ENV = "DLFS_DOWNLOAD_STALL", "DLFS_DOWNLOAD_DEADLINE"
DEFAULT_STALL, DEFAULT_DEADLINE = 30.0, 300.0


def _seconds(value, env: str, default: float) -> float:
    """``value`` when given, else the environment variable ``env``, else ``default``: a
    positive number of seconds."""
    source = value if value is not None else os.environ.get(env) or default
    try:
        seconds = float(source)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not (seconds > 0 and seconds < float("inf")):
        raise DatasetError(key="bounds.download_seconds", name=env if value is None else
                           env.removeprefix("DLFS_DOWNLOAD_").lower(), value=source)
    return seconds


def _fetch(url: str, target: Path, file: FileSpec, stall: float, progress: bool,
           deadline: float) -> None:
    """Downloads ``url`` to a temporary file beside ``target``, verifies, renames into place.

    Each read waits at most ``stall`` seconds for a byte and the whole file at most
    ``deadline`` (checked between reads, so by at most ``stall`` more); no more than the
    published size (``file.size``, else MAX_BYTES) is read.
    """
    give_up = time.monotonic() + deadline
    limit = file.size or MAX_BYTES
    try:
        with atomic_file(target, suffix=".part") as out, \
                urllib.request.urlopen(url, timeout=stall) as response:
            _read(url, response, out, target, file, limit, progress, give_up, deadline)
    except TimeoutError as error:  # no byte for ``stall`` seconds
        raise DatasetError(key="bounds.download_stalled", url=url, stall=f"{stall:g}",
                           env=STALL_ENV) from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise DatasetError(key="bounds.download_stalled", url=url, stall=f"{stall:g}",
                               env=STALL_ENV) from error
        raise


def _read(url, response, out, target, file, limit, progress, give_up, deadline) -> None:
    """The body of ``response`` into ``out``, bounded in size and time, checksum verified."""
    total = int(response.headers.get("Content-Length") or 0) or None
    if total is not None and total > limit:
        raise DatasetError(key="bounds.download_announced", url=url, size=total, limit=limit)
    bar = progress_bar(total, progress, unit="B", unit_scale=True, desc=target.name)
    chunks, received = [], 0
    # read1 returns what one read of the socket gives; read(n) would wait for all n bytes
    while chunk := response.read1(1 << 16):
        chunks.append(chunk)
        received += len(chunk)
        if received > limit:
            raise DatasetError(key="bounds.download_excess", url=url, limit=limit)
        if time.monotonic() > give_up:
            raise DatasetError(key="bounds.download_deadline", url=url,
                               deadline=f"{deadline:g}", received=received,
                               env=DEADLINE_ENV)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    raw = b"".join(chunks)
    check_digest(file, raw, decompress(raw, url), url)
    out.write(raw)


def download(name: str, root=None, stall: float | None = None, progress: bool = True,
             deadline: float | None = None) -> Path:
    """Fetches the files of ``name`` that are missing from its download folder.

    stall: seconds without a byte before a mirror is given up (DLFS_DOWNLOAD_STALL, else 30);
    deadline: seconds one file may take from one mirror in all (DLFS_DOWNLOAD_DEADLINE,
    else 300).

    Tries each mirror in turn per file; raises DatasetError listing every URL and its error
    when a file cannot be had from any.
    """
    stall = _seconds(stall, STALL_ENV, DEFAULT_STALL)
    deadline = _seconds(deadline, DEADLINE_ENV, DEFAULT_DEADLINE)
    spec = get_spec(name)
    directory = download_dir(spec, root)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(key="bounds.download_folder", folder=str(directory),
                           reason=str(error)) from error
    failures: list[tuple[str, dict]] = []
    for file in spec.files:
        if file_in(directory, file):
            continue
        for mirror in spec.mirrors:
            url = mirror + file.filename
            try:
                _fetch(url, directory / file.filename, file, stall, progress, deadline)
                break
            except (urllib.error.URLError, OSError, DatasetError) as error:
                reason = getattr(error, "reason", None) or error
                failures += (error.lines if isinstance(error, DatasetError) and error.lines
                             else [("bounds.download_failure", {"url": url,
                                                                "reason": str(reason)})])
        else:
            raise DatasetError(lines=[("bounds.download_gave_up", {
                "file": file.filename, "title": spec.title})] + [
                (key, {**fields, "indent": "  "}) for key, fields in failures])
    return directory
