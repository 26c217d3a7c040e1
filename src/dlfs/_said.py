"""Exceptions whose message is an entry of the catalogue, so the command line can say them in
its language: ``Said(key=KEY, **fields)``; ``str()`` is the English line, ``text(lang)`` the
line in ``lang``. ``Said(lines=[(KEY, fields), ...])`` is several entries, one per line.
A line's fields may hold ``indent``, put before it. ``Said(message)`` is a fixed line, the
same in every language. A field may itself be a ``Phrase(KEY, **fields)``: an entry said in
the same language as the line around it ("a whole number >= 1" / "1 이상의 정수")."""

from __future__ import annotations

from dlfs import catalogue


class Phrase:
    """A catalogue entry used as a field of another: said in the language of the line."""

    def __init__(self, key: str, /, **fields):
        self.key, self.fields = key, fields

    def text(self, lang: str) -> str:
        return catalogue.text(self.key, lang, **_in(self.fields, lang))

    def __str__(self) -> str:
        return self.text("en")


def _in(fields: dict, lang: str) -> dict:
    """``fields`` with each Phrase (or other error said by the catalogue, with ``text(lang)``)
    said in ``lang``."""
    return {name: value.text(lang) if callable(getattr(value, "text", None)) else value
            for name, value in fields.items()}


class Said(Exception):
    """An error said through the catalogue (see the module)."""

    def __init__(self, message: str | None = None, *, key: str | None = None,
                 lines: list[tuple[str, dict]] | None = None, **fields):
        self.key, self.fields = key, fields
        self.lines = [(key, fields)] if key is not None else lines
        super().__init__(message if self.lines is None else self.text("en"))

    def text(self, lang: str) -> str:
        """The message in ``lang`` (a fixed line is the same in every language)."""
        if self.lines is None:
            return str(self)
        return "\n".join(fields.get("indent", "") + catalogue.text(key, lang, **_in(fields, lang))
                         for key, fields in self.lines)


class SaidValueError(Said, ValueError):
    """A ValueError said through the catalogue (a bad argument, a size refused)."""


def run_lang() -> str:
    """The language a warning is said in: the command's (DLFS_LANG, which dlfs --lang sets for
    the command and its worker processes), else English."""
    import os

    chosen = os.environ.get("DLFS_LANG")
    return chosen if chosen in catalogue.LANGS else "en"


def said_in(error: BaseException, lang: str) -> str:
    """``error``'s message in ``lang`` when the catalogue says it, else ``str(error)``."""
    return error.text(lang) if isinstance(error, Said) else str(error)
