"""Whether two `dlfs run` result folders hold the same numbers, bit for bit:

    python -m benchmarks.same_numbers BEFORE AFTER

Every experiment's results.json is compared value by value: the results of every run, the
parameters, the verdicts (held, judged and their numbers). What may differ between two runs
of the same code is left out: times, versions, worker counts, file names of the figures.
Prints each difference by its path and exits 1 when there is any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Keys whose values say how a run went, not what it computed.
IGNORED = {"wall_time_s", "cpu_time_s", "versions", "workers", "figures", "total_wall_time_s",
           "total_cpu_time_s"}


def differences(before, after, path="") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key in IGNORED:
                continue
            if key not in before or key not in after:
                found.append(f"{path}/{key}: only {'after' if key in after else 'before'}")
                continue
            found += differences(before[key], after[key], f"{path}/{key}")
        return found
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} items before, {len(after)} after"]
        return [line for i, (b, a) in enumerate(zip(before, after))
                for line in differences(b, a, f"{path}[{i}]")]
    if type(before) is not type(after) or before != after:
        return [f"{path}: {before!r} before, {after!r} after"]
    return []


def compare(before: Path, after: Path) -> list[str]:
    found = []
    names = sorted({p.parent.name for folder in (before, after)
                    for p in folder.glob("*/results.json")})
    for name in names:
        paths = [folder / name / "results.json" for folder in (before, after)]
        if not all(p.exists() for p in paths):
            where = "after" if paths[1].exists() else "before"
            found.append(f"{name}: results.json only in {where}")
            continue
        old, new = (json.loads(p.read_text(encoding="utf-8")) for p in paths)
        found += [f"{name}{line}" for line in differences(old, new)]
    return found


def main(argv=None) -> int:
    before, after = (Path(arg) for arg in (argv or sys.argv[1:]))
    found = compare(before, after)
    print("\n".join(found) if found else f"same numbers: {before} and {after}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
