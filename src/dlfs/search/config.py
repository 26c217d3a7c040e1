"""What a search is: its settings, and the space of values it draws from."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from dlfs import _checks
from dlfs._said import Said

SAMPLERS = ("random", "tpe", "qmc")
PRUNERS = ("none", "median", "sha", "hyperband")
# Searched names that go to MultiLayerNet; every other name goes to the optimizer. Each is the
# argument of its receiver: weight_decay_lambda is the network's λ (½λΣ‖W‖² in the loss, weights
# only, the book's), weight_decay the optimizer's coupled L2 (g ← g + λθ on every key, torch's).
NETWORK_PARAMS = ("weight_decay_lambda", "dropout_ratio")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value) -> bool:
    return isinstance(value, str)


# The type of every setting, checked before its value: TOML gives "no" for log and "3" for a
# number as readily as false and 3.
_TYPES = {
    "n_trials": (_is_int, "an integer"), "seed": (_is_int, "an integer"),
    "train_samples": (_is_int, "an integer"), "epochs": (_is_int, "an integer"),
    "batch_size": (_is_int, "an integer"), "heartbeat_interval": (_is_int, "an integer"),
    "grace_period": (_is_int, "an integer"), "wait_timeout": (_is_int, "an integer"),
    "storage_retry": (_is_int, "an integer"),
    "val_ratio": (_is_number, "a number"), "sampler": (_is_str, "a string"),
    "pruner": (_is_str, "a string"), "dataset": (_is_str, "a string"),
    "activation": (_is_str, "a string"), "optimizer": (_is_str, "a string"),
    "data_root": (lambda v: v is None or _is_str(v), "a string (a folder)"),
    "hidden_sizes": (lambda v: isinstance(v, (list, tuple))
                     and all(_is_int(n) and n > 0 for n in v), "a list of positive integers"),
    "weight_init": (lambda v: _is_str(v) or _is_number(v), "a name (he, xavier) or a number"),
    "space": (lambda v: isinstance(v, dict), "a table of [space.NAME] ranges"),
}
# The catalogue's word for each kind: bounds.search_type_KIND.
_KINDS = {"an integer": "int", "a number": "number", "a string": "str",
          "a string (a folder)": "folder", "a list of positive integers": "sizes",
          "a name (he, xavier) or a number": "init", "a table of [space.NAME] ranges": "space"}
# What a study is: a rerun that changes one of these would mix trials of two searches. The others
# (how many trials, how workers watch each other, where the data lies) may change on a resume.
STUDY_SETTINGS = ("sampler", "pruner", "seed", "dataset", "train_samples", "val_ratio",
                  "hidden_sizes", "activation", "weight_init", "optimizer", "epochs",
                  "batch_size", "space")


class ConfigError(Said, ValueError):
    """A search setting that cannot be used; ``text(lang)`` says why in ``lang``."""


@dataclass
class Space:
    """One searched value: uniform in [low, high], or log-uniform when ``log``."""

    low: float
    high: float
    log: bool = True

    def __post_init__(self):
        if not (_is_number(self.low) and _is_number(self.high)):
            raise ConfigError(key="bounds.search_range_numbers", low=self.low, high=self.high)
        if not isinstance(self.log, bool):
            raise ConfigError(key="bounds.search_range_log", log=self.log)
        if not self.low < self.high:
            raise ConfigError(key="bounds.search_range_order", low=self.low, high=self.high)
        if self.log and self.low <= 0:
            raise ConfigError(key="bounds.search_range_log_low", low=self.low)


def _default_space() -> dict[str, Space]:
    # The book's: lr ~ 10^U(−6, −2), the network's λ ~ 10^U(−8, −4).
    return {"lr": Space(1e-6, 1e-2), "weight_decay_lambda": Space(1e-8, 1e-4)}


@dataclass
class SearchConfig:
    """Everything a search needs; every field can come from a TOML file or the command line.

    ``dataset`` and ``data_root`` are for the caller that loads the data (``dlfs search``);
    the search itself trains on the data it is handed.
    """

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
    wait_timeout: int = 600
    storage_retry: int = 60  # seconds a worker retries an unreachable storage before it stops

    def validate(self) -> SearchConfig:
        """Every setting checked, types first: a TOML string is never a truthy number."""
        for name, kind in _TYPES.items():
            value = getattr(self, name)
            if not kind[0](value):
                raise ConfigError(key=f"bounds.search_type_{_KINDS[kind[1]]}", name=name,
                                  value=value)
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(key="bounds.search_grace", heartbeat=self.heartbeat_interval,
                              grace=self.grace_period)
        return self._validate_values()

    def _validate_values(self) -> SearchConfig:
        from dlfs import optim
        from dlfs.data.lab import DATASET_CHOICES
        from dlfs.layers import ACTIVATION_LAYERS

        _checks.positive_int("n_trials", self.n_trials)
        _checks.positive_int("train_samples", self.train_samples)
        _checks.positive_int("epochs", self.epochs)
        _checks.positive_int("batch_size", self.batch_size)
        _checks.positive_int("heartbeat_interval", self.heartbeat_interval)
        _checks.positive_int("grace_period", self.grace_period)
        _checks.positive_int("wait_timeout", self.wait_timeout)
        _checks.positive_int("storage_retry", self.storage_retry)
        _checks.in_range("val_ratio", self.val_ratio, 0.0, 1.0, high_open=True)
        for name, choices in (("sampler", SAMPLERS), ("pruner", PRUNERS),
                              ("dataset", DATASET_CHOICES),
                              ("activation", tuple(ACTIVATION_LAYERS)),
                              ("optimizer", tuple(optim.OPTIMIZERS))):
            if getattr(self, name) not in choices:
                raise ConfigError(key="bounds.search_choice", name=name,
                                  choices=", ".join(choices), value=getattr(self, name))
        if not self.space:
            raise ConfigError(key="bounds.search_space_empty")
        optimizer_args = optim.arguments(self.optimizer)
        for name in self.space:
            if name not in optimizer_args and name not in NETWORK_PARAMS:
                raise ConfigError(key="bounds.search_space_unknown", name=name,
                                  optimizer=self.optimizer, args=", ".join(optimizer_args),
                                  network=", ".join(NETWORK_PARAMS))
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
            raise ConfigError(key="bounds.search_unreadable", path=str(path),
                              reason=str(error.strerror)) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(key="bounds.search_not_toml", path=str(path),
                              reason=str(error)) from None
        except UnicodeDecodeError as error:  # a binary file
            raise ConfigError(key="bounds.search_not_text", path=str(path),
                              byte=f"{error.object[error.start]:02x}",
                              position=error.start) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(SearchConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(key="bounds.search_unknown", unknown=", ".join(unknown),
                          known=", ".join(sorted(known)))
    if "space" in values:
        space = {}
        if not isinstance(values["space"], dict):
            raise ConfigError(key="bounds.search_space_table", value=values["space"])
        for name, spec in values["space"].items():
            if isinstance(spec, Space):
                space[name] = spec
            elif isinstance(spec, dict) and {"low", "high"} <= set(spec) <= {"low", "high", "log"}:
                space[name] = Space(**spec)
            else:
                raise ConfigError(key="bounds.search_space_entry", name=name, value=spec)
        values["space"] = space
    config = SearchConfig(**values).validate()
    config.given = frozenset(values)  # what was set, not defaulted (see was_given)
    return config


def was_given(config: SearchConfig, name: str) -> bool:
    """Whether ``name`` was set (in load_config's file or overrides) rather than left at its
    default; for a SearchConfig built directly, whether it differs from the default."""
    given = getattr(config, "given", None)
    if given is not None:
        return name in given
    return getattr(config, name) != SearchConfig.__dataclass_fields__[name].default
