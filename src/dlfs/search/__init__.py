"""Hyperparameter search (book 6.5) on Optuna: the book's random search, and beyond.

The book's objective, by default: the first 500 training samples, shuffled, 20 % held out for
validation; D-[100]×6-C ReLU with He init (D and C from the data: 784 and 10 for MNIST); SGD for
50 epochs in batches of 100; the score is the final validation accuracy; lr ~ 10^U(−6, −2), the
network's weight decay λ (``weight_decay_lambda``) ~ 10^U(−8, −4); 100 trials.

A searched name is an argument of the network (``weight_decay_lambda``: ½λΣ‖W‖² added to the
loss, weights only, as in the book; ``dropout_ratio``) or of the optimizer (``lr``,
``momentum``, …; its ``weight_decay`` is coupled L2, g ← g + λθ, on every parameter).

The search is handed its data (a ``dlfs.data.Data`` or a loader) and never chooses a data set;
``dlfs search`` and the lab's ``hyperparameter-search`` experiment do. Trials live in an Optuna
storage (SQLite or PostgreSQL) that any number of worker processes, on one machine or many,
share; see ``dlfs.search.study``.

    config = search.load_config(n_trials=20, epochs=10)
    search.search(config, "lr-wd", search.default_storage("out"), workers=2,
                  data=dlfs.data.load_lab_data("fashion-mnist"))
"""

from dlfs.search.config import NETWORK_PARAMS, PRUNERS, SAMPLERS, SearchConfig, Space, load_config
from dlfs.search.objective import DIVERGED, Split, make_split, run_trial, suggest
from dlfs.search.results import summarize, top_trials_markdown
from dlfs.search.storage import SearchError, default_storage, mask
from dlfs.search.study import SearchStopped, open_study, trial_seed, work
from dlfs.search.workers import max_workers, search

__all__ = [
    "DIVERGED",
    "NETWORK_PARAMS",
    "PRUNERS",
    "SAMPLERS",
    "SearchConfig",
    "SearchError",
    "SearchStopped",
    "Space",
    "Split",
    "default_storage",
    "load_config",
    "make_split",
    "mask",
    "max_workers",
    "open_study",
    "run_trial",
    "search",
    "suggest",
    "summarize",
    "top_trials_markdown",
    "trial_seed",
    "work",
]
