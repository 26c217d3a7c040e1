"""The book's objective (6.5.3): one network trained with a trial's values, scored by its final
validation accuracy."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from dlfs.search.config import NETWORK_PARAMS, SearchConfig

DIVERGED = "diverged"


@dataclass(frozen=True)
class Split:
    """The samples every trial of a study trains and is validated on, and the class count.

    x_train: (N, D), t_train: (N,), x_val: (M, D), t_val: (M,) class indices.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray
    n_classes: int

    @property
    def input_size(self) -> int:
        return self.x_train.shape[1]


def resolve_data(data):
    """``data`` itself when it is a dlfs.data.Data, else what the loader ``data()`` returns."""
    from dlfs.data.lab import Data

    loaded = data() if callable(data) and not isinstance(data, Data) else data
    if not isinstance(loaded, Data):
        what = f"a loader that returned {type(loaded).__name__}" if loaded is not data \
            else repr(data)
        raise ValueError(f"data must be a dlfs.data.Data or a zero-argument callable returning "
                         f"one (such as functools.partial(dlfs.data.load_lab_data, 'auto', "
                         f"None)), got {what}")
    return loaded


def fit_samples(config: SearchConfig, data) -> tuple[SearchConfig, dict | None]:
    """``config`` with ``train_samples`` no larger than ``data`` holds, and what was capped:
    a default larger than the data set is what it holds ({"default": asked, "used": held}, to
    be said and recorded as used); a value that was set (``was_given``) and is larger is a
    DatasetError naming both numbers. (config, None) when nothing was capped."""
    from dataclasses import replace

    from dlfs.search.config import was_given

    asked = {"train_samples": config.train_samples}
    if was_given(config, "train_samples"):  # the rule of dlfs run's settings (dlfs.data.Data)
        data.check_sample_settings(asked)
        return config, None
    capped = data.capped_defaults(asked, {}).get("train_samples")
    if capped is None:
        return config, None
    fitted = replace(config, train_samples=capped["used"])
    fitted.given = getattr(config, "given", frozenset())
    return fitted, capped


def fitted_to(config: SearchConfig, data) -> SearchConfig:
    """fit_samples' config, with a warning (in the command's language) where a default was
    capped."""
    import warnings

    from dlfs import catalogue
    from dlfs._said import run_lang

    fitted, capped = fit_samples(config, data)
    if capped is not None:
        warnings.warn(catalogue.text("said.samples_capped_search", run_lang(), title=data.title,
                                     **capped), UserWarning, stacklevel=3)
    return fitted


def prepare(config: SearchConfig, data) -> tuple[SearchConfig, Split]:
    """What a search runs on: ``data`` (resolve_data) split for every trial (make_split), and
    ``config`` with the train_samples used, said where a default was capped (fitted_to), as
    the study records it."""
    data = resolve_data(data)
    split = make_split(config, data)
    return fitted_to(config, data), split


def make_split(config: SearchConfig, data) -> Split:
    """The book's split of ``data`` (a Data): the first ``train_samples`` training samples,
    shuffled once, ``val_ratio`` of them held out; the same for every trial of the study."""
    from dlfs.data.splits import train_val_split

    if np.ndim(data.x_train) != 2:
        raise ValueError(f"data.x_train must be (N, D) flattened samples, got shape "
                         f"{np.shape(data.x_train)}")
    n = fit_samples(config, data)[0].train_samples
    (x_train, t_train), (x_val, t_val) = train_val_split(
        data.x_train[:n], data.t_train[:n], config.val_ratio, seed=[config.seed, 99])
    return Split(x_train, t_train, x_val, t_val, data.n_classes)


def suggest(trial, config: SearchConfig) -> dict[str, float]:
    """The trial's value for every searched name: log-uniform (or uniform) in its range."""
    return {name: trial.suggest_float(name, s.low, s.high, log=s.log)
            for name, s in config.space.items()}


def run_trial(trial, config: SearchConfig, split: Split, each_epoch=None) -> float:
    """Trains one network with the trial's values; returns the final validation accuracy.

    A searched name in NETWORK_PARAMS goes to MultiLayerNet, every other one to the optimizer.
    ``each_epoch``: called with no argument after each epoch's evaluation (the search's worker
    raises SearchStopped there when a signal's raise was lost).
    """
    import optuna

    from dlfs import optim
    from dlfs.network import MultiLayerNet
    from dlfs.train import Trainer, TrainingDiverged

    values = suggest(trial, config)
    network_kwargs = {k: v for k, v in values.items() if k in NETWORK_PARAMS}
    optimizer_kwargs = {k: v for k, v in values.items() if k not in NETWORK_PARAMS}
    net = MultiLayerNet(split.input_size, config.hidden_sizes, split.n_classes,
                        activation=config.activation, weight_init=config.weight_init,
                        seed=[config.seed, trial.number], **network_kwargs)

    def report(epoch, history):
        if each_epoch is not None:
            each_epoch()
        # Each report is a write to the storage: made only when a pruner will read it.
        if epoch > 0 and config.pruner != "none":
            trial.report(history.test_acc[-1], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

    trainer = Trainer(net, optim.create(config.optimizer, **optimizer_kwargs), split.x_train,
                      split.t_train, split.x_val, split.t_val, epochs=config.epochs,
                      batch_size=config.batch_size, seed=[config.seed, trial.number, 1],
                      on_epoch=report, time_limit=None)
    # No time limit (DLFS_TIME_LIMIT, TrainingTooLong): a trial refused after its first steps
    # would end the search midway (a ValueError no worker catches), with the trials before it
    # spent, and every later trial has the same length. A search is bounded by its n_trials
    # and epochs, counted by its progress bar, and stopped by Ctrl-C or SIGTERM, which
    # re-queue the running trials.

    def record_curves():
        trial.set_user_attr("val_acc", trainer.history.test_acc)
        trial.set_user_attr("train_acc", trainer.history.train_acc)

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            trainer.train()
    except TrainingDiverged as error:
        record_curves()
        trial.set_user_attr("fail_reason", f"{DIVERGED}: {error}")
        raise
    except BaseException:
        # Stopped (SearchStopped, pruned) or failed: the curves so far are recorded where they
        # can be, never in place of the reason. A trial failed meanwhile as stale by another
        # worker refuses them (UpdateFinishedTrialError), which once replaced a SIGTERM's
        # SearchStopped and read as "paused past the grace period": the worker carried on.
        with contextlib.suppress(Exception):
            record_curves()
        raise
    record_curves()
    return trainer.history.test_acc[-1]
