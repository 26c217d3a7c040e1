"""Book 6.2.4 (weight_init_compare.py): std 0.01, Xavier and He on 784-[100]×4-10 with SGD."""

from __future__ import annotations

from dlfs.experiments.base import Experiment, Verdict, parallel_map, text
from dlfs.experiments.optimizer_compare import final_loss, plot_losses
from dlfs.experiments.training import losses_over_iterations


def run(ctx, params):
    data = ctx.data
    jobs = []
    for init in params["inits"].values():
        net_kwargs = {"input_size": 784, "hidden_sizes": params["hidden_sizes"],
                      "output_size": 10, "activation": "relu", "weight_init": init,
                      "seed": ctx.seed}
        jobs.append((net_kwargs, "sgd", {"lr": params["lr"]}, params["iters"],
                     params["batch_size"], [ctx.seed, 11]))
    losses = parallel_map(losses_over_iterations, jobs, ctx.workers,
                          {"x": data.x_train, "t": data.t_train}, ctx.progress)
    return {"losses": dict(zip(params["inits"], losses))}


def plot(results, lang):
    return plot_losses(results["losses"], lang, top=2.5)


def check(results):
    final = {label: final_loss(loss) for label, loss in results["losses"].items()}
    held = final["std=0.01"] > 2.0 and final["Xavier"] < 1.0 and final["He"] < 1.0
    listing = ", ".join(f"{k} {v:.3f}" for k, v in final.items())
    return Verdict(held, text(
        f"mean loss over the last 100 iterations: {listing} (std 0.01 must stay above 2.0, "
        "Xavier and He fall below 1.0)",
        f"마지막 100회 평균 손실: {listing} (0.01은 2.0 초과로 머물고, Xavier와 He는 1.0 미만)"),
        {"final_loss": final})


EXPERIMENT = Experiment(
    name="weight-init-compare",
    chapter=6,
    section="6.2.4",
    title=text("Weight initialisations compared", "가중치 초깃값 비교"),
    claim=text("He and Xavier train; std 0.01 does not (its loss stays near ln 10 ≈ 2.3).",
               "He와 Xavier는 학습되지만 표준편차 0.01은 학습되지 않는다 (손실이 ln 10 ≈ 2.3 "
               "근처에 머문다)."),
    about=text("784-[100]×4-10 with ReLU, SGD lr 0.01, mini-batches of 128, 2 000 iterations. "
               "With std 0.01 the signal shrinks ~10× per layer, so the gradients reaching the "
               "first layers are nearly 0.",
               "784-[100]×4-10 ReLU 신경망, SGD 학습률 0.01, 미니배치 128, 2 000회 반복. "
               "표준편차 0.01이면 신호가 층마다 약 10배 줄어, 앞쪽 층에 닿는 기울기가 거의 0이다."),
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"hidden_sizes": [100] * 4, "batch_size": 128, "iters": 2000, "lr": 0.01,
            "inits": {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}},
    quick_params={"iters": 60},
)
