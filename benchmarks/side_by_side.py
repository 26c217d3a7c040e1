"""dlfs run's experiments one after another against two side by side, on the same cores.

    python -m benchmarks.side_by_side [--full] [--workers W] [--rounds R] [NAME ...]

Runs the named experiments (default: all) R times each way, alternating, with W workers
(default: one per core), through dlfs.cli.plan.RunPlan: lanes=1 runs them one after another,
each spreading its own runs over the workers; lanes=2 runs two at a time, each in a process
of its own. It prints each round's wall times, the median ratio side-by-side / one-after-
another (below 1: side by side is faster), and checks that both ways gave the same numbers.
Quick settings unless --full; full mode on the default data takes minutes per round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def _numbers(out: Path, names) -> dict:
    """Every run's seed, results and verdict, as saved: what must not depend on the lanes."""
    found = {}
    for name in names:
        record = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        found[name] = [{k: run[k] for k in ("seed", "results", "verdict")}
                       for run in record["runs"]]
    return found


def main(argv=None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from dlfs.cli.plan import RunPlan
    from dlfs.cli.run import write_result
    from dlfs.data import load_lab_data
    from dlfs.experiments import EXPERIMENTS
    from dlfs.experiments.base import default_workers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(EXPERIMENTS))
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    experiments = [EXPERIMENTS[name] for name in args.names]
    data = load_lab_data("auto", progress=False)
    quick = not args.full
    times: dict[int, list[float]] = {1: [], 2: []}
    numbers = {}
    with tempfile.TemporaryDirectory(prefix="dlfs-bench-") as folder:
        for round_ in range(args.rounds):
            for lanes in (1, 2):
                out = Path(folder) / f"lanes{lanes}-{round_}"
                out.mkdir()
                plan = RunPlan(experiments, {e.name: {} for e in experiments}, [0], quick,
                               args.workers, lambda: data, lanes=lanes)
                start = time.perf_counter()
                for _ in plan.run(out, write_result):
                    pass
                times[lanes].append(time.perf_counter() - start)
                numbers[lanes] = _numbers(out, args.names)
            print(f"round {round_ + 1}: one after another {times[1][-1]:.1f} s, "
                  f"side by side {times[2][-1]:.1f} s", flush=True)
    same = numbers[1] == numbers[2]
    ratio = statistics.median(b / a for a, b in zip(times[1], times[2]))
    print(f"{len(experiments)} experiments, {'full' if args.full else 'quick'} mode, "
          f"{args.workers} workers on {data.title}: side by side / one after another = "
          f"{ratio:.2f}; same numbers both ways: {same}")
    if not same:
        raise SystemExit("the numbers differ between the two ways")


if __name__ == "__main__":
    main()
