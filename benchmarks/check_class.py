"""``dlfs check --class`` on a generated class: its time, and whether the summary's counts equal
the mistakes injected.

    python -m benchmarks.check_class [--learners 100] [--timeout 10] [--seed 0] [--cold]

--cold also checks the class with each file's checker started as a new interpreter
(DLFS_CHECK_FORK=0) instead of forked from the warm learner's process, and prints the ratio of
the two times, measured side by side.

Each learner is a folder with ``common/functions.py``, ``common/layers.py`` (which imports
``from common.functions import …``, as learners' repositories do) and ``common/optimizer.py``,
written as learners write them; a seeded draw gives some of them one mistake of a known kind:
a diagnosis code (AdaGrad's state re-created every call, ε outside the denominator, ε missing,
SGD without its learning rate, an Affine whose backward raises, a Momentum that calls
os._exit(3), an SGD whose update loops forever: ``timeout``) or a file that allocates 20 GB at
its top level; a few learners hand in no Python at all. (The kind "daemon", a learner whose
optimizer leaves a process in a session of its own running, is drawn only by the tests.) The
class's folder is checked by the real command; the counts of results.json's totals (learners
per diagnosis code, per status) are compared with the injected ones, exactly. ``make_class``
is what tests/test_classroom.py uses for a small class.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The files below follow the shape of the book's common/ package as learners keep it (seen in
# many public study repositories of the book, e.g. Korean and Japanese learners' common/
# folders): functions first, layers importing them through `common.functions`, optimizers.
FUNCTIONS = '''import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)   # against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
'''

LAYERS = '''import numpy as np
from common.functions import softmax, cross_entropy_error


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)
'''

OPTIMIZER = '''import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
'''

# kind -> (file, text replaced, replacement, diagnosis codes expected, status expected)
MISTAKES = {
    # course notes' AdaGrad whose h is created outside `if self.h is None:`
    "state-reset": ("optimizer.py",
                    "        if self.h is None:\n            self.h = {}\n"
                    "            for key, val in params.items():\n"
                    "                self.h[key] = np.zeros_like(val)\n",
                    "        self.h = {}\n        for key, val in params.items():\n"
                    "            self.h[key] = np.zeros_like(val)\n",
                    {"state-reset"}, "checked"),
    # the misplaced parenthesis: lr·g/√h + ε
    "eps-outside-denominator": ("optimizer.py", "/ (np.sqrt(self.h[key]) + 1e-7)",
                                "/ np.sqrt(self.h[key]) + 1e-7",
                                {"eps-outside-denominator", "nan-on-zero-grad"}, "checked"),
    "nan-on-zero-grad": ("optimizer.py", "/ (np.sqrt(self.h[key]) + 1e-7)",
                         "/ np.sqrt(self.h[key])", {"nan-on-zero-grad"}, "checked"),
    "ignores-lr": ("optimizer.py", "params[key] -= self.lr * grads[key]\n",
                   "params[key] -= grads[key]\n", {"ignores-lr"}, "checked"),
    "crash": ("layers.py", "dx = np.dot(dout, self.W.T)", "dx = np.dot(dout, self.w.T)",
              {"crash"}, "checked"),
    "os-exit": ("optimizer.py", "            params[key] += self.v[key]\n",
                "            params[key] += self.v[key]\n        import os\n        os._exit(3)\n",
                {"crash"}, "checked"),
    # an SGD whose while loop never moves on (the counter is never increased): its check
    # fails by the time limit, and the optimizers after it are not reached
    "loop": ("optimizer.py", "        for key in params.keys():\n"
                             "            params[key] -= self.lr * grads[key]\n",
             "        keys = list(params.keys())\n        i = 0\n"
             "        while i < len(keys):  # i is never increased\n"
             "            params[keys[i]] -= self.lr * grads[keys[i]]\n", {"timeout"}, "timeout"),
    # a child in a session of its own that outlives the learner's code (started where the
    # check runs code: building the optimizer); its pid is kept beside the file so that a
    # test can see it is gone
    "daemon": ("optimizer.py", "    def __init__(self, lr=0.01):\n        self.lr = lr\n",
               "    def __init__(self, lr=0.01):\n        import subprocess\n"
               "        sleeper = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
               "        with open(__file__ + '.pid', 'w') as file:\n"
               "            file.write(str(sleeper.pid))\n        self.lr = lr\n",
               set(), "checked"),
    "memory": ("optimizer.py", "class SGD:",
               "TABLE = np.ones(20 * 10**9 // 8)  # 20 GB\n\n\nclass SGD:", set(), "memory"),
}
SHARES = {"correct": 0.44, "state-reset": 0.12, "eps-outside-denominator": 0.1,
          "nan-on-zero-grad": 0.06, "ignores-lr": 0.08, "crash": 0.08, "os-exit": 0.04,
          "loop": 0.02, "memory": 0.03, "no-python": 0.03}


def make_class(folder: Path, learners: int = 100, seed: int = 0,
               kinds: list[str] | None = None) -> dict:
    """Writes a class of ``learners`` folders into ``folder``; returns what was injected:
    {"kinds": {learner: kind}, "codes": {code: sorted learners}, "statuses": {status: sorted
    learners}}. ``kinds`` gives each learner's kind instead of the seeded draw."""
    if kinds is None:
        draw = np.random.default_rng(seed)
        names = list(SHARES)
        kinds = list(draw.choice(names, size=learners, p=np.array(list(SHARES.values()))))
    injected = {"kinds": {}, "codes": {}, "statuses": {}}
    for number, kind in enumerate(kinds, 1):
        learner = f"learner{number:03d}"
        common = folder / learner / "common"
        common.mkdir(parents=True)
        injected["kinds"][learner] = kind
        if kind == "no-python":
            (folder / learner / "README.txt").write_text("I could not finish it.\n")
            common.rmdir()
            injected["statuses"].setdefault("no-python", []).append(learner)
            continue
        texts = {"functions.py": FUNCTIONS, "layers.py": LAYERS, "optimizer.py": OPTIMIZER}
        codes, status = set(), "checked"
        if kind in MISTAKES:
            file, old, new, codes, status = MISTAKES[kind]
            assert old in texts[file], (kind, old)
            texts[file] = texts[file].replace(old, new, 1)
        (common / "__init__.py").write_text("")
        for name, text in texts.items():
            (common / name).write_text(text, encoding="utf-8")
        for code in codes:
            injected["codes"].setdefault(code, []).append(learner)
        injected["statuses"].setdefault(status, []).append(learner)
    return injected


def compare(totals: dict, injected: dict) -> list[str]:
    """The differences between results.json's totals and the injection (empty: equal)."""
    problems = []
    for what in ("codes", "statuses"):
        found = {key: sorted(ids) for key, ids in totals[what].items()}
        wanted = {key: sorted(ids) for key, ids in injected[what].items()}
        for key in sorted(set(found) | set(wanted)):
            if found.get(key, []) != wanted.get(key, []):
                problems.append(f"{what} {key}: found {len(found.get(key, []))} "
                                f"{found.get(key, [])[:6]}, injected "
                                f"{len(wanted.get(key, []))} {wanted.get(key, [])[:6]}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_class")
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="dlfs-class-bench-") as scratch:
        folder = Path(scratch) / "class"
        injected = make_class(folder, args.learners, args.seed)
        seconds, status, totals = _check(folder, Path(scratch) / "out", args)
        if args.cold:
            cold, _, cold_totals = _check(folder, Path(scratch) / "out-cold", args, cold=True)
    problems = compare(totals, injected)
    print(f"{args.learners} learners on {os.cpu_count()} cores: {seconds:.1f} s "
          f"(exit status {status}); counts equal the injected ones: "
          f"{'yes' if not problems else 'NO'}")
    for problem in problems:
        print("  " + problem)
    if args.cold:
        equal = "yes" if not compare(cold_totals, injected) else "NO"
        print(f"each file's checker a new interpreter: {cold:.1f} s ({cold / seconds:.1f} "
              f"times as long); counts equal: {equal}")
    return 0 if not problems else 1


def _check(folder: Path, out: Path, args, cold: bool = False):
    """(seconds, exit status, results.json's totals) of dlfs check --class on ``folder``;
    ``cold``: each file's checker a new interpreter (DLFS_CHECK_FORK=0)."""
    from dlfs.cli import main as dlfs

    before = os.environ.get("DLFS_CHECK_FORK")
    if cold:  # the learners' children are forked after this, so they see it
        os.environ["DLFS_CHECK_FORK"] = "0"
    try:
        began = time.perf_counter()
        status = dlfs(["check", "--class", str(folder), "--out", str(out), "--timeout",
                       f"{args.timeout:g}", "--workers", str(args.workers), "--no-progress"])
        seconds = time.perf_counter() - began
    finally:
        if before is None:
            os.environ.pop("DLFS_CHECK_FORK", None)
        else:
            os.environ["DLFS_CHECK_FORK"] = before
    totals = json.loads((out / "results.json").read_text(encoding="utf-8"))["totals"]
    return seconds, status, totals


if __name__ == "__main__":
    sys.exit(main())
