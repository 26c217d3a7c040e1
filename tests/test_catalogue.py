"""The text catalogue: one file per language with the same keys, every template formatted by
its callers (titles, claims, verdicts, figure labels) in every language, clear errors, and a
third language that is one more file."""

import re
import shutil

import matplotlib
import numpy as np
import pytest

from dlfs import catalogue
from dlfs.catalogue import FOLDER, LANGS, Catalogue, CatalogueError
from dlfs.data import Data
from dlfs.experiments import EXPERIMENTS
from dlfs.experiments.figures import close
from dlfs.experiments.lab import results_of

HANGUL = re.compile("[\uac00-\ud7a3]")
FEATURES, CLASSES = 12, 3  # not 784 and 10: the experiments must take both from the data


def _synthetic_data() -> Data:
    rng = np.random.default_rng(0)
    x = rng.random((150, FEATURES)).astype(np.float32)
    t = rng.integers(0, CLASSES, 150)
    return Data("synthetic", "Synthetic", "tests", x[:120], t[:120], x[120:], t[120:])


def _search_summary() -> dict:
    """What search.summarize returns, for six trials with made-up numbers."""
    rng = np.random.default_rng(1)
    trials = [{"number": n, "state": "COMPLETE", "value": 0.1 * n,
               "params": {"lr": 10 ** rng.uniform(-6, -2),
                          "weight_decay_lambda": 10 ** rng.uniform(-8, -4)},
               "val_acc": [0.1, 0.1 * n], "train_acc": [0.1, 0.12 * n]} for n in range(6)]
    ranking = [t["number"] for t in sorted(trials, key=lambda t: -t["value"])]
    return {"trials": trials, "ranking": ranking, "best": trials[ranking[0]]}


@pytest.fixture(scope="module")
def results():
    """Every experiment's results in quick mode, the data ones on a small synthetic data set
    (the search's made up: it loads its own data)."""
    data = _synthetic_data()
    out = {"hyperparameter-search": _search_summary()}
    for name, experiment in EXPERIMENTS.items():
        if name not in out:
            out[name] = results_of(experiment, experiment.parameters(quick=True), 0, data)
    return out


def _leftovers(text: str) -> list[str]:
    """What a formatted text must not hold: template braces, a Python dict or list of pairs."""
    return re.findall(r"[{}]|'\w+':", text)


# -- the files ----------------------------------------------------------------------------------


def test_the_languages_are_the_files_in_the_catalogue_folder():
    assert LANGS == tuple(sorted(path.stem for path in FOLDER.glob("*.toml")))
    assert {"en", "ko"} <= set(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_file_has_exactly_the_english_keys(lang):
    keys, english = catalogue.CATALOGUE.keys(lang), catalogue.CATALOGUE.keys("en")
    assert keys == english, f"missing: {english - keys}, extra: {keys - english}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_experiment_has_a_table_in_every_language(lang):
    keys = catalogue.CATALOGUE.keys(lang)
    for name in EXPERIMENTS:
        assert {f"{name}.{part}" for part in ("title", "claim", "about", "verdict")} <= keys


def test_glossary_words_cited_in_a_template_are_the_glossarys():
    for lang in LANGS:
        assert catalogue.word("training_accuracy", lang) == \
            f"{catalogue.word('training', lang)} {catalogue.word('accuracy', lang)}"
    assert catalogue.both("words.epoch")["ko"] == "에폭"  # the Korean edition's word


# -- formatted by the callers --------------------------------------------------------------------


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_title_claim_and_about_format_from_the_parameters_in_every_language(name, quick):
    experiment = EXPERIMENTS[name]
    texts = experiment.texts(experiment.parameters(quick))
    assert set(texts) == {"title", "claim", "about"}
    for part, by_lang in texts.items():
        assert set(by_lang) == set(LANGS)
        for lang, text in by_lang.items():
            assert text.strip() and not _leftovers(text), (part, lang, text)
        assert HANGUL.search(by_lang["ko"]) and not HANGUL.search(by_lang["en"]), part


def test_the_quick_batch_norm_title_counts_the_quick_weight_scales():
    experiment = EXPERIMENTS["batch-norm"]
    quick = experiment.texts(experiment.parameters(quick=True))
    full = experiment.texts(experiment.parameters(quick=False))
    assert experiment.parameters(quick=True)["scales"] == 4
    assert quick["title"]["en"] == "Batch normalisation at 4 weight scales"
    assert quick["title"]["ko"].startswith("4가지 ")
    assert "4 weight scales" in quick["claim"]["en"]
    assert full["title"]["en"] == "Batch normalisation at 16 weight scales"


def test_quick_texts_quote_the_quick_numbers_not_the_books():
    two_layer = EXPERIMENTS["two-layer-net"]
    about = two_layer.texts(two_layer.parameters(quick=True))["about"]
    assert "500 iterations" in about["en"] and "500회 반복" in about["ko"]
    assert "10,000 iterations" not in about["en"]
    overfit = EXPERIMENTS["overfit"]
    assert "15 epochs" in overfit.texts(overfit.parameters(quick=True))["about"]["en"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_verdict_formats_from_the_numbers_in_every_language(name, results):
    verdict = EXPERIMENTS[name].check(results[name])
    assert set(verdict.detail) == set(LANGS)
    for lang, text in verdict.detail.items():
        assert text.strip() and not _leftovers(text), (lang, text)
    assert HANGUL.search(verdict.detail["ko"]) and not HANGUL.search(verdict.detail["en"])


@pytest.mark.slow
def test_the_weight_decay_verdict_names_the_remedy_in_words(results):
    detail = EXPERIMENTS["weight-decay"].check(results["weight-decay"]).detail
    assert "with weight decay (λ = 0.1)" in detail["en"]
    assert "가중치 감소(λ = 0.1)" in detail["ko"]
    assert "weight_decay_lambda" not in detail["en"] + detail["ko"]


def _figure_texts(fig) -> list[str]:
    """Every text drawn in ``fig`` but the axes' mathtext tick labels ($10^{-3}$)."""
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in texts if t and not t.startswith("$")]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if n != "hyperparameter-search"])
def test_every_figure_is_labelled_from_the_catalogue_in_its_language(name, results):
    for lang in LANGS:
        fig = EXPERIMENTS[name].plot(results[name], lang)
        texts = _figure_texts(fig)
        close(fig)
        assert not [t for t in texts if _leftovers(t)], texts
        assert any(HANGUL.search(t) for t in texts) == (lang == "ko"), (lang, texts)


@pytest.mark.slow
def test_panel_titles_are_words_not_python_values(results):
    for name, wanted in (("weight-decay", {"en": "with weight decay, λ = 0.1",
                                           "ko": "가중치 감소 적용, λ = 0.1"}),
                         ("batch-norm", {"en": "weight scale 1", "ko": "가중치 스케일 1"})):
        for lang in ("en", "ko"):
            fig = EXPERIMENTS[name].plot(results[name], lang)
            titles = [ax.get_title() for ax in fig.axes]
            close(fig)
            assert wanted[lang] in titles, titles


@pytest.mark.slow
def test_data_experiments_size_their_networks_from_the_data(results):
    # Untrained nets with near-uniform outputs start at the loss ln(classes): ln 3, not ln 10.
    first = np.mean(results["two-layer-net"]["train_loss"][:5])
    assert first == pytest.approx(np.log(CLASSES), abs=0.05)
    assert len(results["batch-norm-gradcheck"]["errors"]) > 0


# -- errors ------------------------------------------------------------------------------------


def test_a_missing_key_names_the_key_the_language_and_what_the_table_holds():
    with pytest.raises(CatalogueError, match=r"'batch-norm\.titel' in ko\.toml.*holds: title"):
        catalogue.text("batch-norm.titel", "ko", scales=4)


def test_a_missing_field_names_the_field_and_the_fields_given():
    with pytest.raises(CatalogueError,
                       match=r"'batch-norm\.title' in en\.toml needs the field 'scales'; "
                             r"given: n_scale, scale"):
        catalogue.text("batch-norm.title", "en", scale=4, n_scale=1)


def test_a_field_of_the_wrong_type_names_the_template_and_the_error():
    with pytest.raises(CatalogueError, match=r"'batch-norm\.panel' in en\.toml.*format code"):
        catalogue.text("batch-norm.panel", "en", scale="small")


def test_an_unknown_language_lists_the_languages_there_are():
    with pytest.raises(CatalogueError, match=rf"language 'fr'.*choose from {', '.join(LANGS)}"):
        catalogue.text("words.epoch", "fr")


def test_a_table_is_not_a_text():
    with pytest.raises(CatalogueError, match=r"'words' in en\.toml is a table"):
        catalogue.text("words", "en")


# -- another language -----------------------------------------------------------------------------


def _copy(tmp_path):
    for path in FOLDER.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_a_third_language_is_one_more_file(tmp_path):
    folder = _copy(tmp_path)
    english = (folder / "en.toml").read_text(encoding="utf-8")
    (folder / "xx.toml").write_text(
        english.replace('language = "English"', 'language = "Xx"').replace(
            'title = "Batch normalisation at {scales} weight scales"',
            'title = "{scales} xx-scales"'), encoding="utf-8")
    third = Catalogue(folder)
    assert third.langs == (*LANGS, "xx") and third.keys("xx") == third.keys("en")
    assert third.both("batch-norm.title", scales=4)["xx"] == "4 xx-scales"
    assert third.text("language", "xx") == "Xx"


def test_a_template_that_cites_itself_is_an_error_not_a_recursion(tmp_path):
    (tmp_path / "en.toml").write_text('[words]\na = "{words.b}"\nb = "x {words.a}"\n',
                                      encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"cites itself: words\.a → words\.b → words\.a"):
        Catalogue(tmp_path).text("words.a", "en")


def test_a_folder_without_language_files_is_an_error(tmp_path):
    with pytest.raises(CatalogueError, match=r"no language files"):
        Catalogue(tmp_path)
