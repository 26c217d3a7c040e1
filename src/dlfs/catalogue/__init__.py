"""Every sentence the lab shows people, one TOML file per language (en.toml, ko.toml, …).

    >>> from dlfs import catalogue
    >>> catalogue.text("batch-norm.title", "en", scales=4)
    'Batch normalisation at 4 weight scales'
    >>> catalogue.both("words.epoch")
    {'en': 'epoch', 'ko': '에폭'}
    >>> catalogue.word("training_accuracy", "ko")
    '훈련 정확도'

Every file holds the same keys:

    language, font  the language's own name (for the report's switch) and "cjk" where figures
                    need a CJK font
    [words]         the glossary: train, test, epoch, accuracy, learning rate, …
    [report]        the report page's headings
    [cli]           the lines of the dlfs command
    [notebook]      labels in the chapter notebooks' code that the glossary does not hold
    [NAME]          one table per experiment: title, claim, about, verdict, figure labels

A text is a ``str.format`` template whose named fields are the run's parameters and numbers:
``{scales}``, ``{gap:.3f}``, ``{hidden_sizes[0]}``; ``fields(params)`` adds ``n_NAME``, the
length of every list or table parameter. A template may cite another entry of its own file by
its key, ``{words.epoch}`` or ``{overfitting.setup}``, formatted with the same fields. The
languages are the files present, so a third language is one more file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


class CatalogueError(ValueError):
    """A language, key or field the catalogue does not have."""


class Catalogue:
    """The language files (NAME.toml, NAME a language code) of one folder."""

    def __init__(self, folder: str | Path = FOLDER):
        self.folder = Path(folder)
        files = sorted(self.folder.glob("*.toml"))
        if not files:
            raise CatalogueError(f"no language files (*.toml) in {self.folder}")
        self.tables = {path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
                       for path in files}
        self.langs = tuple(self.tables)

    def text(self, key: str, lang: str, **fields: Any) -> str:
        """The entry ``key`` ("batch-norm.title") in ``lang``, formatted with ``fields``."""
        return self._format(key, lang, fields, cited=())

    def both(self, key: str, **fields: Any) -> dict[str, str]:
        """The entry ``key`` in every language: {lang: text}."""
        return {lang: self.text(key, lang, **fields) for lang in self.langs}

    def template(self, key: str, lang: str) -> str:
        """The entry ``key`` in ``lang`` as written, unformatted."""
        node = self._lookup(key, lang)
        if not isinstance(node, str):
            raise CatalogueError(f"{key!r} in {lang}.toml is a table, not a text; its keys: "
                                 f"{', '.join(node)}")
        return node

    def keys(self, lang: str) -> set[str]:
        """Every text's key in ``lang``, dotted."""
        def walk(table: dict, prefix: str):
            for name, value in table.items():
                if isinstance(value, dict):
                    yield from walk(value, f"{prefix}{name}.")
                else:
                    yield f"{prefix}{name}"
        return set(walk(self._lookup("", lang), ""))

    def _lookup(self, key: str, lang: str):
        if lang not in self.tables:
            raise CatalogueError(f"language {lang!r} is not in the catalogue; choose from "
                                 f"{', '.join(self.langs)} (or add {lang}.toml to {self.folder})")
        node = self.tables[lang]
        done = []
        for part in key.split(".") if key else ():
            if not isinstance(node, dict) or part not in node:
                where = (f"; {'.'.join(done)!r} holds: {', '.join(node)}"
                         if done and isinstance(node, dict) else "")
                raise CatalogueError(f"no text {key!r} in {lang}.toml{where}")
            node = node[part]
            done.append(part)
        return node

    def _format(self, key: str, lang: str, fields: dict, cited: tuple) -> str:
        if key in cited:
            raise CatalogueError(f"{key!r} in {lang}.toml cites itself: "
                                 f"{' → '.join((*cited, key))}")
        template = self.template(key, lang)
        try:
            return template.format_map(_Fields(self, lang, fields, (*cited, key)))
        except CatalogueError:
            raise
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
            raise CatalogueError(f"{key!r} in {lang}.toml, {template!r}, does not format with "
                                 f"the fields {_names(fields)}: {error}") from None


class _Fields:
    """What a template's {names} resolve to: the caller's fields, else a table of the file."""

    def __init__(self, catalogue: Catalogue, lang: str, fields: dict, cited: tuple):
        self.catalogue, self.lang, self.fields, self.cited = catalogue, lang, fields, cited

    def __getitem__(self, name: str):
        if name in self.fields:
            return self.fields[name]
        if isinstance(self.catalogue.tables[self.lang].get(name), dict):
            return _Cited(self, name)
        raise CatalogueError(f"{self.cited[-1]!r} in {self.lang}.toml needs the field {name!r}; "
                             f"given: {_names(self.fields)}")


class _Cited:
    """{table.key} inside a template: another entry of the same file, with the same fields."""

    def __init__(self, fields: _Fields, key: str):
        self._fields, self._key = fields, key

    def __getattr__(self, name: str):
        key = f"{self._key}.{name}"
        fields = self._fields
        if isinstance(fields.catalogue._lookup(key, fields.lang), dict):
            return _Cited(fields, key)
        return fields.catalogue._format(key, fields.lang, fields.fields, fields.cited)

    def __format__(self, spec: str) -> str:
        raise CatalogueError(f"{self._key!r} in {self._fields.lang}.toml is a table; cite one "
                             f"of its texts, e.g. {{{self._key}.NAME}}")


def _names(fields: dict) -> str:
    return ", ".join(sorted(fields)) or "none"


def fields(params: dict[str, Any]) -> dict[str, Any]:
    """A run's parameters as template fields: each under its name, plus n_NAME, the length of
    every list or table ({n_hidden_sizes} hidden layers)."""
    extra = {f"n_{name}": len(value) for name, value in params.items()
             if isinstance(value, (list, tuple, dict))}
    return {**params, **extra}


CATALOGUE = Catalogue()
LANGS: tuple[str, ...] = CATALOGUE.langs


def text(key: str, lang: str, **fields: Any) -> str:
    """The entry ``key`` in ``lang``, formatted with ``fields`` (see the module docstring)."""
    return CATALOGUE.text(key, lang, **fields)


def both(key: str, **fields: Any) -> dict[str, str]:
    """The entry ``key`` in every language of the catalogue: {lang: text}."""
    return CATALOGUE.both(key, **fields)


def word(name: str, lang: str, **fields: Any) -> str:
    """The glossary's ``name`` in ``lang``: text("words." + name, lang)."""
    return CATALOGUE.text(f"words.{name}", lang, **fields)
