"""Exceptions whose message is an entry of the catalogue, so the command line can say them in
its language: ``Said(key=KEY, **fields)``; ``str()`` is the English line, ``text(lang)`` the
line in ``lang``. ``Said(message)`` is a fixed line, the same in every language."""

from __future__ import annotations

from dlfs import catalogue


class Said(Exception):
    """An error said through the catalogue (see the module)."""

    def __init__(self, message: str | None = None, *, key: str | None = None, **fields):
        self.key, self.fields = key, fields
        super().__init__(message if key is None else catalogue.text(key, "en", **fields))

    def text(self, lang: str) -> str:
        """The message in ``lang`` (a fixed line is the same in every language)."""
        return str(self) if self.key is None else catalogue.text(self.key, lang, **self.fields)
