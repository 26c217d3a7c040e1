"""Training loops the chapter-6 experiments share, written to run in worker processes."""

from __future__ import annotations

import json

import numpy as np

from dlfs.experiments import learner
from dlfs.network import MultiLayerNet
from dlfs.train import Trainer


def losses_over_iterations(shared, net_kwargs: dict, optimizer: str, optimizer_kwargs: dict,
                           iters: int, batch_size: int, batch_seed) -> list[float]:
    """The book's comparison loop (optimizer_compare_mnist.py, weight_init_compare.py): every
    iteration draws one mini-batch with replacement, from the same seed for every network, and
    records the training loss."""
    x, t = shared["x"], shared["t"]
    net = MultiLayerNet(**net_kwargs)
    opt = learner.create(optimizer, **optimizer_kwargs)
    rng = np.random.default_rng(batch_seed)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iters):
            index = rng.choice(len(t), batch_size)
            loss, grads = net.loss_and_gradient(x[index], t[index])
            losses.append(loss)
            if not np.isfinite(loss):
                break
            opt.update(net.params, grads)
    return losses


LOSSES = "training.losses"  # ctx.cache[LOSSES]: losses_over_iterations by its job, as JSON
BATCHES = 7  # the comparisons' mini-batch stream: [seed, BATCHES], the same for every network


def losses_once(ctx, jobs: list[tuple], shared: dict) -> list[list[float]]:
    """losses_over_iterations(shared, *job) for each job, over ``ctx.workers``, each job run
    once per dlfs run: a job an earlier experiment of the chain ran (optimizer-compare's SGD is
    weight-init-compare's He, the same network, rule, seeds and mini-batches) is read from
    ``ctx.cache``. The experiments of one chain share ``shared`` (the training set)."""
    from dlfs.experiments.base import parallel_map

    done = ctx.cache.setdefault(LOSSES, {})
    keys = [json.dumps(job, sort_keys=True) for job in jobs]
    by_key = dict(zip(keys, jobs))
    missing = [key for key in by_key if key not in done]
    done.update(zip(missing, parallel_map(losses_over_iterations,
                                          [by_key[key] for key in missing], ctx.workers,
                                          shared, ctx.progress)))
    return [done[key] for key in keys]


def accuracy_over_epochs(shared, net_kwargs: dict, optimizer: str, optimizer_kwargs: dict,
                         epochs: int, batch_size: int, batch_seed) -> dict:
    """Trainer history (train accuracy on shared x/t, test on shared x_test/t_test, where
    ``shared`` has them; else test_acc is empty)."""
    net = MultiLayerNet(**net_kwargs)
    trainer = Trainer(net, learner.create(optimizer, **optimizer_kwargs), shared["x"],
                      shared["t"], shared.get("x_test"), shared.get("t_test"), epochs=epochs,
                      batch_size=batch_size, seed=batch_seed)
    history = trainer.train()
    return {"train_acc": history.train_acc, "test_acc": history.test_acc,
            "train_loss": history.train_loss}
