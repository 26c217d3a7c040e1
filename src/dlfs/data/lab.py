"""The lab's data set: which one to train on, where it was found, and its arrays together.

``load_lab_data('auto')`` is MNIST where it can be found or fetched, else Fashion-MNIST (the only
one Debian packages, so the one found offline), and says so in ``Data.note``
(``Data.substitute_for`` names the one asked for). A data set named
explicitly is that one or an error, never a silent substitute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlfs.data.datasets import Location, find_dataset, get_spec, load_dataset
from dlfs.data.idx import DatasetError

DATASET_CHOICES = ("auto", "mnist", "fashion-mnist")


@dataclass
class Data:
    """A data set's arrays and where they came from. x: (N, D) floats, t: (N,) class indices."""

    name: str
    title: str
    source: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    substitute_for: str | None = None  # the title of the data set asked for, when not found

    @property
    def note(self) -> str | None:
        """That the data set asked for was not available and what was used instead, or None."""
        if self.substitute_for is None:
            return None
        return (f"{self.substitute_for} is not available here; using {self.title} "
                f"from {self.source}")

    @property
    def input_size(self) -> int:
        """Features per sample: 784 for 28×28 images."""
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def n_classes(self) -> int:
        """Number of classes: one more than the largest label of either set."""
        return int(max(self.t_train.max(initial=0), self.t_test.max(initial=0))) + 1

    def check_sample_settings(self, settings: dict) -> None:
        """Refuses a setting that asks for more samples than this data set holds
        (``train_samples``, ``test_samples``, as ``dlfs run --set`` gives them), naming both
        numbers: the book's ``x_train[:n]`` would silently use fewer, and the run would record
        a number it did not use."""
        for key, (n, held) in self._too_many(settings).items():
            raise DatasetError(key="bounds.too_many_samples", setting=key, n=n, held=held,
                               title=self.title)

    def capped_defaults(self, params: dict, overrides: dict) -> dict[str, dict[str, int]]:
        """The sample counts of ``params`` (an experiment's, its ``overrides`` applied) that
        ask for more samples than this data set holds though no one set them (the book's
        60 000 on a learner's own 500): {setting: {"default": asked, "used": held}}, each to
        be run with what exists, and said so. One that was set (``overrides``) is refused
        instead (``check_sample_settings``)."""
        return {key: {"default": n, "used": held}
                for key, (n, held) in self._too_many(params).items()
                if key not in (overrides or {})}

    def _too_many(self, counts: dict) -> dict[str, tuple[int, int]]:
        """{setting: (asked, held)} of the sample counts of ``counts`` (train_samples,
        test_samples) above what this data set holds, training samples first."""
        held = {"train_samples": len(self.t_train), "test_samples": len(self.t_test)}
        return {key: (counts[key], n) for key, n in held.items()
                if isinstance(counts.get(key), int) and counts[key] > n}

    def info(self) -> dict[str, str]:
        """What a result records about its data: name, title, source."""
        return {"name": self.name, "title": self.title, "source": self.source}


def describe_location(name: str, location: Location) -> str:
    """'FOLDER (label)', with the Debian package when the files came from one."""
    spec = get_spec(name)
    place = location.place
    package = spec.debian_package if place.label == "system" else None
    extra = f" (Debian package {package})" if package else ""
    return f"{place.directory} ({place.label}){extra}"


def load_lab_data(dataset: str = "auto", root=None, progress: bool = False) -> Data:
    """The data set ``dataset`` ('auto', 'mnist' or 'fashion-mnist') with normalised, flattened
    images and label indices. Raises DatasetError naming every place looked in when none loads.

    Any other ``dataset`` that is an existing folder of IDX files or an .npz file is the
    learner's own data set (``dlfs.data.own``), read as it is: no ``root``, no checksum.
    """
    if dataset not in DATASET_CHOICES:
        if not Path(dataset).exists():
            raise ValueError(f"dataset must be one of {', '.join(DATASET_CHOICES)}, or a folder "
                             f"of IDX files or an .npz file; got {dataset!r}, which is neither")
        if root is not None:
            raise ValueError(f"root ({root}) is where the named data sets are looked for; "
                             f"the data set {dataset} is read from where it is, without it")
        from dlfs.data.own import load_own_data  # own.py builds on Data, defined here

        return load_own_data(dataset)
    names = ["mnist", "fashion-mnist"] if dataset == "auto" else [dataset]
    failures = []
    for name in names:
        try:
            (x, t), (xt, tt) = load_dataset(name, root=root, progress=progress)
        except DatasetError as error:
            failures.append(error)
            continue
        spec = get_spec(name)
        source = describe_location(name, find_dataset(name, root))
        wanted = get_spec(names[0]).title if name != names[0] else None
        return Data(name, spec.title, source, x, t, xt, tt, substitute_for=wanted)
    lines = [("bounds.no_data_set", {})]
    for failure in failures:
        lines += failure.lines or [("bounds.raw_line", {"line": str(failure)})]
    raise DatasetError(lines=lines)
