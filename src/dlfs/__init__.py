"""dlfs: Deep Learning from Scratch, chapters 4-6, as a tested NumPy library.

Modules follow the book: functions (activations, losses), gradient (numerical differentiation),
layers, init, optim, schedules, network, train, io, data.
"""

from dlfs.network import MultiLayerNet, TwoLayerNet
from dlfs.optim import create as create_optimizer
from dlfs.train import History, Trainer, TrainingCollapsed, TrainingDiverged

__version__ = "0.1.0"

__all__ = [
    "History",
    "MultiLayerNet",
    "Trainer",
    "TrainingCollapsed",
    "TrainingDiverged",
    "TwoLayerNet",
    "create_optimizer",
]
