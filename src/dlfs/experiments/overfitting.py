"""Book 6.4 (overfit_weight_decay.py, overfit_dropout.py): overfitting on 300 samples, and the
two remedies, weight decay and dropout, each against the unregularised baseline."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map, text
from dlfs.experiments.training import accuracy_over_epochs


def _train(shared, regulariser: dict, params: dict, seed: int):
    net_kwargs = {"input_size": 784, "hidden_sizes": params["hidden_sizes"], "output_size": 10,
                  "activation": "relu", "weight_init": "he", "seed": seed, **regulariser}
    return accuracy_over_epochs(shared, net_kwargs, "sgd", {"lr": params["lr"]},
                                params["max_epochs"], params["batch_size"], [seed, 5])


# Unregularised runs already made in this process, so that `dlfs run all` trains the
# baseline that overfit and weight-decay share once.
_BASELINES: dict[tuple, dict] = {}


def run(ctx, params):
    regulariser = params["regulariser"]
    data = ctx.data
    n, n_test = params["train_samples"], params["test_samples"]
    shared = {"x": data.x_train[:n], "t": data.t_train[:n], "x_test": data.x_test[:n_test],
              "t_test": data.t_test[:n_test]}
    key = (data.name, ctx.seed, *(str(params[k]) for k in sorted(PARAMS)))
    configs = ([] if key in _BASELINES else [{}]) + ([regulariser] if regulariser else [])
    runs = parallel_map(_train, [(config, params, ctx.seed) for config in configs],
                        ctx.workers, shared, ctx.progress)
    if key not in _BASELINES:
        _BASELINES[key] = runs.pop(0)
    results = {"baseline": _BASELINES[key]}
    if regulariser:
        results["regularised"] = runs[0]
        results["regulariser"] = regulariser
    return results


def _gap(history, last: int = 10):
    train, test = np.asarray(history["train_acc"]), np.asarray(history["test_acc"])
    return float(np.mean(train[-last:] - test[-last:]))


def plot(results, lang):
    keys = ["regularised", "baseline"] if "regularised" in results else ["baseline"]
    fig, axes = figures.figure(lang, 1, len(keys), figsize=(6 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        history = results[key]
        epochs = np.arange(len(history["train_acc"]))
        every = max(1, len(epochs) // 20)
        ax.plot(epochs, history["train_acc"], marker="o", markevery=every,
                label={"en": "train", "ko": "훈련"}[lang])
        ax.plot(epochs, history["test_acc"], marker="s", markevery=every,
                label={"en": "test", "ko": "시험"}[lang])
        ax.set_xlabel({"en": "epochs", "ko": "에폭"}[lang])
        ax.set_ylabel({"en": "accuracy", "ko": "정확도"}[lang])
        ax.set_ylim(0, 1.0)
        if key == "baseline":
            ax.set_title({"en": "no regularisation", "ko": "정규화 없음"}[lang])
        else:
            ax.set_title(", ".join(f"{k}={v}" for k, v in results["regulariser"].items()))
        ax.legend(loc="lower right")
    return figures.finish(fig)


def check_overfit(results):
    history = results["baseline"]
    gap = _gap(history)
    train = float(np.mean(history["train_acc"][-10:]))
    held = train > 0.95 and gap > 0.15
    return Verdict(held, text(
        f"over the last 10 epochs: train accuracy {train:.3f}, train − test gap {gap:.3f} "
        "(overfitting: train above 0.95 and gap above 0.15)",
        f"마지막 10에폭: 훈련 정확도 {train:.3f}, 훈련 − 시험 정확도 차 {gap:.3f} "
        "(오버피팅 기준: 훈련 0.95 초과, 차 0.15 초과)"),
        {"train_acc": train, "gap": gap})


def check_remedy(results):
    baseline, regularised = _gap(results["baseline"]), _gap(results["regularised"])
    held = regularised < baseline
    return Verdict(held, text(
        f"mean train − test gap over the last 10 epochs: {regularised:.3f} with "
        f"{results['regulariser']} against {baseline:.3f} without",
        f"마지막 10에폭 평균 훈련 − 시험 정확도 차: {results['regulariser']} 적용 "
        f"{regularised:.3f}, 미적용 {baseline:.3f}"),
        {"gap": regularised, "baseline_gap": baseline})


PARAMS = {"train_samples": 300, "test_samples": 10_000, "hidden_sizes": [100] * 6, "lr": 0.01,
          "batch_size": 100, "max_epochs": 201}
QUICK = {"max_epochs": 15, "test_samples": 1_000}
ABOUT = text("The first 300 training samples, 784-[100]×6-10 ReLU with He init, SGD lr 0.01, "
             "batch 100; accuracy on the 300 training samples and the whole test set after "
             "every epoch.",
             "훈련 데이터 처음 300개, He 초깃값의 784-[100]×6-10 ReLU, SGD 학습률 0.01, 배치 "
             "100. 매 에폭 뒤 훈련 300개와 시험 데이터 전체의 정확도를 잰다.")


def _experiment(name, section, title, claim, about, regulariser, check, **overrides):
    params = {**PARAMS, **overrides}
    return Experiment(
        name=name, chapter=6, section=section, title=title, claim=claim,
        about=text(ABOUT["en"] + " " + about["en"], ABOUT["ko"] + " " + about["ko"]),
        run=run, plot=plot, check=check, needs_data=True,
        params={**params, "regulariser": regulariser}, quick_params=QUICK)


OVERFIT = _experiment(
    "overfit", "6.4.1",
    text("Overfitting", "오버피팅"),
    text("On 300 samples the network fits the training set almost perfectly while test "
         "accuracy stays far lower (gap above 0.15).",
         "300개 샘플로 학습하면 훈련 데이터는 거의 완벽히 맞추지만 시험 정확도는 훨씬 낮다 "
         "(차이 0.15 초과)."),
    text("No regularisation.", "정규화 없음."), None, check_overfit)

WEIGHT_DECAY = _experiment(
    "weight-decay", "6.4.2",
    text("Weight decay", "가중치 감소"),
    text("Weight decay (λ = 0.1) narrows the train–test gap.",
         "가중치 감소(λ = 0.1)가 훈련과 시험 정확도의 차이를 줄인다."),
    text("The loss gains ½λΣ‖W‖², its gradient λW; the left panel has λ = 0.1, the right the "
         "same network without it.",
         "손실에 ½λΣ‖W‖²를 더하고 기울기에 λW를 더한다. 왼쪽은 λ = 0.1, 오른쪽은 같은 신경망의 "
         "정규화 없는 결과다."),
    {"weight_decay_lambda": 0.1}, check_remedy)

DROPOUT = _experiment(
    "dropout", "6.4.3",
    text("Dropout", "드롭아웃"),
    text("Dropout (ratio 0.2) narrows the train–test gap.",
         "드롭아웃(비율 0.2)이 훈련과 시험 정확도의 차이를 줄인다."),
    text("Inverted dropout with ratio 0.2 after every hidden layer, 301 epochs as in the book; "
         "the right panel is the same network without it.",
         "모든 은닉층 뒤에 비율 0.2의 역 드롭아웃, 책처럼 301에폭. 오른쪽은 같은 신경망의 "
         "드롭아웃 없는 결과다."),
    {"dropout_ratio": 0.2}, check_remedy, max_epochs=301)

EXPERIMENTS = (OVERFIT, WEIGHT_DECAY, DROPOUT)
