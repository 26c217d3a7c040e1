"""dlfs.check on optimizers: the book's classes pass or are a named variant, dlfs's own rules
pass, and every mistake in tests/fixtures/check/buggy_optimizers.py gets its code, its line and
a message in English and Korean."""

import inspect
import json

import numpy as np
import pytest
from check_fixtures import FIXTURES as ALL_FIXTURES
from check_fixtures import HANGUL, load_fixture

from dlfs import optim
from dlfs.check import CheckError, check, check_many, recognise
from dlfs.check.optimizers import STEPS, scenario

FIXTURES = ALL_FIXTURES / "check"

BOOK = load_fixture("check", "book_optimizer")
BUGGY = load_fixture("check", "buggy_optimizers")


def _line_of(cls, text: str) -> int:
    """The line of ``text`` in the fixture's source of ``cls``, counted in the file."""
    lines, start = inspect.getsourcelines(cls)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _assert_bilingual(result):
    for diagnosis in result.diagnoses:
        assert diagnosis.message["en"] and diagnosis.message["ko"]
        assert HANGUL.search(diagnosis.message["ko"]), diagnosis.message["ko"]
        assert not HANGUL.search(diagnosis.message["en"]), diagnosis.message["en"]
    for lang in ("en", "ko"):
        assert result.text(lang).startswith(result.name)
    assert HANGUL.search(result.text("ko")) and not HANGUL.search(result.text("en"))


# -- what must pass -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop"])
def test_the_books_optimizer_classes_pass(name):
    result = check(getattr(BOOK, name))
    assert (result.verdict, result.diagnoses, result.first_bad_step) == ("pass", [], None)
    assert result.max_rel_error < 1e-10


def test_the_books_adam_is_the_named_variant_book_adam():
    result = check(BOOK.Adam)
    assert (result.verdict, result.variant, result.reference) == ("variant", "book-adam", "Adam")
    assert "book" in result.text("en") and "책의 Adam" in result.text("ko")
    # it is a variant because it departs from torch's Adam, not by rounding
    assert result.max_rel_error > 1e-6


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adadelta", "adam", "adamw"])
def test_dlfs_own_rules_pass_as_references(name):
    result = check(optim.OPTIMIZERS[name], reference=name)
    assert (result.verdict, result.codes()) == ("pass", [])


@pytest.mark.parametrize("name", ["book-momentum", "book-nesterov", "book-adagrad",
                                  "book-rmsprop"])
def test_dlfs_book_variants_equal_the_rules_at_a_constant_lr(name):
    result = check(optim.OPTIMIZERS[name], reference=name.removeprefix("book-"))
    assert result.verdict == "pass"


def test_an_instance_is_checked_with_its_own_hyperparameters():
    result = check(BOOK.Momentum(lr=0.3, momentum=0.5))
    assert result.verdict == "pass"
    # the same numbers are not the default rule's: the instance's values were read
    assert check(BUGGY.AdaDeltaRho099(rho=0.9), reference="adadelta").verdict == "pass"


def test_the_comparison_uses_a_matrix_a_vector_a_scalar_zero_tiny_and_constant_gradients():
    theta, grads = scenario()
    assert {v.ndim for v in theta.values()} == {0, 1, 2} and len(grads) == STEPS >= 50
    assert all(np.all(g["W1"][0] == 0) for g in grads)
    assert all(0 < abs(g["b1"][0]) < 1e-7 for g in grads)
    assert len({float(g["scale"]) for g in grads}) == 1


# -- every mistake by its code ------------------------------------------------------------------

CASES = {
    "AdaGradStateReset": ("adagrad", {"state-reset"}),
    "AdaGradEpsOutside": ("adagrad", {"eps-outside-denominator", "nan-on-zero-grad"}),
    "AdaGradCourseNote": ("adagrad", {"state-reset", "eps-outside-denominator",
                                      "nan-on-zero-grad"}),
    "RMSpropNoEps": ("rmsprop", {"nan-on-zero-grad"}),
    "AdamNoBiasCorrection": ("adam", {"missing-bias-correction"}),
    "NesterovOldOrder": ("nesterov", {"nesterov-order"}),
    "MomentumSharedState": ("momentum", {"crash", "shared-state"}),
    "SGDRebinds": ("sgd", {"rebinds-params"}),
    "SGDIgnoresLr": ("sgd", {"ignores-lr"}),
    "AdaDeltaCourseNote": ("adadelta", {"crash"}),
    "AdamStub": ("adam", {"unfinished"}),
    "AdaGradEmpty": ("adagrad", {"unfinished"}),
    "RMSpropStubClass": ("rmsprop", {"unfinished"}),
}


@pytest.mark.parametrize("name", CASES)
def test_each_buggy_optimizer_fails_with_exactly_its_diagnoses(name):
    reference, codes = CASES[name]
    result = check(getattr(BUGGY, name), reference=reference)
    assert result.verdict == "fail"
    assert set(result.codes()) == codes
    assert result.first_bad_step is None or result.first_bad_step >= 1
    _assert_bilingual(result)


@pytest.mark.parametrize("name, reference, code", [
    ("AdaDeltaRho099", "adadelta", "wrong-hyperparameter-default"),
    ("AdaGradIntoGrads", "adagrad", "mutates-input"),
])
def test_right_numbers_with_a_habit_that_will_bite_warn(name, reference, code):
    result = check(getattr(BUGGY, name), reference=reference)
    assert (result.verdict, result.codes()) == ("warn", [code])
    assert result.max_rel_error < 1e-10
    _assert_bilingual(result)


def test_a_crash_names_the_exception_and_the_learners_line():
    result = check(BUGGY.AdaDeltaCourseNote, reference="adadelta")
    (crash,) = result.diagnoses
    assert crash.line == _line_of(BUGGY.AdaDeltaCourseNote, "dx = np.sqrt(")
    assert crash.file.endswith("buggy_optimizers.py")
    assert "TypeError" in crash.message["en"] and "TypeError" in crash.message["ko"]
    assert f"line {crash.line}" in crash.message["en"]
    assert f"{crash.line}번째 줄" in crash.message["ko"]
    assert result.first_bad_step == 1


def test_a_stub_is_unfinished_at_the_line_that_raises():
    result = check(BUGGY.AdamStub, reference="adam")
    assert result.diagnoses[0].line == _line_of(BUGGY.AdamStub, "raise NotImplementedError")
    assert "not written yet" in result.text("en")
    assert "아직 작성되지 않았습니다" in result.text("ko")


@pytest.mark.parametrize("name, reference, code, text", [
    ("AdaGradStateReset", "adagrad", "state-reset", "self.h[key] = np.zeros_like(val)"),
    ("AdaGradEpsOutside", "adagrad", "eps-outside-denominator", "params[key] -="),
    ("AdaGradEpsOutside", "adagrad", "nan-on-zero-grad", "params[key] -="),
    ("AdamNoBiasCorrection", "adam", "missing-bias-correction", "params[key] -="),
    ("NesterovOldOrder", "nesterov", "nesterov-order", "(1 + self.momentum) * self.lr"),
    ("SGDRebinds", "sgd", "rebinds-params", "params[key] = params[key] -"),
    ("MomentumSharedState", "momentum", "shared-state", "self.v = np.zeros_like(params[key])"),
    ("AdaGradIntoGrads", "adagrad", "mutates-input", "grads[key] /="),
])
def test_numeric_diagnoses_point_at_the_statement_that_wrote_the_wrong_value(
        name, reference, code, text):
    result = check(getattr(BUGGY, name), reference=reference)
    (found,) = [d for d in result.diagnoses if d.code == code]
    assert found.line == _line_of(getattr(BUGGY, name), text)
    assert f"line {found.line}:" in found.message["en"]


def test_an_unnamed_mistake_fails_with_the_step_and_the_error():
    result = check(BUGGY.AdamSwappedBetas, reference="adam")
    assert (result.verdict, result.codes(), result.first_bad_step) == ("fail", [], 1)
    assert 0.1 < result.max_rel_error < np.inf
    assert "step 1" in result.text("en") and "상대 오차" in result.text("ko")


def test_rebinding_is_found_by_identity_and_fails_although_the_numbers_agree():
    result = check(BUGGY.SGDRebinds, reference="sgd")
    assert result.max_rel_error < 1e-12 and result.first_bad_step is None
    assert result.verdict == "fail"


# -- names, interfaces, the JSON form -----------------------------------------------------------


@pytest.mark.parametrize("name, rule", [("AdaGrad", "adagrad"), ("RMSProp", "rmsprop"),
                                        ("my_adam", "adam"), ("NAG", "nesterov"),
                                        ("MomentumSGD", "momentum"), ("AdaDelta", "adadelta")])
def test_names_are_recognised_case_insensitively_with_aliases(name, rule):
    assert recognise(name) == ("optimizer", rule)


def test_an_unknown_name_is_a_value_error_naming_the_accepted_names():
    with pytest.raises(ValueError, match="adagrad.*rmsprop"):
        check(BUGGY.AdamSwappedBetas)
    with pytest.raises(CheckError) as error:
        check(BUGGY.AdamSwappedBetas)
    assert HANGUL.search(error.value.text("ko"))


def test_a_class_with_another_interface_is_a_value_error():
    class Adam:
        def step(self):
            pass

    with pytest.raises(ValueError, match=r"update\(params, grads\)"):
        check(Adam)


def test_check_many_checks_the_recognised_names_of_a_module_and_skips_the_rest():
    results, skipped = check_many(BOOK)
    assert [r.name for r in results] == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop",
                                         "Adam"]
    assert skipped == []
    _, skipped = check_many(BUGGY)
    assert "AdamSwappedBetas" in skipped


def test_the_json_form_has_the_stable_keys_and_no_infinity():
    result = check(BUGGY.AdaGradCourseNote, reference="adagrad")
    data = json.loads(json.dumps(result.as_dict(), allow_nan=False))
    assert list(data) == ["name", "kind", "reference", "verdict", "variant", "first_bad_step",
                          "max_rel_error", "diagnoses"]
    assert data["max_rel_error"] is None  # NaN where dlfs has numbers: no finite error
    assert list(data["diagnoses"][0]) == ["code", "message", "line"]
    assert set(data["diagnoses"][0]["message"]) == {"en", "ko"}


def test_a_notebook_shows_the_result_in_the_language_asked_for():
    result = check(BUGGY.NesterovOldOrder, reference="nesterov", lang="ko")
    assert "nesterov-order" in result._repr_html_() and HANGUL.search(result._repr_html_())
    assert str(result) == result.text("ko")  # print(check(..., lang="ko")) prints Korean
    assert str(check(BUGGY.NesterovOldOrder, reference="nesterov")) == result.text("en")
