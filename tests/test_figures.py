"""The lab's figures as a reader sees them: every experiment's figure, drawn through the registry
in both languages, is Korean throughout in Korean, draws every legend entry it lists, and carries
the book's figure number in a footer that overlaps nothing; and the figures that make a book
point (ReLU's spread, the precision limit, AdaDelta's tiny steps) make it."""

import json
import re

import matplotlib
import numpy as np
import pytest
from matplotlib.text import Text

from dlfs import catalogue
from dlfs.data import Data
from dlfs.experiments import (
    EXPERIMENTS,
    activation_histograms,
    gradient_descent,
    hyperparameter_search,
    optimizer_compare,
    sgd_function,
)
from dlfs.experiments.figures import close, stamp
from dlfs.experiments.lab import results_of

HANGUL = re.compile("[\uac00-\ud7a3]")
# Latin words a Korean figure may show: names of methods and data sets, function and type
# names the Korean edition writes in Latin letters too. Single letters (x, y, f, h, e in 1e-3)
# are formulas and always allowed.
ALLOWED_LATIN = {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdaDelta",
                 "ReLU", "tanh", "He", "Xavier", "MNIST", "Fashion", "float",
                 "gamma", "beta"}  # the book's parameter keys gamma1, beta1


def _synthetic_data() -> Data:
    rng = np.random.default_rng(0)
    x = rng.random((150, 12)).astype(np.float32)
    t = rng.integers(0, 3, 150)
    return Data("synthetic", "Synthetic", "tests", x[:120], t[:120], x[120:], t[120:])


@pytest.fixture(scope="module")
def results():
    """Every registered experiment's quick results, the data ones on a tiny synthetic set, as
    results.json holds them."""
    data = _synthetic_data()
    out = {}
    for name, experiment in EXPERIMENTS.items():
        out[name] = results_of(experiment, experiment.parameters(quick=True), 0, data)
    return out


def _drawn_texts(fig) -> list[Text]:
    """Every visible, non-empty text of ``fig`` but mathtext tick labels ($10^{-3}$)."""
    fig.canvas.draw()  # tick labels exist once drawn
    return [t for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and not t.get_text().startswith("$")]


def _untranslated(text: str) -> list[str]:
    return [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in ALLOWED_LATIN]


def _labelled(ax) -> list[str]:
    return [label for _, label in zip(*ax.get_legend_handles_labels())]


def _shown(handle) -> bool:
    """Whether a legend handle draws something a reader can match to a series."""
    if not handle.get_visible() or handle.get_alpha() == 0:
        return False
    if isinstance(handle, matplotlib.lines.Line2D):
        line = handle.get_linestyle() not in ("None", "", " ") and handle.get_linewidth() > 0
        marker = handle.get_marker() not in ("None", "", " ", None)
        return line or marker
    return True


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_figure_speaks_its_language_and_draws_every_legend_entry(name, lang, results):
    fig = EXPERIMENTS[name].plot(results[name], lang)
    try:
        texts = [t.get_text() for t in _drawn_texts(fig)]
        if lang == "ko":
            leftovers = {text: _untranslated(text) for text in texts if _untranslated(text)}
            assert not leftovers, f"untranslated English in the Korean figure: {leftovers}"
        else:
            assert not [t for t in texts if HANGUL.search(t)]
        figure_labels = {text.get_text() for legend in fig.legends for text in legend.texts}
        for ax in fig.axes:
            labels = _labelled(ax)
            legend = ax.get_legend()
            shown = {text.get_text() for text in legend.texts} if legend else set()
            if len(labels) >= 2:
                assert set(labels) <= shown | figure_labels, (ax.get_title(), labels)
        for legend in [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends:
            assert legend.get_visible()
            assert all(text.get_text().strip() for text in legend.texts)
            assert legend.legend_handles and all(_shown(h) for h in legend.legend_handles)
    finally:
        close(fig)


# -- the footer: the book's figure numbers, and the Fashion-MNIST note ----------------------------


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_footer_names_the_book_figure_and_overlaps_nothing(name, lang, results):
    fig = EXPERIMENTS[name].plot(results[name], lang)
    try:
        fig.canvas.draw()
        heights = [ax.get_position().height * fig.get_figheight() for ax in fig.axes]
        stamp(fig, name, lang, {"name": "fashion-mnist", "title": "Fashion-MNIST"})
        footer = fig.texts[-1]
        assert catalogue.text(f"{name}.figure", lang) in footer.get_text()
        assert f"§{EXPERIMENTS[name].section}" in footer.get_text()
        assert "Fashion-MNIST" in footer.get_text() and "\n" in footer.get_text()
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        box = footer.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width and box.y0 >= 0
        for ax in fig.axes:
            assert not _overlaps(box, ax.get_tightbbox(renderer)), ax.get_title()
        for text in _drawn_texts(fig):
            if text is not footer:
                assert not _overlaps(box, text.get_window_extent(renderer)), text.get_text()
        # Everything above keeps its size: the figure grew by the footer.
        assert [ax.get_position().height * fig.get_figheight() for ax in fig.axes] == \
            pytest.approx(heights)
    finally:
        close(fig)


@pytest.mark.slow
def test_the_fashion_note_comes_only_with_fashion_mnist_however_the_data_set_is_given(results):
    note = catalogue.text("figures.fashion", "ko")
    for dataset, wanted in ((None, False), ("mnist", False), ("fashion-mnist", True),
                            ({"name": "mnist"}, False), (_synthetic_data(), False)):
        fig = EXPERIMENTS["numerical-diff"].plot(results["numerical-diff"], "ko")
        stamp(fig, "numerical-diff", "ko", dataset)
        assert (note.split()[0] in fig.texts[-1].get_text()) == wanted, dataset
        close(fig)


@pytest.mark.slow
def test_stamp_refuses_an_unknown_experiment_a_second_stamp_and_an_odd_dataset(results):
    fig = EXPERIMENTS["numerical-diff"].plot(results["numerical-diff"], "en")
    with pytest.raises(ValueError, match="'numeric-diff' is not an experiment"):
        stamp(fig, "numeric-diff", "en")
    with pytest.raises(TypeError, match="dataset must be None, a data set's name"):
        stamp(fig, "numerical-diff", "en", dataset=3)
    stamp(fig, "numerical-diff", "en")
    with pytest.raises(ValueError, match="already stamped"):
        stamp(fig, "numerical-diff", "en")
    close(fig)


def test_every_experiment_names_its_book_figure_in_both_languages():
    for name in EXPERIMENTS:
        figure = catalogue.both(f"{name}.figure")
        assert figure["en"].startswith("Fig. ") or "no figure" in figure["en"], name
        assert figure["ko"].startswith("그림 ") or "그림 없음" in figure["ko"], name


# -- the figures that carry a point ---------------------------------------------------------------


@pytest.mark.slow
def test_relu_histograms_count_zeros_apart_so_he_keeps_the_spread_and_std_001_collapses(results):
    runs = results["activation-histograms"]["runs"]
    he, small = runs["relu/he"], runs["relu/0.01"]
    for run in (he, small):
        assert all(0.4 < zeros / run["samples"] < 0.6 for zeros in run["zeros"])
    last_he = activation_histograms._layer_counts(he)[-1]
    last_small = activation_histograms._layer_counts(small)[-1]
    # Without the zeros, He's last layer still fills the range; std 0.01's is one bar at 0.
    assert np.count_nonzero(last_he > 0.3 * last_he.max()) > len(last_he) // 2
    assert last_small[0] == last_small.sum() > 0
    fig = activation_histograms.plot(results["activation-histograms"], "ko")
    labels = [tick.get_text() for ax in fig.axes for tick in ax.get_yticklabels()]
    close(fig)
    share = he["zeros"][0] / he["samples"]
    assert any(label.startswith("1층\n0: ") and f"{share:.0%}" in label for label in labels)


@pytest.mark.slow
def test_the_flat_lr_10_curve_is_marked_as_the_precision_limit_not_convergence(results):
    result = results["gradient-descent"]
    fig = gradient_descent.plot(result, "en")
    notes = [t for t in fig.axes[1].texts if "not convergence" in t.get_text()]
    close(fig)
    assert len(notes) == 1
    distance = np.asarray(result["compare"]["10"]["distance"])
    flat = int(np.argmax(distance == distance[-1]))
    assert 0 < flat < len(distance) - 1 and distance[flat] > 1e12
    assert notes[0].xy == (flat, distance[flat])
    # A run that keeps diverging has no such note.
    growing = {**result, "compare": {"10": {"lr": 10.0, "distance": list(19.0 ** np.arange(20)),
                                            "final": [0, 0]}}}
    fig = gradient_descent.plot(growing, "en")
    assert not [t for t in fig.axes[1].texts if "not convergence" in t.get_text()]
    close(fig)


@pytest.mark.slow
def test_optimizer_paths_zoom_to_the_paths_and_show_adadelta_in_an_inset(results):
    result = results["optimizer-paths"]
    fig = EXPERIMENTS["optimizer-paths"].plot(result, "en")
    points = np.concatenate([np.asarray(run["path"]) for run in result["paths"].values()])
    panels = [ax for ax in fig.axes if ax.get_title()]
    adadelta = next(ax for ax in panels if ax.get_title().startswith("AdaDelta"))
    insets = [ax for panel in panels for ax in panel.child_axes]
    note = adadelta.get_xlabel()
    close(fig)
    for ax in panels:
        low, high = ax.get_ylim()
        assert low <= points[:, 1].min() and points[:, 1].max() <= high
        assert high - low < 10  # the book's ±10 would leave the paths a thin band
    path = np.asarray(result["paths"]["AdaDelta"]["path"])
    assert len(insets) == 1
    x_low, x_high = insets[0].get_xlim()
    assert x_low <= path[:, 0].min() and path[:, 0].max() <= x_high
    assert x_high - x_low < 1  # zoomed in on a path that moved a fraction of a unit
    assert "by design" in note and f"{np.abs(path[1] - path[0]).max():.1e}" in note


@pytest.mark.slow
def test_the_search_figure_says_which_line_is_validation_and_names_values_in_korean(results):
    fig = hyperparameter_search.plot(results["hyperparameter-search"], "ko")
    legend = fig.legends[0]
    styles = [h.get_linestyle() for h in legend.legend_handles]
    labels = [t.get_text() for t in legend.texts]
    xlabels = [ax.get_xlabel() for ax in fig.axes if ax.lines]
    close(fig)
    assert labels == [catalogue.word("validation_accuracy", "ko"),
                      catalogue.word("training_accuracy", "ko")]
    assert styles == ["-", "--"]
    assert xlabels and all("학습률" in x and "가중치 감소" in x for x in xlabels)


@pytest.mark.slow
def test_function_surface_gives_the_books_gradients(results):
    gradients = np.asarray(results["function-surface"]["gradients"])
    np.testing.assert_allclose(gradients, [[6.0, 8.0], [0.0, 4.0], [6.0, 0.0]], atol=1e-6)
    assert EXPERIMENTS["function-surface"].check(results["function-surface"]).held


@pytest.mark.slow
def test_the_sgd_function_claim_tells_the_valley_from_a_round_bowl(results):
    verdict = sgd_function.check(results["sgd-function"])
    assert verdict.held and verdict.numbers["share_over_45"] > 0.5
    # On x² + y² every −∇f points at the minimum: the same check must not hold there.
    x, y = np.asarray(results["sgd-function"]["x"]), np.asarray(results["sgd-function"]["y"])
    bowl = {"x": x, "y": y, "u": -2 * x, "v": -2 * y}
    assert sgd_function._angles(bowl).max() < 1e-3  # degrees; arccos near 1 is coarse
    assert not sgd_function.check(bowl).held


def test_the_comparison_figure_draws_nine_curves_when_there_are_more_runs_than_markers():
    losses = {f"run {i}": list(np.linspace(2.0, 0.5, 40) + 0.01 * i) for i in range(9)}
    assert len(losses) > len(optimizer_compare.MARKERS)
    fig = optimizer_compare.plot_losses(losses, "en", top=2.5)
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    markers = [line.get_marker() for line in ax.lines]
    close(fig)
    assert len(ax.lines) == 9 and labels == list(losses)
    assert markers[:8] == list(optimizer_compare.MARKERS) and markers[8] == markers[0]


# -- Korean fonts installed after matplotlib's font cache was built ------------------------------

_FONT_PROBE = """
import json, os, shutil, sys, warnings
import matplotlib
from matplotlib import font_manager
from dlfs.experiments import figures
figures.FONT_DIRS = (sys.argv[1],)
before = figures._installed_family()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    lang = figures.figure_lang("ko")
family = figures.korean_font()
path = family and font_manager.findfont(family, fallback_to_default=False)
print(json.dumps({"before": before, "family": family, "path": path, "lang": lang,
                  "warned": [str(w.message) for w in caught]}))
"""

_CACHE_WITHOUT_CJK = """
import os, sys
import matplotlib
from matplotlib import font_manager
everything = font_manager.findSystemFonts
font_manager.findSystemFonts = lambda *a, **k: [
    f for f in everything(*a, **k) if "CJK" not in f and "Nanum" not in f and "KR" not in f]
manager = font_manager.FontManager()
font_manager.json_dump(manager, os.path.join(
    matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json"))
"""


def _font_probe(tmp_path, install):
    """In a fresh MPLCONFIGDIR whose font cache was built with every CJK font hidden, with
    dlfs's font folders pointed at tmp_path/fonts (and no fc-list on the PATH): what
    figures finds after ``install`` copied font files into that folder (the learner's
    `apt-get install fonts-noto-cjk` after matplotlib's first use)."""
    import os
    import subprocess
    import sys

    fonts = tmp_path / "fonts"
    fonts.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": str(tmp_path)}
    subprocess.run([sys.executable, "-c", _CACHE_WITHOUT_CJK], env=env, check=True,
                   timeout=120)
    install(fonts)
    done = subprocess.run([sys.executable, "-c", _FONT_PROBE, str(fonts)], env=env,
                          check=True, timeout=120, capture_output=True, text=True)
    return json.loads(done.stdout)


def _a_cjk_font_file():
    from dlfs.experiments.figures import korean_font_files

    found = [path for path in korean_font_files() if "Regular" in path.name]
    if not found:
        pytest.fail("no CJK font is installed: `make test` installs Debian's fonts-noto-cjk")
    return found[0]


@pytest.mark.slow
def test_a_korean_font_installed_after_the_font_cache_was_built_is_found_by_its_file(tmp_path):
    import shutil

    source = _a_cjk_font_file()
    seen = _font_probe(tmp_path, lambda fonts: shutil.copy(source, fonts / source.name))
    assert seen["before"] is None  # the cache does not know the font
    assert seen["lang"] == "ko" and seen["warned"] == []
    assert seen["family"] in ("Noto Sans CJK KR", "NanumGothic", "Noto Serif CJK KR")
    assert seen["path"] == str(tmp_path / "fonts" / source.name)


@pytest.mark.slow
def test_with_no_korean_font_anywhere_korean_figures_fall_back_to_english_with_a_warning(
        tmp_path):
    seen = _font_probe(tmp_path, lambda fonts: (fonts / "notes.txt").write_text("no font"))
    assert seen["family"] is None and seen["lang"] == "en"
    assert seen["warned"] and "no CJK font found" in seen["warned"][0]

@pytest.mark.slow
def test_the_search_figure_keeps_a_0_to_1_scale_on_its_first_column_only(results):
    result = results["hyperparameter-search"]
    assert len(result["ranking"]) > 5  # two rows of panels
    fig = hyperparameter_search.plot(result, "en")
    fig.canvas.draw()
    panels = fig.axes[:10]  # rows of five; subplots come first, row by row
    ticks = [[label.get_text() for label in ax.get_yticklabels() if label.get_visible()]
             for ax in panels]
    close(fig)
    assert ticks[0] == ticks[5] == ["0.0", "0.5", "1.0"]
    assert all(tick == [] for i, tick in enumerate(ticks) if i % 5)


def _comparison(stuck_at: float | None, diverged: bool = False) -> dict:
    """optimizer-compare's results with the book's seven rules going below 1 and a learner's
    ("Mine") ending at ``stuck_at``, or climbing to inf."""
    steps = np.arange(200)
    losses = {label: list(0.2 + 2.1 * np.exp(-steps / 30)) for label in
              EXPERIMENTS["optimizer-compare"].params["optimizers"]}
    mine = stuck_at + (2.3 - stuck_at) * np.exp(-steps / 30) if not diverged else \
        np.r_[np.geomspace(2.3, 1e30, 190), [np.inf] * 10]
    losses["Mine"] = list(mine)
    optimizers = {**EXPERIMENTS["optimizer-compare"].params["optimizers"],
                  "Mine": ["file:mine.py::Mine", 0.1]}
    return {"losses": losses, "optimizers": optimizers}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_optimizer_stuck_at_a_loss_of_1_7_is_drawn_inside_the_comparison_axes(lang):
    fig = optimizer_compare.plot(_comparison(1.7), lang)
    fig.canvas.draw()
    limits = [ax.get_ylim() for ax in fig.axes]
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    close(fig)
    assert all(low == 0 and 1.7 * 1.05 < high < 2.3 for low, high in limits)
    assert notes == []  # nothing off the plot


@pytest.mark.slow
def test_a_diverged_optimizer_is_named_in_its_panel_and_the_others_keep_the_books_scale():
    fig = optimizer_compare.plot(_comparison(None, diverged=True), "en")
    limits = [ax.get_ylim() for ax in fig.axes]
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    close(fig)
    assert limits == [(0.0, 1.0), (0.0, 1.0)]
    assert notes == ["off the plot (y up to 1): Mine (yours) (lr = 0.1) diverged"]
