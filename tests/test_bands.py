"""Several seeds: a band (mean line, min–max shade) per series in every curve figure, and the
report's "held in k of n seeds" with the seeds that failed."""

import html
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.data import Data
from dlfs.experiments import EXPERIMENTS
from dlfs.experiments.figures import band, band_title, close
from dlfs.experiments.lab import results_of
from dlfs.report import build_report
from tests.conftest import make_blobs

# -- band ------------------------------------------------------------------------------------


def _limits(fill: PolyCollection) -> dict[float, tuple[float, float]]:
    """{x: (lowest, highest)} of the shaded polygon."""
    vertices = np.concatenate([path.vertices for path in fill.get_paths()])
    return {float(x): (vertices[vertices[:, 0] == x, 1].min(),
                       vertices[vertices[:, 0] == x, 1].max())
            for x in np.unique(vertices[:, 0])}


def test_band_draws_the_mean_and_a_fill_from_the_minimum_to_the_maximum_in_the_line_colour(rng):
    ys = [rng.standard_normal(12) for _ in range(3)]
    fig, ax = plt.subplots()
    line = band(ax, None, ys, label="SGD", color="C3")
    limits = _limits(line.band)
    close(fig)
    np.testing.assert_allclose(line.get_ydata(), np.mean(ys, axis=0))
    assert sorted(limits) == list(range(12))
    for x, (low, high) in limits.items():
        column = [y[int(x)] for y in ys]
        assert low == pytest.approx(min(column)) and high == pytest.approx(max(column))
    assert list(ax.collections) == [line.band]
    assert np.allclose(line.band.get_facecolor()[0][:3], to_rgb(line.get_color()))
    assert line.get_label() == "SGD"


def test_band_of_one_curve_is_that_curve_without_a_shade():
    fig, ax = plt.subplots()
    line = band(ax, np.arange(5) * 2, [[3.0, 2.0, 1.5, 1.2, 1.0]])
    close(fig)
    assert list(ax.collections) == [] and not hasattr(line, "band")
    assert list(line.get_xdata()) == [0, 2, 4, 6, 8]
    assert list(line.get_ydata()) == [3.0, 2.0, 1.5, 1.2, 1.0]


def test_a_run_stopped_early_or_with_nan_counts_only_where_it_has_finite_values():
    # the second run's loss became inf at iteration 2 and stopped (losses_over_iterations);
    # results.json keeps a NaN as null
    ys = [[2.0, 1.0, 0.5, 0.25], [2.2, 1.2, float("inf")], [1.8, None, 0.7, 0.35]]
    fig, ax = plt.subplots()
    line = band(ax, None, ys)
    limits = _limits(line.band)
    close(fig)
    np.testing.assert_allclose(line.get_ydata(), [2.0, 1.1, 0.6, 0.3])
    assert limits[1.0] == pytest.approx((1.0, 1.2)) and limits[3.0] == pytest.approx((0.25, 0.35))


def test_band_without_curves_says_so():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="at least one curve"):
        band(ax, None, [])
    close(fig)


# -- every curve experiment's plot_runs ---------------------------------------------------------

CURVES = ("two-layer-net", "optimizer-compare", "weight-init-compare", "batch-norm", "overfit",
          "weight-decay", "dropout")
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def blobs():
    x, t = make_blobs(np.random.default_rng(7), n_per_class=140, n_classes=3, dim=12,
                      spread=1.5)
    return Data("blobs", "Blobs", "tests", x[:300], t[:300], x[300:], t[300:])


@pytest.fixture(scope="module")
def seed_runs(blobs):
    """Each curve experiment's quick results for three seeds, through JSON as results.json
    keeps them."""
    runs = {}
    for name in CURVES:
        experiment = EXPERIMENTS[name]
        runs[name] = [
            results_of(experiment, experiment.parameters(quick=True), seed, blobs)
            for seed in SEEDS]
    return runs


def _series(fig):
    """(axes, lines drawn with a band) for every axes of ``fig`` that has any."""
    return [(ax, [line for line in ax.lines if hasattr(line, "band")]) for ax in fig.axes]


def test_every_curve_experiment_registers_plot_runs():
    assert all(EXPERIMENTS[name].plot_runs is not None for name in CURVES)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CURVES)
def test_plot_runs_draws_one_band_per_series_and_a_legend_entry_per_series(seed_runs, name,
                                                                           lang):
    runs = seed_runs[name]
    fig = EXPERIMENTS[name].plot_runs(runs, lang)
    series = _series(fig)
    title = band_title(len(runs), lang)
    legends = [legend for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
               if legend is not None]
    entries = [[text.get_text() for text in legend.get_texts()] for legend in legends]
    titles = [legend.get_title().get_text() for legend in legends]
    close(fig)
    for ax, lines in series:  # one shade per series, nothing else shaded
        assert [c for c in ax.collections if isinstance(c, PolyCollection)] == \
            [line.band for line in lines]
    bands = sum(len(lines) for _, lines in series)
    expected = {"two-layer-net": 3, "optimizer-compare": 4 + 2 + 3, "weight-init-compare": 3,
                "overfit": 2, "weight-decay": 4, "dropout": 4}
    if name == "batch-norm":  # two per scale, less those where every seed diverged
        expected[name] = sum(any(run["runs"][i][key] is not None for run in runs)
                             for i in range(len(runs[0]["scales"]))
                             for key in ("batchnorm", "plain"))
        assert entries == [[catalogue.text(f"batch-norm.{key}", lang, ) for key in
                            ("with", "without")]]
    else:
        for ax, lines in series:
            if ax.get_legend() is not None:
                assert [t.get_text() for t in ax.get_legend().get_texts()] == \
                    [line.get_label() for line in lines]
    assert bands == expected[name]
    assert entries and all(titles) and set(titles) == {title}


@pytest.mark.slow
@pytest.mark.parametrize("name", CURVES)
def test_one_run_is_drawn_without_bands_or_a_band_legend(seed_runs, name):
    fig = EXPERIMENTS[name].plot(seed_runs[name][0], "en")
    shaded = [c for ax in fig.axes for c in ax.collections if isinstance(c, PolyCollection)]
    legends = [legend for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
               if legend is not None]
    close(fig)
    assert shaded == []
    assert all(legend.get_title().get_text() == "" for legend in legends)


@pytest.mark.slow
def test_optimizer_compare_shows_the_books_four_apart_from_the_others(seed_runs):
    fig = EXPERIMENTS["optimizer-compare"].plot_runs(seed_runs["optimizer-compare"], "en")
    panels = [[line.get_label().split(" (")[0] for line in lines] for _, lines in _series(fig)]
    markers = {line.get_label().split(" (")[0]: line.get_marker() for line in fig.axes[0].lines}
    close(fig)
    assert panels == [["SGD", "Momentum", "AdaGrad", "Adam"],
                      ["SGD", "Adam", "Nesterov", "RMSprop", "AdaDelta"]]
    assert markers == {"SGD": "o", "Momentum": "x", "AdaGrad": "s", "Adam": "D"}  # the book's


@pytest.mark.slow
@pytest.mark.parametrize("name", ["weight-decay", "dropout"])
def test_the_remedy_figures_put_the_baseline_on_the_left_with_titles_in_words(seed_runs, name):
    for lang in LANGS:
        fig = EXPERIMENTS[name].plot_runs(seed_runs[name], lang)
        titles = [ax.get_title() for ax in fig.axes]
        close(fig)
        value = EXPERIMENTS[name].params["regulariser"]
        (_, value), = value.items()
        assert titles == [catalogue.text(f"{name}.without", lang),
                          catalogue.text(f"{name}.panel", lang, value=value)]
        assert not any(re.search(r"[{}_=']|ratio=|lambda", title.replace("λ = ", ""))
                       for title in titles)


@pytest.mark.slow
def test_the_texts_of_every_curve_experiment_hold_no_python_container(seed_runs):
    for name in CURVES:
        experiment = EXPERIMENTS[name]
        verdict = experiment.check(seed_runs[name][0])
        texts = [*experiment.texts(experiment.parameters(False)).values(), verdict.detail]
        for text in (t for texts_ in texts for t in texts_.values()):
            assert not re.search(r"\{'|': |\{\"|None", text), (name, text)


@pytest.mark.slow
def test_the_diverged_note_stands_clear_of_the_batch_norm_curve(seed_runs):
    runs = [json.loads(json.dumps(run)) for run in seed_runs["batch-norm"]]
    for run in runs:  # without batch norm diverges at the first scale in every seed
        run["runs"][0]["plain"] = None
    runs[1]["runs"][1]["plain"] = None  # and at the second in one of the three
    fig = EXPERIMENTS["batch-norm"].plot_runs(runs, "en")
    fig.canvas.draw()
    checked = 0
    for ax in fig.axes[:2]:
        notes = [text for text in ax.texts if "diverged" in text.get_text()]
        box = notes[0].get_window_extent()
        for line in ax.lines:
            points = ax.transData.transform(np.column_stack([line.get_xdata(),
                                                             line.get_ydata()]))
            inside = (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
            # every segment's vertical range under the note misses the note's box
            for a, b in zip(points[:-1], points[1:]):
                if box.x0 <= max(a[0], b[0]) and min(a[0], b[0]) <= box.x1:
                    assert max(a[1], b[1]) < box.y0 or min(a[1], b[1]) > box.y1
            checked += int(inside.any())
    texts = [text.get_text() for ax in fig.axes[:2] for text in ax.texts]
    close(fig)
    assert checked >= 1
    assert texts == ["without batch norm: diverged",
                     "without batch norm: diverged in 1 of 3 seeds"]


# -- the report: held in k of n seeds, the seeds that failed ------------------------------------


def _detail(gap, baseline):
    return catalogue.both("weight-decay.verdict", last=10, gap=gap, baseline=baseline,
                          value=0.1)


def _record(name="weight-decay", seeds=(3, 4, 5), gaps=((0.10, 0.20), (0.25, 0.20),
                                                        (0.12, 0.21)), deterministic=False):
    """A results.json record of several seeds, as the seeds spec writes it."""
    runs = [{"seed": seed, "results": {},
             "verdict": {"held": gap < baseline, "judged": True, "detail": _detail(gap, baseline),
                         "numbers": {"gap": gap, "baseline_gap": baseline}}}
            for seed, (gap, baseline) in zip(seeds, gaps)]
    first_failed = next((run for run in runs if not run["verdict"]["held"]), runs[0])
    return {
        "name": name, "chapter": 6, "section": "6.4.2", "seed": seeds[0], "seeds": list(seeds),
        "deterministic": deterministic, "quick": False, "wall_time_s": 2.0, "parameters": {},
        "figures": {}, "results": {}, "runs": runs,
        **{part: {lang: f"{part} {lang}" for lang in LANGS} for part in ("title", "claim",
                                                                         "about")},
        "verdict": {"held": all(run["verdict"]["held"] for run in runs), "judged": True,
                    "detail": first_failed["verdict"]["detail"],
                    "numbers": first_failed["verdict"]["numbers"],
                    "held_in": sum(run["verdict"]["held"] for run in runs), "of": len(runs),
                    "seeds": [{"seed": run["seed"], "held": run["verdict"]["held"],
                               "judged": True} for run in runs]}}


def _page(tmp_path, *records):
    for record in records:
        folder = tmp_path / record["name"]
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps(record), encoding="utf-8")
    page, count = build_report(tmp_path)
    assert count == len(records)
    return page


def _section(page, name):
    return re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)


def test_the_report_says_held_in_k_of_n_in_every_language_and_names_the_failing_seed(tmp_path):
    section = _section(_page(tmp_path, _record()), "weight-decay")
    assert "badge not-held" in section
    assert '<span lang="en">held in 2 of 3 seeds</span>' in section
    assert '<span lang="ko">시드 3개 중 2개에서 성립</span>' in section
    assert '<span lang="en">not held in seed 4</span>' in section
    assert '<span lang="ko">성립하지 않은 시드: 4</span>' in section
    # the verdict quotes seed 4's numbers, and says whose they are
    assert '<span lang="en">On these numbers (seed 4)</span>' in section
    assert html.escape(_detail(0.25, 0.20)["en"]) in section
    assert html.escape(_detail(0.25, 0.20)["ko"]) in section


def test_the_report_gives_the_numbers_of_every_failing_seed_the_verdict_does_not_quote(
        tmp_path):
    record = _record(gaps=((0.10, 0.20), (0.25, 0.20), (0.30, 0.21)))
    section = _section(_page(tmp_path, record), "weight-decay")
    assert '<span lang="en">held in 1 of 3 seeds</span>' in section
    assert '<span lang="en">not held in seeds 4, 5</span>' in section
    seed5 = {lang: html.escape(catalogue.text("report.seed_detail", lang, seed=5,
                                              detail=_detail(0.30, 0.21)[lang]))
             for lang in LANGS}
    assert f'<li><span lang="en">{seed5["en"]}</span><span lang="ko">{seed5["ko"]}</span></li>' \
        in section
    assert "seed 4: " not in section  # its numbers are the verdict's, shown once


def test_a_claim_held_in_every_seed_has_no_failing_line_and_the_header_lists_every_seed(
        tmp_path):
    record = _record(gaps=((0.10, 0.20), (0.11, 0.20), (0.12, 0.21)))
    page = _page(tmp_path, record)
    section = _section(page, "weight-decay")
    assert "badge held" in section and '<span lang="en">held in 3 of 3 seeds</span>' in section
    assert 'class="seeds"' not in section
    assert re.search(r"</span>\s*3, 4, 5 ·", page)


def test_a_deterministic_record_says_one_run_stands_for_every_seed(tmp_path):
    record = _record(name="optimizer-paths", seeds=(0, 1, 2), gaps=((0.1, 0.2),),
                     deterministic=True)
    section = _section(_page(tmp_path, record), "optimizer-paths")
    assert _spans("report.deterministic") in section
    assert "held in" not in section


def _spans(key, **fields):
    return "".join(f'<span lang="{lang}">{html.escape(catalogue.text(key, lang, **fields))}'
                   "</span>" for lang in LANGS)


@pytest.mark.parametrize("broken", [
    {"held_in": "2"}, {"held_in": 4}, {"of": True}, {"held_in": -1},
])
def test_a_record_whose_seed_fields_are_wrong_is_left_out_with_a_reason(tmp_path, broken):
    # records.load_record checks held_in/of: a file that is not what dlfs writes is skipped,
    # with one line saying why, rather than rendered with numbers nobody can trust.
    record = _record()
    record["verdict"].update(broken)
    folder = tmp_path / record["name"]
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(record), encoding="utf-8")
    skipped = []
    page, count = build_report(tmp_path, on_skip=skipped.append)
    assert count == 0 and 'id="weight-decay"' not in page
    assert len(skipped) == 1
    assert "held_in" in str(skipped[0]) or '"of"' in str(skipped[0]) or "of" in str(skipped[0])


def test_a_single_seed_record_says_held_in_1_of_1_seed(tmp_path):
    record = _record(seeds=(7,), gaps=((0.1, 0.2),))
    section = _section(_page(tmp_path, record), "weight-decay")
    assert '<span lang="en">held in 1 of 1 seed</span>' in section
    assert "(seed 7)" not in section


@pytest.mark.slow
def test_the_weight_init_legend_says_std_in_every_language(seed_runs):
    for lang, wanted in (("en", "std=0.01"), ("ko", "표준편차=0.01")):
        fig = EXPERIMENTS["weight-init-compare"].plot_runs(seed_runs["weight-init-compare"], lang)
        labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        close(fig)
        assert labels == [wanted, "Xavier", "He"]
