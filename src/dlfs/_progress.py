"""A tqdm progress bar when tqdm is installed and wanted; otherwise None (tqdm is optional).

Its unit and description are said in the language of the command that runs it: DLFS_LANG
(which ``dlfs`` sets to its --lang for the command and the worker processes it starts), else
the locale's (LC_ALL, LC_MESSAGES, LANG), else English.
"""

from __future__ import annotations

import contextlib
import os

LANG_ENV = "DLFS_LANG"
# The words bars show, by their English form: their keys in the catalogue.
_WORDS = {"it": "bounds.bar_it", "trial": "bounds.bar_trial", "run": "bounds.bar_run",
          "coordinate": "bounds.bar_coordinate", "direction": "bounds.bar_direction",
          "search": "bounds.bar_search", "gradient check": "bounds.bar_gradient_check",
          "job": "lab_run.bar_job", "learner": "said.bar_learner", "loss": "said.bar_loss",
          "test_acc": "said.bar_test_acc", "train_acc": "said.bar_train_acc"}


def bar_lang() -> str:
    """The language a progress bar speaks (see the module)."""
    from dlfs.catalogue import LANGS

    chosen = os.environ.get(LANG_ENV)
    if chosen in LANGS:
        return chosen
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            code = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return code if code in LANGS else "en"
    return "en"


def _said(word: str | None, lang: str) -> str | None:
    from dlfs import catalogue

    return word if word not in _WORDS else catalogue.text(_WORDS[word], lang)


def bar_word(word: str) -> str:
    """``word`` (a unit, or the name of a number shown beside the count: loss, test_acc) as
    a bar in this language shows it."""
    return _said(word, bar_lang())


def progress_bar(total, enabled: bool, unit: str | None = None, desc: str | None = None,
                 *, forks: bool = False, **kwargs):
    """A tqdm bar of ``total`` steps on stderr, or None where not ``enabled`` or tqdm is not
    installed. ``forks``: this process forks while the bar is shown (a pool of workers, a
    learner's sandbox), so tqdm starts no monitor thread, which could hold a lock at the fork
    that the child then waits on forever."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    if forks:
        tqdm.monitor_interval = 0
    lang = bar_lang()
    words = {name: _said(word, lang) for name, word in (("unit", unit), ("desc", desc))
             if word is not None}
    return tqdm(total=total, leave=False, **words, **kwargs)


@contextlib.contextmanager
def set_aside(bar):
    """While the block prints lines, ``bar`` (or None) is wiped from the terminal; it is drawn
    again below them when the block ends."""
    if bar is None:
        yield
        return
    bar.clear()
    try:
        yield
    finally:
        bar.refresh()
