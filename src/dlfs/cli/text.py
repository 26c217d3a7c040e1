"""What the ``dlfs`` command says: its language, its one-line errors, argparse in that language.

The command's language is the last ``--lang`` on its command line, else the locale's (the first
of LC_ALL, LC_MESSAGES and LANG that is set, as gettext reads them: ``ko_KR.UTF-8`` is Korean),
else English. The help strings come from the catalogue's ``help`` table; argparse's own words
("usage:", "options", its error messages) from its ``argparse`` table, whose English entries are
exactly the messages argparse hands to gettext, so the table maps them one to one.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
from collections.abc import Iterator, Mapping, Sequence

from dlfs import catalogue
from dlfs.catalogue import LANGS

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


class CliError(Exception):
    """A bad argument or environment: printed as one line, exit status 2."""


def say(key: str, lang: str, **fields) -> str:
    """The catalogue's ``key`` in ``lang``: every line the command prints is one."""
    return catalogue.text(key, lang, **fields)


def did_you_mean(name: str, names, lang: str) -> str:
    """"did you mean NAME? " for the one of ``names`` nearest to a mistyped ``name``
    (difflib), else ""."""
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1)
    return say("errors.did_you_mean", lang, close=close[0]) if close else ""


def wanted_lang(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> str:
    """The language code for ``argv``: its last ``--lang X`` or ``--lang=X`` naming a language
    of the catalogue, else the locale's when the catalogue has it, else 'en'."""
    chosen = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif arg.startswith("--lang="):
            chosen = arg.partition("=")[2]
    if chosen in LANGS:
        return chosen
    return locale_lang(environ)


def locale_lang(environ: Mapping[str, str] = os.environ) -> str:
    """The catalogue language of the locale ('ko' for ko_KR.UTF-8), else 'en'."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable)
        if value:  # the first one set decides, as in gettext: LC_ALL=C means English
            code = value.split(".")[0].split("@")[0].split("_")[0].lower()
            return code if code in LANGS else "en"
    return "en"


def os_reason(error: OSError, lang: str) -> str:
    """Why a file operation failed, in ``lang`` where the catalogue has its errno
    (errors.os_ENOTDIR), else as the system says it."""
    key = f"errors.os_{errno.errorcode.get(error.errno or 0, '')}"
    if key in catalogue.CATALOGUE.keys("en"):
        return say(key, lang)
    return error.strerror or str(error)


def argparse_words(lang: str) -> dict[str, str]:
    """argparse's message -> the same message in ``lang``."""
    english = catalogue.CATALOGUE.keys("en")
    keys = sorted(key for key in english if key.startswith("argparse."))
    return {catalogue.CATALOGUE.template(key, "en"): catalogue.CATALOGUE.template(key, lang)
            for key in keys}


@contextlib.contextmanager
def argparse_in(lang: str) -> Iterator[None]:
    """argparse's own words in ``lang`` while the block builds and runs a parser.

    argparse looks its words up through ``argparse._`` (gettext) when it formats them, so the
    block swaps that one function and puts it back; English needs no swap.
    """
    if lang == "en":
        yield
        return
    words = argparse_words(lang)
    original = argparse._

    def translate(message: str) -> str:
        return words.get(message) or original(message)

    argparse._ = translate
    try:
        yield
    finally:
        argparse._ = original
