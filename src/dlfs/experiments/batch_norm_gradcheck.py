"""Book batch_norm_gradient_check.py: backprop through batch norm against numerical gradients."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.gradient import gradient_check
from dlfs.network import MultiLayerNet


def run(ctx, params):
    data = ctx.data
    x = data.x_train[: params["batch"]].astype(np.float64)
    t = data.t_train[: params["batch"]]
    net = MultiLayerNet(784, params["hidden_sizes"], 10, activation="relu", weight_init="he",
                        use_batchnorm=True, dtype=np.float64, seed=ctx.rng(1))
    # Non-zero β keeps ReLU inputs off its kink at 0, where a central difference is wrong.
    rng = ctx.rng(2)
    for key, value in net.params.items():
        if key.startswith("beta"):
            value[...] = 0.1 * rng.standard_normal(value.shape)
    errors = gradient_check(net, x, t)
    return {"errors": errors}


def plot(results, lang):
    errors = results["errors"]
    fig, ax = figures.figure(lang, figsize=(7, 3.8))
    keys = list(errors)
    ax.bar(keys, [max(v, 1e-18) for v in errors.values()], color="#4477aa")
    ax.set_yscale("log")
    ax.axhline(1e-7, color="red", linestyle="--", label="1e-7")
    ax.set_ylabel({"en": "relative error (backprop vs numerical)",
                   "ko": "상대 오차 (오차역전파 대 수치 미분)"}[lang])
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    return figures.finish(fig)


def check(results):
    worst_key = max(results["errors"], key=results["errors"].get)
    worst = results["errors"][worst_key]
    return Verdict(worst < 1e-7, text(
        f"largest relative error {worst:.2e} ({worst_key}) over {len(results['errors'])} "
        "parameters (limit 1e-7)",
        f"{len(results['errors'])}개 매개변수 중 최대 상대 오차 {worst:.2e} ({worst_key}) "
        "(기준 1e-7)"), {"max_error": worst, "worst": worst_key})


EXPERIMENT = Experiment(
    name="batch-norm-gradcheck",
    chapter=6,
    section="6.3",
    title=text("Gradient check through batch norm", "배치 정규화의 기울기 확인"),
    claim=text("Backprop through batch norm equals the numerical gradient (relative error "
               "below 1e-7 for every parameter, in float64).",
               "배치 정규화를 지나는 오차역전파 기울기가 수치 미분과 같다 (float64에서 모든 "
               "매개변수의 상대 오차가 1e-7 미만)."),
    about=text("784-[100, 100]-10 with batch norm and He init, as in the book's script, but on "
               "a batch of 10: the book's batch of 1 makes every normalised value 0, so its check "
               "tests almost nothing; with 3 the central difference's own error reaches 1e-7.",
               "책의 스크립트처럼 배치 정규화와 He 초깃값을 쓴 784-[100, 100]-10이지만 배치는 "
               "10개다. 책처럼 1개면 정규화된 값이 모두 0이 되어 사실상 아무것도 확인하지 "
               "못하고, 3개면 중앙 차분 자체의 오차가 1e-7에 이른다."),
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"hidden_sizes": [100, 100], "batch": 10},
    quick_params={"hidden_sizes": [10, 10]},
)
