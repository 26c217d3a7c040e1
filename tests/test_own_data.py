"""A learner's own data set: a folder of IDX files in MNIST's layout or an .npz, read without
checksums, checked for shape and range, and trained on by the lab's data experiments."""

import io
import json
import math
import re
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from dlfs.cli import main
from dlfs.data import DatasetError, load_lab_data, specs, write_idx
from dlfs.data.own import load_own_data

N_TRAIN, N_TEST, CLASSES, SIDE = 1000, 200, 5, 8
HANGUL = re.compile("[\uac00-\ud7a3]")


def _images(rng, n):
    """(n, 8, 8) uint8 images whose brightness tells the class, and their labels."""
    t = np.arange(n) % CLASSES
    rng.shuffle(t)
    x = rng.random((n, SIDE, SIDE)) * 60 + t[:, None, None] * 40
    return x.astype(np.uint8), t.astype(np.uint8)


@pytest.fixture
def arrays():
    rng = np.random.default_rng(7)
    (x, t), (xt, tt) = _images(rng, N_TRAIN), _images(rng, N_TEST)
    return {"x_train": x, "t_train": t, "x_test": xt, "t_test": tt}


def _idx_folder(folder, arrays, gzipped=("train",)):
    """MNIST's four file names; the splits in ``gzipped`` end in .gz, the others do not."""
    folder.mkdir(parents=True, exist_ok=True)
    stems = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    for split, (images, labels) in stems.items():
        suffix = ".gz" if split in gzipped else ""
        write_idx(folder / (images + suffix), arrays[f"x_{split}"])
        write_idx(folder / (labels + suffix), arrays[f"t_{split}"])
    return folder


def _npz(path, arrays, **changes):
    np.savez(path, **{**arrays, **changes})
    return path


def test_an_idx_folder_loads_as_flat_samples_in_0_1_with_integer_labels(tmp_path, arrays):
    folder = _idx_folder(tmp_path / "digits", arrays)
    data = load_own_data(folder)
    assert (data.name, data.title, data.source) == ("own:digits", "digits", str(folder.resolve()))
    assert data.x_train.shape == (N_TRAIN, SIDE * SIDE) and data.x_test.shape == (N_TEST, 64)
    assert data.x_train.dtype == np.float32 and data.t_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train * 255, arrays["x_train"].reshape(N_TRAIN, -1))
    np.testing.assert_array_equal(data.t_test, arrays["t_test"])
    assert (data.input_size, data.n_classes, data.substitute_for) == (64, CLASSES, None)


def test_own_files_are_never_checked_against_the_published_checksums(tmp_path, arrays,
                                                                     monkeypatch):
    def refuse(*args):
        raise AssertionError("a checksum was checked")

    monkeypatch.setattr(specs, "check_digest", refuse)
    folder = _idx_folder(tmp_path / "mine", arrays, gzipped=("train", "test"))
    assert load_lab_data(str(folder)).name == "own:mine"


def test_an_npz_keeps_float_features_as_they_are_and_scales_uint8_images(tmp_path, arrays):
    features = np.random.default_rng(1).uniform(-3, 3, (N_TRAIN, 12))
    data = load_own_data(_npz(tmp_path / "f.npz", arrays, x_train=features,
                              x_test=features[:N_TEST]))
    np.testing.assert_array_equal(data.x_train, features.astype(np.float32))
    assert data.name == "own:f.npz" and data.input_size == 12
    images = load_own_data(_npz(tmp_path / "i.npz", arrays))
    assert images.x_train.shape == (N_TRAIN, 64) and images.x_train.max() <= 1.0


def test_the_lab_loader_reads_a_path_and_refuses_a_root_beside_it(tmp_path, arrays):
    path = _npz(tmp_path / "own.npz", arrays)
    assert load_lab_data(str(path)).n_classes == CLASSES
    with pytest.raises(ValueError, match="root .* is where the named data sets are looked for"):
        load_lab_data(str(path), root=tmp_path)


REFUSED = {
    "missing-file": (lambda a, p: p / "digits", "digits: no t10k-labels-idx1-ubyte (gzipped or "
                     "not); a data folder holds MNIST's four IDX files"),
    "missing-key": (lambda a, p: _npz(p / "k.npz", {k: v for k, v in a.items() if k != "t_test"}),
                    "k.npz: no t_test; an .npz for dlfs holds x_train, t_train, x_test, t_test "
                    "(this one holds x_train, t_train, x_test)"),
    "pickled-objects": (lambda a, p: _npz(p / "o.npz", a, t_train=np.array([None] * N_TRAIN)),
                        "o.npz: the array t_train is not a plain .npy array (it holds Python "
                        "objects (a pickle), which are never loaded)"),
    "not-data": (lambda a, p: p / "notes.txt", "notes.txt: not a folder of IDX files nor an "
                 ".npz file"),
    "vector-samples": (lambda a, p: _npz(p / "v.npz", a, x_train=np.zeros(N_TRAIN)),
                       "v.npz [x_train]: samples must be (N, D) vectors or (N, rows, cols) "
                       "images, at least one, got shape (1000,)"),
    "int64-pixels": (lambda a, p: _npz(p / "i.npz", a, x_test=a["x_test"].astype(np.int64)),
                     "i.npz [x_test]: samples must be uint8 pixels (0..255) or floats, got int64"),
    "nan": (lambda a, p: _npz(p / "n.npz", a, x_train=np.full((N_TRAIN, 3), np.nan)),
            "n.npz [x_train]: holds NaN or infinite values"),
    "unscaled-floats": (lambda a, p: _npz(p / "u.npz", a, x_train=a["x_train"] * 1.0),
                        "u.npz [x_train]: float values up to 2"),
    "widths-differ": (lambda a, p: _npz(p / "w.npz", a, x_test=np.zeros((N_TEST, 10))),
                      "w.npz [x_test]: 10 values per sample, but x_train has 64"),
    "one-hot": (lambda a, p: _npz(p / "h.npz", a, t_train=np.eye(CLASSES)[a["t_train"]]),
                "h.npz [t_train]: labels must be 1-D class indices, got shape (1000, 5); "
                "one-hot? pass t.argmax(axis=1)"),
    "float-labels": (lambda a, p: _npz(p / "l.npz", a, t_test=a["t_test"] * 1.0),
                     "l.npz [t_test]: labels must be whole numbers (class indices), got float64"),
    "count": (lambda a, p: _npz(p / "c.npz", a, t_test=a["t_test"][:-1]),
              "c.npz [t_test]: 199 labels, but x_test holds 200 samples"),
    "negative": (lambda a, p: _npz(p / "m.npz", a, t_test=a["t_test"].astype(int) - 1),
                 "m.npz [t_test]: label -1 is negative; labels are 0..K-1"),
    "one-based": (lambda a, p: _npz(p / "b.npz", a, t_train=a["t_train"] + 1),
                  "b.npz [t_train]: no sample of class 0 below its largest label 5; labels "
                  "must be 0..K-1 with K >= 2 and every class present"),
    "one-class": (lambda a, p: _npz(p / "s.npz", a, t_train=np.zeros(N_TRAIN, int)),
                  "s.npz [t_train]: only one class"),
    "unseen-test-class": (lambda a, p: _npz(p / "t.npz", a, t_test=a["t_test"] + 1),
                          "t.npz [t_test]: label 5, a class the training labels (0..4) never "
                          "have"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_own_data_the_lab_cannot_train_on_is_refused_in_one_line_naming_the_file(
        tmp_path, arrays, case):
    make, message = REFUSED[case]
    _idx_folder(tmp_path / "digits", arrays)
    (tmp_path / "digits" / "t10k-labels-idx1-ubyte").unlink()
    (tmp_path / "notes.txt").write_text("not data")
    with pytest.raises(DatasetError) as info:
        load_own_data(make(arrays, tmp_path))
    assert message in str(info.value) and "\n" not in str(info.value)


# -- sizes checked before memory is claimed ----------------------------------------------------


def _deflate_bomb(path, arrays, key, shape):
    """``arrays`` as an .npz whose entry ``key``.npy is a real deflate stream of a uint8 array
    of ``shape``, all zeros: a few MiB that inflate to gigabytes. Built from one compressed
    16 MiB block repeated (a full flush makes each block independent), so the test never
    compresses the gigabytes; the entry's CRC is left 0, as nothing may read it to its end."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    block = 1 << 24
    size = header.tell() + math.prod(shape)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = packer.compress(bytes(block)) + packer.flush(zlib.Z_FULL_FLUSH)
    blocks, rest = divmod(math.prod(shape), block)
    raw = b"".join([packer.compress(header.getvalue()) + packer.flush(zlib.Z_FULL_FLUSH),
                    *[zeros] * blocks, packer.compress(bytes(rest)) + packer.flush()])
    np.savez(path, **{name: value for name, value in arrays.items() if name != key})
    with zipfile.ZipFile(path, "a") as archive:  # stored, then relabelled as deflated below
        archive.writestr(f"{key}.npy", raw)
        local = archive.getinfo(f"{key}.npy").header_offset
    content = bytearray(path.read_bytes())
    central = content.index(b"PK\x01\x02")  # the central directory's entry of key.npy
    while content[central + 46:central + 46 + len(key) + 4] != f"{key}.npy".encode():
        central = content.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<H", content, local + 8, zipfile.ZIP_DEFLATED)  # method
    struct.pack_into("<I", content, local + 22, size)  # uncompressed size
    struct.pack_into("<H", content, central + 10, zipfile.ZIP_DEFLATED)
    struct.pack_into("<I", content, central + 24, size)
    path.write_bytes(bytes(content))
    return path, len(raw), size


def test_an_npz_that_inflates_to_gigabytes_is_refused_unread_naming_file_array_size_and_limit(
        tmp_path, arrays):
    path, packed, size = _deflate_bomb(tmp_path / "bomb.npz", arrays, "x_train",
                                       (2_100_000_000 // 784, 784))
    assert packed < 3 << 20 and size > 2_000_000_000  # a real bomb: 2 MiB of 2.1 GB
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as info:
            load_own_data(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"{path}: the array x_train unpacks to 1.96 GiB (what its zip entry declares), more "
        "than the limit of 1 GiB for a data set; keep the data set smaller (fewer samples, "
        "pixels as uint8)")
    assert peak < 50 << 20


def test_an_npz_header_declaring_a_huge_shape_is_refused_before_numpy_allocates_it(
        tmp_path, arrays):
    path = _npz(tmp_path / "huge.npz", {k: v for k, v in arrays.items() if k != "x_test"})
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2**40, 784)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("x_test.npy", header.getvalue() + bytes(64))
    with pytest.raises(DatasetError) as info:
        load_own_data(path)
    assert str(info.value) == (
        f"{path}: the array x_test declares shape (1099511627776, 784) of float64, 6.12 PiB, "
        "more than the limit of 1 GiB for a data set; keep the data set smaller (fewer "
        "samples, pixels as uint8)")
    assert info.value.text("ko").startswith(f"{path}: x_test 배열의 헤더에 적힌 형태는")


def test_an_npz_entry_holding_less_than_its_header_declares_is_called_truncated(
        tmp_path, arrays):
    path = tmp_path / "short.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (N_TEST, SIDE, SIDE)})
    np.savez(path, **{k: v for k, v in arrays.items() if k != "x_test"})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("x_test.npy", header.getvalue() + arrays["x_test"].tobytes()[:100])
    with pytest.raises(DatasetError, match=r"the array x_test declares shape \(200, 8, 8\) of "
                       r"uint8 \(12.5 KiB\), but its entry holds only 100 B; the file is "
                       "truncated or corrupt"):
        load_own_data(path)


def test_uint8_samples_are_not_converted_to_float32_before_the_labels_are_checked(
        tmp_path, arrays):
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (20_000, 784), dtype=np.uint8)  # 15 MiB, 60 MiB as float32
    path = _npz(tmp_path / "big.npz", arrays, x_train=big, t_train=np.arange(19_999) % 5,
                x_test=big[:10], t_test=np.arange(10) % 5)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="19999 labels, but x_train holds 20000"):
            load_own_data(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * big.nbytes  # the uint8 array and its labels, no float32 copy


# -- through dlfs run --------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["idx", "npz"])
def test_dlfs_run_trains_the_data_experiments_on_a_learners_own_small_data_set(
        tmp_path, arrays, layout):
    source = (_idx_folder(tmp_path / "mine", arrays) if layout == "idx"
              else _npz(tmp_path / "mine.npz", arrays))
    out = tmp_path / "results"
    names = ["two-layer-net", "overfit", "hyperparameter-search"]
    assert main(["run", *names, "--quick", "--workers", "1", "--dataset", str(source),
                 "--out", str(out)]) == 0
    for name in names:
        record = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        assert record["dataset"] == {"name": f"own:{source.name}", "title": source.name,
                                     "source": str(source.resolve())}
    search = json.loads((out / "hyperparameter-search" / "results.json").read_text())
    assert search["results"]["layer_sizes"] == [SIDE * SIDE, 20, 20, CLASSES]
    two_layer = json.loads((out / "two-layer-net" / "results.json").read_text())["results"]
    assert max(two_layer["test_acc"]) > 1.5 / CLASSES  # brightness classes are learnable


@pytest.mark.parametrize("setting, held", [("train_samples", N_TRAIN),
                                             ("test_samples", N_TEST)])
def test_asking_for_more_samples_than_the_data_set_holds_is_an_error_naming_both_numbers(
        tmp_path, arrays, capsys, setting, held):
    out = tmp_path / "results"
    assert main(["run", "two-layer-net", "--quick", "--dataset",
                 str(_npz(tmp_path / "mine.npz", arrays)), "--set", f"{setting}=1000000000000",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert (f"{setting} = 1000000000000, but mine.npz has only {held} such samples; set "
            f"{setting} to at most {held}") in err
    assert not (out / "two-layer-net" / "results.json").exists()  # nothing recorded


def test_a_bad_own_data_set_stops_the_run_before_any_experiment_ran(tmp_path, arrays, capsys):
    path = _npz(tmp_path / "bad.npz", arrays, t_train=arrays["t_train"] + 1)
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "two-layer-net", "--quick", "--dataset", str(path),
                 "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "bad.npz [t_train]: no sample of class 0" in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "[1/2]" not in captured.out
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--dataset", "no-such-folder"], "--dataset 'no-such-folder': choose auto, mnist, "
      "fashion-mnist, or give a folder of MNIST-layout IDX files or an .npz file that exists"),
     (["--dataset", "OWN", "--data-root", "/tmp"], "--data-root is where the named data sets "
      "are looked for; --dataset")],
    ids=["missing", "with-data-root"])
def test_a_dataset_path_that_cannot_be_used_is_one_line_with_exit_status_2(
        tmp_path, arrays, capsys, extra, message):
    own = str(_npz(tmp_path / "own.npz", arrays))
    argv = ["run", "two-layer-net", "--out", str(tmp_path / "r"),
            *[own if item == "OWN" else item for item in extra]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["one-hot", "missing-key", "int64-pixels"])
def test_own_data_errors_are_said_in_korean_under_lang_ko_with_no_english_left(
        tmp_path, arrays, capsys, case):
    make, english = REFUSED[case]
    out = tmp_path / "r"
    assert main(["--lang", "ko", "run", "two-layer-net", "--dataset",
                 str(make(arrays, tmp_path)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dlfs: 오류: ") and len(err.splitlines()) == 1
    assert HANGUL.search(err.split(": ", 2)[-1])
    words = english.split(": ", 1)[1].split()[:3]  # the English sentence is gone
    assert " ".join(words) not in err
