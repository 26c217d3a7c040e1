"""The Trainer: mini-batch training with a history of loss and accuracy (book 4.5.2, 6 Trainer).

Differences from the book's ``common/trainer.py``, each deliberate:
  - an epoch is ceil(N / batch_size) iterations over a fresh permutation (``sampling='epoch'``);
    the book draws every batch with replacement (``sampling='replacement'``) and counts epochs
    with a float ``iter_per_epoch``, so its "epochs" drift when N is not a multiple of the batch;
  - accuracy is measured once before training (epoch 0) and after each epoch, so the history
    has epochs + 1 points;
  - the logged loss is the training-mode loss of the very forward pass used for the gradient
    (the book logs a second, test-mode forward pass);
  - a NaN or inf loss stops training with ``TrainingDiverged`` naming the iteration;
  - a run whose loss stayed finite but blew up on the way (a learning rate far too high: SGD
    lr 10, Adam lr 1000) ends with a ``TrainingCollapsed`` warning, also kept in
    ``history.warnings``: when the loss rose above 100 times its first value, whatever the
    accuracy, or when it rose above twice its first value and the training accuracy ends at
    chance. A network that stays at chance with a flat loss (the book's std-0.01 deep network)
    is a failure to learn, not a blow-up, and is not flagged.

Each step is the book's two lines, ``grads = network.gradient(x_batch, t_batch)`` and
``optimizer.update(network.params, grads)``, with the loss taken from the same forward pass
through ``network.loss_and_gradient`` where the network has it.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dlfs import _checks
from dlfs._progress import bar_word, progress_bar
from dlfs._said import Phrase, Said, SaidValueError, run_lang

# A loss this many times its first value counts as blown up, whatever the accuracy; one that
# rose to RISE_AT_CHANCE times it counts when the accuracy ends at chance (at most
# CHANCE_MARGIN above always guessing the most common class). A flat loss at chance (about
# 1.03 times its start for the book's std-0.01 deep network) is neither.
BLOW_UP_FACTOR = 100
RISE_AT_CHANCE = 2
CHANCE_MARGIN = 0.05


class TrainingCollapsed(RuntimeWarning):
    """The loss blew up though it stayed finite: above BLOW_UP_FACTOR times its first value,
    or above RISE_AT_CHANCE times it with the training accuracy ending at chance."""


TIME_LIMIT_ENV = "DLFS_TIME_LIMIT"  # seconds; 0 or "none": no limit (dlfs run --force)
DEFAULT_TIME_LIMIT = 3600.0
# The first updates are timed until this many have run and this long has passed (the very
# first, which allocates, is left out), then the whole run is estimated from them.
TIMED_STEPS, TIMED_SECONDS = 5, 0.05


def time_limit_from_env() -> float | None:
    """The training time limit in seconds: DLFS_TIME_LIMIT where set (0 or "none": no
    limit), else DEFAULT_TIME_LIMIT (an hour)."""
    value = os.environ.get(TIME_LIMIT_ENV, "").strip().lower()
    if not value:
        return DEFAULT_TIME_LIMIT
    if value in ("0", "none", "off"):
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{TIME_LIMIT_ENV}={value!r}: give a number of seconds, or 0 for no "
                         "limit") from None
    return seconds if seconds > 0 and math.isfinite(seconds) else None


@contextlib.contextmanager
def time_limit_lifted(lift: bool = True):
    """Within the block (and the worker processes it starts), no training time limit, when
    ``lift``: dlfs run --force."""
    if not lift:
        yield
        return
    before = os.environ.get(TIME_LIMIT_ENV)
    os.environ[TIME_LIMIT_ENV] = "none"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(TIME_LIMIT_ENV, None)
        else:
            os.environ[TIME_LIMIT_ENV] = before


def duration_text(seconds: float, lang: str = "en") -> str:
    """``seconds`` for a person: '40 s', '12 min', '5.1 h', '3.2e+22 years' (in ``lang``)."""
    from dlfs import catalogue

    for unit, size, least in (("years", 365.25 * 86400, 2), ("days", 86400, 2),
                              ("hours", 3600, 1), ("minutes", 60, 1)):
        if seconds >= least * size:
            return catalogue.text(f"bounds.{unit}", lang, n=f"{seconds / size:.3g}")
    return catalogue.text("bounds.seconds", lang, n=f"{seconds:.2g}")


class TrainingTooLong(ValueError):
    """A training run whose estimated time, from its first updates, is over the time limit.
    ``str()`` is the English line, ``text(lang)`` the catalogue's in ``lang``."""

    def __init__(self, seconds: float, steps: int, per_step: float, limit: float):
        self.seconds, self.steps, self.per_step, self.limit = seconds, steps, per_step, limit
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        from dlfs import catalogue

        return catalogue.text("bounds.training_too_long", lang,
                              eta=duration_text(self.seconds, lang),
                              steps=f"{self.steps:.3g}" if self.steps >= 10**9 else
                              f"{self.steps:,}",
                              per_step=f"{self.per_step * 1000:.3g}",
                              limit=duration_text(self.limit, lang), env=TIME_LIMIT_ENV)


class TrainingDiverged(Said, FloatingPointError):
    """The loss became NaN or inf; ``iteration`` and ``loss`` say when and what. ``str()`` is
    the English line, ``text(lang)`` the catalogue's in ``lang``."""

    def __init__(self, iteration: int, epoch: int, loss: float):
        self.iteration, self.epoch, self.loss = iteration, epoch, loss
        super().__init__(key="said.diverged", loss=loss, iteration=iteration, epoch=epoch)


@dataclass
class History:
    """What a training run recorded."""

    train_loss: list[float] = field(default_factory=list)  # one per iteration
    train_acc: list[float] = field(default_factory=list)  # one per evaluation
    test_acc: list[float] = field(default_factory=list)  # none without a test set
    eval_epochs: list[int] = field(default_factory=list)  # 0, 1, …, epochs
    eval_iterations: list[int] = field(default_factory=list)  # updates done before each eval
    learning_rates: list[float] = field(default_factory=list)  # per iteration, with a schedule
    warnings: list[str] = field(default_factory=list)  # what went wrong without stopping it

    def as_dict(self) -> dict[str, list]:
        return {name: list(value) for name, value in self.__dict__.items()}


SAMPLING = ("epoch", "replacement")


def _check_network(network) -> None:
    """A network needs params, accuracy, and loss_and_gradient or both gradient and loss."""
    missing = []
    if not isinstance(getattr(network, "params", None), dict):
        missing.append("params (a dict of arrays)")
    if not callable(getattr(network, "accuracy", None)):
        missing.append("accuracy")
    if not callable(getattr(network, "loss_and_gradient", None)):
        missing += [name for name in ("gradient", "loss")
                    if not callable(getattr(network, name, None))]
    if missing:
        raise ValueError(
            f"network ({type(network).__name__}) lacks {', '.join(missing)}; the Trainer needs "
            "params, accuracy(x, t), and loss_and_gradient(x, t) or gradient(x, t) with "
            "loss(x, t)"
        )


class Trainer:
    """Trains ``network`` with ``optimizer`` on mini-batches and records a History.

    Args:
        network: a MultiLayerNet, or any object with ``params`` (a dict of arrays),
            ``accuracy(x, t)`` and either ``loss_and_gradient(x, t)`` or the book's
            ``gradient(x, t)`` with ``loss(x, t)``. With ``loss_and_gradient`` the logged loss
            is the training-mode loss of the forward pass behind the gradient; without it, it is
            a second forward pass, ``loss(x, t)`` as the book's networks take it (test mode for
            ours: no second dropout mask, no second move of the batch-norm statistics), before
            the update. A network with ``check_data(x, t) -> (x, t)`` has each data set checked
            and converted by it once, here; any other gets the arrays as given.
        optimizer: any object with ``update(params, grads)`` (dlfs.optim).
        x_train: training inputs (N, D).
        t_train: training labels, as indices or one-hot rows.
        x_test: test inputs, for the accuracy after each epoch; None (with ``t_test`` None)
            for the training accuracy alone, as the book's batch_norm_test.py measures it.
        t_test: test labels.
        epochs: passes over the training set (≥ 1).
        batch_size: samples per update; larger than the training set means the whole set.
        evaluate_sample_num_per_epoch: measure accuracy on only the first n samples of each set
            (the book's option, for speed); None uses all.
        lr_schedule: callable iteration -> learning rate (dlfs.schedules), applied to
            ``optimizer.lr`` before each update.
        sampling: 'epoch' (a permutation per epoch) or 'replacement' (the book's).
        seed: int or Generator for the batch order.
        progress: show a tqdm progress bar (when tqdm is installed).
        max_iter: stop after this many updates (the book's ``iters_num``), which may end
            mid-epoch; accuracy is still measured only at epoch ends. None: epochs × ⌈N/batch⌉.
        on_epoch: called as on_epoch(epoch, history) after each evaluation (epoch 0 included);
            an exception it raises stops training and propagates (a search's pruning, say).
        time_limit: seconds the whole run may take, estimated from the first updates (and the
            first evaluation): over it, train() raises TrainingTooLong before going on.
            "env" (default): DLFS_TIME_LIMIT, else an hour; None: no limit.
    """

    def __init__(
        self,
        network,
        optimizer,
        x_train,
        t_train,
        x_test,
        t_test,
        epochs: int = 20,
        batch_size: int = 100,
        evaluate_sample_num_per_epoch: int | None = None,
        lr_schedule: Callable[[int], float] | None = None,
        sampling: str = "epoch",
        seed=0,
        progress: bool = False,
        max_iter: int | None = None,
        on_epoch: Callable[[int, History], None] | None = None,
        time_limit: float | str | None = "env",
    ):
        if not callable(getattr(optimizer, "update", None)):
            raise ValueError(
                "optimizer must have an update(params, grads) method, "
                f"got {type(optimizer).__name__}"
            )
        _check_network(network)
        if sampling not in SAMPLING:
            raise ValueError(f"sampling must be one of {', '.join(SAMPLING)}, got {sampling!r}")
        self.network, self.optimizer = network, optimizer
        self.x_train, self.t_train = self._data("train", x_train, t_train)
        if (x_test is None) != (t_test is None):
            raise ValueError("x_test and t_test go together: give both, or neither for the "
                             "training accuracy alone")
        self.x_test, self.t_test = (None, None) if x_test is None else \
            self._data("test", x_test, t_test)
        if self.x_train.shape[0] == 0:
            raise ValueError("x_train must hold at least one sample")
        self.epochs = _checks.positive_int("epochs", epochs)
        self.batch_size = min(_checks.positive_int("batch_size", batch_size),
                              self.x_train.shape[0])
        if evaluate_sample_num_per_epoch is not None:
            _checks.positive_int("evaluate_sample_num_per_epoch", evaluate_sample_num_per_epoch)
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        if lr_schedule is not None and not callable(lr_schedule):
            raise SaidValueError(key="said.lr_schedule_not_callable")
        if lr_schedule is not None and not hasattr(optimizer, "lr"):
            raise SaidValueError(key="said.lr_schedule_no_lr")
        self.lr_schedule = lr_schedule
        self.sampling = sampling
        self.rng = _checks.as_generator(seed)
        self.progress = progress
        self.iter_per_epoch = math.ceil(self.x_train.shape[0] / self.batch_size)
        self.max_iter = self.epochs * self.iter_per_epoch
        if max_iter is not None:
            self.max_iter = min(self.max_iter, _checks.positive_int("max_iter", max_iter))
        if on_epoch is not None and not callable(on_epoch):
            raise ValueError("on_epoch must be callable as on_epoch(epoch, history)")
        self.on_epoch = on_epoch
        if time_limit != "env" and time_limit is not None:
            time_limit = _checks.positive_float("time_limit", time_limit)
        self.time_limit = time_limit
        self.history = History()

    def _data(self, name: str, x, t):
        """The data set checked once (by the network's check_data, where it has one), so that
        no step repeats the O(N) checks."""
        check_data = getattr(self.network, "check_data", None)
        x, t = check_data(x, t) if callable(check_data) else (np.asarray(x), np.asarray(t))
        if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0]:
            raise ValueError(f"x_{name} and t_{name} must hold the same number of samples, got "
                             f"shapes {x.shape} and {t.shape}")
        return x, t

    def _batches(self):
        n = self.x_train.shape[0]
        for _ in range(self.epochs):
            if self.sampling == "epoch":
                order = self.rng.permutation(n)
                for start in range(0, self.iter_per_epoch * self.batch_size, self.batch_size):
                    yield order[start:start + self.batch_size]
            else:
                for _ in range(self.iter_per_epoch):
                    yield self.rng.choice(n, self.batch_size)

    def _evaluate(self, epoch: int, iteration: int) -> None:
        n = self.evaluate_sample_num_per_epoch  # None: x[:None] is all of x
        for x, t, accuracies in ((self.x_train, self.t_train, self.history.train_acc),
                                 (self.x_test, self.t_test, self.history.test_acc)):
            if x is not None:
                accuracies.append(self.network.accuracy(x[:n], t[:n]))
        self.history.eval_epochs.append(epoch)
        self.history.eval_iterations.append(iteration)
        if self.on_epoch is not None:
            self.on_epoch(epoch, self.history)

    def _step(self, x_batch, t_batch) -> float:
        network = self.network
        if hasattr(network, "loss_and_gradient"):
            loss, grads = network.loss_and_gradient(x_batch, t_batch)
        else:
            grads = network.gradient(x_batch, t_batch)
            loss = network.loss(x_batch, t_batch)
        self.optimizer.update(network.params, grads)
        return float(loss)

    def _check_time(self, limit: float, per_step: float, evaluation: float) -> None:
        """Raises TrainingTooLong when max_iter updates at ``per_step`` seconds each, and one
        evaluation (``evaluation`` seconds) per epoch, would take longer than ``limit``."""
        evaluations = -(-self.max_iter // self.iter_per_epoch)
        seconds = per_step * self.max_iter + evaluation * evaluations
        if seconds > limit:
            raise TrainingTooLong(seconds, self.max_iter, per_step, limit)

    def _scheduled_lr(self, iteration: int) -> float:
        """lr_schedule(iteration), checked: a positive finite number (a str such as "0.1" or
        "fast" is refused, not converted)."""
        lr = self.lr_schedule(iteration)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
                or lr <= 0:
            raise SaidValueError(key="said.lr_schedule_value", iteration=iteration,
                                 value=repr(lr), kind=type(lr).__name__)
        return float(lr)

    def train(self) -> History:
        """Runs every epoch and returns the history (also kept in ``self.history``)."""
        bar = progress_bar(self.max_iter, self.progress, unit="it")
        limit = time_limit_from_env() if self.time_limit == "env" else self.time_limit
        started = time.perf_counter()
        self._evaluate(0, 0)
        evaluation = time.perf_counter() - started
        timing = None  # (start, first timed iteration) while the first updates are timed
        try:
            for iteration, index in zip(range(self.max_iter), self._batches()):
                if limit is not None and iteration == 1:
                    timing = (time.perf_counter(), 1)
                elif timing is not None and iteration >= TIMED_STEPS + 1 and \
                        time.perf_counter() - timing[0] >= TIMED_SECONDS:
                    self._check_time(limit, (time.perf_counter() - timing[0]) /
                                     (iteration - timing[1]), evaluation)
                    timing = None
                if self.lr_schedule is not None:
                    self.optimizer.lr = self._scheduled_lr(iteration)
                    self.history.learning_rates.append(self.optimizer.lr)
                loss = self._step(self.x_train[index], self.t_train[index])
                epoch = iteration // self.iter_per_epoch + 1
                if not math.isfinite(loss):
                    raise TrainingDiverged(iteration, epoch, loss)
                self.history.train_loss.append(loss)
                if (iteration + 1) % self.iter_per_epoch == 0:
                    self._evaluate(epoch, iteration + 1)
                    if bar is not None:
                        name, accuracies = (("test_acc", self.history.test_acc)
                                            if self.x_test is not None else
                                            ("train_acc", self.history.train_acc))
                        bar.set_postfix({bar_word("loss"): f"{loss:.3f}",
                                         bar_word(name): f"{accuracies[-1]:.3f}"})
                if bar is not None:
                    bar.update()
        finally:
            if bar is not None:
                bar.close()
        collapse = self._collapse()
        if collapse is not None:  # kept in English; said in the command's language
            self.history.warnings.append(collapse.text("en"))
            warnings.warn(collapse.text(run_lang()), TrainingCollapsed, stacklevel=2)
        return self.history

    def _collapse(self) -> Phrase | None:
        """Why training failed though no loss was NaN, or None: a loss that rose to
        BLOW_UP_FACTOR times its first value, or to RISE_AT_CHANCE times it with a final
        training accuracy within CHANCE_MARGIN of the share of the most common class (what
        always guessing it scores)."""
        history = self.history
        if not history.train_loss or len(history.train_acc) < 2:
            return None
        first, (peak_at, peak) = history.train_loss[0], max(
            enumerate(history.train_loss), key=lambda item: item[1])
        n = self.evaluate_sample_num_per_epoch
        t = np.asarray(self.t_train if n is None else self.t_train[:n])
        t = t.argmax(axis=1) if t.ndim == 2 else t
        chance = np.unique(t, return_counts=True)[1].max() / len(t)
        at_chance = history.train_acc[-1] <= chance + CHANCE_MARGIN
        if not (peak > BLOW_UP_FACTOR * first or (at_chance and peak > RISE_AT_CHANCE * first)):
            return None
        lr = getattr(self.optimizer, "lr", None)
        if history.learning_rates[:peak_at]:  # under a schedule: the largest before the peak
            lr = max(history.learning_rates[:peak_at])
        rate = f" ({type(self.optimizer).__name__} lr {lr:g})" if lr is not None else ""
        rise = Phrase("said.collapse_rise", first=first, peak=peak, peak_at=peak_at,
                      ratio=peak / first)
        if not at_chance:
            return Phrase("said.collapse_blew_up", rise=rise, final=history.train_acc[-1],
                          rate=rate)
        return Phrase("said.collapse_chance", final=history.train_acc[-1], chance=chance,
                      best=max(history.train_acc),
                      best_epoch=history.eval_epochs[int(np.argmax(history.train_acc))],
                      rise=rise, rate=rate)

    @property
    def final_test_accuracy(self) -> float:
        if self.x_test is None:
            raise ValueError("this Trainer has no test set (x_test=None): no test accuracy")
        return self.history.test_acc[-1]

