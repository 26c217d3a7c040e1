"""What ``dlfs.check`` says of one learner's object: a verdict, the numbers, the diagnoses.

Every checker (optimizers, layers, functions) returns a ``Result``; the CLI prints it or
writes ``as_dict()`` as JSON.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

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
                                  else float(self.max_rel_error)),
                "diagnoses": [d.as_dict() for d in self.diagnoses]}


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
