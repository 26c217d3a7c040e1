import numpy as np
import pytest


@pytest.fixture(autouse=True)
def english_locale(monkeypatch):
    """dlfs speaks the locale's language by default: every test starts in an English one."""
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def make_blobs(rng, n_per_class=60, n_classes=3, dim=4, spread=0.3):
    """Well-separated Gaussian blobs: a small data set any working network learns."""
    centres = rng.standard_normal((n_classes, dim)) * 3
    x = np.concatenate([c + spread * rng.standard_normal((n_per_class, dim)) for c in centres])
    t = np.repeat(np.arange(n_classes), n_per_class)
    order = rng.permutation(len(t))
    return x[order], t[order]
