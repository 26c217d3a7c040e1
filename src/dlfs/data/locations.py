"""Where a data set's four IDX files are looked for, in order, and where a download goes.

  1. ``root``, the folder passed in (or ``root/<name>``);
  2. ``$DLFS_DATA`` (or ``$DLFS_DATA/<name>``);
  3. the user cache, ``$XDG_CACHE_HOME/dlfs/<name>`` (default ``~/.cache/dlfs/<name>``);
  4. the system folder ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist``).

A download goes into the first of root, $DLFS_DATA and the cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dlfs.data.specs import DatasetSpec, FileSpec, get_spec


def cache_dir() -> Path:
    """The user cache folder of dlfs: $XDG_CACHE_HOME/dlfs, default ~/.cache/dlfs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlfs"


@dataclass(frozen=True)
class Place:
    """A folder looked in: ``label`` says why (root, $DLFS_DATA, user cache, system)."""

    label: str
    directory: Path


@dataclass(frozen=True)
class Location:
    """Where a data set was found: the folder, and the path of each file by key."""

    place: Place
    paths: dict[str, Path]


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


def file_in(directory: Path, file: FileSpec) -> Path | None:
    """``file`` in ``directory``, gzip-compressed or not, or None."""
    for candidate in (directory / file.filename, directory / file.filename.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def find_dataset(name: str, root=None) -> Location | None:
    """The first folder holding all four files of ``name``, or None."""
    spec = get_spec(name)
    for place in places(spec, root):
        paths = {file.key: file_in(place.directory, file) for file in spec.files}
        if all(paths.values()):
            return Location(place, paths)
    return None


# -- where a data set came from, said in a language (the report, dlfs run, dlfs show) ----------

# dlfs.data.describe_location's 'FOLDER (place)' and ' (Debian package NAME)'
_SOURCE = re.compile(r"(?P<folder>.*) \((?P<place>root|\$DLFS_DATA|user cache|system)\)"
                     r"(?: \(Debian package (?P<package>[^)]+)\))?")
_PLACES = {"root": "place_root", "$DLFS_DATA": "place_env", "user cache": "place_cache",
           "system": "place_system"}


def source_in(source: str, lang: str) -> str:
    """Where a data set came from, as dlfs.data.describe_location says it (and results.json
    records it), in ``lang``; a text of another form as it is."""
    found = _SOURCE.fullmatch(source)
    if found is None:
        return source
    from dlfs import catalogue

    place = catalogue.text(f"output.{_PLACES[found['place']]}", lang)
    fields = {"folder": found["folder"], "place": place}
    if found["package"]:
        return catalogue.text("output.where_package", lang, package=found["package"], **fields)
    return catalogue.text("output.where", lang, **fields)
