"""results.json records as the lab reads them back: from a file that may be someone else's.

``dlfs report`` and ``dlfs show`` read every results.json through ``load_record``: only a regular
file (not a folder, FIFO, device or symbolic link) of at most MAX_RECORD_BYTES, UTF-8 JSON, an
object whose fields the page and the terminal show have the types they need. A figure a record
names is read through ``read_png``: only when it resolves inside the experiment's folder and is
a regular PNG file of at most MAX_FIGURE_BYTES. Anything else is a RecordError naming the file and
what is wrong, in any language of the catalogue. ``mask_passwords`` hides the password of every
URL in a text (a PostgreSQL storage's) before it is shown.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path

from dlfs import catalogue
from dlfs.catalogue import LANGS

MAX_RECORD_BYTES = 20 * 2**20  # a results.json: the lab's largest is well under 1 MB
MAX_FIGURE_BYTES = 20 * 2**20  # a figure: the lab's PNGs are about 100 kB
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RecordError(ValueError):
    """A results.json (``what`` = "record") or a figure it names ("figure") that the lab will
    not read. ``key`` is its text in the catalogue's [report_files] table and ``fields`` that
    text's fields, so the command can say it in any language; str() is the English."""

    def __init__(self, key: str, what: str = "record", **fields):
        self.key, self.what, self.fields = key, what, fields
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        fields = dict(self.fields)
        if "expected" in fields:  # a kind of value: text, whole number, …, in ``lang``
            fields["expected"] = catalogue.text(f"report_files.{fields['expected']}", lang,
                                                langs=", ".join(LANGS))
        if "errno" in fields:  # the system's reason, in ``lang`` where the catalogue has it
            key = f"errors.os_{errno.errorcode.get(fields['errno'], '')}"
            if key in catalogue.CATALOGUE.keys("en"):
                fields["reason"] = catalogue.text(key, lang)
        return catalogue.text(f"report_files.{self.key}", lang, **fields)


def _read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else a RecordError.

    Checked on the open file itself, not the name before opening it: the name may change in
    between. O_NONBLOCK lets a FIFO be opened (and refused) without waiting for a writer;
    O_NOFOLLOW refuses a symbolic link (to /dev/zero, say); at most limit + 1 bytes are read,
    so a file that grows after the check cannot exhaust memory either."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        if path.is_symlink():
            raise RecordError("not_regular", what, path=path)
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RecordError("not_regular", what, path=path) from None
        raise RecordError("unreadable", what, path=path, errno=error.errno,
                          reason=error.strerror or str(error)) from None
    except ValueError:  # a NUL in the name
        raise RecordError("not_regular", what, path=path) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise RecordError("not_regular", what, path=path)
        raise RecordError("too_large", what, path=path, size=info.st_size, limit=limit)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RecordError("too_large", what, path=path, size=len(data), limit=limit)
    return data


def _is(value, kind: str) -> bool:
    if kind == "type_text":
        return isinstance(value, str)
    if kind == "type_whole":  # 0, 1, 2, …: chapters, seeds, counts of runs ("a whole number")
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "type_number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "type_bool":
        return isinstance(value, bool)
    if kind == "type_list":
        return isinstance(value, list)
    if kind == "type_seeds":  # distinct whole numbers >= 0, at least one
        return (isinstance(value, list) and bool(value) and all(
            _is(seed, "type_whole") and seed >= 0 for seed in value)
            and len(set(value)) == len(value))
    if kind == "type_runs":  # at least one run, each a table
        return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)
    if kind == "type_languages":  # a text in every language of the catalogue, texts only
        return (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
                and all(lang in value for lang in LANGS))
    return isinstance(value, dict)  # type_table


# field: kind; a field of a table is "table.field"; those in OPTIONAL may be absent or null
_FIELDS = {"name": "type_text", "chapter": "type_whole", "section": "type_text",
           "seed": "type_whole", "wall_time_s": "type_number", "cpu_time_s": "type_number",
           "title": "type_languages",
           "claim": "type_languages", "about": "type_languages", "parameters": "type_table",
           "overrides": "type_table", "quick": "type_bool", "quick_settings": "type_bool",
           "figures": "type_table", "verdict": "type_table", "verdict.held": "type_bool",
           "verdict.judged": "type_bool", "verdict.detail": "type_languages",
           "dataset": "type_table", "dataset.title": "type_text", "dataset.source": "type_text",
           # several seeds (absent from a record written before them)
           "seeds": "type_seeds", "deterministic": "type_bool", "runs": "type_runs",
           "verdict.held_in": "type_whole", "verdict.of": "type_whole",
           "verdict.seeds": "type_list"}
_OPTIONAL = {"overrides", "quick", "quick_settings", "verdict.judged", "dataset", "seeds",
             "cpu_time_s",
             "deterministic", "runs", "verdict.held_in", "verdict.of", "verdict.seeds"}
# The fields of each entry of "runs" and of "verdict.seeds", checked as _FIELDS are.
_RUN_FIELDS = {"seed": "type_whole", "results": "type_table", "verdict": "type_table",
               "verdict.held": "type_bool", "verdict.judged": "type_bool",
               "verdict.detail": "type_languages"}
_SEED_FIELDS = {"seed": "type_whole", "held": "type_bool", "judged": "type_bool"}


def _check_fields(table: dict, fields: dict, optional, path: Path, prefix: str = "") -> None:
    """A RecordError naming the first of ``fields`` ({"table.field": kind}) that ``table``
    lacks, where it is not ``optional``, or holds with the wrong type."""
    for field, kind in fields.items():
        parent, _, name = field.rpartition(".")
        holder = table.get(parent) if parent else table
        if not isinstance(holder, dict):
            continue  # an optional table that is absent
        value = holder.get(name)
        if value is None:
            if field in optional:
                continue
            raise RecordError("missing", path=path, field=prefix + field)
        if kind == "type_languages" and isinstance(value, dict):
            for lang in LANGS:
                if lang not in value:
                    raise RecordError("missing", path=path, field=f"{prefix}{field}.{lang}")
        if not _is(value, kind):
            raise RecordError("wrong_type", path=path, field=prefix + field, expected=kind)


def _check(record, path: Path) -> None:
    """A RecordError naming the first field of ``record`` that the report or show cannot use."""
    if not isinstance(record, dict):
        raise RecordError("not_object", path=path)
    _check_fields(record, _FIELDS, _OPTIONAL, path)
    for i, run in enumerate(record.get("runs") or []):
        _check_fields(run, _RUN_FIELDS, {"verdict.judged"}, path, f"runs[{i}].")
    for i, entry in enumerate(record["verdict"].get("seeds") or []):
        if not isinstance(entry, dict):
            raise RecordError("wrong_type", path=path, field=f"verdict.seeds[{i}]",
                              expected="type_table")
        _check_fields(entry, _SEED_FIELDS, (), path, f"verdict.seeds[{i}].")
    verdict = record["verdict"]
    if "held_in" in verdict and "of" in verdict and verdict["held_in"] > verdict["of"]:
        raise RecordError("more_than", path=path, field="verdict.held_in",
                          value=verdict["held_in"], other="verdict.of", limit=verdict["of"])
    for lang, files in record["figures"].items():
        if not isinstance(files, dict) or not isinstance(files.get("png"), str):
            raise RecordError("wrong_type", path=path, field=f"figures.{lang}.png",
                              expected="type_text")


def load_record(path: str | Path) -> dict:
    """The record of one results.json, checked: a regular file of at most MAX_RECORD_BYTES,
    UTF-8 JSON, an object whose fields the report and ``dlfs show`` use have their types.
    Anything else raises a RecordError naming the file and what is wrong."""
    path = Path(path)
    data = _read_regular(path, MAX_RECORD_BYTES, "record")
    try:
        record = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError("not_utf8", path=path) from None
    except json.JSONDecodeError as error:
        raise RecordError("not_json", path=path, line=error.lineno,
                          column=error.colno) from None
    except RecursionError:  # nested deeper than the parser's stack
        raise RecordError("too_deep", path=path) from None
    _check(record, path)
    return with_runs(record)


def with_runs(record: dict) -> dict:
    """``record`` with the fields of several seeds filled in where it was written before them
    (one run, of its "seed"): "seeds", "deterministic", "runs", and the verdict's "held_in"
    (1 or 0 from "held"), "of" (1 or 0 from "judged") and "seeds". A record that has them is
    returned as it is."""
    verdict = record["verdict"]
    judged = verdict.get("judged", True)
    seed = record["seed"]
    record.setdefault("seeds", [seed])
    record.setdefault("deterministic", False)
    record.setdefault("runs", [{"seed": seed, "results": record.get("results", {}),
                                "verdict": {**verdict, "judged": judged}}])
    verdict.setdefault("held_in", int(verdict["held"]))
    verdict.setdefault("of", int(judged))
    verdict.setdefault("seeds", [{"seed": seed, "held": verdict["held"], "judged": judged}])
    return record


def read_png(folder: Path, name: str) -> bytes:
    """The bytes of the figure ``name`` that a record in ``folder`` names, when it resolves
    inside ``folder`` (no "..", absolute path or link out of it) and is a regular PNG file of at
    most MAX_FIGURE_BYTES; else a RecordError whose ``what`` is "figure"."""
    folder = Path(folder)
    try:
        base = folder.resolve()
        target = (folder / name).resolve()
    except (OSError, ValueError, RuntimeError):  # a loop of links, a NUL in the name
        raise RecordError("figure_outside", "figure", path=folder / "results.json",
                          name=name) from None
    if not target.is_relative_to(base) or target == base:
        raise RecordError("figure_outside", "figure", path=folder / "results.json", name=name)
    data = _read_regular(target, MAX_FIGURE_BYTES, "figure")
    if not data.startswith(PNG_SIGNATURE):
        raise RecordError("not_png", "figure", path=target)
    return data


# scheme://user:PASSWORD@host, as in postgresql://lab:secret@127.0.0.1/db
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s/]+@")


def mask_passwords(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<head>***@", text)
