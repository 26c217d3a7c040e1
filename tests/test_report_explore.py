"""The report's live figures in a real headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium): a control moved by the keyboard redraws the lab's numbers from results.json,
the address holds the view and reopens it, the language switch keeps it, a bad address falls
back to the default view with a note, and the page asks the network for nothing."""

import json
import shutil
import struct
import time

import pytest
from conftest import headless_chromium

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.cli import main
from dlfs.explore import VIEWS, still, view
from dlfs.report import build_report

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

pytestmark = pytest.mark.slow  # a real browser on a report of real runs: seconds each

LIVE = ("gradient-descent", "optimizer-paths", "activation-histograms", "batch-norm",
        "hyperparameter-search", "weight-decay", "dropout")
COMPARED = ("optimizer-compare", "weight-init-compare")  # run over two seeds: bands
# batch-norm's 16 scales are its book figure, the comparisons' curves theirs; the others' grids
# are new
GRIDS = ("gradient-descent", "optimizer-paths", "activation-histograms", "weight-decay",
         "dropout")

pytestmark = pytest.mark.slow  # a real browser

# The data of every item a view draws in its marks of one type and name (the path's points).
PLOTTED = """
var view = window.dlfsExplore.views[arguments[0]][arguments[1]], out = [];
var type = arguments[2], name = arguments[3];
(function walk(node) {
  if (!node) { return; }
  if (node.marktype === type && node.name === name) {
    node.items.forEach(function (item) { out.push(item.datum); });
  }
  (node.items || []).forEach(walk);
})(view.scenegraph().root);
return out;"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    # quick: batch-norm trains 4 scales × 2 networks for 2 epochs on 200 samples; the other
    # three have no quick settings
    assert main(["run", *LIVE, "--quick", "--out", str(out)]) == 0
    assert main(["run", *COMPARED, "--quick", "--seeds", "2", "--out", str(out)]) == 0
    assert main(["report", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = headless_chromium(tmp_path_factory.mktemp("profile"), logs=True)
    yield driver
    driver.quit()


def _open(browser, page, fragment=""):
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(page.as_uri() + fragment)
    deadline = time.monotonic() + 30
    while not browser.execute_script("return !!(window.dlfsExplore && window.dlfsExplore.ready)"):
        assert time.monotonic() < deadline, "the live figures never became ready"
        time.sleep(0.1)
    assert browser.execute_script("return window.dlfsExplore.errors") == []


def _signal(browser, name, lang, signal):
    return browser.execute_script(
        "return window.dlfsExplore.views[arguments[0]][arguments[1]].signal(arguments[2])",
        name, lang, signal)


def _plotted(browser, name, lang, mark=("line", "path_marks"), order="step"):
    # a view redraws asynchronously; wait until it has run
    browser.execute_script("return window.dlfsExplore.views[arguments[0]][arguments[1]]"
                           ".runAsync().then(function () { return true; })", name, lang)
    points = browser.execute_script(PLOTTED, name, lang, *mark)
    return sorted(points, key=lambda point: [point[key] for key in order.split()])


def _control(browser, name, lang, control):
    return browser.find_element(
        By.CSS_SELECTOR, f'.explore-view[data-name="{name}"][lang="{lang}"] [name="{control}"]')


def _results(lab, name):
    return json.loads((lab / name / "results.json").read_text(encoding="utf-8"))["results"]


def test_arrow_keys_on_the_learning_rate_slider_draw_that_rates_path_from_results_json(
        lab, browser):
    _open(browser, lab / "report.html")
    grid = _results(lab, "gradient-descent")["explore"]
    before = _signal(browser, "gradient-descent", "en", "lr_index")
    assert grid[before]["lr"] == 0.1  # the book's rate is the first view
    slider = _control(browser, "gradient-descent", "en", "lr_index")
    slider.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    after = _signal(browser, "gradient-descent", "en", "lr_index")
    assert after == before + 2
    points = _plotted(browser, "gradient-descent", "en")
    assert [[p["x0"], p["x1"]] for p in points] == grid[after]["path"]
    assert {p["lr"] for p in points} == {grid[after]["lr"]}
    assert browser.current_url.endswith(f"#gradient-descent:lr={grid[after]['lr']:.4g}")


def test_choosing_a_rule_and_a_rate_draws_that_rules_path_at_that_rate_from_results_json(
        lab, browser):
    _open(browser, lab / "report.html")
    grid = _results(lab, "optimizer-paths")["explore"]
    Select(_control(browser, "optimizer-paths", "en", "rule")).select_by_value("SGD")
    _control(browser, "optimizer-paths", "en", "lr_index").send_keys(Keys.ARROW_LEFT)
    index = _signal(browser, "optimizer-paths", "en", "lr_index")
    assert _signal(browser, "optimizer-paths", "en", "rule") == "SGD" and index == 5
    points = _plotted(browser, "optimizer-paths", "en")
    assert [[p["x"], p["y"]] for p in points] == grid["SGD"]["runs"][index]["path"]
    assert browser.current_url.endswith(
        f"#optimizer-paths:rule=sgd,lr={grid['SGD']['runs'][index]['lr']:.4g}")


def test_choosing_an_activation_and_a_weight_scale_draws_its_histograms_from_results_json(
        lab, browser):
    _open(browser, lab / "report.html")
    results = _results(lab, "activation-histograms")
    Select(_control(browser, "activation-histograms", "en", "activation")).select_by_value("relu")
    Select(_control(browser, "activation-histograms", "en", "init")).select_by_value("0.3")
    bars = _plotted(browser, "activation-histograms", "en", ("rect", "layers_marks"),
                    "layer left")
    run = results["explore"]["relu/0.3"]  # a scale of the report's grid, not the book's
    expected = [[k + 1, run["edges"][b], count - (run["zeros"][k] if b == 0 else 0)]
                for k, counts in enumerate(run["histograms"]) for b, count in enumerate(counts)]
    assert [[bar["layer"], bar["left"], bar["shown"]] for bar in bars] == expected
    assert browser.current_url.endswith("#activation-histograms:activation=relu,init=0.3")


def test_the_weight_scale_slider_draws_both_networks_curves_at_that_scale_from_results_json(
        lab, browser):
    _open(browser, lab / "report.html")
    results = _results(lab, "batch-norm")
    _control(browser, "batch-norm", "en", "scale_index").send_keys(Keys.ARROW_RIGHT)
    assert _signal(browser, "batch-norm", "en", "scale_index") == 1
    curves = _plotted(browser, "batch-norm", "en", ("line", "curves_marks"), "network epoch")
    drawn = {key: [c["accuracy"] for c in curves if c["network"] == key]
             for key in ("with", "without")}
    assert {c["label"] for c in curves} <= {catalogue.text(f"batch-norm.{key}", "en")
                                            for key in drawn}
    run = results["runs"][1]
    assert drawn == {"with": run["batchnorm"] or [], "without": run["plain"] or []}
    assert drawn["with"]
    assert browser.current_url.endswith(f"#batch-norm:scale={results['scales'][1]:.4g}")


def test_the_trials_plane_lists_the_five_best_trials_of_results_json_before_any_drag(
        lab, browser):
    _open(browser, lab / "report.html")
    trials = [t for t in _results(lab, "hyperparameter-search")["trials"]
              if t["state"] == "COMPLETE"]
    best = _plotted(browser, "hyperparameter-search", "en", ("text", "best_marks"), "rank")
    ranked = sorted(trials, key=lambda t: (-t["value"], t["number"]))
    assert [b["number"] for b in best] == [t["number"] for t in ranked[:5]]
    assert [b["accuracy"] for b in best] == [t["value"] for t in ranked[:5]]
    points = _plotted(browser, "hyperparameter-search", "en", ("symbol", "trials_marks"),
                      "number")
    assert [[p["x"], p["y"], p["accuracy"]] for p in points] == [
        [t["params"]["lr"], t["params"]["weight_decay_lambda"], t["value"]]
        for t in sorted(trials, key=lambda t: t["number"])]


# Each trial's point: its datum and where it is drawn, in the view's own pixels.
DRAWN = """
var view = window.dlfsExplore.views[arguments[0]][arguments[1]], out = [];
(function walk(node, dx, dy) {
  if (!node) { return; }
  (node.items || []).forEach(function (item) {
    if (node.marktype === "symbol" && node.name === "trials_marks") {
      out.push({number: item.datum.number, x: dx + item.x, y: dy + item.y});
    } else if (node.marktype === "group") {  // a group's items draw from its corner
      (item.items || []).forEach(function (mark) {
        walk(mark, dx + (item.x || 0), dy + (item.y || 0));
      });
    }
  });
})(view.scenegraph().root, 0, 0);
var box = view.container().querySelector("canvas, svg").getBoundingClientRect();
return {points: out, left: box.left + view.origin()[0], top: box.top + view.origin()[1]};"""


def _drag(browser, start, end):
    """A real drag of the mouse, pressed at ``start`` and released at ``end`` (page pixels),
    through Chromium's input (Selenium's pointer actions start no brush in headless Chromium)."""
    def mouse(kind, x, y, buttons):
        browser.execute_cdp_cmd("Input.dispatchMouseEvent", {
            "type": kind, "x": x, "y": y, "button": "left", "buttons": buttons,
            "clickCount": 1})
    mouse("mouseMoved", *start, 0)
    mouse("mousePressed", *start, 1)
    for k in range(1, 6):
        mouse("mouseMoved", start[0] + (end[0] - start[0]) * k / 5,
              start[1] + (end[1] - start[1]) * k / 5, 1)
    mouse("mouseReleased", *end, 0)


@pytest.mark.parametrize("around", [1, 3])
def test_dragging_a_box_over_the_trials_lists_the_best_trials_inside_it_from_results_json(
        lab, browser, around):
    _open(browser, lab / "report.html", "#hyperparameter-search:")
    browser.execute_script("window.dlfsExplore.views['hyperparameter-search']['en']"
                           ".container().scrollIntoView({block: 'center'})")
    drawn = browser.execute_script(DRAWN, "hyperparameter-search", "en")
    points = sorted(drawn["points"], key=lambda p: (p["x"], p["y"]))
    assert len(points) >= 4
    # A box around the `around` leftmost points, with room for the view's few pixels of padding
    chosen = points[:around]
    left, right = min(p["x"] for p in chosen) - 12, max(p["x"] for p in chosen) + 12
    top, bottom = min(p["y"] for p in chosen) - 12, max(p["y"] for p in chosen) + 12
    _drag(browser, (drawn["left"] + left, drawn["top"] + top),
          (drawn["left"] + right, drawn["top"] + bottom))
    best = _plotted(browser, "hyperparameter-search", "en", ("text", "best_marks"), "rank")
    brush = _signal(browser, "hyperparameter-search", "en", "brush")
    # The trials of results.json whose lr and λ lie in the box the drag drew, best first
    trials = [t for t in _results(lab, "hyperparameter-search")["trials"]
              if t["state"] == "COMPLETE"]
    inside = sorted((t for t in trials
                     if min(brush["x"]) <= t["params"]["lr"] <= max(brush["x"])
                     and min(brush["y"]) <= t["params"]["weight_decay_lambda"] <= max(brush["y"])),
                    key=lambda t: (-t["value"], t["number"]))
    assert 1 <= len(inside) < len(trials)  # the drag chose some trials, not all
    assert {p["number"] for p in chosen} <= {t["number"] for t in inside}
    assert [b["number"] for b in best] == [t["number"] for t in inside[:5]]
    assert [b["accuracy"] for b in best] == [t["value"] for t in inside[:5]]


def test_an_address_with_a_view_opens_the_report_with_its_controls_and_numbers(lab, browser):
    grid = _results(lab, "optimizer-paths")["explore"]
    lr = grid["Momentum"]["runs"][9]["lr"]
    _open(browser, lab / "report.html", f"#optimizer-paths:rule=momentum,lr={lr:.4g}")
    for lang in LANGS:
        assert _signal(browser, "optimizer-paths", lang, "rule") == "Momentum"
        assert _signal(browser, "optimizer-paths", lang, "lr_index") == 9
        points = _plotted(browser, "optimizer-paths", lang)
        assert [[p["x"], p["y"]] for p in points] == grid["Momentum"]["runs"][9]["path"]
    assert _control(browser, "optimizer-paths", "en", "rule").get_attribute("value") == \
        "Momentum"
    assert _control(browser, "optimizer-paths", "en", "lr_index").get_attribute("value") == "9"
    assert browser.execute_script("return window.dlfsExplore.fallback") is None
    assert not browser.find_element(By.ID, "explore-note").is_displayed()


def test_switching_the_language_keeps_every_control_where_it_was(lab, browser, tmp_path):
    _open(browser, lab / "report.html")
    Select(_control(browser, "optimizer-paths", "en", "rule")).select_by_value("AdaGrad")
    _control(browser, "optimizer-paths", "en", "lr_index").send_keys(Keys.ARROW_RIGHT)
    _control(browser, "gradient-descent", "en", "lr_index").send_keys(Keys.END)
    address = browser.current_url
    browser.find_element(By.CSS_SELECTOR, '[data-set-lang="ko"]').click()
    korean = _control(browser, "optimizer-paths", "ko", "rule")
    assert korean.is_displayed()
    assert not _control(browser, "optimizer-paths", "en", "rule").is_displayed()
    assert korean.get_attribute("value") == "AdaGrad"
    assert _control(browser, "optimizer-paths", "ko", "lr_index").get_attribute("value") == "7"
    assert _control(browser, "gradient-descent", "ko", "lr_index").get_attribute("value") == \
        str(len(_results(lab, "gradient-descent")["explore"]) - 1)
    assert browser.current_url == address
    label = _control(browser, "optimizer-paths", "ko", "rule").find_element(By.XPATH, "..")
    assert catalogue.text("explore.rule", "ko") in label.text


def test_the_page_asks_the_network_for_nothing(lab, browser):
    _open(browser, lab / "report.html", "#optimizer-paths:rule=adam,lr=0.3")
    _control(browser, "optimizer-paths", "en", "lr_index").send_keys(Keys.ARROW_RIGHT)
    requests = [json.loads(entry["message"])["message"] for entry in
                browser.get_log("performance")]
    urls = [message["params"]["request"]["url"] for message in requests
            if message["method"] == "Network.requestWillBeSent"]
    assert urls and all(url.startswith(("file:", "data:")) for url in urls), urls
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert [name for name in resources if not name.startswith(("file:", "data:"))] == []


@pytest.mark.parametrize("fragment", [
    "#optimizer-paths:rule=nadam,lr=0.3",  # no such rule
    "#optimizer-paths:rule=adam,lr=99",  # a rate off the grid
    "#optimizer-paths:speed=3",  # an unknown key
    "#no-such-figure:lr=0.1",  # an unknown figure
    "#optimizer-paths:rule=adam,rule=sgd",  # a key twice
    "#optimizer-paths:%E0%A4%A",  # not even percent-encoding
])
def test_a_hand_edited_address_falls_back_to_the_default_view_and_says_so(lab, browser,
                                                                          fragment):
    _open(browser, lab / "report.html", fragment)
    assert browser.execute_script("return window.dlfsExplore.fallback") is not None
    note = browser.find_element(By.ID, "explore-note")
    assert note.is_displayed()
    assert "default view" in note.text
    assert _signal(browser, "optimizer-paths", "en", "rule") == "Adam"
    assert _signal(browser, "optimizer-paths", "en", "lr_index") == 6
    assert _signal(browser, "gradient-descent", "en", "lr_index") == 4
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_screenshots_in_both_languages_show_the_live_figures(lab, browser, tmp_path):
    _open(browser, lab / "report.html", "#optimizer-paths:rule=sgd,lr=0.95")
    for lang in LANGS:
        browser.find_element(By.CSS_SELECTOR, f'[data-set-lang="{lang}"]').click()
        live = browser.find_element(
            By.CSS_SELECTOR, f'.explore-view[data-name="optimizer-paths"][lang="{lang}"]')
        browser.execute_script("arguments[0].scrollIntoView()", live)
        shot = tmp_path / f"optimizer-paths-{lang}.png"
        assert live.screenshot(str(shot))
        width, height = struct.unpack(">II", shot.read_bytes()[16:24])
        assert width > 400 and height > 200
        assert catalogue.text("explore.paths_title", lang) in live.text


def test_an_older_results_folder_without_grids_keeps_its_still_figures_and_says_why(lab,
                                                                                  tmp_path):
    for name in GRIDS:
        shutil.copytree(lab / name, tmp_path / name)
        record = json.loads((tmp_path / name / "results.json").read_text(encoding="utf-8"))
        del record["results"]["explore"]  # what a results.json of dlfs before the grids holds
        for run in record.get("runs", []):
            run["results"].pop("explore", None)
        (tmp_path / name / "results.json").write_text(json.dumps(record), encoding="utf-8")
    page, count = build_report(tmp_path)
    assert count == len(GRIDS)
    assert 'class="explore-view"' not in page and "vegaEmbed" not in page
    assert page.count('<img lang="') == len(GRIDS) * len(LANGS)
    for lang in LANGS:
        assert catalogue.text("explore.no_grid", lang).split(".")[0] in page


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_each_live_figure_draws_as_a_still_image_from_the_same_spec(lab, name):
    record = json.loads((lab / name / "results.json").read_text(encoding="utf-8"))
    for lang in LANGS:
        spec, _ = view(record, lang)
        png = still(spec)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 400 and height > 250
        svg = still(spec, "svg")
        title = catalogue.text({"gradient-descent": "explore.path",
                                "optimizer-paths": "explore.paths_title",
                                "activation-histograms": "explore.layer",
                                "batch-norm": "batch-norm.with",
                                "hyperparameter-search": "explore.best_in_brush",
                                "weight-decay": "live.gaps_title",
                                "dropout": "live.gaps_title",
                                "optimizer-compare": "live.compare_title",
                                "weight-init-compare": "live.compare_title"}[name], lang)
        assert title.replace("<", "&lt;") in svg


def test_the_report_with_live_figures_stays_under_five_megabytes(lab):
    assert (lab / "report.html").stat().st_size < 5 * 2**20


@pytest.mark.parametrize("name", [name for name in LIVE + COMPARED if name != "batch-norm"])
def test_the_view_the_notebooks_and_docs_link_to_opens_without_falling_back(lab, browser, name):
    from dlfs.explore import EXAMPLES

    _open(browser, lab / "report.html", "#" + EXAMPLES[name])
    assert browser.execute_script("return window.dlfsExplore.fallback") is None
    # the comparisons' seeds select joins the address where the run had several seeds
    assert browser.current_url.endswith("#" + EXAMPLES[name]) or (
        name in COMPARED and browser.current_url.endswith("#" + EXAMPLES[name] + ",seeds=band"))


def test_the_batch_norm_view_the_notebook_links_to_is_one_of_the_books_scales():
    from dlfs.experiments import EXPERIMENTS
    from dlfs.experiments.batch_norm import _scales
    from dlfs.explore import EXAMPLES

    scale = float(EXAMPLES["batch-norm"].split("scale=")[1])
    scales = _scales(EXPERIMENTS["batch-norm"].parameters(quick=False))
    assert any(abs(scale - s) <= 1e-3 * s for s in scales)


# -- weight-decay and dropout: a slider over the grid -------------------------------------------


def _curves(browser, name, lang):
    points = _plotted(browser, name, lang, ("line", "curves_marks"), "set epoch")
    return {which: [p["accuracy"] for p in points if p["set"] == which]
            for which in ("train", "test")}


def _caption(browser, name, lang):
    texts = browser.find_elements(
        By.CSS_SELECTOR, f'.explore-view[data-name="{name}"][lang="{lang}"] svg text')
    return " ".join(text.text for text in texts)


def test_the_lambda_slider_draws_that_lambdas_train_and_test_curves_and_gap_from_results_json(
        lab, browser):
    _open(browser, lab / "report.html")
    grid = _results(lab, "weight-decay")["explore"]
    assert grid["runs"][_signal(browser, "weight-decay", "en", "value_index")]["value"] == 0.1
    _control(browser, "weight-decay", "en", "value_index").send_keys(Keys.ARROW_RIGHT)
    assert _signal(browser, "weight-decay", "en", "value_index") == 3
    run = grid["runs"][3]
    assert _curves(browser, "weight-decay", "en") == {"train": run["train_acc"],
                                                     "test": run["test_acc"]}
    assert f"{run['gap']:.3f}" in _caption(browser, "weight-decay", "en")
    chosen = _plotted(browser, "weight-decay", "en", ("symbol", "chosen_marks"), "value")
    assert [(p["value"], p["gap"]) for p in chosen] == [(run["value"], run["gap"])]
    assert browser.current_url.endswith("#weight-decay:lambda=0.3")
    _control(browser, "weight-decay", "en", "value_index").send_keys(Keys.HOME)
    baseline = grid["runs"][0]  # λ = 0: the baseline's first epochs
    assert baseline["value"] == 0
    assert _curves(browser, "weight-decay", "en")["test"] == baseline["test_acc"] == \
        _results(lab, "weight-decay")["baseline"]["test_acc"][:grid["epochs"] + 1]


def test_an_address_with_a_dropout_ratio_opens_that_ratios_curves_in_both_languages(lab,
                                                                                    browser):
    grid = _results(lab, "dropout")["explore"]
    _open(browser, lab / "report.html", "#dropout:ratio=0.5")
    assert browser.execute_script("return window.dlfsExplore.fallback") is None
    run = grid["runs"][3]
    assert run["value"] == 0.5
    for lang in LANGS:
        assert _signal(browser, "dropout", lang, "value_index") == 3
        assert _curves(browser, "dropout", lang) == {"train": run["train_acc"],
                                                     "test": run["test_acc"]}
    assert _control(browser, "dropout", "en", "value_index").get_attribute("value") == "3"
    browser.find_element(By.CSS_SELECTOR, '[data-set-lang="ko"]').click()
    label = _control(browser, "dropout", "ko", "value_index").find_element(By.XPATH, "..")
    assert catalogue.text("live.ratio_index", "ko", count=4) in label.text
    assert catalogue.text("live.ratio_is", "ko", value="0.5") in _caption(browser, "dropout",
                                                                          "ko")


# -- optimizer-compare and weight-init-compare: curves on and off, seeds as a band or one -------


def _smoothed(losses):
    from dlfs.explore import smoothed

    return smoothed(losses)


def _record(lab, name):
    return json.loads((lab / name / "results.json").read_text(encoding="utf-8"))


def test_a_rules_box_switched_off_by_the_keyboard_takes_its_curve_away(lab, browser):
    _open(browser, lab / "report.html")
    record = _record(lab, "optimizer-compare")
    labels = list(record["results"]["losses"])
    drawn = {p["k"] for p in _plotted(browser, "optimizer-compare", "en",
                                      ("line", "means_marks"), "k it")}
    assert drawn == set(range(len(labels)))
    box = _control(browser, "optimizer-compare", "en", "show_0")  # SGD
    assert box.get_attribute("type") == "checkbox"
    box.send_keys(Keys.SPACE)
    assert _signal(browser, "optimizer-compare", "en", "show_0") is False
    means = _plotted(browser, "optimizer-compare", "en", ("line", "means_marks"), "k it")
    assert {p["k"] for p in means} == set(range(1, len(labels)))
    adam = labels.index("Adam")
    curves = [_smoothed(run["results"]["losses"]["Adam"]) for run in record["runs"]]
    assert [p["mean"] for p in means if p["k"] == adam] == pytest.approx(
        [sum(values) / len(values) for values in zip(*curves)], rel=1e-12)
    assert [(p["low"], p["high"]) for p in _plotted(
        browser, "optimizer-compare", "en", ("area", "bands_marks"), "k it") if p["k"] == adam
    ] == [(min(values), max(values)) for values in zip(*curves)]
    assert "#optimizer-compare:sgd=off,momentum=on" in browser.current_url
    assert _signal(browser, "optimizer-compare", "ko", "show_0") is False  # the other language


def test_choosing_one_seed_draws_that_seeds_smoothed_losses_from_results_json(lab, browser):
    _open(browser, lab / "report.html")
    record = _record(lab, "weight-init-compare")
    Select(_control(browser, "weight-init-compare", "en", "seeds")).select_by_value("1")
    assert _plotted(browser, "weight-init-compare", "en", ("line", "means_marks"), "k it") == []
    points = _plotted(browser, "weight-init-compare", "en", ("line", "seed_marks"), "k it")
    (one,) = [run for run in record["runs"] if run["seed"] == 1]
    for k, label in enumerate(one["results"]["losses"]):
        assert [p["loss"] for p in points if p["k"] == k] == \
            _smoothed(one["results"]["losses"][label])
    assert browser.current_url.endswith("seeds=1")


def test_an_address_switches_curves_off_and_picks_a_seed_in_both_languages(lab, browser):
    record = _record(lab, "weight-init-compare")
    _open(browser, lab / "report.html", "#weight-init-compare:std_0.01=off,seeds=0")
    assert browser.execute_script("return window.dlfsExplore.fallback") is None
    (zero,) = [run for run in record["runs"] if run["seed"] == 0]
    for lang in LANGS:
        assert _signal(browser, "weight-init-compare", lang, "show_0") is False
        assert _signal(browser, "weight-init-compare", lang, "seeds") == "0"
        points = _plotted(browser, "weight-init-compare", lang, ("line", "seed_marks"), "k it")
        assert {p["k"] for p in points} == {1, 2}
        assert [p["loss"] for p in points if p["k"] == 2] == \
            _smoothed(zero["results"]["losses"]["He"])
    assert not _control(browser, "weight-init-compare", "en", "show_0").is_selected()
    assert _control(browser, "weight-init-compare", "en", "show_1").is_selected()


@pytest.mark.parametrize("fragment", [
    "#weight-decay:lambda=0.07",  # a λ off the grid
    "#dropout:ratio=0.2,lambda=0.1",  # another view's key
    "#optimizer-compare:sgd=maybe",  # neither on nor off
    "#weight-init-compare:seeds=9",  # a seed that did not run
])
def test_a_hand_edited_address_for_the_new_views_falls_back_and_says_so(lab, browser, fragment):
    _open(browser, lab / "report.html", fragment)
    assert browser.execute_script("return window.dlfsExplore.fallback") is not None
    assert browser.find_element(By.ID, "explore-note").is_displayed()
    assert _signal(browser, "weight-decay", "en", "value_index") == 2
    assert _signal(browser, "optimizer-compare", "en", "show_0") is True
    assert _signal(browser, "weight-init-compare", "en", "seeds") == "band"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_no_slider_shows_its_grid_position_as_if_it_were_the_value(lab, browser):
    # The sliders move over a grid's positions (lr_index 0…14); Vega writes the position beside
    # the slider ("4"), which a learner reads as the learning rate. The figure says the value.
    _open(browser, lab / "report.html")
    positions = browser.find_elements(By.CSS_SELECTOR, ".explore-view input[type=range] + span")
    assert positions, "no slider found: Vega's markup changed"
    assert not any(position.is_displayed() for position in positions)
