"""Matplotlib set-up for the lab: a CJK font where a language needs one (the CLI picks the Agg
backend).

A language whose catalogue file says font = "cjk" (Korean) needs a font with its script (Debian's
fonts-noto-cjk or fonts-nanum). Where none is found, its figures fall back to English labels with
one warning, rather than empty boxes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from dlfs import catalogue

KOREAN_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans CJK JP",
                "Noto Sans CJK SC", "Noto Serif CJK KR", "Noto Serif CJK JP",
                "Malgun Gothic", "AppleGothic", "Apple SD Gothic Neo")  # Windows, macOS


# Where fonts are installed, and the file names of fonts with Hangul: found by file when
# matplotlib's font cache was built before the font was installed (apt-get install
# fonts-noto-cjk after matplotlib's first use: the usual order), since the cache never sees it.
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
             "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts", "C:/Windows/Fonts")
KOREAN_FONT_FILES = ("NanumGothic*.ttf", "Noto*CJK*.tt[cf]", "Noto*CJK*.otf", "NotoSansKR*",
                     "malgun*.ttf", "AppleGothic*", "AppleSDGothicNeo*")


def _installed_family() -> str | None:
    """The first of KOREAN_FONTS that matplotlib's font list holds, or None."""
    for family in KOREAN_FONTS:
        try:
            font_manager.findfont(family, fallback_to_default=False)
        except ValueError:
            continue
        return family
    return None


def korean_font_files() -> list[Path]:
    """Installed font files with Hangul: by name under FONT_DIRS, then what fontconfig's
    ``fc-list :lang=ko`` lists where it is installed. Regular weights first."""
    found = []
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            for pattern in KOREAN_FONT_FILES:
                found += root.rglob(pattern)
    if shutil.which("fc-list"):
        try:
            listed = subprocess.run(["fc-list", ":lang=ko", "file"], capture_output=True,
                                    text=True, timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        found += [Path(line.strip().rstrip(":")) for line in listed.splitlines() if line.strip()]
    unique = dict.fromkeys(path for path in found
                           if path.suffix.lower() in (".ttf", ".ttc", ".otf") and path.is_file())
    return sorted(unique, key=lambda path: ("Regular" not in path.name, "Sans" not in path.name,
                                            str(path)))


@functools.cache
def korean_font() -> str | None:
    """The first installed font family that has Hangul, or None. A font file that matplotlib's
    cached font list lacks is added to it (font_manager.fontManager.addfont)."""
    family = _installed_family()
    if family is not None:
        return family
    for path in korean_font_files():
        try:
            font_manager.fontManager.addfont(str(path))  # every face of a .ttc collection
            name = font_manager.FontProperties(fname=str(path)).get_name()
        except (OSError, RuntimeError, ValueError):  # not a font FreeType can read
            continue
        return _installed_family() or name  # Noto Sans CJK KR rather than the file's first face
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


def finish(fig, rect=(0, 0, 1, 1)):
    """Applies the figure's font to every text added after creation, then lays it out within
    ``rect`` (left, bottom, right, top in figure fractions; the whole figure by default)."""
    family = getattr(fig, "_dlfs_family", None)
    if family:
        for text_obj in fig.findobj(matplotlib.text.Text):
            text_obj.set_fontfamily([family, "DejaVu Sans"])
    fig.tight_layout(rect=rect)
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


def _dataset_name(dataset) -> str | None:
    """The data set's name from what a caller has: None, a name, a record's dataset dict
    ({"name": …}) or a Data."""
    if dataset is None or isinstance(dataset, str):
        return dataset
    if isinstance(dataset, dict) and isinstance(dataset.get("name"), str):
        return dataset["name"]
    if isinstance(getattr(dataset, "name", None), str):
        return dataset.name
    raise TypeError(f"dataset must be None, a data set's name, a record's dataset dict or a "
                    f"Data, got {type(dataset).__name__}; pass record['dataset']")


def _wrapped(text_obj, width_px: float, renderer) -> None:
    """Breaks the lines of ``text_obj`` at spaces until none is wider than ``width_px``."""
    import textwrap

    lines = text_obj.get_text().split("\n")
    for i, line in enumerate(lines):
        chars = len(line)
        while chars > 10:
            text_obj.set_text(line)
            if text_obj.get_window_extent(renderer).width <= width_px:
                break
            chars = int(chars * 0.9)
            line = textwrap.fill(lines[i], chars)
        lines[i] = line
    text_obj.set_text("\n".join(lines))


def stamp(fig, experiment_name: str, lang: str, dataset=None):
    """Adds a footer below everything drawn in ``fig``: the book's section and figure
    number(s) (catalogue NAME.figure), and, when ``dataset`` is Fashion-MNIST, why its
    accuracies are lower than the book's MNIST numbers.

    The figure grows by the footer's height and everything already in it keeps its size and
    place above, so the footer never overlaps a label. ``dataset``: None, a data set's name, the
    record's "dataset" dict or a Data. Call it once per figure, after plot().
    """
    from dlfs.experiments import EXPERIMENTS  # the registry imports this module

    if experiment_name not in EXPERIMENTS:
        raise ValueError(f"experiment_name {experiment_name!r} is not an experiment; choose "
                         f"from {', '.join(EXPERIMENTS)}")
    if getattr(fig, "_dlfs_stamped", False):
        raise ValueError(f"this figure of {experiment_name} is already stamped; stamp a figure "
                         "once, after plot()")
    section = EXPERIMENTS[experiment_name].section
    if f"{experiment_name}.figure" in catalogue.CATALOGUE.keys(lang):
        lines = [catalogue.text("figures.stamp", lang, section=section,
                                figure=catalogue.text(f"{experiment_name}.figure", lang))]
    else:  # an experiment of one's own, with no book figure in the catalogue
        lines = [f"§{section}"]
    if _dataset_name(dataset) == "fashion-mnist":
        lines.append(catalogue.text("figures.fashion", lang))
    width, height = fig.get_size_inches()
    pad = 0.08  # inches between the footer and the figure's edges
    family = getattr(fig, "_dlfs_family", None)
    footer = fig.text(pad / width, 0, "\n".join(lines), ha="left", va="bottom", fontsize=8,
                      color="#555555", fontfamily=[family, "DejaVu Sans"] if family else None)
    renderer = fig.canvas.get_renderer()
    _wrapped(footer, (width - 2 * pad) * fig.dpi, renderer)
    grow = footer.get_window_extent(renderer).height / fig.dpi + 2 * pad
    new_height = height + grow

    def lift(y):  # a height in figure fractions, kept in place above the footer
        return (y * height + grow) / new_height

    scale = height / new_height
    for ax in fig.axes:
        box = ax.get_position(original=True)
        ax.set_position([box.x0, lift(box.y0), box.width, box.height * scale], which="both")
    for text_obj in fig.texts:
        if text_obj is not footer and text_obj.get_transform() == fig.transFigure:
            x, y = text_obj.get_position()
            text_obj.set_y(lift(y))
    anchors = [legend.get_bbox_to_anchor().transformed(fig.transFigure.inverted())
               for legend in fig.legends]
    fig.set_size_inches(width, new_height)
    for legend, box in zip(fig.legends, anchors):
        legend.set_bbox_to_anchor([box.x0, lift(box.y0), box.width, box.height * scale],
                                  transform=fig.transFigure)
    footer.set_y(pad / new_height)
    fig._dlfs_stamped = True
    return fig
