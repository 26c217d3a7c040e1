"""What MNIST and Fashion-MNIST are: their files, the digests that identify them, their mirrors.

Each file is identified by two digests: ``md5`` of the published ``.gz`` (what torchvision
checks) and ``sha256`` of the uncompressed IDX bytes, which survives recompression (Debian's
package recompresses). A file is accepted when either known digest matches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from dlfs.data.idx import DatasetError

FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class FileSpec:
    """One IDX file: its published name, the digests that identify its content, its size."""

    key: str
    filename: str
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None  # bytes of the published .gz: a download never reads more


@dataclass(frozen=True)
class DatasetSpec:
    """A data set: its four files, where to download them, its sizes and class names."""

    name: str
    title: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    n_train: int
    n_test: int
    classes: tuple[str, ...]
    debian_package: str | None = None

    @property
    def system_dir(self) -> Path:
        return Path("/usr/share/datasets") / self.name


MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    files=(
        FileSpec("train_images", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                 size=9912422),
        FileSpec("train_labels", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
                 size=28881),
        FileSpec("test_images", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
                 "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", size=1648877),
        FileSpec("test_labels", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
                 "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", size=4542),
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    n_train=60_000,
    n_test=10_000,
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=(
        FileSpec("train_images", "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                 "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", size=26421880),
        FileSpec("train_labels", "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe",
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", size=29515),
        FileSpec("test_images", "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79",
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", size=4422102),
        FileSpec("test_labels", "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310",
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", size=5148),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    n_train=60_000,
    n_test=10_000,
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
    debian_package="dataset-fashion-mnist",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def get_spec(name: str) -> DatasetSpec:
    """The spec of ``name``: 'mnist', 'fashion-mnist' (also 'fashion', 'fashion_mnist')."""
    key = str(name).lower().replace("_", "-")
    if key == "fashion":
        key = "fashion-mnist"
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[key]


def check_digest(file: FileSpec, raw: bytes, content: bytes, name: str) -> None:
    """Raises DatasetError unless ``raw`` (as stored) or ``content`` (gunzipped) has one of
    ``file``'s digests. A spec with no digest accepts anything."""
    if not (file.md5 or file.sha256):
        return
    md5 = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(content).hexdigest()
    if (file.md5 and md5 == file.md5) or (file.sha256 and sha256 == file.sha256):
        return
    expected = " or ".join(
        part for part in (file.md5 and f"MD5 {file.md5} (gzip)",
                          file.sha256 and f"SHA-256 {file.sha256} (uncompressed)") if part)
    raise DatasetError(key="bounds.checksum", name=name, md5=md5, sha256=sha256,
                       expected=expected)
