"""What an experiment asks the lab to compute: jobs, plain hashable specs.

An experiment's ``jobs(params, seed)`` lists them; the lab (lab.py) runs each distinct job once
for the whole ``dlfs run`` and hands the experiment's ``run`` their results, in the order asked.

- ``Training``: a MultiLayerNet on the data set, in one of the book's two loops: ``iterations``
  of one random mini-batch each, recording the loss (optimizer_compare_mnist.py), or
  ``epochs`` through the Trainer, recording the accuracies per epoch (overfit_*.py).
  Two experiments that ask for equal Trainings share one (optimizer-compare's SGD run is
  weight-init-compare's He run). Trainings equal but for their length share the longest: the
  mini-batches come from the seed one after another, so the first 201 epochs of a 301-epoch
  run are bit for bit a 201-epoch run (``prefix``).
- ``Task``: a function of the experiment's own (a surface, a gradient check, the search), called
  with the parameters, and with the seed and the data set where it declares them.

A job is random when it has a seed and needs the data set when it reads it; from these the lab
derives whether an experiment is deterministic and whether it needs data, so neither can be
forgotten. Its cost, for scheduling the costliest first, follows from it (``cost``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np


def freeze(value):
    """``value`` (parameters: dicts, lists, numbers, strings) as a hashable value."""
    if isinstance(value, dict):
        return ("__dict__", tuple((key, freeze(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value):
    """freeze's inverse: dicts and lists again."""
    if isinstance(value, tuple):
        if len(value) == 2 and value[0] == "__dict__":
            return {key: thaw(item) for key, item in value[1]}
        return [thaw(item) for item in value]
    return value


@dataclass(frozen=True)
class Training:
    """One network trained on the data set. Build it with ``training(...)``."""

    network: tuple  # MultiLayerNet's arguments (frozen), but its input and output sizes
    rule: str  # the update rule: an optim name, or a learner's file:…::CLASS
    settings: tuple  # the rule's arguments (frozen): {"lr": 0.01}
    samples: int | None  # training samples: the first n of the training set; None: all of it
    test_samples: int  # test samples evaluated after each epoch (0: none)
    batch_size: int
    batches: tuple  # the mini-batches' seed: the same for every network of a comparison
    iterations: int | None = None  # the comparison loop: the loss of each iteration
    epochs: int | None = None  # the Trainer: accuracies before training and after each epoch

    @property
    def seed(self):
        return self.batches

    @property
    def length(self) -> int:
        return self.iterations if self.iterations is not None else self.epochs

    def without_length(self) -> Training:
        return replace(self, iterations=None, epochs=None)

    def with_length(self, length: int) -> Training:
        return replace(self, **{"iterations" if self.iterations is not None else "epochs": length})


def training(network: dict, rule: str, settings: dict, *, batch_size: int, batches,
             samples: int | None = None, test_samples: int = 0, iterations: int | None = None,
             epochs: int | None = None) -> Training:
    """A Training; exactly one of ``iterations`` and ``epochs``."""
    if (iterations is None) == (epochs is None):
        raise ValueError("a training runs for iterations or for epochs: give one of them")
    # Sorted, so that the same network or settings written in another order is the same job.
    return Training(freeze(dict(sorted(network.items()))), rule,
                    freeze(dict(sorted(settings.items()))), samples, test_samples, batch_size,
                    freeze(batches), iterations, epochs)


@dataclass(frozen=True)
class Task:
    """``function(params)``, with ``seed=`` where the task draws from a seed and ``data=`` where
    it reads the data set. ``work``: about how many multiply-adds it does (from its
    parameters), to schedule it among the trainings; 0 for the cheap ones."""

    function: Callable[..., Any]
    params: tuple  # frozen
    seed: int | None = None
    data: bool = False
    work: float = 0.0


def task(function, params: dict, *, seed: int | None = None, data: bool = False,
         work: float = 0.0) -> Task:
    return Task(function, freeze(params), seed, data, work)


Job = Training | Task


def is_random(job: Job) -> bool:
    return job.seed is not None


def needs_data(job: Job) -> bool:
    return isinstance(job, Training) or job.data


def weights(layer_sizes) -> int:
    """The weights and biases of a fully connected net of ``layer_sizes``."""
    return sum((a + 1) * b for a, b in zip(layer_sizes, layer_sizes[1:]))


def cost(job: Job, data) -> float:
    """About how many multiply-adds ``job`` does on ``data`` (a forward and backward pass cost
    three forward ones): samples × passes × network size."""
    if isinstance(job, Task):
        return job.work
    network = thaw(job.network)
    size = weights([data.input_size, *network["hidden_sizes"], data.n_classes])
    if job.iterations is not None:
        return 3.0 * size * job.batch_size * job.iterations
    samples = len(data.t_train) if job.samples is None else min(job.samples, len(data.t_train))
    evaluated = samples + min(job.test_samples, len(data.t_test))
    return size * job.epochs * (3.0 * samples + evaluated)


# -- running one job ------------------------------------------------------------------------


def run_job(job: Job, data):
    """``job``'s result: a Training's history, a Task's results (as its function returns)."""
    if isinstance(job, Task):
        kwargs = {"seed": job.seed} if job.seed is not None else {}
        if job.data:
            kwargs["data"] = data
        return job.function(thaw(job.params), **kwargs)
    if job.iterations is not None:
        return losses_over_iterations(job, data)
    return accuracy_over_epochs(job, data)


def _network(job: Training, data):
    from dlfs.network import MultiLayerNet

    return MultiLayerNet(input_size=data.input_size, output_size=data.n_classes,
                         **thaw(job.network))


def _optimizer(job: Training):
    from dlfs.experiments import learner

    return learner.create(job.rule, **thaw(job.settings))


def losses_over_iterations(job: Training, data) -> list[float]:
    """The book's comparison loop (optimizer_compare_mnist.py, weight_init_compare.py): every
    iteration draws one mini-batch with replacement, from the same seed for every network, and
    records the training loss; a loss that is not finite ends it."""
    x, t = data.x_train[:job.samples], data.t_train[:job.samples]
    net, opt = _network(job, data), _optimizer(job)
    rng = np.random.default_rng(thaw(job.batches))
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(job.iterations):
            index = rng.choice(len(t), job.batch_size)
            loss, grads = net.loss_and_gradient(x[index], t[index])
            losses.append(loss)
            if not np.isfinite(loss):
                break
            opt.update(net.params, grads)
    return losses


def accuracy_over_epochs(job: Training, data) -> dict:
    """The Trainer's history: training accuracy on the job's training samples, test accuracy on
    its test samples (none: test_acc is empty), the loss of every iteration, and
    ``diverged_at``, the iteration whose loss became NaN or inf (None: none did)."""
    from dlfs.train import Trainer, TrainingDiverged

    n, n_test = job.samples, job.test_samples
    trainer = Trainer(_network(job, data), _optimizer(job), data.x_train[:n], data.t_train[:n],
                      data.x_test[:n_test] if n_test else None,
                      data.t_test[:n_test] if n_test else None, epochs=job.epochs,
                      batch_size=job.batch_size, seed=thaw(job.batches))
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            trainer.train()
        except TrainingDiverged as error:
            diverged_at = error.iteration
    history = trainer.history
    return {"train_acc": history.train_acc, "test_acc": history.test_acc,
            "train_loss": history.train_loss, "iter_per_epoch": trainer.iter_per_epoch,
            "diverged_at": diverged_at}


def prefix(job: Job, trained: Job, result):
    """The result of ``job`` from ``result``, that of ``trained``: the same job, or one equal
    to it but longer. A loss curve's first iterations; a history's first epochs. A history
    whose loss became NaN or inf within those epochs is the shorter run's as it is: both ran
    the same iterations up to there and stopped."""
    if job == trained:
        return result
    if job.iterations is not None:
        return result[:job.iterations]
    per_epoch = result["iter_per_epoch"]
    if result["diverged_at"] is not None and result["diverged_at"] < job.epochs * per_epoch:
        return result
    return {"train_acc": result["train_acc"][:job.epochs + 1],
            "test_acc": result["test_acc"][:job.epochs + 1],
            "train_loss": result["train_loss"][:job.epochs * per_epoch],
            "iter_per_epoch": per_epoch, "diverged_at": None}


def longest(jobs) -> dict[Job, Job]:
    """Each of ``jobs`` -> the job trained for it: itself, or the longest Training equal to it
    but for its length."""
    groups: dict[Job, Job] = {}
    for job in jobs:
        if isinstance(job, Training):
            key = job.without_length()
            if key not in groups or groups[key].length < job.length:
                groups[key] = job
    return {job: groups[job.without_length()] if isinstance(job, Training) else job
            for job in jobs}
