"""Book 6.2.2–6.2.3 (weight_init_activation_histogram.py): activations through 5 layers."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.functions import ACTIVATIONS
from dlfs.init import weight_scale

RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 1.0)}


def run(ctx, params):
    results = {}
    nodes, layers = params["node_num"], params["hidden_layer_size"]
    for a, activation in enumerate(params["activations"]):
        for i, init in enumerate(params["inits"]):
            rng = ctx.rng(a, i)
            x = rng.standard_normal((params["samples"], nodes))
            histograms, stds, saturated = [], [], []
            for _ in range(layers):
                w = rng.standard_normal((nodes, nodes)) * weight_scale(init, nodes, nodes)
                x = ACTIVATIONS[activation](x @ w)
                # The book's range=(0, 1) would cut tanh's negative half; tanh gets (−1, 1).
                counts, edges = np.histogram(x, bins=params["bins"], range=RANGES[activation])
                histograms.append(counts)
                stds.append(float(x.std()))
                saturated.append(float(np.mean((x < 0.1) | (x > 0.9))))
            results[f"{activation}/{init}"] = {
                "activation": activation, "init": init, "histograms": histograms,
                "edges": edges, "std": stds, "saturated": saturated}
    return {"runs": results}


def plot(results, lang):
    runs = results["runs"]
    activations = list(dict.fromkeys(r["activation"] for r in runs.values()))
    inits = list(dict.fromkeys(str(r["init"]) for r in runs.values()))
    fig, axes = figures.figure(lang, len(activations), len(inits),
                               figsize=(3.2 * len(inits), 2.6 * len(activations)), squeeze=False)
    cmap = figures.plt.get_cmap("viridis")
    for r, activation in enumerate(activations):
        for c, init in enumerate(inits):
            ax = axes[r, c]
            run = runs[f"{activation}/{init}"]
            edges = np.asarray(run["edges"])
            for k, counts in enumerate(run["histograms"]):
                ax.stairs(counts, edges, color=cmap(k / max(1, len(run["histograms"]) - 1)),
                          label={"en": f"layer {k + 1}", "ko": f"{k + 1}층"}[lang])
            ax.set_title(f"{activation}, {init}", fontsize=9)
            ax.set_yticks([])
    axes[0, -1].legend(fontsize=7)
    return figures.finish(fig)


def check(results):
    runs = results["runs"]
    sig_std1 = runs["sigmoid/1.0"]["saturated"][-1]
    sig_small = runs["sigmoid/0.01"]["std"][-1]
    sig_xavier = runs["sigmoid/xavier"]
    relu_small = runs["relu/0.01"]["std"][-1] / runs["relu/0.01"]["std"][0]
    relu_he = runs["relu/he"]["std"][-1] / runs["relu/he"]["std"][0]
    held = (sig_std1 > 0.5 and sig_small < 0.02 and sig_xavier["std"][-1] > 0.05
            and sig_xavier["saturated"][-1] < 0.1 and relu_small < 0.01 and relu_he > 0.5)
    numbers = {"sigmoid_std1_saturated": sig_std1, "sigmoid_std001_std": sig_small,
               "sigmoid_xavier_std": sig_xavier["std"][-1],
               "sigmoid_xavier_saturated": sig_xavier["saturated"][-1],
               "relu_std001_shrink": relu_small, "relu_he_shrink": relu_he}
    return Verdict(held, text(
        f"layer 5: sigmoid/std 1 has {sig_std1:.0%} of activations below 0.1 or above 0.9 "
        f"(gradient vanishing); sigmoid/std 0.01 spreads only {sig_small:.4f} around 0.5 "
        f"(no expressive power); sigmoid/Xavier spreads {sig_xavier['std'][-1]:.3f} with "
        f"{sig_xavier['saturated'][-1]:.0%} saturated; ReLU keeps {relu_he:.2f} of layer 1's "
        f"spread with He but {relu_small:.1e} with std 0.01",
        f"5층: 시그모이드/표준편차 1은 활성화값의 {sig_std1:.0%}가 0.1 미만 또는 0.9 초과 "
        f"(기울기 소실); 시그모이드/0.01은 0.5 주변으로 {sig_small:.4f}만 퍼짐 (표현력 제한); "
        f"시그모이드/Xavier는 {sig_xavier['std'][-1]:.3f}만큼 퍼지고 포화는 "
        f"{sig_xavier['saturated'][-1]:.0%}; ReLU는 He에서 1층 분포 폭의 {relu_he:.2f}배를 "
        f"유지하지만 0.01에서는 {relu_small:.1e}배"),
        numbers)


EXPERIMENT = Experiment(
    name="activation-histograms",
    chapter=6,
    section="6.2.2",
    title=text("Activation distributions by weight initialisation",
               "가중치 초깃값에 따른 활성화값 분포"),
    claim=text("With std 1, sigmoid activations pile up at 0 and 1; with std 0.01 they collapse "
               "at 0.5; Xavier keeps them spread. For ReLU, He keeps the spread through 5 "
               "layers while std 0.01 shrinks it to nothing.",
               "표준편차 1이면 시그모이드 활성화값이 0과 1에 몰리고, 0.01이면 0.5에 모이며, "
               "Xavier는 고르게 퍼뜨린다. ReLU에서는 He가 5층까지 분포 폭을 유지하지만 0.01은 "
               "폭이 사라진다."),
    about=text("1 000 samples of N(0, 1) input, 5 layers of 100 nodes without bias, a fresh W "
               "per layer; 'xavier' is the book's √(1/n), 'he' √(2/n). Histograms use 30 bins "
               "over (0, 1), and (−1, 1) for tanh, whose negative half the book's range cuts "
               "off.",
               "N(0, 1) 입력 1 000개, 편향 없는 100노드 5층, 층마다 새 W. 'xavier'는 책의 "
               "√(1/n), 'he'는 √(2/n). 히스토그램은 (0, 1) 구간 30개 막대이고, tanh는 책의 "
               "범위가 음수 절반을 잘라내므로 (−1, 1)을 쓴다."),
    run=run,
    plot=plot,
    check=check,
    params={"samples": 1000, "node_num": 100, "hidden_layer_size": 5, "bins": 30,
            "activations": ["sigmoid", "tanh", "relu"], "inits": [1.0, 0.01, "xavier", "he"]},
)
