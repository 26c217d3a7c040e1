"""Running untrusted code — a learner's — with a time limit and a memory limit, so that every
process it starts ends with it.

    >>> from dlfs.check import sandbox
    >>> ending = sandbox.run(["python", "learner.py"], timeout=10, memory=2 * 2**30)
    >>> ending.status, ending.where, ending.descendants_killed
    ('timeout', {'file': 'learner.py', 'line': 3, 'function': 'update'}, 0)

``run``/``start`` take a command (a list of strings, executed) or a function (called in a child
forked from this process, so nothing is imported again; what it returns, JSON-able, comes back
as ``Ending.value``). How it works, on Linux:

- a small *supervisor* process is forked; it makes itself a child subreaper
  (``prctl(PR_SET_CHILD_SUBREAPER)``), so every process the code starts — even one that left
  its session with ``setsid`` or by forking twice — has the supervisor as an ancestor to the end;
- the supervisor forks the *child* in a session of its own, with ``RLIMIT_AS`` (address space:
  an allocation past it fails at once with MemoryError instead of swapping the machine) and no
  core files, and waits at most ``timeout`` seconds;
- past the limit it sends SIGABRT to the child's process group: a Python child with
  faulthandler enabled (functions always; commands get ``PYTHONFAULTHANDLER=1``) writes its
  traceback to stderr, from which ``where`` names the learner's line it was executing;
- when the child has ended, it kills (SIGKILL) every remaining descendant, found by walking
  /proc, until it has no child left, and reports to the caller through a pipe.

Elsewhere (no prctl) only the child's session is killed. The sandbox bounds time, memory and
processes; it is not a security boundary: the code runs as the caller's user, can read and
write the caller's files and reach the network (a container or a separate user is needed for
code one does not trust at all). Forking copies the calling thread only: start runs from a
process whose other threads hold no lock the child needs (no tqdm monitor thread, say).

``Ending.status`` says how it ended: "finished" (exit status 0), "failed" (another exit status,
e.g. ``os._exit(3)`` or an uncaught exception), "crashed" (killed by a signal: a segmentation
fault, an abort, a SIGKILL; or the supervisor killed, by the code itself, say: then the child
is killed with it and ``signal`` is the supervisor's), "memory" (an allocation refused by the
limit: MemoryError), "timeout" or "stopped" (``Running.stop``, or Ctrl-C reaching the
supervisor). A sandbox started inside another one keeps the outer memory limit where it is
lower.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import json
import os
import re
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("finished", "failed", "crashed", "memory", "timeout", "stopped")
_PR_SET_CHILD_SUBREAPER = 36
_MEMORY_EXIT = 86  # how a function's child says "MemoryError" (with a marker file)
_GRACE = 1.0  # seconds a child gets after SIGABRT to write its traceback


@dataclass
class Ending:
    """How a sandboxed run ended.

    status: one of STATUSES. exit_code: the child's exit status (None when a signal ended it).
    signal: the signal's name ("SIGSEGV") when one ended it. seconds: wall time.
    descendants_killed: processes the code started that were still alive when it ended (or at
    the limit) and were killed. where: at a timeout, the learner's frame the traceback dump
    shows ({"file", "line", "function"}), else None. value: what a function returned.
    stderr: the last part of the child's stderr (a traceback, the dump).
    """

    status: str
    exit_code: int | None = None
    signal: str | None = None
    seconds: float = 0.0
    descendants_killed: int = 0
    where: dict | None = None
    value: Any = None
    stderr: str = ""
    error: str | None = field(default=None, repr=False)  # a function's uncaught exception

    def as_dict(self) -> dict:
        return asdict(self)


class Running:
    """A run ``start`` began: ``fileno()`` becomes readable when it has ended (for select),
    ``wait()`` returns its Ending, ``stop()`` ends it early (status "stopped")."""

    def __init__(self, pid: int, pipe: int, scratch: tempfile.TemporaryDirectory):
        self.pid, self._pipe, self._scratch = pid, pipe, scratch
        self._ending: Ending | None = None

    def fileno(self) -> int:
        return self._pipe

    def stop(self) -> None:
        if self._ending is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)

    def wait(self) -> Ending:
        if self._ending is not None:
            return self._ending
        chunks = []
        while True:
            try:
                chunk = os.read(self._pipe, 65536)
            except InterruptedError:  # pragma: no cover - PEP 475 retries
                continue
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self._pipe)
        _, status = os.waitpid(self.pid, 0)
        try:
            self._ending = Ending(**json.loads(b"".join(chunks)))
        except (ValueError, TypeError):  # the supervisor itself was killed (by the code?)
            self._ending = Ending("crashed", error="the supervisor ended without a report")
            if os.WIFSIGNALED(status):
                self._ending.signal = signal.Signals(os.WTERMSIG(status)).name
            else:
                self._ending.exit_code = os.WEXITSTATUS(status)
        self._scratch.cleanup()
        return self._ending


def run(target: list[str] | Callable, *args, timeout: float, memory: int | None = None,
        cwd: str | None = None, env: dict | None = None) -> Ending:
    """Runs ``target`` (a command, or a function called with ``args``) under the limits and
    returns how it ended. See ``start``."""
    return start(target, *args, timeout=timeout, memory=memory, cwd=cwd, env=env).wait()


def start(target: list[str] | Callable, *args, timeout: float, memory: int | None = None,
          cwd: str | None = None, env: dict | None = None) -> Running:
    """Starts ``target`` under a supervisor and returns at once.

    target: a command (a list of strings; executed with ``env``, default this process's, and
    PYTHONFAULTHANDLER=1) or a function (called as ``target(*args)`` in a child forked from
    this process; its return value must be JSON-able). timeout: seconds of wall time, > 0.
    memory: bytes of address space (RLIMIT_AS) for the child and everything it starts, or
    None for no limit. cwd: the child's working folder. Its stdin and stdout are /dev/null.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds above 0, got {timeout!r}")
    if memory is not None and memory <= 0:
        raise ValueError(f"memory must be a number of bytes above 0 or None, got {memory!r}")
    scratch = tempfile.TemporaryDirectory(prefix="dlfs-sandbox-")
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the supervisor
        status = 0
        try:
            os.close(read_end)
            ending = _supervise(target, args, timeout, memory, cwd, env, Path(scratch.name),
                                write_end)
            data = json.dumps(ending.as_dict(), default=str).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
        except BaseException:  # noqa: BLE001 - a supervisor never returns into the caller
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    return Running(pid, read_end, scratch)


# -- the supervisor -----------------------------------------------------------------------------


def _supervise(target, args, timeout, memory, cwd, env, scratch: Path, report: int) -> Ending:
    stopped = []

    def stop(signum, frame):
        stopped.append(signum)

    # Ctrl-C reaches the caller's process group, this one included: end the child, report.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    subreaper = _become_subreaper()
    stderr_path, value_path = scratch / "stderr", scratch / "value.json"
    began = time.monotonic()
    supervisor = os.getpid()
    child = os.fork()
    if child == 0:
        os.close(report)  # only the supervisor reports; a daemon holding it would stall wait
        _child(target, args, memory, cwd, env, stderr_path, value_path,
               supervisor)  # never returns
    ended, timed_out = _wait_until(child, began + timeout, stopped)
    if ended is None:  # past the limit: ask for a traceback, then end it
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child, signal.SIGABRT)
        ended, _ = _wait_until(child, time.monotonic() + _GRACE, [])
    if subreaper:
        descendants, reaped = kill_descendants(os.getpid(), watch=child)
        ended = reaped if ended is None else ended
    else:  # pragma: no cover
        descendants = _kill_group(child)
    if ended is None:  # pragma: no cover
        ended = os.waitpid(child, 0)[1]
    seconds = time.monotonic() - began
    stderr = _tail(stderr_path)
    ending = Ending("finished", seconds=seconds, descendants_killed=descendants, stderr=stderr)
    if os.WIFSIGNALED(ended):
        ending.signal = signal.Signals(os.WTERMSIG(ended)).name
    else:
        ending.exit_code = os.WEXITSTATUS(ended)
    value = _read_value(value_path)
    if isinstance(value, dict):
        ending.value, ending.error = value.get("value"), value.get("error")
    if stopped:
        ending.status = "stopped"
    elif timed_out:
        ending.status, ending.where = "timeout", learner_frame(stderr)
    elif ((isinstance(value, dict) and value.get("memory"))
          or (ending.exit_code is not None and ending.exit_code != 0
              and "MemoryError" in stderr[-2000:])):
        ending.status = "memory"
    elif ending.signal is not None:
        ending.status = "crashed"
    elif ending.exit_code != 0:
        ending.status = "failed"
    return ending


def _child(target, args, memory, cwd, env, stderr_path: Path, value_path: Path,
           supervisor: int) -> None:
    """In the child: a new session, the limits, stdin/stdout to /dev/null, stderr to a file;
    then the command or the function. Never returns. It is killed if its supervisor dies (the
    learner's code may kill its parent), so that nothing it runs goes on unsupervised."""
    try:
        os.setsid()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGABRT):
            signal.signal(signum, signal.SIG_DFL)
        _die_with_parent(supervisor)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, _address_space(memory))
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(err, 2)
        if cwd is not None:
            os.chdir(cwd)
        if not callable(target):
            environment = dict(os.environ if env is None else env, PYTHONFAULTHANDLER="1")
            os.execvpe(target[0], list(target), environment)
        # this process's own stderr (fd 2, the file), whatever sys.stderr was in the caller
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        faulthandler.disable()  # enabled in the caller (pytest does): install it anew
        faulthandler.enable(file=2, all_threads=True)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
    except BaseException:  # noqa: BLE001 - a failed start (a command not found) is exit 127
        with contextlib.suppress(Exception):
            traceback.print_exc()
        os._exit(127)
    status, report = 0, {}
    try:
        report["value"] = target(*args)
    except MemoryError:
        status, report = _MEMORY_EXIT, {"memory": True, "error": "MemoryError"}
    except SystemExit as leaving:
        status = leaving.code if isinstance(leaving.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - the caller reads it as "failed"
        status, report = 1, {"error": f"{type(error).__name__}: {error}"}
        with contextlib.suppress(Exception):
            traceback.print_exc()
    try:
        value_path.write_text(json.dumps(report, default=str), encoding="utf-8")
    except MemoryError:
        status = _MEMORY_EXIT
    except Exception:  # noqa: BLE001 - a value that is not JSON
        with contextlib.suppress(Exception):
            value_path.write_text(json.dumps({"error": "the value is not JSON"}))
        status = status or 1
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(status)


def _address_space(memory: int) -> tuple[int, int]:
    """RLIMIT_AS's (soft, hard) for ``memory`` bytes, never above the limit this process
    has already (a sandbox started inside another keeps the outer limit: root could raise
    it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        memory = min(memory, soft)
    if hard != resource.RLIM_INFINITY:
        memory = min(memory, hard)
    return memory, memory


_PR_SET_PDEATHSIG = 1


def _die_with_parent(supervisor: int) -> None:
    """SIGKILL for this process when its parent, the supervisor, dies (Linux); exits at once
    if it has died already."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != supervisor:
        os._exit(137)


def _wait_until(child: int, deadline: float, stopped: list) -> tuple[int | None, bool]:
    """(the child's wait status, False) once it ends, or (None, True) at ``deadline``; reaps
    the orphans that reached this subreaper meanwhile."""
    try:
        waiter = os.pidfd_open(child)
    except (AttributeError, OSError):  # pragma: no cover - old kernels: poll
        waiter = None
    try:
        while True:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid == child:
                return status, False
            _reap_others(child)
            left = deadline - time.monotonic()
            if left <= 0 or stopped:
                return None, not stopped
            if waiter is not None:
                with contextlib.suppress(InterruptedError):
                    select.select([waiter], [], [], min(left, 0.5))
            else:  # pragma: no cover
                time.sleep(min(left, 0.02))
    finally:
        if waiter is not None:
            os.close(waiter)


def _reap_others(keep: int) -> None:
    """Reaps ended orphans (they are this subreaper's children now), leaving ``keep``."""
    for pid in _children(os.getpid()):
        if pid != keep:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def _become_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover
        return False


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process /proc shows."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                stat = file.read()
        except OSError:  # it ended meanwhile
            continue
        fields = stat.rsplit(b")", 1)[-1].split()  # after "(name)", which may hold spaces
        found[int(entry.name)] = int(fields[1])
    return found


def _children(pid: int) -> list[int]:
    return [child for child, parent in _parents().items() if parent == pid]


def descendants(pid: int) -> list[int]:
    """Every process whose chain of parents leads to ``pid``, from /proc."""
    parents = _parents()
    below: dict[int, list[int]] = {}
    for child, parent in parents.items():
        below.setdefault(parent, []).append(child)
    found, todo = [], list(below.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(below.get(current, []))
    return found


def kill_descendants(pid: int, watch: int | None = None) -> tuple[int, int | None]:
    """Kills (SIGKILL) every descendant of ``pid`` — which must be this process, a subreaper,
    so that each one's orphans come to it — and reaps them, until none is left. Returns how
    many were alive (not zombies) when first seen, ``watch`` not counted, and ``watch``'s wait
    status if it was reaped here."""
    seen: set[int] = set()
    watched = None
    while True:
        alive = [p for p in descendants(pid) if not _zombie(p)]
        for victim in alive:
            seen.add(victim)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        while True:  # reap what has ended; a child still dying is waited for next round
            try:
                pid_ended, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return len(seen - {watch}), watched
            if pid_ended == 0:
                break
            if pid_ended == watch:
                watched = status
        if not alive and not _children(pid):
            return len(seen - {watch}), watched
        time.sleep(0.005)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    except OSError:
        return True


def _kill_group(child: int) -> int:  # pragma: no cover - where there is no subreaper
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child, signal.SIGKILL)
    return 0


def _tail(path: Path, size: int = 20000) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - size))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_value(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# faulthandler's lines: '  File "/path/x.py", line 3 in update'
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)', re.M)


def learner_frame(dump: str) -> dict | None:
    """The learner's frame in a faulthandler dump (most recent call first): the first one whose
    file lies outside dlfs, the standard library and installed packages; None if there is none.
    {"file": …, "line": …, "function": …}"""
    ours = (str(Path(__file__).resolve().parents[1]), sys.prefix, sys.base_prefix)
    for match in _FRAME.finditer(dump):
        file = match["file"]
        resolved = str(Path(file).resolve()) if file.startswith("/") else file
        if file.startswith("<") or any(resolved.startswith(prefix) for prefix in ours):
            continue
        if "site-packages" in resolved:
            continue
        return {"file": file, "line": int(match["line"]), "function": match["function"]}
    return None
