"""dlfs check on files as learners keep them (tests/fixtures/check_files, each after a pattern
of public study repositories): recognised by kind and name, loaded as part of their package
from any folder, one bad object failing alone, skipped objects listed with the reason, and the
--json document with its results, skipped objects, cells and error."""

import json
import re
from pathlib import Path

import pytest

from dlfs.check import check, plan
from dlfs.cli import main

FILES = Path(__file__).parent / "fixtures" / "check_files"
BOOK = FILES / "book_repo"
HANGUL = re.compile("[\uac00-\ud7a3]")
ESCAPED_HANGUL = re.compile(r"\\u[ac-d][0-9a-f]{3}")


def _check(capsys, *argv):
    status = main(["check", *map(str, argv)])
    out = capsys.readouterr()
    return status, out.out, out.err


def _json(capsys, *argv):
    status, out, err = _check(capsys, *argv, "--json")
    return status, json.loads(out), err


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Runs the check from a folder that is not the learner's (nor above it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _verdicts(document):
    return {r["name"]: r["verdict"] for r in document["results"]}


# -- recognising by kind and name ---------------------------------------------------------------


def test_the_books_lower_case_functions_are_checked_as_functions_and_pass(capsys, elsewhere):
    status, document, err = _json(capsys, BOOK / "common" / "functions.py")
    assert status == 0 and err == ""
    verdicts = _verdicts(document)
    for name in ("sigmoid", "relu", "softmax", "step_function", "sigmoid_grad", "relu_grad"):
        assert verdicts[name] == "pass", name
    kinds = {r["name"]: r["kind"] for r in document["results"]}
    assert kinds["sigmoid"] == kinds["relu"] == "function"
    assert verdicts["cross_entropy_error"] == "variant"  # the book's δ = 1e-7


def test_a_class_and_a_function_of_the_same_name_go_to_their_own_checkers():
    def sigmoid(x):
        import numpy as np

        return 1 / (1 + np.exp(-x))

    class Sigmoid:
        def forward(self, x):
            import numpy as np

            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dout):
            return dout * (1.0 - self.out) * self.out

    assert (plan("sigmoid", sigmoid).kind, plan("Sigmoid", Sigmoid).kind) == ("function", "layer")
    assert plan("SIGMOID", sigmoid).kind == "function"
    assert check(sigmoid).verdict == "pass" and check(Sigmoid).verdict == "pass"
    assert check(Sigmoid).kind == "layer"


def test_the_books_gradient_descent_function_is_skipped_not_taken_for_sgd(capsys, elsewhere):
    status, document, err = _json(capsys, BOOK / "ch04" / "gradient_method.py")
    assert status == 0 and err == "" and document["error"] is None
    assert _verdicts(document) == {"numerical_gradient": "pass"}
    why = {entry["name"]: entry["why"] for entry in document["skipped"]}
    assert set(why) == {"gradient_descent", "function_2"}
    assert "is a function" in why["gradient_descent"]["en"]
    assert "update(params, grads)" in why["gradient_descent"]["en"]
    assert HANGUL.search(why["gradient_descent"]["ko"])


def test_layers_named_with_a_layer_suffix_are_recognised_and_unknown_ones_say_why(
        capsys, elsewhere):
    status, document, _ = _json(capsys, BOOK / "ch05" / "layer_naive.py")
    assert status == 0
    assert _verdicts(document) == {"ReluLayer": "pass"}
    why = {entry["name"]: entry["why"]["en"] for entry in document["skipped"]}
    assert set(why) == {"MulLayer", "AddLayer"}
    assert "a layer (forward, backward) dlfs check has no reference for" in why["MulLayer"]


def test_an_unfinished_class_and_one_that_cannot_be_built_fail_alone(capsys, elsewhere):
    status, document, err = _json(capsys, FILES / "unfinished.py")
    assert status == 1 and err == "" and document["error"] is None
    results = {r["name"]: r for r in document["results"]}
    assert results["SGD"]["verdict"] == "pass"
    lines = (FILES / "unfinished.py").read_text(encoding="utf-8").splitlines()
    for name, code, marker in (("Adam", "unfinished", "class Adam:"),
                               ("Momentum", "crash", "def __init__(self, lr, momentum")):
        result = results[name]
        assert result["verdict"] == "fail", name
        (found,) = result["diagnoses"]
        assert found["code"] == code, name
        assert lines[found["line"] - 1].strip().startswith(marker), name
    assert "has no update() yet" in results["Adam"]["diagnoses"][0]["message"]["en"]
    assert "required positional argument: 'nesterov'" in (
        results["Momentum"]["diagnoses"][0]["message"]["en"])
    why = {entry["name"]: entry["why"]["en"] for entry in document["skipped"]}
    assert set(why) == {"Dropout", "Trainer"}  # forward without backward is not a fail
    assert why["Dropout"].startswith("Dropout is a layer with forward but no backward")


def test_an_object_whose_check_raises_fails_alone_with_crash(capsys, tmp_path):
    learner = tmp_path / "optimizers.py"
    learner.write_text(
        "class SGD:\n"
        "    def __init__(self, lr=0.01):\n"
        "        self.lr = lr\n"
        "\n"
        "    def update(self, params, grads):\n"
        "        for key in params:\n"
        "            params[key] -= self.lr * grads[key]\n"
        "\n"
        "\n"
        "class AdaGrad:\n"
        "    def __init__(self, lr=0.01):\n"
        "        raise SystemExit('not yet')\n"
        "\n"
        "    def update(self, params, grads):\n"
        "        pass\n", encoding="utf-8")
    status, document, _ = _json(capsys, learner)
    assert status == 1
    assert _verdicts(document) == {"SGD": "pass", "AdaGrad": "fail"}


# -- loading files as learners have them --------------------------------------------------------


def test_common_layers_loads_from_another_folder_with_its_common_imports(capsys, elsewhere):
    status, out, err = _check(capsys, BOOK / "common" / "layers.py")
    assert status == 0 and err == ""
    for name in ("Relu", "Sigmoid", "Affine"):
        assert f"{name}: pass" in out
    assert "SoftmaxWithLoss: variant" in out
    assert "softmax" not in out.split("checked:")[0].lower().replace("softmaxwithloss", "")


def test_a_relative_import_inside_a_common_package_works(capsys, elsewhere):
    path = FILES / "package_repo" / "mystudy" / "common" / "layers.py"
    status, document, err = _json(capsys, path)
    assert status == 0 and err == ""
    assert _verdicts(document) == {"Tanh": "pass", "SoftmaxWithLoss": "variant"}
    assert document["skipped"] == []  # softmax and the rest were imported, not defined here


def test_the_books_optimizer_file_passes_from_another_folder(capsys, elsewhere):
    status, document, _ = _json(capsys, BOOK / "common" / "optimizer.py")
    assert status == 0
    assert set(_verdicts(document).values()) == {"pass"}


def test_a_missing_module_says_which_folder_holds_it_not_to_use_main(capsys, tmp_path):
    folder = tmp_path / "ch05"
    folder.mkdir()
    learner = folder / "two_layer.py"
    learner.write_text("import numpy as np\nfrom common.layers import Relu\n\n\n"
                       "def relu(x):\n    return np.maximum(0, x)\n", encoding="utf-8")
    status, out, err = _check(capsys, learner)
    assert status == 2 and out == ""
    assert "two_layer.py, line 2: no module 'common' was found" in err
    assert "run dlfs check from the folder that holds common/ or common.py" in err
    assert "__main__" not in err
    status, document, _ = _json(capsys, learner)
    assert status == 2 and document["error"]["code"] == "missing_module"


def test_a_skipped_notebook_cell_still_runs_its_imports(capsys, elsewhere):
    status, document, err = _json(capsys, BOOK / "ch05" / "study.ipynb")
    assert status == 0 and err == ""
    assert document["cells"]["ran"] == [2, 3, 5, 6]
    assert [cell["cell"] for cell in document["cells"]["skipped"]] == [1, 4]
    assert document["cells"]["skipped"][0] == {"cell": 1, "line": 7,
                                               "code": "print(np.__version__)"}
    assert _verdicts(document) == {"relu": "pass", "Sigmoid": "pass",
                                   "SoftmaxWithLoss": "variant"}


# A learner on a newer Python than the checker's: a type alias statement and PEP 695 generics
# (Python 3.12), as type-annotated study repositories written since 2024 have. Written here, not
# kept as fixture files, since the tools of this repository (ruff) run on Python 3.11 too.
NEWER = {"aliases.py": ("import numpy as np\n\n"
                        "type Params = dict[str, np.ndarray]\n\n\n"
                        "class SGD:\n"
                        "    def update(self, params: Params, grads: Params) -> None:\n"
                        "        pass\n", 3, "a type statement"),
         "generics.py": ("import numpy as np\n\n\n"
                         "def first[T](items: list[T]) -> T:\n"
                         "    return items[0]\n", 4, "a generic function"),
         "classes.py": ("class History[T]:\n    pass\n", 1, "a generic class")}


@pytest.mark.parametrize("name", sorted(NEWER))
def test_syntax_of_a_newer_python_says_which_python_it_needs(capsys, tmp_path, name):
    import sys

    if sys.version_info >= (3, 12):
        pytest.skip("this Python reads 3.12 syntax")
    code, line, what = NEWER[name]
    learner = tmp_path / name
    learner.write_text(code, encoding="utf-8")
    status, out, err = _check(capsys, learner)
    assert status == 2 and out == ""
    this = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"{name}, line {line}: {what}, which needs Python 3.12; this is Python {this}" in err


def test_a_plain_syntax_error_is_not_blamed_on_the_python_version(capsys, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("type = 3\ndef f(:\n    pass\n", encoding="utf-8")
    status, _, err = _check(capsys, broken)
    assert status == 2 and "broken.py, line 2: syntax error" in err and "needs Python" not in err


# -- the JSON document --------------------------------------------------------------------------


def test_the_json_document_holds_an_error_with_both_languages_and_exit_2(capsys, tmp_path):
    status, out, err = _check(capsys, tmp_path / "nope.py", "--json")
    assert status == 2 and err.startswith("dlfs: ")
    document = json.loads(out)
    assert list(document) == ["results", "skipped", "cells", "error"]
    assert document["results"] == [] and document["skipped"] == []
    assert document["error"]["code"] == "no_file"
    assert set(document["error"]["message"]) == {"en", "ko"}
    assert "no such file" in document["error"]["message"]["en"]


def test_the_json_document_writes_hangul_as_utf8_not_escapes(capsys, elsewhere):
    status, out, _ = _check(capsys, FILES / "unfinished.py", "--json")
    assert status == 1
    assert HANGUL.search(out) and not ESCAPED_HANGUL.search(out)


def test_the_json_cells_of_a_py_file_are_its_one_cell(capsys, elsewhere):
    _, document, _ = _json(capsys, BOOK / "common" / "optimizer.py")
    assert document["cells"] == {"ran": [1], "skipped": []}


# -- the time limit -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_function_that_loops_forever_is_failed_at_its_line_and_the_rest_are_listed(
        capsys, tmp_path):
    learner = tmp_path / "functions.py"
    learner.write_text("import numpy as np\n\n\n"
                       "def relu(x):\n"
                       "    i = 0\n"
                       "    while i < 10:\n"
                       "        x = np.maximum(0, x)\n"
                       "    return x\n\n\n"
                       "def sigmoid(x):\n"
                       "    return 1 / (1 + np.exp(-x))\n", encoding="utf-8")
    status, document, _ = _json(capsys, learner, "--timeout", "4")
    assert status == 1
    (result,) = document["results"]
    assert (result["name"], result["verdict"]) == ("relu", "fail")
    (found,) = result["diagnoses"]
    assert found["code"] == "timeout" and found["line"] in (6, 7)
    assert f"functions.py, line {found['line']}: " in found["message"]["en"]
    assert HANGUL.search(found["message"]["ko"])
    assert [entry["name"] for entry in document["skipped"]] == ["sigmoid"]
    assert "time limit" in document["skipped"][0]["why"]["en"]


# -- speed: what the child imports --------------------------------------------------------------


@pytest.mark.slow
def test_a_learners_matplotlib_import_is_deferred_until_its_code_uses_it(tmp_path):
    """Learners' files and notebooks import matplotlib.pyplot at the top (seen in nearly every
    ch05/ch06 script and notebook); the definitions dlfs check runs seldom use it, so the child
    imports it only when the learner's code first reads from it."""
    import subprocess
    import sys

    learner = tmp_path / "plots.py"
    learner.write_text("import matplotlib.pyplot as plt\nimport numpy as np\n\n\n"
                       "def relu(x):\n    return np.maximum(0, x)\n\n\n"
                       "def figure():\n    return plt.figure\n", encoding="utf-8")
    probe = ("import sys\n"
             "from dlfs.check.load import load, read_source\n"
             f"module, _ = load(read_source({str(learner)!r}), own_process=True)\n"
             "before = type(sys.modules['matplotlib.pyplot']).__name__\n"
             "module.figure()\n"
             "after = type(sys.modules['matplotlib.pyplot']).__name__\n"
             "print(before, after)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    assert done.stdout.split() == ["_Deferred", "module"]


def test_a_script_that_trains_at_the_top_level_has_its_classes_checked_without_training(
        capsys, elsewhere):
    path = BOOK / "ch06" / "compare_optimizers.py"
    status, document, err = _json(capsys, path)
    assert status == 0 and err == ""
    assert _verdicts(document) == {"Momentum": "pass"}
    skipped = document["cells"]["skipped"]
    assert skipped[0] == {"cell": 1, "line": 27,
                          "code": "(x_train, t_train), (x_test, t_test) = load_mnist(normali..."}
    assert [entry["line"] for entry in skipped] == [27, 28, 30]  # params = {...} ran


def test_the_lab_loading_a_learners_optimizer_keeps_its_folder_and_its_imports(tmp_path,
                                                                               monkeypatch):
    """dlfs run --optimizer mine=FILE::CLASS loads the learner's file into the lab's own
    process: that must not move the process to the file's folder, nor defer the lab's
    matplotlib."""
    import sys

    from dlfs.check.load import _FINDER, load, read_source

    folder = tmp_path / "study"
    folder.mkdir()
    learner = folder / "mine.py"
    learner.write_text("import numpy as np\n\n\nclass SGD:\n"
                       "    def __init__(self, lr=0.01):\n        self.lr = lr\n\n"
                       "    def update(self, params, grads):\n"
                       "        for key in params:\n"
                       "            params[key] -= self.lr * grads[key]\n", encoding="utf-8")
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(sys, "path", list(sys.path))
    module, _ = load(read_source(learner))
    assert module.SGD(lr=0.1).lr == 0.1
    assert Path.cwd() == here and _FINDER not in sys.meta_path


@pytest.mark.parametrize("fork", ["1", pytest.param("0", marks=pytest.mark.slow)],
                         ids=["forked", "new-interpreter"])
def test_the_child_is_a_fork_or_a_new_interpreter_with_the_same_results(capsys, monkeypatch,
                                                                        fork):
    """The child forks this process where it can (NumPy and dlfs already imported) and starts
    a new interpreter where it cannot (DLFS_CHECK_FORK=0 forces that): the same document, a
    process that ends inside update failing that object alone either way."""
    from dlfs.check.load import can_fork

    monkeypatch.setenv("DLFS_CHECK_FORK", fork)
    assert can_fork() is (fork == "1")
    status, document, _ = _json(capsys, FILES.parent / "check" / "exits.py")
    assert status == 1
    assert _verdicts(document) == {"RMSprop": "fail", "SGD": "pass"}
    assert "exit status 3" in document["results"][0]["diagnoses"][0]["message"]["en"]
    status, document, _ = _json(capsys, BOOK / "ch05" / "study.ipynb")
    assert status == 0 and len(document["results"]) == 3


def test_a_chapter_file_importing_its_chapter_as_a_package_from_the_root_loads(capsys,
                                                                               elsewhere):
    status, document, err = _json(capsys, BOOK / "ch04" / "descent_from_root.py")
    assert status == 0 and err == ""
    assert _verdicts(document) == {"numerical_diff": "pass"}
    assert [entry["name"] for entry in document["skipped"]] == ["gradient_descent"]
    assert [entry["line"] for entry in document["cells"]["skipped"]] == [21]


def test_a_reference_name_is_looked_up_among_the_objects_own_kind_first():
    import numpy as np

    def my_activation(x):
        return 1 / (1 + np.exp(-x))

    result = check(my_activation, reference="sigmoid")  # "sigmoid" is also a layer's name
    assert (result.kind, result.verdict) == ("function", "pass")


def test_a_common_folder_elsewhere_is_found_from_the_folder_dlfs_check_is_run_in(
        capsys, tmp_path, monkeypatch):
    """common/ kept apart from the chapter folders (src/common beside ch05/): running dlfs
    check from the folder that holds it finds it, as the missing-module message says."""
    (tmp_path / "src" / "common").mkdir(parents=True)
    (tmp_path / "src" / "common" / "functions.py").write_text(
        "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(0, x)\n",
        encoding="utf-8")
    (tmp_path / "ch05").mkdir()
    learner = tmp_path / "ch05" / "layers.py"
    learner.write_text("from common.functions import relu\n\n\nclass Relu:\n"
                       "    def forward(self, x):\n        self.mask = x <= 0\n"
                       "        return relu(x)\n\n"
                       "    def backward(self, dout):\n"
                       "        return dout * ~self.mask\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    status, _, err = _check(capsys, learner)
    assert status == 2 and "no module 'common' was found" in err
    monkeypatch.chdir(tmp_path / "src")
    status, document, err = _json(capsys, learner)
    assert status == 0 and err == ""
    assert _verdicts(document) == {"Relu": "pass"}


def test_forward_only_layers_of_the_second_book_are_listed_not_failed(capsys, elsewhere):
    status, document, err = _json(capsys, FILES / "forward_only.py")
    assert status == 0 and err == "" and document["results"] == []
    why = {entry["name"]: entry["why"]["en"] for entry in document["skipped"]}
    assert set(why) == {"Sigmoid", "Affine", "TwoLayerNet"}
    assert "with forward but no backward" in why["Affine"]


# Seen in a learner's public repository of the book: cross_entropy_error without the book's δ,
# in common/functions.py, called by SoftmaxWithLoss in common/layers.py; the check run from the
# repository's root as `dlfs check common/layers.py`. Here: our book_repo with its δ dropped.
DELTA = "np.log(y[np.arange(batch_size), t] + 1e-7)"


def test_a_mistake_in_a_sibling_module_is_named_at_its_own_line_not_at_the_call(
        tmp_path, monkeypatch, capsys):
    common = tmp_path / "common"
    common.mkdir()
    for name in ("functions.py", "layers.py"):
        (common / name).write_text((BOOK / "common" / name).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    functions = (common / "functions.py").read_text(encoding="utf-8")
    assert functions.count(DELTA) == 1
    (common / "functions.py").write_text(
        functions.replace(DELTA, "np.log(y[np.arange(batch_size), t])"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the repository's root, as the learner runs it
    line = next(n for n, text in enumerate(functions.splitlines(), 1) if DELTA in text)
    _, document, _ = _json(capsys, "common/layers.py", "SoftmaxWithLoss")
    ((found,),) = [r["diagnoses"] for r in document["results"] if r["name"] == "SoftmaxWithLoss"]
    assert (found["code"], found["line"]) == ("log-zero", line)
    assert f"functions.py:{line}" in found["message"]["en"]


# Seen in a learner's public Colab notebook of the book: shell commands written without "!",
# which IPython runs as automagics (`ls -l PATH`, `pip install …`), in a cell of their own or
# beside code. The notebook was refused whole as a syntax error. In our own words.
COLAB_CELLS = [
    ["# the GPU library's files\n", "ls -l  /usr/local/lib/python3.10/dist-packages\n"],
    ["pip install matplotlib==3.8\n", "cd ..\n", "import numpy as np\n"],
    ["def relu(x):\n", "    return np.maximum(0, x)\n"],
    ["ls = [1, 2]\n", "scale = 0.01\n"],  # Python that only looks like a command: kept
]


def test_ipython_automagic_lines_of_a_notebook_are_blanked_and_the_rest_is_checked(
        capsys, elsewhere):
    notebook = {"cells": [{"cell_type": "code", "source": cell} for cell in COLAB_CELLS],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    path = elsewhere / "colab.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    status, document, err = _json(capsys, path)
    assert status == 0 and err == ""
    assert document["cells"]["ran"] == [1, 2, 3, 4] and document["cells"]["skipped"] == []
    assert _verdicts(document) == {"relu": "pass"}


@pytest.mark.parametrize(("line", "ipython"), [
    ("ls -al ~/data", True), ("pip install numpy", True), ("  cd ..", True),
    ("!nvidia-smi", True), ("%matplotlib inline", True),
    # Python reads these, so Python runs them (a NameError then skips the cell, as in IPython
    # with a variable of that name)
    ("ls = [1, 2]", False), ("ls -l /usr/lib", False), ("pwd", False), ("lsq = 1", False),
    ("print('ls -l')", False)])
def test_a_line_is_ipythons_only_where_python_cannot_read_it(line, ipython):
    from dlfs.check.load import _ipython_line

    assert _ipython_line(line) is ipython
