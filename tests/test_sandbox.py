"""dlfs.check.sandbox against real bombs: a loop that never ends, a daemon that leaves its
session, os._exit, a 20 GB allocation, a segmentation fault; each ends as reported, within its
limit, and leaves no process behind."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import process_alive

from dlfs.check import sandbox

GIB = 2**30


def _loop_forever():
    total = 0
    while True:
        total += 1  # the learner's line


def _popen_daemon(pid_file):
    # a child in a session of its own that outlives this function's process
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    with open(pid_file, "w") as file:
        file.write(str(child.pid))
    return "returned"


def _double_fork_daemon(pid_file):
    # the classic daemon: fork, setsid, fork again, the middle one exits at once
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            with open(pid_file, "w") as file:
                file.write(str(os.getpid()))
            time.sleep(300)
        os._exit(0)
    time.sleep(0.3)
    return "returned"


def _exit_three():
    os._exit(3)


def _allocate_20_gb():
    import numpy as np

    return float(np.ones(20 * 10**9 // 8).sum())


def _segfault():
    import ctypes

    ctypes.string_at(0)


def _double(x):
    return 2 * x


def _kill_my_supervisor(pid_file):
    # the code kills the process that watches it, then would go on for a while
    with open(pid_file, "w") as file:
        file.write(str(os.getpid()))
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(20)


def _empty_3_gb():
    import numpy as np

    return np.empty(3 * GIB, dtype=np.uint8).size  # address space only, never touched


def _nested_asking_for_more(memory):
    return sandbox.run(_empty_3_gb, timeout=10, memory=memory).status


def test_a_function_returns_its_value_from_a_forked_child():
    ending = sandbox.run(_double, 21, timeout=10, memory=2 * GIB)
    assert (ending.status, ending.value, ending.exit_code) == ("finished", 42, 0)
    assert ending.descendants_killed == 0


def test_an_endless_loop_ends_at_the_limit_and_names_the_line_it_was_executing():
    began = time.monotonic()
    ending = sandbox.run(_loop_forever, timeout=1.0, memory=2 * GIB)
    assert ending.status == "timeout"
    assert time.monotonic() - began < 6
    line = next(n for n, text in enumerate(open(__file__, encoding="utf-8"), 1)
                if "# the learner's line" in text)
    # the loop's jump back belongs to the `while True:` line (dis shows JUMP_BACKWARD there),
    # so the dump lands on either line of the loop, more often on the body
    assert ending.where["file"] == __file__ and ending.where["function"] == "_loop_forever"
    assert ending.where["line"] in (line - 1, line)


def test_a_daemon_started_in_a_new_session_is_killed_when_the_function_returns(tmp_path):
    pid_file = tmp_path / "pid"
    ending = sandbox.run(_popen_daemon, str(pid_file), timeout=10)
    assert (ending.status, ending.value) == ("finished", "returned")
    assert ending.descendants_killed == 1
    assert not process_alive(int(pid_file.read_text()))


@pytest.mark.slow
def test_a_double_forked_setsid_grandchild_is_killed_with_its_grandparent(tmp_path):
    pid_file = tmp_path / "pid"
    ending = sandbox.run(_double_fork_daemon, str(pid_file), timeout=10)
    assert ending.status == "finished"
    daemon = int(pid_file.read_text())
    assert ending.descendants_killed == 1
    assert not process_alive(daemon)


def test_os_exit_three_is_reported_as_failed_with_its_exit_status():
    ending = sandbox.run(_exit_three, timeout=10)
    assert (ending.status, ending.exit_code, ending.value) == ("failed", 3, None)


def test_allocating_20_gb_is_refused_by_the_memory_limit_at_once():
    began = time.monotonic()
    ending = sandbox.run(_allocate_20_gb, timeout=30, memory=2 * GIB)
    assert ending.status == "memory"
    assert time.monotonic() - began < 10


def test_a_segmentation_fault_is_reported_as_crashed_by_its_signal():
    ending = sandbox.run(_segfault, timeout=10)
    assert (ending.status, ending.signal) == ("crashed", "SIGSEGV")


@pytest.mark.slow
def test_a_command_that_loops_is_dumped_at_the_limit_with_its_own_file_and_line(tmp_path):
    script = tmp_path / "learner.py"
    script.write_text("import time\n\ndef update():\n    while True:\n        time.sleep(0.01)\n"
                      "\nupdate()\n", encoding="utf-8")
    ending = sandbox.run([sys.executable, str(script)], timeout=1.0)
    assert ending.status == "timeout"
    assert ending.where["file"] == str(script)
    assert ending.where["line"] in (4, 5) and ending.where["function"] == "update"


def test_a_command_that_forks_a_setsid_sleeper_leaves_nothing_behind(tmp_path):
    pid_file = tmp_path / "pid"
    code = ("import subprocess, sys\n"
            "p = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n")
    ending = sandbox.run([sys.executable, "-c", code], timeout=10)
    assert ending.status == "finished" and ending.descendants_killed == 1
    assert not process_alive(int(pid_file.read_text()))


@pytest.mark.slow
def test_runs_side_by_side_each_end_by_their_own_limit():
    loop = sandbox.start(_loop_forever, timeout=4)
    quick = sandbox.start(_double, 4, timeout=10)
    began = time.monotonic()
    assert quick.wait().value == 8
    assert time.monotonic() - began < 3  # not held up until the loop beside it ends
    assert loop.wait().status == "timeout"


@pytest.mark.slow
def test_a_run_stopped_early_says_stopped_and_kills_its_child():
    running = sandbox.start(_loop_forever, timeout=60)
    time.sleep(0.3)
    running.stop()
    assert running.wait().status == "stopped"


@pytest.mark.parametrize("limits", [{"timeout": 0}, {"timeout": 1, "memory": -5}])
def test_limits_that_make_no_sense_are_refused(limits):
    with pytest.raises(ValueError):
        sandbox.start(_double, 1, **limits)


def test_code_that_kills_its_supervisor_is_a_crash_and_is_killed_with_it(tmp_path):
    pid_file = tmp_path / "pid"
    began = time.monotonic()
    ending = sandbox.run(_kill_my_supervisor, str(pid_file), timeout=60)
    assert (ending.status, ending.signal) == ("crashed", "SIGKILL")
    assert time.monotonic() - began < 10  # not the 20 s the code would have gone on
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not process_alive(child)


@pytest.mark.slow
def test_a_sandbox_inside_another_keeps_the_outer_memory_limit():
    assert sandbox.run(_empty_3_gb, timeout=10, memory=8 * GIB).status == "finished"
    inner = sandbox.run(_nested_asking_for_more, 8 * GIB, timeout=20, memory=1 * GIB)
    assert (inner.status, inner.value) == ("finished", "memory")
