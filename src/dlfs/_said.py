"""Exceptions whose message is an entry of the catalogue, so the command line can say them in
its language: ``Said(key=KEY, **fields)``; ``str()`` is the English line, ``text(lang)`` the
line in ``lang``. ``Said(lines=[(KEY, fields), ...])`` is several entries, one per line.
A line's fields may hold ``indent``, put before it. ``Said(message)`` is a fixed line, the
same in every language."""

from __future__ import annotations

from dlfs import catalogue


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
        return "\n".join(fields.get("indent", "") + catalogue.text(key, lang, **fields)
                         for key, fields in self.lines)


def said_in(error: BaseException, lang: str) -> str:
    """``error``'s message in ``lang`` when the catalogue says it, else ``str(error)``."""
    return error.text(lang) if isinstance(error, Said) else str(error)
