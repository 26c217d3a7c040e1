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
import numpy as np
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


def band(ax, x, ys, label=None, **line_kw):
    """The mean of ``ys`` as a line and their min–max as a band around it, in the line's colour.

    ``ys`` holds one 1-D curve per seed; ``x`` their abscissa, or None for 0, 1, 2, …. A curve
    shorter than the others (a run stopped when its loss became inf) counts only where it has
    values, and NaN (a diverged value, which results.json keeps as null) counts nowhere. With
    one curve this is ``ax.plot``: no band. Returns the mean's Line2D; the band is its
    ``band`` attribute (a PolyCollection) when drawn.
    """
    curves = [np.asarray(y, dtype=np.float64).ravel() for y in ys]
    if not curves:
        raise ValueError("band needs at least one curve in ys, got none")
    length = max(len(curve) for curve in curves)
    x = np.arange(length) if x is None else np.asarray(x)[:length]
    if len(curves) == 1:
        line, = ax.plot(x, curves[0], label=label, **line_kw)
        return line
    stacked = np.full((len(curves), length), np.nan)
    for row, curve in zip(stacked, curves):
        row[:len(curve)] = np.where(np.isfinite(curve), curve, np.nan)
    with warnings.catch_warnings():  # a column where every seed has NaN stays NaN: a gap
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(stacked, axis=0)
        low, high = np.nanmin(stacked, axis=0), np.nanmax(stacked, axis=0)
    line, = ax.plot(x, mean, label=label, **line_kw)
    line.band = ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def band_title(n: int, lang: str) -> str | None:
    """The legend's title under bands over ``n`` seeds: what the line and the shade are;
    None for one run, which has no band."""
    return catalogue.text("words.band_legend", lang, n=n) if n > 1 else None


def close(fig) -> None:
    plt.close(fig)
