"""Downloading a data set: each mirror in turn, each file's checksum verified before it is
renamed into place, so a folder never holds a half-downloaded or corrupt file."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from dlfs._progress import progress_bar
from dlfs.data.idx import MAX_BYTES, DatasetError, decompress
from dlfs.data.locations import download_dir, file_in
from dlfs.data.specs import FileSpec, check_digest, get_spec
from dlfs.io import atomic_file


def _fetch(url: str, target: Path, file: FileSpec, timeout: float, progress: bool,
           deadline: float) -> None:
    """Downloads ``url`` to a temporary file beside ``target``, verifies, renames into place.

    Each read waits at most ``timeout`` seconds and the whole file at most ``deadline``
    (checked between reads, so by at most ``timeout`` more); no more than the published size
    (``file.size``, else MAX_BYTES) is read.
    """
    give_up = time.monotonic() + deadline
    limit = file.size or MAX_BYTES
    with atomic_file(target, suffix=".part") as out, \
            urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        if total is not None and total > limit:
            raise DatasetError(f"{url}: {total} bytes announced, more than the {limit} bytes "
                               "of the published file")
        bar = progress_bar(total, progress, unit="B", unit_scale=True, desc=target.name)
        chunks, received = [], 0
        # read1 returns what one read of the socket gives; read(n) would wait for all n bytes
        while chunk := response.read1(1 << 16):
            chunks.append(chunk)
            received += len(chunk)
            if received > limit:
                raise DatasetError(f"{url}: more than the {limit} bytes of the published file")
            if time.monotonic() > give_up:
                raise DatasetError(f"{url}: not complete after the deadline of {deadline:g} s "
                                   f"({received} bytes received)")
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        raw = b"".join(chunks)
        check_digest(file, raw, decompress(raw, url), url)
        out.write(raw)


def download(name: str, root=None, timeout: float = 30.0, progress: bool = True,
             deadline: float = 600.0) -> Path:
    """Fetches the files of ``name`` that are missing from its download folder.

    timeout: seconds one read may wait; deadline: seconds one file may take in all.

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
        if file_in(directory, file):
            continue
        for mirror in spec.mirrors:
            url = mirror + file.filename
            try:
                _fetch(url, directory / file.filename, file, timeout, progress, deadline)
                break
            except (urllib.error.URLError, OSError, DatasetError) as error:
                reason = getattr(error, "reason", None) or error
                failures.append(f"{url}: {reason}")
        else:
            raise DatasetError(
                f"could not download {file.filename} of {spec.title}:\n  " + "\n  ".join(failures)
            )
    return directory
