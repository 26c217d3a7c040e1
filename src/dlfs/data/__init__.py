"""Data sets (MNIST, Fashion-MNIST), the IDX format, splits and mini-batches."""

from dlfs.data.datasets import (
    DATASETS,
    download,
    find_dataset,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)
from dlfs.data.idx import DatasetError, read_idx, write_idx
from dlfs.data.lab import DATASET_CHOICES, Data, describe_location, load_lab_data
from dlfs.data.splits import batches, shuffle, subset, train_val_split

__all__ = [
    "DATASETS",
    "DATASET_CHOICES",
    "Data",
    "describe_location",
    "load_lab_data",
    "DatasetError",
    "batches",
    "download",
    "find_dataset",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "shuffle",
    "subset",
    "train_val_split",
    "write_idx",
]
