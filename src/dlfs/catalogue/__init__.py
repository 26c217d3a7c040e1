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

A Korean particle that depends on the word before it is written as the field's format spec:
``{name:은는}``, ``{name:이가}``, ``{name:을를}``, ``{name:과와}``, ``{name:으로로}``,
``{name:이나나}``, ``{name:이라라}`` (see ``particle``): "Adam은", "dx가", "lr로", "W1을".

An English count and its noun are written ``{count:plural:experiment:experiments}``: the number,
then the first word where it is 1 and the second otherwise ("1 experiment", "3 experiments").
"""

from __future__ import annotations

import re
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
        template = _PARTICLE_SPEC.sub(_mark_particle, self.template(key, lang))
        try:
            template = _PLURAL_SPEC.sub(lambda m: _plural(m, fields), template)
            formatted = template.format_map(_Fields(self, lang, fields, (*cited, key)))
            return _PARTICLE_MARK.sub(_choose_particle, formatted)
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


# -- English plurals ----------------------------------------------------------------------------

_PLURAL_SPEC = re.compile(r"\{([^{}:]*):plural:([^{}:]*):([^{}:]*)\}")


def _plural(match: re.Match, fields: dict) -> str:
    """{count:plural:ONE:OTHER} as "{count} ONE" where the field is 1, else "{count} OTHER"."""
    name, one, other = match.groups()
    if name not in fields:
        raise KeyError(name)
    return "{" + name + "} " + (one if fields[name] == 1 else other)


# -- Korean particles ----------------------------------------------------------------------------

# spec -> (the form after a final consonant, the form after a vowel)
PARTICLES = {"은는": ("은", "는"), "이가": ("이", "가"), "을를": ("을", "를"),
             "과와": ("과", "와"), "으로로": ("으로", "로"), "이나나": ("이나", "나"),
             "이라라": ("이라", "라")}
_PARTICLE_SPEC = re.compile(r"\{([^{}:]*):(" + "|".join(PARTICLES) + r")\}")
_PARTICLE_MARK = re.compile("\ue000(" + "|".join(PARTICLES) + ")\ue001")
# a digit as read in Korean (영, 일, 이, 삼, 사, 오, 육, 칠, 팔, 구): its final consonant
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ",
                "7": "ㄹ", "8": "ㄹ", "9": ""}
# trailing zeros of a number -> the final consonant of its unit: 십, 백, 천, 만 (to 천만), 억
_ZEROS_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "ㄴ", 4: "ㄴ", 5: "ㄴ", 6: "ㄴ", 7: "ㄴ"}
# a Latin letter spelled out: el, em, en, and ar read 알; every other letter's name ends in a vowel
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
_HANGUL_FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")


def _mark_particle(match: re.Match) -> str:
    return "{" + match.group(1) + "}\ue000" + match.group(2) + "\ue001"


def _choose_particle(match: re.Match) -> str:
    return particle(match.string[:match.start()], match.group(1))


def final_consonant(word: str) -> str:
    """The final consonant (받침) of ``word`` as a Korean reader says it, "" where it ends in a
    vowel: Hangul by its last syllable; a number by its last digit (일, 삼, 육, 칠, 팔, 영 end in a
    consonant) or its unit (10 십, 100 백, 1000 천, 10000 만); Latin letters by the last word —
    spelled letter by letter where it has no vowel, is one letter or is upper case (dx 디엑스,
    SGD 에스지디, lr 엘알, W 더블유), else read as an English word is in Korean (Adam 아담,
    Affine 아핀, RMSprop …프롭, Dropout …아웃, Relu 렐루, AdaGrad …그래드). Closing quotes,
    brackets and punctuation are passed over."""
    text = word.rstrip(" \t'\"`)]}>.,;:!?…’”")
    if not text:
        return ""
    last = text[-1]
    if "가" <= last <= "힣":
        return _HANGUL_FINALS[(ord(last) - 0xAC00) % 28]
    if last.isdigit() and last.isascii():
        digits = re.search(r"[0-9]+$", text).group()
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros and zeros < len(digits) and "." not in text[-len(digits) - 1:-len(digits)]:
            return _ZEROS_FINAL.get(zeros, "ㄱ")  # 억 and above
        return _DIGIT_FINAL[last]
    if not ("a" <= last.lower() <= "z"):
        return ""  # a symbol (ε, ², ∞): the reader's choice; 는/가 read most naturally
    found = re.search(r"(?:[A-Z]+|[A-Z]?[a-z]+)$", text)
    piece = found.group() if found else last
    if len(piece) == 1 or piece.isupper() or not re.search("[aeiouy]", piece.lower()):
        return _LETTER_FINAL.get(piece[-1].lower(), "")
    piece = piece.lower()
    if piece.endswith("ng"):
        return "ㅇ"
    if piece[-1] in "mn":
        return _LETTER_FINAL[piece[-1]]
    if len(piece) > 3 and piece[-1] == "e" and piece[-2] in "mnl" and piece[-3] in "aeiouy":
        return _LETTER_FINAL[piece[-2]]  # a silent e: Affine 아핀, time 타임, scale 스케일
    if piece[-1] == "l":
        return "ㄹ"
    if piece[-1] in "pb" and piece[-2] in "aeiou":
        return "ㅂ"  # step 스텝, prop 프롭, lab 랩
    if piece[-1] == "t" and piece[-2] in "aeiou" and piece[-3:] not in ("ait", "eat", "oat"):
        return "ㅅ"  # out 아웃, net 넷, set 셋, init 이닛
    return ""


def particle(word: str, spec: str) -> str:
    """The particle ``spec`` (a key of PARTICLES: "은는", "이가", …) that follows ``word``:
    particle("Adam", "은는") == "은", particle("dx", "이가") == "가"; 으로/로 takes 로 after a
    vowel and after ㄹ (lr로, 1로, 7로)."""
    after_consonant, after_vowel = PARTICLES[spec]
    final = final_consonant(word)
    if spec == "으로로" and final == "ㄹ":
        return after_vowel
    return after_consonant if final else after_vowel


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
