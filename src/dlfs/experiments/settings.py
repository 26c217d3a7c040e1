"""Settings: an experiment's parameters changed by name (``dlfs run --set lr=0.5``,
``--config FILE.toml``, or ``Experiment.parameters(quick, overrides)`` in Python), each value
checked against the kind of the book's value, so a wrong one stops a run before it starts.

A table of update rules ({"SGD": ["sgd", 0.01], …}) is set one learning rate at a time by a
dotted key, ``optimizers.SGD.lr`` (the rule's name in any case: ``optimizers.sgd.lr``); in a
--config file the same as a dotted key or a nested table (``[optimizers.SGD]`` ``lr = 0.05``).
A table of named settings ({"weight_decay_lambda": 0.1}) is set the same way, by
``regulariser.weight_decay_lambda``. ``settable(experiment)`` is every key that can be set,
with the book's value: what the docs list.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlfs._said import Phrase, Said

if TYPE_CHECKING:
    from dlfs.experiments.base import Experiment


class SettingError(Said, ValueError):
    """A setting no experiment declares, or a value unlike the parameter's default; said
    through the catalogue (``said.setting_*``), so ``text("ko")`` is its Korean line."""

    def __init__(self, entry: str, /, **fields):
        super().__init__(key=f"said.{entry}", **fields)


def setting_of(key: str, experiment: str) -> Phrase:
    """'KEY of EXPERIMENT' in the language of the line it is said in."""
    return Phrase("said.setting_of", setting=key, experiment=experiment)


def check_setting(name: str, value, default):
    """``value`` for a parameter whose book value is ``default``, if it is of the same kind:

        default             accepts
        true/false          true or false
        a count (50)        a whole number >= 1 (any whole number where the default is <= 0)
        a number (0.1)      a finite number, > 0 where the default is > 0 (5 for 5.0)
        a text              a text
        [50, 50]            a list of whole numbers, one or more, >= 1 where the default's are
        [-3.0, 4.0]         as many finite numbers as the default has (a point, a range)
        ["relu", "tanh"]    one or more of the default's texts

    A table, or a parameter with no value, cannot be set. Returns the value (a float where
    the default is one); raises SettingError naming ``name``, the value and what would work.
    """
    checked, wanted = _check_kind(value, default)
    if wanted is None:
        what = (Phrase("said.setting_table") if isinstance(default, dict) else
                Phrase("said.setting_off") if default is None else
                Phrase("said.setting_mixed", value=as_toml(default)))
        raise SettingError("setting_cannot", name=name, what=what)
    if checked is _REFUSED:
        raise SettingError("setting_must", name=name, wanted=wanted, value=as_toml(value))
    return checked


_REFUSED = object()


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_kind(value, default):
    """(the value, or _REFUSED; what the default's kind accepts, in words (a Phrase of the
    catalogue), or None where no value is accepted)."""
    if isinstance(default, bool):
        return (value if isinstance(value, bool) else _REFUSED), Phrase("said.wanted_bool")
    if _is_int(default):
        low = 1 if default > 0 else None
        ok = _is_int(value) and (low is None or value >= low)
        return (value if ok else _REFUSED), Phrase(
            "said.wanted_whole_pos" if low else "said.wanted_whole")
    if isinstance(default, float):
        positive = default > 0
        ok = _is_number(value) and (not positive or value > 0)
        return (float(value) if ok else _REFUSED), Phrase(
            "said.wanted_number_pos" if positive else "said.wanted_number")
    if isinstance(default, str):
        return (value if isinstance(value, str) else _REFUSED), Phrase("said.wanted_text")
    if isinstance(default, list) and default:
        like = as_toml(default)
        if all(_is_int(v) for v in default):
            low = 1 if all(v > 0 for v in default) else None
            ok = isinstance(value, list) and bool(value) and all(
                _is_int(v) and (low is None or v >= low) for v in value)
            return (value if ok else _REFUSED), Phrase(
                "said.wanted_list_whole_pos" if low else "said.wanted_list_whole", like=like)
        if all(_is_number(v) for v in default):
            ok = isinstance(value, list) and len(value) == len(default) and all(
                _is_number(v) for v in value)
            return ([float(v) for v in value] if ok else _REFUSED), Phrase(
                "said.wanted_list_numbers", count=len(default), like=like)
        if all(isinstance(v, str) for v in default):
            ok = isinstance(value, list) and bool(value) and all(v in default for v in value)
            return (value if ok else _REFUSED), Phrase("said.wanted_list_texts", like=like)
    return _REFUSED, None


def as_toml(value) -> str:
    """``value`` as one writes it after --set KEY= (TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(as_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {as_toml(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "nothing"
    return repr(value)


def _is_rule(entry) -> bool:
    """An entry of a table of update rules: [rule name, learning rate]."""
    return (isinstance(entry, list | tuple) and len(entry) == 2 and isinstance(entry[0], str)
            and _is_number(entry[1]) and not isinstance(entry[1], bool))


def _rule_table(value) -> bool:
    return isinstance(value, dict) and bool(value) and all(_is_rule(v) for v in value.values())


def _named_table(value) -> bool:
    """A table of named settings, each one value ({"weight_decay_lambda": 0.1}); not a table
    keyed by labels ({"std=0.01": 0.01, "Xavier": "xavier"}), whose names are not
    identifiers."""
    return (isinstance(value, dict) and bool(value) and not _rule_table(value)
            and all(k.isidentifier() and _check_kind(v, v)[1] is not None
                    for k, v in value.items()))


def settable(experiment: Experiment) -> dict[str, Any]:
    """Every key ``--set`` takes for ``experiment``, with the book's value: its parameters but
    those fixed for the claim and those no single value can stand for; a table of update rules
    as one ``TABLE.RULE.lr`` per rule, a table of named settings as ``TABLE.NAME``."""
    keys = {}
    for key, default in experiment.params.items():
        if key in experiment.fixed:
            continue
        if _rule_table(default):
            keys.update({f"{key}.{label}.lr": entry[1] for label, entry in default.items()})
        elif _named_table(default):
            keys.update({f"{key}.{name}": value for name, value in default.items()})
        elif _check_kind(default, default)[1] is not None:
            keys[key] = default
    return keys


def dotted(experiment: Experiment, key: str) -> tuple[str, str, str] | None:
    """(TABLE, NAME, what) for a dotted key of ``experiment``: ``TABLE.RULE.lr`` into a table
    of update rules (what: "lr"), ``TABLE.NAME`` into a table of named settings (what: ""),
    NAME as the table spells it, matched in any case (``optimizers.sgd.lr`` -> ("optimizers",
    "SGD", "lr")); None where ``key`` is neither."""
    table, _, rest = key.partition(".")
    default = experiment.params.get(table)
    if table in experiment.fixed or not rest:
        return None
    if _rule_table(default):
        name, _, what = rest.rpartition(".")
        if what != "lr":
            return None
    elif _named_table(default):
        name, what = rest, ""
    else:
        return None
    same = [k for k in default if k == name] or [k for k in default if k.lower() == name.lower()]
    return (table, same[0], what) if len(same) == 1 else None


def accepts(experiment: Experiment, key: str) -> bool:
    """Whether ``key`` names a parameter of ``experiment`` (plain or dotted)."""
    return key in experiment.params or dotted(experiment, key) is not None


def canonical(experiment: Experiment, key: str) -> str:
    """``key`` as the experiment spells it: optimizers.sgd.lr -> optimizers.SGD.lr."""
    found = dotted(experiment, key)
    return ".".join(part for part in found if part) if found else key


def value_of(experiment: Experiment, params: dict, key: str):
    """The value ``key`` (plain or dotted) has in ``params``."""
    found = dotted(experiment, key)
    if found is None:
        return params[key]
    table, name, what = found
    return params[table][name][1] if what else params[table][name]


def set_dotted(experiment: Experiment, params: dict, key: str, value) -> dict:
    """``params`` with the one value a dotted ``key`` names set to ``value``, checked against
    the book's; SettingError where ``key`` is no such key."""
    found = dotted(experiment, key)
    if found is None:
        raise unknown_setting(key, [experiment])
    table, name, what = found
    book = experiment.params[table][name]
    where = setting_of(canonical(experiment, key), experiment.name)
    entries = {k: list(v) if isinstance(v, list) else v for k, v in params[table].items()}
    if what:  # a rule's learning rate
        entries[name][1] = check_setting(where, value, float(book[1]))
    else:
        entries[name] = check_setting(where, value, book)
    return {**params, table: entries}


def unknown_setting(key: str, experiments: Sequence[Experiment]) -> SettingError:
    """The one-line refusal of ``key``: the settings there are, and the nearest one (for a
    bare ``lr`` where rules have their own, the first ``….lr``)."""
    keys = list(dict.fromkeys(k for experiment in experiments for k in settable(experiment)))
    close = difflib.get_close_matches(key, keys, n=1) or \
        [k for k in keys if k.lower().endswith("." + key.lower())][:1]
    hint = Phrase("said.setting_hint", close=close[0]) if close else ""
    listed = ", ".join(keys) or Phrase("said.none")
    if len(experiments) == 1:
        return SettingError("setting_unknown_one", quoted=repr(key),
                            experiment=experiments[0].name, hint=hint, keys=listed)
    return SettingError("setting_unknown_many", quoted=repr(key), hint=hint, keys=listed)


def settings_for(experiments: Sequence[Experiment], overrides: dict[str, Any],
                 quick: bool = False) -> dict[str, dict[str, Any]]:
    """{experiment name: the overrides it declares, as checked}, for a run of several
    experiments: a key applies to every experiment that declares it and must be declared by
    at least one. Raises SettingError, so a run stops before anything ran."""
    for key in overrides:
        if not any(accepts(experiment, key) for experiment in experiments):
            raise unknown_setting(key, experiments)
    chosen = {}
    for experiment in experiments:
        given = [key for key in overrides if accepts(experiment, key)]
        params = experiment.parameters(quick, {key: overrides[key] for key in given})
        chosen[experiment.name] = {canonical(experiment, key): value_of(experiment, params, key)
                                   for key in given}
    return chosen



def parse_setting(text: str) -> tuple[str, Any]:
    """KEY=VALUE as (KEY, VALUE): VALUE read as TOML (0.5, 2000, [50, 50], true, "relu"), else
    as a Python number (.5), else as the text itself, for ``check_setting`` to judge."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SettingError("setting_not_pair", quoted=repr(text))
    return key.strip(), _value(value.strip())


def _value(text: str):
    if "\n" not in text:
        try:
            return tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            pass
    try:
        return float(text)
    except ValueError:
        return text


def read_settings(path) -> dict[str, Any]:
    """The KEY = VALUE lines of a TOML file, as a dict, tables as dotted keys
    (``[optimizers.SGD]`` ``lr = 0.05`` -> {"optimizers.SGD.lr": 0.05}); SettingError when it
    cannot be read."""
    try:
        with open(path, "rb") as handle:
            return flat(tomllib.load(handle))
    except OSError as error:
        raise SettingError("config_unreadable", path=str(path),
                           reason=error.strerror or error) from None
    except tomllib.TOMLDecodeError as error:
        raise SettingError("config_not_toml", path=str(path), error=error) from None
    except UnicodeDecodeError as error:  # a binary file: TOML is UTF-8 text
        raise SettingError("config_not_text", path=str(path),
                           byte=f"{error.object[error.start]:02x}",
                           position=error.start) from None


def flat(table: dict, prefix: str = "") -> dict[str, Any]:
    """A TOML document's tables as dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    keys = {}
    for key, value in table.items():
        if isinstance(value, dict) and value:
            keys.update(flat(value, f"{prefix}{key}."))
        else:
            keys[f"{prefix}{key}"] = value
    return keys
