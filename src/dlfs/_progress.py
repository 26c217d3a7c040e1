"""A tqdm progress bar when tqdm is installed and wanted; otherwise None (tqdm is optional).

Its unit and description are said in the language of the command that runs it: DLFS_LANG
(which ``dlfs`` sets to its --lang for the command and the worker processes it starts), else
the locale's (LC_ALL, LC_MESSAGES, LANG), else English.
"""

from __future__ import annotations

import os

LANG_ENV = "DLFS_LANG"
# The words bars show, by their English form: the catalogue's bounds.bar_KEY.
_WORDS = {"it": "it", "trial": "trial", "run": "run", "coordinate": "coordinate",
          "direction": "direction", "search": "search", "gradient check": "gradient_check"}
# More of them, and the names of the numbers a bar shows beside its count: said.bar_KEY.
_MORE_WORDS = {"learner": "learner", "loss": "loss", "test_acc": "test_acc",
               "train_acc": "train_acc"}


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

    if word in _MORE_WORDS:
        return catalogue.text(f"said.bar_{_MORE_WORDS[word]}", lang)
    return word if word not in _WORDS else catalogue.text(f"bounds.bar_{_WORDS[word]}", lang)


def bar_word(word: str) -> str:
    """``word`` (a unit, or the name of a number shown beside the count: loss, test_acc) as
    a bar in this language shows it."""
    return _said(word, bar_lang())


def progress_bar(total, enabled: bool, unit: str | None = None, desc: str | None = None,
                 **kwargs):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    lang = bar_lang()
    words = {name: _said(word, lang) for name, word in (("unit", unit), ("desc", desc))
             if word is not None}
    return tqdm(total=total, leave=False, **words, **kwargs)
