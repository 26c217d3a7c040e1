"""The book's own scripts against ``dlfs run all``, the same figures on the same data, timed.

    python -m benchmarks.lab_vs_book [--quick] [--seeds N ...] [--repeats R] [--threads T]
                                     [--workers W]

One run, in turn:

  (a) the book's chapter-4 and chapter-6 scripts behind the lab's figures
      (``benchmarks/book_scripts.py``), one after another in this process, on the lab's data
      set (``dlfs.data.load_lab_data("auto")``: MNIST where found, else Fashion-MNIST) as the
      book's float64 pixels k / 255.0; each script's figures saved as PNG;
  (b) ``python -m dlfs run all --out TMP`` as a subprocess, ``--repeats`` times (default 3;
      the median counts) per N of ``--seeds`` (default 1; N > 1 adds ``--seeds N``), with
      ``--quick`` when quick.

It prints each book script's wall time, figures included, beside the lab experiments that draw
its figures (results.json's wall_time_s: the runs only, not the figures drawn after them; run
side by side, two experiments' times overlap), the wall time of
each side (and its CPU time: on a busy machine the wall time grows, the CPU time does not)
and the ratio book / lab: above 1, the lab is faster. The book's side times its
scripts only; each of the book's scripts would also start Python and load MNIST, and the lab's
side is the whole command, start-up and data loading included, so the ratio leans towards the
book. Both sides get the same BLAS thread count (``--threads``, default 1): threadpoolctl here,
OMP/OPENBLAS/MKL_NUM_THREADS for the subprocess (where dlfs pins one BLAS thread per run
anyway); the lab spreads its runs over ``--workers`` processes (default: its own, one per
core), as ``dlfs run`` does. Nothing is asserted. Full mode takes many minutes of every core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.book_scripts import SCRIPTS, book_data, run_all

BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def time_book(data, quick: bool, threads: int,
              seed: int = 0) -> tuple[float, float, dict[str, float]]:
    """(wall time of all the book's scripts, their CPU time, {script: seconds}), one after
    another in this process."""
    from threadpoolctl import threadpool_limits

    seconds = {}
    with threadpool_limits(threads), tempfile.TemporaryDirectory(prefix="book-") as out:
        start, cpu = time.perf_counter(), time.process_time()
        for script, took, _ in run_all(data, out, seed=seed, quick=quick):
            seconds[script.name] = took
            print(f"  book {script.name:34} {took:8.2f} s", flush=True)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
    return total, cpu, seconds


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def lab_command(out, quick: bool, seeds: int, workers: int | None) -> list[str]:
    command = [sys.executable, "-m", "dlfs", "run", "all", "--out", str(out)]
    if quick:
        command.append("--quick")
    if seeds > 1:
        command += ["--seeds", str(seeds)]
    if workers:
        command += ["--workers", str(workers)]
    return command


def time_lab(quick: bool, seeds: int, threads: int,
             workers: int | None) -> tuple[float, float, dict]:
    """(wall time of the whole ``dlfs run all`` command, its CPU time, its run.json)."""
    env = {**os.environ, **dict.fromkeys(BLAS_VARIABLES, str(threads))}
    with tempfile.TemporaryDirectory(prefix="lab-") as out:
        command = lab_command(Path(out) / "results", quick, seeds, workers)
        print("  lab  " + " ".join(command[1:]), flush=True)
        start, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        took, cpu = time.perf_counter() - start, children_cpu() - cpu
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"dlfs run all exited with {done.returncode}")
        run = json.loads((Path(out) / "results" / "run.json").read_text(encoding="utf-8"))
    print(f"  lab  {took:8.2f} s wall, {cpu:8.2f} s CPU", flush=True)
    return took, cpu, run


def table(book: dict[str, float], labs: dict[int, dict]) -> list[str]:
    """Rows: each book script and its time, beside its lab experiments' times per seed count,
    then the experiments no book script draws."""
    times = {n: {e["name"]: e["wall_time_s"] for e in run["experiments"]}
             for n, run in labs.items()}
    head = "".join(f" {f'lab s ×{n}':>10}" for n in labs)
    rows = [f"{'book script':34} {'book s':>8}   {'lab experiment':22}{head}"]
    drawn = set()
    for script in SCRIPTS.values():
        for k, name in enumerate(script.lab):
            drawn.add(name)
            left = (f"{script.name:34} {book[script.name]:8.2f}" if k == 0 and
                    script.name in book else f"{'':34} {'':8}")
            cells = "".join(f" {times[n].get(name, float('nan')):10.2f}" for n in labs)
            rows.append(f"{left}   {name:22}{cells}")
    for name in next(iter(times.values()), {}):
        if name not in drawn:
            cells = "".join(f" {times[n].get(name, float('nan')):10.2f}" for n in labs)
            rows.append(f"{'(no book script)':34} {'':8}   {name:22}{cells}")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the lab's quick sizes on both sides (default: the book's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], metavar="N",
                        help="time `dlfs run all --seeds N` for each N (default: 1, one seed)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="lab runs per seed count; the median counts (default 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads on both sides (default 1)")
    parser.add_argument("--workers", type=int, default=None,
                        help="dlfs run --workers (default: dlfs's own, one per core)")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.seeds) or args.threads < 1 or args.repeats < 1:
        parser.error("--seeds, --repeats and --threads take whole numbers >= 1")

    from dlfs.data import load_lab_data

    lab_data = load_lab_data("auto")
    data = book_data(lab_data, np.float64)
    mode = "quick" if args.quick else "full"
    print(f"{lab_data.title} from {lab_data.source}; {mode} mode; {args.threads} BLAS "
          f"thread(s) on both sides; book pixels {data.x_train.dtype}", flush=True)

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    book_total, book_cpu, book = time_book(data, args.quick, args.threads)
    labs, lab_totals, lab_cpus, lab_all = {}, {}, {}, {}
    for n in args.seeds:
        runs = sorted((time_lab(args.quick, n, args.threads, args.workers)
                       for _ in range(args.repeats)), key=lambda r: r[0])
        lab_all[n] = [r[0] for r in runs]
        lab_totals[n], lab_cpus[n], labs[n] = runs[len(runs) // 2]
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    print()
    print("\n".join(table(book, labs)))
    print()
    first = next(iter(labs.values()))
    print(f"lab: {first['workers']} worker process(es), every job of the run in one pool; its "
          f"time per experiment is results.json's wall_time_s, its jobs only (a job two "
          f"experiments share counted in each): its figures ({', '.join(first['formats'])}, "
          f"two languages) are drawn after")
    print(f"{'book scripts, one after another (one seed)':48} {book_total:8.2f} s "
          f"({book_cpu:.2f} s CPU)")
    for n in args.seeds:
        flag = f" --seeds {n}" if n > 1 else ""
        name = f"dlfs run all{' --quick' if args.quick else ''}{flag}"
        inside = labs[n]["total_wall_time_s"]
        runs = ", ".join(f"{t:.2f}" for t in lab_all[n])
        line = (f"{name + ' (whole command, median)':48} {lab_totals[n]:8.2f} s "
                f"({lab_cpus[n]:.2f} s CPU; {inside:.2f} s inside its run; runs: {runs} s)   "
                f"book / lab = {book_total / lab_totals[n]:.2f}")
        if n > 1:
            line += f"; book ×{n} (estimated) / lab = {n * book_total / lab_totals[n]:.2f}"
        print(line)


if __name__ == "__main__":
    main()
