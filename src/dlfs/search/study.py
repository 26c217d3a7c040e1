"""Hyperparameter search (book 6.5) on Optuna: the book's random search, and beyond.

The book's objective, by default: the first 500 training samples, shuffled, 20 % held out for
validation; 784-[100]×6-10 ReLU with He init; SGD for 50 epochs in batches of 100; the score
is the final validation accuracy; lr ~ 10^U(−6, −2), weight decay λ ~ 10^U(−8, −4); 100 trials.

Trials live in an Optuna storage: an SQLite file by default, or any RDB URL such as
``postgresql://user@host/db``, so that worker processes on one machine (``workers``) or on many
(each started with the same ``study`` and ``storage``) share one study. Workers claim trials
under a lock (a file lock for SQLite, a PostgreSQL advisory lock), so the study ends with
exactly ``n_trials`` finished trials; a killed worker's trial stops sending heartbeats, is
failed after ``grace_period`` seconds and re-queued with the same parameters for the next
worker. A trial whose loss diverges is recorded as failed with its reason, and counts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import multiprocessing
import threading
import time
import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from dlfs import _checks

SAMPLERS = ("random", "tpe", "qmc")
PRUNERS = ("none", "median", "sha", "hyperband")
NETWORK_PARAMS = ("weight_decay", "dropout_ratio")
DIVERGED = "diverged"


@dataclass
class Space:
    """One searched value: uniform in [low, high], or log-uniform when ``log``."""

    low: float
    high: float
    log: bool = True

    def __post_init__(self):
        if not (isinstance(self.low, (int, float)) and isinstance(self.high, (int, float))):
            raise ValueError(f"a search range needs numbers low < high, got {self.low!r}, "
                             f"{self.high!r}")
        if not self.low < self.high:
            raise ValueError(f"a search range needs low < high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-uniform range needs low > 0, got {self.low}")


def _default_space() -> dict[str, Space]:
    return {"lr": Space(1e-6, 1e-2), "weight_decay": Space(1e-8, 1e-4)}


@dataclass
class SearchConfig:
    """Everything a search needs; every field can come from a TOML file or the command line."""

    n_trials: int = 100
    sampler: str = "random"
    pruner: str = "none"
    seed: int = 0
    dataset: str = "auto"
    data_root: str | None = None
    train_samples: int = 500
    val_ratio: float = 0.2
    hidden_sizes: list[int] = field(default_factory=lambda: [100] * 6)
    activation: str = "relu"
    weight_init: Any = "he"
    optimizer: str = "sgd"
    epochs: int = 50
    batch_size: int = 100
    space: dict[str, Space] = field(default_factory=_default_space)
    heartbeat_interval: int = 5
    grace_period: int = 20

    def validate(self) -> SearchConfig:
        from dlfs import optim
        from dlfs.layers import ACTIVATION_LAYERS

        _checks.positive_int("n_trials", self.n_trials)
        _checks.positive_int("train_samples", self.train_samples)
        _checks.positive_int("epochs", self.epochs)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.positive_int("heartbeat_interval", self.heartbeat_interval)
        _checks.positive_int("grace_period", self.grace_period)
        _checks.in_range("val_ratio", self.val_ratio, 0.0, 1.0, high_open=True)
        for name, choices in (("sampler", SAMPLERS), ("pruner", PRUNERS),
                              ("activation", tuple(ACTIVATION_LAYERS)),
                              ("optimizer", tuple(optim.OPTIMIZERS))):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        if not self.space:
            raise ValueError("space must name at least one value to search")
        accepted = set(optim.arguments(self.optimizer)) | set(NETWORK_PARAMS)
        for name in self.space:
            if name not in accepted:
                raise ValueError(f"space has {name!r}, which neither the {self.optimizer} "
                                 "optimizer nor the network takes; use "
                                 f"{', '.join(sorted(accepted))}")
        return self

    def as_dict(self) -> dict:
        data = asdict(self)
        data["space"] = {name: asdict(space) for name, space in self.space.items()}
        return data


def load_config(path=None, **overrides) -> SearchConfig:
    """A SearchConfig from a TOML file (flat keys, and a [space.NAME] table per searched value:
    low, high, log), then ``overrides`` (None values ignored)."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"cannot read the config file {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"the config file {path} is not valid TOML: {error}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(SearchConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown search setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known))}")
    if "space" in values:
        space = {}
        for name, spec in values["space"].items():
            if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
                raise ValueError(f"space.{name} needs low and high (and optionally log)")
            space[name] = spec if isinstance(spec, Space) else Space(**spec)
        values["space"] = space
    return SearchConfig(**values).validate()


# -- the objective ----------------------------------------------------------------------------


def _split(config: SearchConfig, data):
    from dlfs.data.splits import train_val_split

    n = min(config.train_samples, len(data.t_train))
    # The book: the first n samples, shuffled once; one split for every trial of the study.
    return train_val_split(data.x_train[:n], data.t_train[:n], config.val_ratio,
                           seed=[config.seed, 99])


def suggest(trial, config: SearchConfig) -> dict[str, float]:
    """The trial's value for every searched name: log-uniform (or uniform) in its range."""
    return {name: trial.suggest_float(name, s.low, s.high, log=s.log)
            for name, s in config.space.items()}


def run_trial(trial, config: SearchConfig, split) -> float:
    """Trains one network with the trial's values; returns the final validation accuracy."""
    import optuna

    from dlfs import optim
    from dlfs.network import MultiLayerNet
    from dlfs.train import Trainer, TrainingDiverged

    values = suggest(trial, config)
    network_kwargs = {"weight_decay_lambda" if k == "weight_decay" else k: v
                      for k, v in values.items() if k in NETWORK_PARAMS}
    optimizer_kwargs = {k: v for k, v in values.items() if k not in NETWORK_PARAMS}
    (x_train, t_train), (x_val, t_val) = split
    net = MultiLayerNet(x_train.shape[1], config.hidden_sizes, 10,
                        activation=config.activation, weight_init=config.weight_init,
                        seed=[config.seed, trial.number], **network_kwargs)

    def report(epoch, history):
        # Each report is a write to the storage: made only when a pruner will read it.
        if epoch > 0:
            trial.report(history.test_acc[-1], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

    trainer = Trainer(net, optim.create(config.optimizer, **optimizer_kwargs), x_train, t_train,
                      x_val, t_val, epochs=config.epochs, batch_size=config.batch_size,
                      seed=[config.seed, trial.number, 1],
                      on_epoch=None if config.pruner == "none" else report)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            trainer.train()
    except TrainingDiverged as error:
        trial.set_user_attr("fail_reason", f"{DIVERGED}: {error}")
        raise
    finally:
        trial.set_user_attr("val_acc", trainer.history.test_acc)
        trial.set_user_attr("train_acc", trainer.history.train_acc)
    return trainer.history.test_acc[-1]


# -- storage, locking, workers ----------------------------------------------------------------


def default_storage(out) -> str:
    return f"sqlite:///{Path(out).resolve() / 'search.db'}"


def _storage(url: str, config: SearchConfig):
    import optuna

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(
        url, engine_kwargs=engine_kwargs, heartbeat_interval=config.heartbeat_interval,
        grace_period=config.grace_period,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry=3))


@contextlib.contextmanager
def _claim_lock(url: str, study_name: str):
    """Serialises 'count the trials, then claim one' across every worker of the study."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///") + ".lock")
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif url.startswith("postgresql"):
        import sqlalchemy

        key = int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "big", signed=True)
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"),
                                       {"k": key})
        finally:
            engine.dispose()
    else:
        raise ValueError(f"storage {url!r}: use sqlite:///PATH or postgresql://…, whose "
                         "locks keep the trial count exact across workers")


def _sampler(config: SearchConfig, worker_seed: int):
    import optuna

    return {"random": optuna.samplers.RandomSampler,
            "tpe": optuna.samplers.TPESampler,
            "qmc": optuna.samplers.QMCSampler}[config.sampler](seed=worker_seed)


def _pruner(config: SearchConfig):
    import optuna

    if config.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    if config.pruner == "sha":
        return optuna.pruners.SuccessiveHalvingPruner()
    if config.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=config.epochs)
    return optuna.pruners.NopPruner()


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed for trial ``number``. Seeding per trial, not per worker, means workers
    never draw the same values (they never share a trial number), and a study's trials are the
    same whatever the number of workers or machines."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _counts(study) -> tuple[int, int, bool]:
    from optuna.trial import TrialState

    done = pending = 0
    waiting = False
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done += 1
        elif trial.state == TrialState.FAIL and DIVERGED in str(
                trial.user_attrs.get("fail_reason", "")):
            done += 1
        elif trial.state in (TrialState.RUNNING, TrialState.WAITING):
            pending += 1
            waiting = waiting or trial.state == TrialState.WAITING
    return done, pending, waiting


class _Heartbeat:
    """Records the trial's heartbeat every interval while the trial runs."""

    def __init__(self, storage, trial_id: int, interval: int):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(storage, trial_id, interval),
                                        daemon=True)

    def _beat(self, storage, trial_id, interval):
        while not self._stop.wait(interval):
            storage.record_heartbeat(trial_id)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def open_study(config: SearchConfig, study_name: str, storage_url: str):
    """Creates or loads the study. Under the claim lock: workers starting together on a new
    storage would otherwise race to create its tables."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and fail_stale_trials are marked experimental; they are what we rely on.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    with _claim_lock(storage_url, study_name):
        return optuna.create_study(
            study_name=study_name, storage=_storage(storage_url, config),
            direction="maximize", sampler=_sampler(config, config.seed),
            pruner=_pruner(config), load_if_exists=True)


def work(config: SearchConfig, study_name: str, storage_url: str, data=None,
         poll: float = 1.0) -> int:
    """One worker: claims and runs trials until the study has ``n_trials`` finished ones.
    Returns the number of trials this worker ran."""
    import optuna
    from optuna.trial import TrialState

    from dlfs.train import TrainingDiverged

    study = open_study(config, study_name, storage_url)
    if data is None:
        from dlfs.data import load_lab_data

        data = load_lab_data(config.dataset, config.data_root)
    split = _split(config, data)
    ran = 0
    while True:
        with _claim_lock(storage_url, study_name):
            optuna.storages.fail_stale_trials(study)
            done, pending, waiting = _counts(study)
            if done >= config.n_trials:
                return ran
            with warnings.catch_warnings():
                # Optuna expects heartbeats from Study.optimize; _Heartbeat sends them here.
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask() if done + pending < config.n_trials or waiting else None
        if trial is None:  # others are running the last trials; one may yet be re-queued
            time.sleep(poll)
            continue
        if config.sampler != "qmc":  # QMC indexes its sequence by trial number already
            study.sampler = _sampler(config, trial_seed(config.seed, trial.number))
        ran += 1
        with _Heartbeat(study._storage, trial._trial_id, config.heartbeat_interval):
            try:
                value = run_trial(trial, config, split)
            except optuna.TrialPruned:
                study.tell(trial, state=TrialState.PRUNED)
            except TrainingDiverged:
                study.tell(trial, state=TrialState.FAIL)
            except BaseException:
                study.tell(trial, state=TrialState.FAIL)
                raise
            else:
                study.tell(trial, value)


def _work_in_process(args):
    from threadpoolctl import threadpool_limits

    config, study_name, storage_url = args
    with threadpool_limits(1):  # the workers share the cores
        return work(config, study_name, storage_url)


def search(config: SearchConfig, study_name: str, storage_url: str, workers: int = 1,
           data=None) -> int:
    """Runs ``workers`` worker processes (or this one, for 1) until the study is complete.
    Rerunning with the same study and storage resumes it. Returns trials run here."""
    _checks.positive_int("workers", workers)
    # Creating the tables and the study here, once, keeps workers from racing to do it.
    open_study(config, study_name, storage_url)
    if workers == 1:
        return work(config, study_name, storage_url, data)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        return sum(pool.map(_work_in_process, [(config, study_name, storage_url)] * workers))


# -- results ----------------------------------------------------------------------------------


def summarize(study) -> dict:
    """Every trial (values, curves, state, reason) and the best, as plain data."""
    from optuna.trial import TrialState

    trials = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.RUNNING, TrialState.WAITING):
            continue
        trials.append({
            "number": trial.number,
            "state": trial.state.name,
            "value": trial.value,
            "params": trial.params,
            "val_acc": trial.user_attrs.get("val_acc", []),
            "train_acc": trial.user_attrs.get("train_acc", []),
            "fail_reason": trial.user_attrs.get("fail_reason"),
            "retried_from": trial.system_attrs.get("failed_trial"),
        })
    complete = [t for t in trials if t["state"] == "COMPLETE"]
    ranked = sorted(complete, key=lambda t: -t["value"])
    return {"trials": trials, "ranking": [t["number"] for t in ranked],
            "best": ranked[0] if ranked else None}


def top_trials_markdown(summary: dict, top: int = 20) -> str:
    by_number = {t["number"]: t for t in summary["trials"]}
    names = sorted({name for t in summary["trials"] for name in t["params"]})
    lines = ["| rank | trial | val acc | " + " | ".join(names) + " |",
             "|---" * (3 + len(names)) + "|"]
    for rank, number in enumerate(summary["ranking"][:top], start=1):
        trial = by_number[number]
        params = " | ".join(f"{trial['params'][n]:.3g}" for n in names)
        lines.append(f"| {rank} | {number} | {trial['value']:.3f} | {params} |")
    return "\n".join(lines) + "\n"


def plot_best(summary: dict, lang: str = "en", top: int = 20):
    """The book's 'Best-1 … Best-20' grid: validation (solid) and training (dashed) accuracy."""
    from dlfs.experiments import figures

    by_number = {t["number"]: t for t in summary["trials"]}
    ranked = summary["ranking"][:top]
    cols = 5
    rows = max(1, math.ceil(len(ranked) / cols))
    fig, axes = figures.figure(lang, rows, cols, figsize=(12, 2.2 * rows + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.set_ylim(0, 1.0)
        ax.set_xticks([])
        ax.set_yticks([])
    for rank, (ax, number) in enumerate(zip(axes.ravel(), ranked), start=1):
        trial = by_number[number]
        ax.plot(trial["val_acc"])
        ax.plot(trial["train_acc"], "--")
        ax.set_title(f"Best-{rank} ({trial['value']:.2f})", fontsize=9)
        params = ", ".join(f"{k}={v:.1e}" for k, v in sorted(trial["params"].items()))
        ax.text(0.02, 0.03, params, transform=ax.transAxes, fontsize=6)
    return figures.finish(fig)


def plot_space(summary: dict, lang: str = "en"):
    """Every finished trial in the lr × weight-decay plane (or the first two searched values),
    coloured by validation accuracy."""
    from dlfs.experiments import figures

    complete = [t for t in summary["trials"] if t["state"] == "COMPLETE"]
    names = sorted({name for t in summary["trials"] for name in t["params"]})[:2]
    fig, ax = figures.figure(lang, figsize=(6, 4.8))
    if len(names) == 2 and complete:
        points = ax.scatter([t["params"][names[0]] for t in complete],
                            [t["params"][names[1]] for t in complete],
                            c=[t["value"] for t in complete], cmap="viridis", vmin=0, vmax=1)
        failed = [t for t in summary["trials"] if t["state"] != "COMPLETE" and
                  len(t["params"]) >= 2]
        if failed:
            ax.scatter([t["params"][names[0]] for t in failed],
                       [t["params"][names[1]] for t in failed], marker="x", color="red",
                       label={"en": "failed or pruned", "ko": "실패 또는 가지치기"}[lang])
            ax.legend()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        fig.colorbar(points, label={"en": "validation accuracy", "ko": "검증 정확도"}[lang])
    return figures.finish(fig)
