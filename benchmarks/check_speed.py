"""How long ``dlfs check FILE`` takes on a typical learner's file: the median wall time of the
whole command (its process, the child that runs the learner's code, the checks) per test
fixture, with the child forked (the default) and with the child a new interpreter
(``DLFS_CHECK_FORK=0``), and beside them the child alone (``python -m dlfs.check.load``) and a
bare ``python -c "import numpy"``, the floor any new interpreter pays.

    python -m benchmarks.check_speed            # 5 runs per file
    python -m benchmarks.check_speed --runs 9 --importtime

``--importtime`` also lists the heaviest modules the child imports (``python -X importtime``),
and whether matplotlib, optuna, scipy or pandas are among them (they must not be: the child
only needs NumPy and dlfs), and the same for the command itself (``dlfs check FILE``'s own
process, which imports a command's module only when it runs: no lab, data sets or
matplotlib). Timings on a shared machine are noisy: compare the columns of one run, not runs
made at different times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
FILES = {
    "optimizers (book)": FIXTURES / "check" / "book_optimizer.py",
    "optimizers (learner)": FIXTURES / "check" / "learner.py",
    "layers (book)": FIXTURES / "check_layers" / "book_layers.py",
    "functions (book)": FIXTURES / "check_layers" / "book_functions.py",
    "common/layers.py": FIXTURES / "check_files" / "book_repo" / "common" / "layers.py",
    "common/functions.py": FIXTURES / "check_files" / "book_repo" / "common" / "functions.py",
    "notebook (ch06)": FIXTURES / "check" / "learner.ipynb",
    "notebook (ch05)": FIXTURES / "check_files" / "book_repo" / "ch05" / "study.ipynb",
}
HEAVY = ("matplotlib", "optuna", "scipy", "pandas")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    return env


def _seconds(command: list[str], cwd: str, **env: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env={**_env(), **env}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median_times(path: Path, runs: int, cwd: str) -> tuple[float, float, float]:
    """(median seconds of ``dlfs check PATH`` with the child forked, with it a new
    interpreter, of the child alone), the three interleaved run by run."""
    forked, started, child = [], [], []
    command = [sys.executable, "-m", "dlfs", "check", str(path)]
    with tempfile.TemporaryDirectory(prefix="dlfs-check-speed-") as folder:
        events = os.path.join(folder, "events.jsonl")
        for _ in range(runs):
            forked.append(_seconds(command, cwd))
            started.append(_seconds(command, cwd, DLFS_CHECK_FORK="0"))
            child.append(_seconds([sys.executable, "-m", "dlfs.check.load", "--events", events,
                                   "--", str(path)], cwd))
            if os.path.exists(events):
                os.remove(events)
    return statistics.median(forked), statistics.median(started), statistics.median(child)


def child_imports(path: Path, cwd: str, command: bool = False) -> list[tuple[int, str]]:
    """(cumulative µs, module) of every module the child imports (``command``: that
    ``dlfs check PATH`` itself imports), heaviest first."""
    with tempfile.TemporaryDirectory(prefix="dlfs-check-speed-") as folder:
        run = (["-m", "dlfs", "check", str(path)] if command else
               ["-m", "dlfs.check.load", "--events", os.path.join(folder, "events.jsonl"), "--",
                str(path)])
        done = subprocess.run([sys.executable, "-X", "importtime", *run], cwd=cwd, env=_env(),
                              capture_output=True, text=True, check=False)
    found = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            found.append((int(parts[1]), parts[2].strip()))
    return sorted(found, reverse=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_speed",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per file (default 5)")
    parser.add_argument("--importtime", action="store_true",
                        help="also list the child's heaviest imports")
    args = parser.parse_args(argv)
    cwd = tempfile.gettempdir()  # not the learner's folder: dlfs check finds common/ itself
    floor = statistics.median(_seconds([sys.executable, "-c", "import numpy"], cwd)
                              for _ in range(args.runs))
    print(f"{args.runs} runs per file, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; python -c 'import numpy': {floor:.2f} s median")
    print(f"{'file':<24} {'dlfs check':>11} {'new interpreter':>16} {'child alone':>12}")
    medians = []
    for label, path in FILES.items():
        forked, started, child = median_times(path, args.runs, cwd)
        medians.append(forked)
        print(f"{label:<24} {forked:>10.2f}s {started:>15.2f}s {child:>11.2f}s")
    print(f"median over the files: {statistics.median(medians):.2f} s")
    if args.importtime:
        for command, who in ((False, "the child"), (True, "the command")):
            imports = child_imports(FILES["layers (book)"], cwd, command)
            print(f"{who}'s heaviest imports (cumulative):")
            for micro, name in imports[:8]:
                print(f"  {micro / 1e6:6.3f} s  {name}")
            heavy = sorted({name.split(".")[0] for _, name in imports
                            if name.split(".")[0] in HEAVY})
            print(f"heavy modules in {who}: {', '.join(heavy) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
