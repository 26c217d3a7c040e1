"""``dlfs check --class``: every learner of a study group checked as ``dlfs check`` would, side
by side over the cores, each within its own time and memory limit.

    >>> from dlfs.check import classroom
    >>> learners = classroom.find_learners("submissions/")     # or a .zip
    >>> run = classroom.check_class(learners, document, timeout=60, memory=2 * 2**30)
    >>> run.totals()["codes"]["state-reset"]                   # the learners who have it
    ['kim', 'park']

A learner is one sub-folder (several files, a ``common/`` package) or one file of the class's
folder; its name is the learner's id. Each learner is checked in a child started by
``dlfs.check.sandbox`` (time limit, memory limit, every process it starts killed at its end),
forked from this process so that NumPy and the checkers are not imported again. In that child
every Python file and notebook of the learner gets the document ``dlfs check --json FILE``
prints, made by the command itself (the command line passes ``document``, which calls it).
The command's own per-file child is forked there too instead of started anew
(``_forked_check_child``), which makes a class about three times as fast
(benchmarks/check_class.py --cold: 20 learners, 15 s against 48 s, side by side on the shared
2-core machine). Nothing else of the per-file check is used: a learner's record holds its
documents as the command wrote them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import stat
import sys
import tempfile
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

_TIMEOUT_WHERE: dict[str, dict] = {}  # file -> the learner's frame when its check timed out


def _forked_check_child(path: str, names: list[str], seconds: float):
    """What ``dlfs.check.load._run_child`` does — run the per-file checker's child on
    ``path`` for at most ``seconds`` and return (its events, how it ended) — with the child
    forked from this warm process instead of a new interpreter. Past the limit it dumps the
    child's traceback first (SIGABRT, faulthandler) and keeps the learner's frame."""
    import faulthandler

    from dlfs.check import load

    with tempfile.TemporaryDirectory(prefix="dlfs-class-") as folder:
        events_path = os.path.join(folder, "events.jsonl")
        stderr_path = os.path.join(folder, "stderr")
        child = os.fork()
        if child == 0:
            status = 1
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.dup2(os.open(stderr_path, os.O_WRONLY | os.O_CREAT, 0o600), 2)
                faulthandler.disable()
                faulthandler.enable(file=2, all_threads=True)
                status = load.main(["--events", events_path, "--", path, *names])
            except BaseException:  # noqa: BLE001 - the parent reads the events it wrote
                status = 1
            finally:
                os._exit(status or 0)
        ended = _wait_for(child, seconds)
        if ended == "timeout":
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGABRT)
            if _wait_for(child, 1.0) == "timeout":
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
            try:
                dump = Path(stderr_path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                dump = ""
            where = sandbox.learner_frame(dump)
            if where is not None:
                _TIMEOUT_WHERE[path] = where
        try:
            lines = Path(events_path).read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return events, ended


def _wait_for(child: int, seconds: float):
    """The child's return code (negative: the signal) once it ends, or "timeout"."""
    deadline = time.monotonic() + max(seconds, 0.05)
    delay = 0.001
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


@contextlib.contextmanager
def _warm_children():
    """Within the block, the per-file check forks its child from this process (see
    ``_forked_check_child``); where dlfs.check.load has no ``_run_child`` any more, the check
    starts its child as it always does (slower, the same documents)."""
    from dlfs.check import load

    original = getattr(load, "_run_child", None)
    if original is None:
        yield
        return
    load._run_child = _forked_check_child
    try:
        yield
    finally:
        load._run_child = original


def check_learner(root: str, files: list[str], timeout: float,
                  document: Callable[[str, float], dict]) -> list[dict]:
    """[{"file", "document", "where"}] for each of the learner's ``files`` (relative to
    ``root``), all within ``timeout`` seconds; runs in the learner's sandboxed child.
    ``document(path, seconds)`` makes one file's ``dlfs check --json`` document."""
    root = os.path.abspath(root)
    os.chdir(root)
    sys.path.insert(0, root)  # `from common.layers import …` as in the learner's own folder
    deadline = time.monotonic() + timeout
    found = []
    with _warm_children():
        for name in files:
            left = deadline - time.monotonic()
            if left <= 0.05:
                found.append({"file": name, "document": None, "where": None})
                continue
            path = name  # relative to the learner's folder, the working one: messages say
            made = document(path, left)  # "common/optimizer.py, line 34"
            found.append({"file": name, "document": made,
                          "where": _TIMEOUT_WHERE.get(path)})
    return found


# -- the class ----------------------------------------------------------------------------------


def check_class(learners: list[Learner], document: Callable[[str, float], dict], *,
                timeout: float = 60.0,
                memory: int | None = 2 * 2**30, workers: int | None = None,
                on_done: Callable[[LearnerRecord], None] | None = None) -> ClassRun:
    """Checks every learner, ``workers`` (default: the cores) at a time, each in a sandboxed
    child with ``timeout`` seconds and ``memory`` bytes; ``document(path, seconds)`` makes the
    ``dlfs check --json`` document of one file there (the command line passes its own).
    ``on_done`` is called with each record as it comes. Ctrl-C (KeyboardInterrupt) stops the
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
                                       document, timeout=timeout + GRACE, memory=memory)
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
    return {"code": code, "message": catalogue.both(f"classroom.note_{code}", **fields),
            "file": file, "line": line}


def _record(learner: Learner, ending: sandbox.Ending, timeout: float) -> LearnerRecord:
    """A learner's record from how its child ended and the documents it made."""
    record = LearnerRecord(learner.id, "checked", seconds=ending.seconds)
    files = ending.value if isinstance(ending.value, list) else []
    record.files = [{"file": entry["file"], "document": entry["document"]} for entry in files]
    for entry in files:
        document, name = entry["document"], entry["file"]
        if document is None:
            record.notes.append(_note("not-reached", file=name, seconds=f"{timeout:g}"))
            record.status = "timeout"
            continue
        error = document.get("error")
        text = json.dumps(document, ensure_ascii=False)
        if error and "timeout" in str(error.get("code")):
            where = entry.get("where") or {}
            record.status = "timeout"
            record.notes.append(_note("timeout", file=name, line=where.get("line"),
                                      seconds=f"{timeout:g}",
                                      at=_at(name, where)))
        elif "MemoryError" in text:
            record.status = "memory"
            record.notes.append(_note("memory", file=name, where=name))
        elif error and "nothing_recognised" in str(error.get("code")):
            record.notes.append(_note("nothing-recognised", file=name))
        elif error:
            message = error.get("message") or {}
            record.notes.append({"code": "file-error", "file": name, "line": None, "message": {
                lang: catalogue.text("classroom.note_file-error", lang, file=name,
                                     message=message.get(lang) or message.get("en", ""))
                for lang in catalogue.LANGS}})
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
    if ending.descendants_killed:
        record.notes.append(_note("descendants", count=ending.descendants_killed))
    return record


def _at(name, where: dict) -> str:
    if not where or not where.get("line"):
        return name or "?"
    return f"{name or where.get('file')}:{where['line']} ({where.get('function', '?')})"


def remove_tree(path) -> None:
    shutil.rmtree(path, ignore_errors=True)
