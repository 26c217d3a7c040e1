"""The lab's figures: every run gets its curve."""

import numpy as np

from dlfs.experiments import optimizer_compare
from dlfs.experiments.figures import close


def test_the_comparison_figure_draws_nine_curves_when_there_are_more_runs_than_markers():
    losses = {f"run {i}": list(np.linspace(2.0, 0.5, 40) + 0.01 * i) for i in range(9)}
    assert len(losses) > len(optimizer_compare.MARKERS)
    fig = optimizer_compare.plot_losses(losses, "en", top=2.5)
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    markers = [line.get_marker() for line in ax.lines]
    close(fig)
    assert len(ax.lines) == 9 and labels == list(losses)
    assert markers[:8] == list(optimizer_compare.MARKERS) and markers[8] == markers[0]
