"""``dlfs check --class``: every learner of a study group checked as ``dlfs check`` would, side
by side over the cores, each within its own time and memory limit.

    >>> from dlfs.check import classroom
    >>> learners = classroom.find_learners("submissions/")     # or a .zip
    >>> run = classroom.check_class(learners, timeout=60, memory=2 * 2**30)
    >>> run.totals()["codes"]["state-reset"]                   # the learners who have it
    ['kim', 'park']

A learner is one sub-folder (several files, a ``common/`` package) or one file of the class's
folder; its name is the learner's id. Each learner is checked in a child started by
``dlfs.check.sandbox`` (time limit, memory limit, every process it starts killed at its end),
forked from this process so that NumPy and the checkers are not imported again. In that child
each Python file and notebook of the learner is checked as ``dlfs check FILE`` checks it
(``dlfs.check.load.check_file``, whose own sandboxed child is forked from the learner's warm
process), within the time the learner has left, and gets the document ``dlfs check --json FILE``
prints. The learner's status is read from those documents and from how its child ended:
"timeout" (an object's ``timeout`` fail, a file that did not load in time, a file not reached,
or the learner's child past its limit), "memory" (an object's ``memory`` fail, a file that ran
past the limit loading), "crash" (a file that ended its checker while it loaded, or the
learner's child ending by itself), else "checked".
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import select
import shutil
import stat
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dlfs import catalogue
from dlfs.check import sandbox
from dlfs.check.result import CheckError

SOURCES = (".py", ".ipynb")
IGNORED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git", "venv", ".venv", "node_modules"}
VERDICT_ORDER = ("pass", "variant", "warn", "fail")  # a learner's worst verdict of an object wins
# a zip's limits against zip bombs: members, bytes written in all, bytes of one member
ZIP_MEMBERS, ZIP_BYTES, ZIP_MEMBER_BYTES = 20_000, 500 * 2**20, 50 * 2**20
GRACE = 5.0  # seconds a learner's child has past --timeout to report before it is killed


@dataclass
class Learner:
    """One learner: ``id`` (the folder's or file's name), ``root`` (the folder its files are
    checked from, so that ``common.*`` imports work) and ``files`` (relative to root)."""

    id: str
    root: str
    files: list[str]


@dataclass
class LearnerRecord:
    """What became of one learner. status: "checked", "no-python", "timeout", "memory",
    or "crash"; notes: [{"code", "message": {lang: text}, "file", "line"}];
    files: [{"file", "document"}], each document as ``dlfs check --json`` printed it."""

    id: str
    status: str
    files: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def objects(self) -> dict[str, dict]:
        """reference -> {"verdict", "codes", "name", "file", "diagnoses"}: the learner's worst
        result for each object it defines."""
        found: dict[str, dict] = {}
        for entry in self.files:
            for result in (entry.get("document") or {}).get("results", []):
                reference = result.get("reference") or result.get("name")
                verdict = result.get("verdict", "fail")
                if verdict not in VERDICT_ORDER:
                    verdict = "fail"
                old = found.get(reference)
                if old is None or VERDICT_ORDER.index(verdict) > VERDICT_ORDER.index(
                        old["verdict"]):
                    found[reference] = {
                        "verdict": verdict, "name": result.get("name"), "file": entry["file"],
                        "variant": result.get("variant"),
                        "codes": [d.get("code") for d in result.get("diagnoses", [])],
                        "diagnoses": result.get("diagnoses", [])}
        return found

    def codes(self) -> set[str]:
        """The diagnosis codes of the objects it got wrong (warn or fail)."""
        return {code for entry in self.objects().values() if entry["verdict"] in ("warn", "fail")
                for code in entry["codes"] if code != "variant"}

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "seconds": round(self.seconds, 3),
                "notes": self.notes, "files": self.files}


@dataclass
class ClassRun:
    """Every learner's record, in the class's order, and whether the run was interrupted."""

    learners: list[LearnerRecord]
    total: int  # learners in the class, checked or not
    interrupted: bool = False

    def objects(self) -> list[str]:
        """Every object some learner defines, in the order first seen."""
        seen: dict[str, None] = {}
        for learner in self.learners:
            for reference in learner.objects():
                seen.setdefault(reference, None)
        return list(seen)

    def totals(self) -> dict:
        """{"learners", "done", "interrupted", "objects": {ref: {"right", "defined"}},
        "codes": {diagnosis code: [learner ids]}, "notes": {note code: [learner ids]},
        "statuses": {status: [learner ids]}}; right = pass or variant; codes and notes most
        frequent first."""
        objects = {ref: {"right": 0, "defined": 0} for ref in self.objects()}
        codes: dict[str, list[str]] = {}
        notes: dict[str, list[str]] = {}
        statuses: dict[str, list[str]] = {}
        for learner in self.learners:
            statuses.setdefault(learner.status, []).append(learner.id)
            for reference, entry in learner.objects().items():
                objects[reference]["defined"] += 1
                objects[reference]["right"] += entry["verdict"] in ("pass", "variant")
            for code in sorted(learner.codes()):
                codes.setdefault(code, []).append(learner.id)
            for code in dict.fromkeys(note["code"] for note in learner.notes):
                notes.setdefault(code, []).append(learner.id)
        return {"learners": self.total, "done": len(self.learners),
                "interrupted": self.interrupted, "objects": objects,
                "codes": _by_count(codes), "notes": _by_count(notes), "statuses": statuses}


def _by_count(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return dict(sorted(found.items(), key=lambda item: (-len(item[1]), item[0])))


# -- finding the learners -------------------------------------------------------------------------


def find_learners(path: str | os.PathLike, scratch: str | os.PathLike | None = None
                  ) -> list[Learner]:
    """The learners of the class folder or .zip ``path``, sorted by id. A .zip is extracted
    (safely, see ``extract_zip``) into ``scratch``, a new folder the caller removes. Raises
    CheckError (classroom.*) for a missing path, an empty folder, a bad zip."""
    shown, path = str(path), Path(path).resolve()  # absolute: each learner's check moves
    if not path.exists():
        raise CheckError("classroom.no_class", path=shown)
    zipped = path.is_file()
    if zipped:
        if path.suffix.lower() != ".zip":
            raise CheckError("classroom.not_class", path=shown)
        if scratch is None:
            raise ValueError("a .zip needs a scratch folder to be extracted into")
        path = extract_zip(path, Path(scratch))
    entries = _entries(path)
    if zipped and len(entries) == 1 and entries[0].is_dir():  # a zip of the class's folder
        entries = _entries(entries[0])
    learners = []
    for entry in entries:
        if entry.is_dir():
            learners.append(Learner(entry.name, str(entry), _sources(entry, entry)))
        elif entry.is_file() and entry.suffix.lower() in SOURCES:
            learners.append(Learner(entry.stem, str(entry.parent), [entry.name]))
    if not learners:
        raise CheckError("classroom.empty", path=shown)
    ids = [learner.id for learner in learners]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise CheckError("classroom.same_id", path=shown, ids=", ".join(twice))
    return learners


def _entries(folder: Path) -> list[Path]:
    return sorted(entry for entry in folder.iterdir()
                  if not entry.name.startswith((".", "__")) and not entry.is_symlink())


def _sources(folder: Path, root: Path) -> list[str]:
    """The .py and .ipynb files under ``folder`` (relative to ``root``), sorted; hidden
    folders, caches, virtual environments, __init__.py and links left out."""
    found = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS and not d.startswith("."))
        for name in sorted(files):
            full = Path(current) / name
            if (full.suffix.lower() in SOURCES and name != "__init__.py"
                    and not name.startswith(".") and not full.is_symlink()):
                found.append(str(full.relative_to(root)))
    return found


def extract_zip(path: Path, scratch: Path) -> Path:
    """Extracts the .zip ``path`` into ``scratch`` (created, must not exist) and returns it.
    Members with an absolute path, a ``..`` part, a link or a device are refused (one line:
    which member); so are more than ZIP_MEMBERS members, a member past ZIP_MEMBER_BYTES and
    more than ZIP_BYTES in all, counted as written, not as the zip declares."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise CheckError("classroom.bad_zip", path=str(path), reason=str(error)) from None
    scratch.mkdir(parents=True)
    written = 0
    with archive:
        members = archive.infolist()
        if len(members) > ZIP_MEMBERS:
            raise CheckError("classroom.zip_too_big", path=str(path),
                             limit=f"{ZIP_MEMBERS} files")
        for member in members:
            name = member.filename
            parts = name.replace("\\", "/").split("/")
            kind = stat.S_IFMT(member.external_attr >> 16)  # 0: no Unix type recorded
            if (name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name)
                    or kind not in (0, stat.S_IFREG, stat.S_IFDIR)):
                raise CheckError("classroom.zip_unsafe", path=str(path), member=name)
            target = scratch.joinpath(*[p for p in parts if p not in ("", ".")])
            if not target.resolve().is_relative_to(scratch.resolve()):
                raise CheckError("classroom.zip_unsafe", path=str(path), member=name)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "xb") as sink:
                size = 0
                while chunk := source.read(1 << 16):
                    size += len(chunk)
                    written += len(chunk)
                    if size > ZIP_MEMBER_BYTES or written > ZIP_BYTES:
                        raise CheckError("classroom.zip_too_big", path=str(path),
                                         limit=f"{ZIP_BYTES // 2**20} MB")
                    sink.write(chunk)
    return scratch


# -- checking one learner, in its sandboxed child -------------------------------------------------


def check_learner(root: str, files: list[str], timeout: float,
                  memory: int | None = None) -> list[dict]:
    """[{"file", "document", "where", "descendants"}] for each of the learner's ``files``
    (relative to ``root``), all within ``timeout`` seconds; runs in the learner's sandboxed
    child. ``document``: what ``dlfs check --json FILE`` prints (None for a file the time did
    not reach); ``where``: {"file", "line"} of a usage error that names them (a file that did
    not load in time or within the memory); ``descendants``: processes its code left running,
    killed when its check ended."""
    from dlfs.check.load import Outcome, check_file

    root = os.path.abspath(root)
    os.chdir(root)  # messages say "common/optimizer.py, line 34", as in the learner's folder
    deadline = time.monotonic() + timeout
    found = []
    for name in files:
        left = math.floor((deadline - time.monotonic()) * 10) / 10  # "6.8 s" in messages
        if left <= 0.05:
            found.append({"file": name, "document": None, "where": None, "descendants": 0})
            continue
        outcome, where = Outcome(), None
        try:
            check_file(name, timeout=left, outcome=outcome, memory=memory)
            document = outcome.as_dict()
        except CheckError as error:
            document = outcome.as_dict(error)
            if "line" in error.fields:
                where = {"file": error.fields.get("file", name), "line": error.fields["line"]}
        found.append({"file": name, "document": document, "where": where,
                      "descendants": outcome.descendants})
    return found


# -- the class ----------------------------------------------------------------------------------


def check_class(learners: list[Learner], *, timeout: float = 60.0,
                memory: int | None = 2 * 2**30, workers: int | None = None,
                on_done: Callable[[LearnerRecord], None] | None = None) -> ClassRun:
    """Checks every learner, ``workers`` (default: the cores) at a time, each in a sandboxed
    child with ``timeout`` seconds and ``memory`` bytes (``check_learner``). ``on_done`` is
    called with each record as it comes. Ctrl-C (KeyboardInterrupt) stops the
    learners being checked and returns the ones done, with ``interrupted`` set."""
    _warm_up()
    workers = max(1, workers or os.cpu_count() or 1)
    pending = list(learners)
    running: dict[int, tuple[Learner, sandbox.Running]] = {}
    records: dict[str, LearnerRecord] = {}
    interrupted = False

    def finish(record: LearnerRecord) -> None:
        records[record.id] = record
        if on_done is not None:
            on_done(record)

    try:
        while (pending or running) and not interrupted:
            while pending and len(running) < workers:
                learner = pending.pop(0)
                if not learner.files:
                    finish(LearnerRecord(learner.id, "no-python",
                                         notes=[_note("no-python", path=learner.id)]))
                    continue
                handle = sandbox.start(check_learner, learner.root, learner.files, timeout,
                                       memory, timeout=timeout + GRACE, memory=memory)
                running[handle.fileno()] = (learner, handle)
            if not running:
                continue
            ready, _, _ = select.select(list(running), [], [])
            for fd in ready:
                learner, handle = running.pop(fd)
                ending = handle.wait()
                if ending.status == "stopped":  # Ctrl-C reached its supervisor first
                    interrupted = True
                else:
                    finish(_record(learner, ending, timeout))
    except KeyboardInterrupt:
        interrupted = True
    if interrupted:  # the learners still being checked are not counted
        for _, handle in running.values():
            handle.stop()
        for _, handle in running.values():
            handle.wait()
    done = [records[learner.id] for learner in learners if learner.id in records]
    return ClassRun(done, len(learners), interrupted)


def _warm_up() -> None:
    """Imports what every learner's check needs once, here, so each forked child has it."""
    import dlfs.check.load  # noqa: F401

    for name in ("dlfs.check.layers", "dlfs.check.functions"):
        with contextlib.suppress(ImportError):
            __import__(name)


def _note(code: str, file: str | None = None, line: int | None = None, **fields) -> dict:
    if file is not None:
        fields.setdefault("file", file)  # the templates that name the file
    return {"code": code, "message": catalogue.both(f"classroom.note_{code}", **fields),
            "file": file, "line": line}


def _record(learner: Learner, ending: sandbox.Ending, timeout: float) -> LearnerRecord:
    """A learner's record from the documents its child made and how the child ended."""
    record = LearnerRecord(learner.id, "checked", seconds=ending.seconds)
    files = ending.value if isinstance(ending.value, list) else []
    record.files = [{"file": entry["file"], "document": entry["document"]} for entry in files]
    descendants = 0
    for entry in files:
        status, notes = _file_status(entry, timeout)
        record.notes += notes
        if status != "checked" and record.status == "checked":
            record.status = status
        descendants += entry.get("descendants") or 0
    if ending.status == "timeout":
        record.status = "timeout"
        where = ending.where or {}
        record.notes.append(_note("timeout", file=where.get("file"), line=where.get("line"),
                                  seconds=f"{timeout:g}", at=_at(where.get("file"), where)))
    elif ending.status == "memory":
        record.status = "memory"
        record.notes.append(_note("memory", where=learner.id))
    elif ending.status in ("crashed", "failed"):
        record.status = "crash"
        record.notes.append({"code": "crash", "file": None, "line": None, "message": {
            lang: catalogue.text("classroom.note_crash", lang, how=catalogue.text(
                "check.how_signal", lang, signal=ending.signal) if ending.signal else
                catalogue.text("check.how_exit", lang, status=ending.exit_code))
            for lang in catalogue.LANGS}})
    descendants += ending.descendants_killed
    if descendants:
        record.notes.append(_note("descendants", count=descendants))
    return record


def _file_status(entry: dict, timeout: float) -> tuple[str, list[dict]]:
    """(the status one file gives its learner, its notes) from its ``dlfs check --json``
    document: "timeout" for a file not reached, one that did not load in time or an object
    that timed out; "memory" for one past the memory limit loading or an object past it;
    "crash" for a file that ended its checker while it loaded; else "checked"."""
    document, name = entry["document"], entry["file"]
    if document is None:
        return "timeout", [_note("not-reached", file=name, seconds=f"{timeout:g}")]
    error = document.get("error")
    code = str((error or {}).get("code"))
    where = entry.get("where") or {}
    line = where.get("line")
    if error and code.startswith("timeout"):
        return "timeout", [_note("timeout", file=name, line=line, seconds=f"{timeout:g}",
                                 at=_at(name, where))]
    if error and code.startswith("memory"):
        return "memory", [_note("memory", file=name, line=line, where=_at(name, where))]
    if error:
        message = error.get("message") or {}
        note = {"code": "crash" if code == "died_loading" else "file-error", "file": name,
                "line": line, "message": {
                    lang: catalogue.text("classroom.note_file-error", lang, file=name,
                                         message=message.get(lang) or message.get("en", ""))
                    for lang in catalogue.LANGS}}
        return ("crash" if code == "died_loading" else "checked"), [note]
    for result in document.get("results", []):
        for diagnosis in result.get("diagnoses", []):
            found = {"file": name, "line": diagnosis.get("line"),
                     "function": result.get("name")}
            if diagnosis.get("code") == "timeout":
                return "timeout", [_note("timeout", file=name, line=found["line"],
                                         seconds=f"{timeout:g}", at=_at(name, found))]
            if diagnosis.get("code") == "memory":
                return "memory", [_note("memory", file=name, line=found["line"],
                                        where=_at(name, found))]
    if not document.get("results") and not document.get("skipped"):
        return "checked", [_note("nothing-recognised", file=name)]
    return "checked", []


def _at(name, where: dict) -> str:
    """"FILE:LINE (function)" of a learner's place, as much of it as is known."""
    if not where or not where.get("line"):
        return name or "?"
    at = f"{name or where.get('file')}:{where['line']}"
    return f"{at} ({where['function']})" if where.get("function") else at


def remove_tree(path) -> None:
    shutil.rmtree(path, ignore_errors=True)
