"""Matplotlib set-up for the lab: a CJK font where a language needs one (the CLI picks the Agg
backend).

A language whose catalogue file says font = "cjk" (Korean) needs a font with its script (Debian's
fonts-noto-cjk or fonts-nanum). Where none is found, its figures fall back to English labels with
one warning, rather than empty boxes.
"""

from __future__ import annotations

import functools
import warnings

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager

from dlfs import catalogue

KOREAN_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP",
                "Noto Sans CJK SC", "Noto Serif CJK KR", "Noto Serif CJK JP",
                "Malgun Gothic", "AppleGothic", "Apple SD Gothic Neo")  # Windows, macOS


@functools.cache
def korean_font() -> str | None:
    """The first installed font family that has Hangul, or None."""
    for family in KOREAN_FONTS:
        try:
            font_manager.findfont(family, fallback_to_default=False)
        except ValueError:
            continue
        return family
    return None


def _needs_cjk(lang: str) -> bool:
    return catalogue.text("font", lang) == "cjk"


def figure_lang(lang: str) -> str:
    """The language figures can actually be labelled in: Korean needs a CJK font."""
    if _needs_cjk(lang) and korean_font() is None:
        warnings.warn(
            f"no CJK font found (install fonts-noto-cjk or fonts-nanum); {lang!r} figures are "
            "labelled in English", RuntimeWarning, stacklevel=2)
        return "en"
    return lang


def figure(lang: str, *args, **kwargs):
    """plt.subplots(*args, **kwargs) with the fonts for ``lang``."""
    family = korean_font() if _needs_cjk(lang) else None
    rc = {"font.family": [family, "DejaVu Sans"]} if family else {}
    rc["axes.unicode_minus"] = False  # the Unicode minus is missing from some CJK fonts
    with plt.rc_context(rc):
        fig, axes = plt.subplots(*args, **kwargs)
    if family:
        for text_obj in fig.findobj(matplotlib.text.Text):
            text_obj.set_fontfamily([family, "DejaVu Sans"])
    fig._dlfs_family = family
    return fig, axes


def finish(fig):
    """Applies the figure's font to every text added after creation, then lays it out."""
    family = getattr(fig, "_dlfs_family", None)
    if family:
        for text_obj in fig.findobj(matplotlib.text.Text):
            text_obj.set_fontfamily([family, "DejaVu Sans"])
    fig.tight_layout()
    return fig


def close(fig) -> None:
    plt.close(fig)
