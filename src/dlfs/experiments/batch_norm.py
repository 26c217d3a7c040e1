"""Book 6.3.2 (batch_norm_test.py): training with and without batch norm at 16 weight scales."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map, text
from dlfs.experiments.training import accuracy_over_epochs


def _pair(shared, scale, params, seed):
    """Both networks at one scale, on the same mini-batches."""
    curves = {}
    for use_batchnorm in (True, False):
        net_kwargs = {"input_size": 784, "hidden_sizes": params["hidden_sizes"],
                      "output_size": 10, "activation": "relu", "weight_init": scale,
                      "use_batchnorm": use_batchnorm, "seed": seed}
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                history = accuracy_over_epochs(shared, net_kwargs, "sgd", {"lr": params["lr"]},
                                               params["max_epochs"], params["batch_size"],
                                               [seed, 3])
                curve = history["train_acc"]
            except FloatingPointError:
                curve = None
        curves["batchnorm" if use_batchnorm else "plain"] = curve
    return curves


def run(ctx, params):
    data = ctx.data
    n = params["train_samples"]
    x, t = data.x_train[:n], data.t_train[:n]
    scales = np.logspace(0, -4, num=params["scales"])
    results = parallel_map(_pair, [(float(s), params, ctx.seed) for s in scales], ctx.workers,
                           {"x": x, "t": t, "x_test": x, "t_test": t}, ctx.progress)
    return {"scales": scales, "runs": results}


LABELS = {"batchnorm": {"en": "with batch norm", "ko": "배치 정규화 사용"},
          "plain": {"en": "without", "ko": "배치 정규화 없음"}}
STYLES = {"batchnorm": "-", "plain": "--"}


def plot(results, lang):
    runs, scales = results["runs"], results["scales"]
    side = int(np.ceil(np.sqrt(len(scales))))
    fig, axes = figures.figure(lang, side, side, figsize=(10, 10.5), squeeze=False)
    lines = {}
    for ax, scale, curves in zip(axes.ravel(), scales, runs):
        for key in ("batchnorm", "plain"):
            if curves[key] is None:  # the loss became NaN/inf: say so instead of a curve
                ax.text(0.5, 0.5 if key == "batchnorm" else 0.4,
                        {"en": f"{LABELS[key]['en']}: diverged",
                         "ko": f"{LABELS[key]['ko']}: 발산"}[lang],
                        transform=ax.transAxes, ha="center", fontsize=8, color="#cf222e")
            else:
                lines[key], = ax.plot(curves[key], STYLES[key], color=f"C{key == 'plain':d}")
        ax.set_title(f"W: {scale:.3g}", fontsize=9)
        ax.set_ylim(0, 1.0)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(scales):]:
        ax.axis("off")
    fig.legend([lines[k] for k in lines], [LABELS[k][lang] for k in lines], loc="upper center",
               ncol=2, frameon=False)
    fig.supxlabel({"en": "epochs", "ko": "에폭"}[lang])
    fig.supylabel({"en": "training accuracy", "ko": "훈련 정확도"}[lang])
    figures.finish(fig)
    fig.subplots_adjust(top=0.93)
    return fig


def _mean(curve):
    return 0.0 if curve is None else float(np.mean(curve[1:]))


def check(results):
    wins = [_mean(r["batchnorm"]) > _mean(r["plain"]) for r in results["runs"]]
    held = sum(wins) > len(wins) / 2
    final_bn = [None if r["batchnorm"] is None else r["batchnorm"][-1] for r in results["runs"]]
    return Verdict(held, text(
        f"batch norm has the higher mean training accuracy over the epochs at {sum(wins)} of "
        f"{len(wins)} weight scales",
        f"{len(wins)}개 가중치 스케일 중 {sum(wins)}개에서 배치 정규화 쪽의 에폭 평균 훈련 "
        "정확도가 더 높다"),
        {"wins": sum(wins), "scales": len(wins), "final_batchnorm_accuracy": final_bn})


EXPERIMENT = Experiment(
    name="batch-norm",
    chapter=6,
    section="6.3.2",
    title=text("Batch normalisation at 16 weight scales", "16가지 가중치 스케일에서의 배치 정규화"),
    claim=text("Batch norm learns faster (higher training accuracy over the epochs) at most of "
               "the 16 weight scales.",
               "16가지 가중치 스케일 대부분에서 배치 정규화가 더 빨리 학습한다 (에폭 평균 훈련 "
               "정확도가 더 높다)."),
    about=text("The first 1 000 training samples, 784-[100]×5-10 ReLU, SGD lr 0.01, batch 100, "
               "20 epochs, W ~ s·N(0, 1) for s in logspace(0, −4, 16); both networks see the "
               "same mini-batches. Solid: with batch norm; dashed: without. Accuracy is measured in "
               "test mode, with the running statistics: at the smallest scales the flat start "
               "is running_var (started at 1, as in torch) decaying towards the tiny batch "
               "variance, not a failure to learn.",
               "훈련 데이터 처음 1 000개, 784-[100]×5-10 ReLU, SGD 학습률 0.01, 배치 100, "
               "20에폭, W ~ s·N(0, 1), s는 logspace(0, −4, 16). 두 신경망은 같은 미니배치를 "
               "본다. 실선: 배치 정규화, 점선: 없음. 정확도는 이동 평균 통계를 쓰는 시험 모드로 잰다. "
               "가장 작은 스케일에서 초반이 평평한 것은 1에서 시작한 running_var(torch와 같음)가 "
               "아주 작은 배치 분산으로 줄어드는 과정이지 학습 실패가 아니다."),
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"train_samples": 1000, "hidden_sizes": [100] * 5, "lr": 0.01, "batch_size": 100,
            "max_epochs": 20, "scales": 16},
    quick_params={"train_samples": 200, "max_epochs": 2, "scales": 4},
)
