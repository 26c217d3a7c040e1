"""What ``dlfs.check`` says of one learner's object: a verdict, the numbers, the diagnoses.

Every checker (optimizers, layers, functions) returns a ``Result``; the CLI prints it or
writes ``as_dict()`` as JSON.
"""

from __future__ import annotations

import html
import math
import os
import traceback
from dataclasses import dataclass, field
from typing import Any

from dlfs import catalogue

VERDICTS = ("pass", "variant", "warn", "fail")


@dataclass
class Diagnosis:
    """One named mistake: a stable ``code`` ("state-reset"), its message in every language
    ({"en": ..., "ko": ...}: what is wrong, where, how to fix it) and the learner's line where
    it was found (None where no line can be named)."""

    code: str
    message: dict[str, str]
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": dict(self.message), "line": self.line}


@dataclass
class Result:
    """The check of one object.

    verdict: "pass" (equals the reference), "variant" (equals a documented variant, named in
    ``variant``), "warn" (right numbers, a habit that will bite), "fail".
    first_bad_step: the first update step (optimizers, counted from 1) or input (layers and
    functions, counted from 0) where it departs from the reference; None when it never does.
    max_rel_error: the largest relative difference from the reference seen (None when nothing
    could be compared, e.g. a crash before the first result).
    """

    name: str
    kind: str  # "optimizer", "layer" or "function"
    reference: str  # the dlfs reference it was compared with, e.g. "AdaGrad"
    verdict: str
    variant: str | None = None
    first_bad_step: int | None = None
    max_rel_error: float | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    # the language a notebook shows it in (dlfs.check.check(..., lang="ko")); else the locale's
    lang: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    def codes(self) -> list[str]:
        return [d.code for d in self.diagnoses]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (stable: the CLI's --json prints a list of these under "results")."""
        return {"name": self.name, "kind": self.kind, "reference": self.reference,
                "verdict": self.verdict, "variant": self.variant,
                "first_bad_step": self.first_bad_step,
                "max_rel_error": (None if self.max_rel_error is None
                                  or not math.isfinite(self.max_rel_error)
                                  else float(self.max_rel_error)),
                "diagnoses": [d.as_dict() for d in self.diagnoses]}

    def headline(self, lang: str = "en") -> str:
        """One line: the name, the verdict and where it departs ("AdaGrad: fail — …")."""
        fields = {"name": self.name, "reference": self.reference, "kind": self.kind}
        if self.verdict == "variant":
            key = f"check.variant_{self.variant}"
            known = key in catalogue.CATALOGUE.keys(lang)
            fields["variant"] = catalogue.text(key, lang) if known else self.variant
        codes = self.codes()
        if "unfinished" in codes:
            return catalogue.text("check.head_unfinished", lang, **fields)
        if "timeout" in codes:
            return catalogue.text("check.head_timeout", lang, **fields)
        if "memory" in codes:
            return catalogue.text("check.head_memory", lang, **fields)
        if "crash" in codes:
            return catalogue.text("check.head_crash", lang, **fields)
        if (self.verdict == "fail" and self.first_bad_step is not None
                and self.max_rel_error is not None):
            error = self.max_rel_error
            fields.update(step=self.first_bad_step,
                          error="inf" if error is None or not math.isfinite(error)
                          else f"{error:.2g}")
            return catalogue.text("check.head_fail_at", lang, **fields)
        return catalogue.text(f"check.head_{self.verdict}", lang, **fields)

    def text(self, lang: str = "en") -> str:
        """The headline, then one line per diagnosis: its code and message in ``lang``."""
        lines = [self.headline(lang)]
        lines += [f"  - {d.code}: {d.message.get(lang) or d.message.get('en', '')}"
                  for d in self.diagnoses]
        return "\n".join(lines)

    def __str__(self) -> str:
        """text() in the language check() was given (lang=...), else English."""
        return self.text(self.lang or "en")

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(self.text(self.lang or _locale_lang()))

    def _repr_html_(self) -> str:  # Jupyter
        lang = self.lang or _locale_lang()
        colour = {"pass": "#1a7f37", "variant": "#0969da", "warn": "#9a6700",
                  "fail": "#cf222e"}[self.verdict]
        items = "".join(f"<li><code>{html.escape(d.code)}</code>: "
                        f"{html.escape(d.message.get(lang) or d.message.get('en', ''))}</li>"
                        for d in self.diagnoses)
        return (f'<div><b style="color:{colour}">{html.escape(self.headline(lang))}</b>'
                + (f"<ul>{items}</ul>" if items else "") + "</div>")


def _locale_lang() -> str:
    """The catalogue language of the locale (as the dlfs command reads it), else "en"."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            return code if code in catalogue.LANGS else "en"
    return "en"


class CheckError(ValueError):
    """What cannot be checked (an unknown name, a class with another interface): one line,
    the catalogue's ``key`` formatted with ``fields``; ``str()`` is the English line. A field
    given as {lang: text} is taken in each language."""

    def __init__(self, key: str, **fields):
        self.key, self.fields = key, fields
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        fields = {name: value.get(lang, value.get("en")) if isinstance(value, dict) else value
                  for name, value in self.fields.items()}
        return catalogue.text(self.key, lang, **fields)


def error_line(error: BaseException, limit: int = 200) -> str:
    """"TYPE: MESSAGE" of ``error`` on one line of at most ``limit`` characters: a longer one
    ends after its last whole sentence that fits (NumPy's "`np.int` was a deprecated alias …"
    runs on for 400), else at its last whole word in the second half, else at the limit, with
    "…"."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = cut.rfind(". ")
    if end > 0:
        return cut[:end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut[:limit - 1]) + "…"


def learner_frame(error: BaseException, files: set[str] | None = None):
    """(file, line) of the innermost traceback frame of ``error`` that lies in the learner's
    code: in one of ``files`` when given, else outside dlfs and the standard library/NumPy.
    (None, None) when there is none."""
    found = (None, None)
    for frame in traceback.extract_tb(error.__traceback__):
        name = frame.filename
        if files is not None:
            if name in files:
                found = (name, frame.lineno)
        elif "/dlfs/" not in name and "site-packages" not in name and "/lib/python" not in name:
            found = (name, frame.lineno)
    return found
