"""Points for a class: a rubric (``--rubric rubric.toml``) or one point per object.

    [objects]                    # points for an object that passes or is a named variant
    AdaGrad = 10
    SGD = {points = 5, required = true}
    Dropout = {points = 2, required = false}   # extra credit: not in the maximum

    [codes]                      # partial credit: added to the object's points when it fails
    eps-outside-denominator = -3 # (or warns) with that diagnosis; the object's points stay
    state-reset = -10            # between 0 and its maximum

An object that passes or is a named variant earns its points; one that warns or fails earns its
points plus the [codes] entries of its diagnoses, clamped to [0, points], and nothing when none
of its codes is listed; a missing object earns 0. Objects are required unless they say
``required = false``; a required object a learner lacks is named in the feedback. Without a
rubric every object some learner hands in is worth one point.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dlfs import catalogue
from dlfs.check.result import CheckError

# codes a learner's record may carry besides the checkers' diagnoses
CLASS_CODES = ("no-python", "timeout", "not-reached", "memory", "crash", "descendants",
               "nothing-recognised", "file-error", "missing")


@dataclass
class ObjectRule:
    points: float = 1.0
    required: bool = True


@dataclass
class Rubric:
    objects: dict[str, ObjectRule] = field(default_factory=dict)  # the name as written
    codes: dict[str, float] = field(default_factory=dict)
    path: str | None = None  # None: the default, one point per object

    def maximum(self) -> float:
        return sum(rule.points for rule in self.objects.values() if rule.required)

    def match(self, name: str, references: list[str]) -> str | None:
        """The reference among ``references`` (what learners' results are compared with)
        that the rubric's ``name`` means: the same name, else the same name in any case."""
        if name in references:
            return name
        return next((ref for ref in references if ref.lower() == name.lower()), None)

    def score(self, objects: dict[str, dict]) -> tuple[dict[str, float], float]:
        """({rubric object: points}, total) of a learner whose objects are ``objects``
        (reference -> {"verdict", "codes"}, as LearnerRecord.objects gives)."""
        earned = {}
        for name, rule in self.objects.items():
            found = self.match(name, list(objects))
            if found is None:
                earned[name] = 0.0
                continue
            entry = objects[found]
            if entry["verdict"] in ("pass", "variant"):
                earned[name] = rule.points
                continue
            listed = [self.codes[code] for code in entry["codes"] if code in self.codes]
            earned[name] = min(rule.points, max(0.0, rule.points + sum(listed))) if listed \
                else (rule.points if entry["verdict"] == "warn" and not entry["codes"] else 0.0)
        return earned, sum(earned.values())

    def missing(self, objects: dict[str, dict]) -> list[str]:
        """The required objects the learner lacks."""
        return [name for name, rule in self.objects.items()
                if rule.required and self.match(name, list(objects)) is None]


def default_rubric(references: list[str]) -> Rubric:
    """One point per object some learner handed in, each required."""
    return Rubric({reference: ObjectRule() for reference in references})


def known_codes() -> list[str]:
    """Every diagnosis code dlfs check can give, read from the catalogue's check tables (a
    code is a hyphenated key of [check], any key of [check-layers] but its cases, variants
    and unfinished-… messages), with "crash", "unfinished" and the limits' "timeout" and
    "memory", plus dlfs.check.CODES where it exists."""
    import dlfs.check

    codes = {"crash", "unfinished", "timeout", "memory", *getattr(dlfs.check, "CODES", ())}
    for key in catalogue.CATALOGUE.keys("en"):
        table, _, name = key.partition(".")
        if table not in ("check", "check-layers") or "." in name or name == "input":
            continue
        if table == "check" and "-" not in name:  # the command's own lines
            continue
        if name.startswith(("case-", "variant", "unfinished-", "head")):
            continue
        codes.add(name)
    return sorted(codes)


def load_rubric(path: str | Path) -> Rubric:
    """The rubric in the TOML file ``path``; raises CheckError (one line) for a missing file,
    bad TOML, a wrong shape, an object or a code dlfs check does not know."""
    from dlfs.check import known_names, recognise

    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckError("classroom.rubric_missing", path=shown) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckError("classroom.rubric_toml", path=shown, reason=str(error)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CheckError("classroom.rubric_toml", path=shown, reason=str(error)) from None

    def shape(what: str):
        return CheckError("classroom.rubric_shape", path=shown, what=what)

    odd = sorted(set(data) - {"objects", "codes"})
    if odd:
        raise shape(f"unknown table {odd[0]!r}")
    objects = data.get("objects", {})
    if not isinstance(objects, dict) or not objects:
        raise shape("no [objects]")
    rubric = Rubric(path=shown)
    for name, value in objects.items():
        if isinstance(value, dict):
            extra = sorted(set(value) - {"points", "required"})
            if extra:
                raise shape(f"{name} has {extra[0]!r}")
            points, required = value.get("points", 1), value.get("required", True)
        else:
            points, required = value, True
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise shape(f"{name}'s points must be a number >= 0, got {points!r}")
        if not isinstance(required, bool):
            raise shape(f"{name}'s required must be true or false, got {required!r}")
        if recognise(name) is None:
            raise CheckError("classroom.rubric_object", path=shown, name=name,
                             names=", ".join(known_names()))
        rubric.objects[name] = ObjectRule(float(points), required)
    codes = data.get("codes", {})
    if not isinstance(codes, dict):
        raise shape("[codes] is not a table")
    known = known_codes()
    for code, points in codes.items():
        if code not in known:
            raise CheckError("classroom.rubric_code", path=shown, code=code,
                             codes=", ".join(known))
        if isinstance(points, bool) or not isinstance(points, (int, float)):
            raise shape(f"{code}'s points must be a number, got {points!r}")
        rubric.codes[code] = float(points)
    return rubric
