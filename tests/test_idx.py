import gzip

import numpy as np
import pytest

from dlfs.data.idx import DatasetError, encode_idx, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
def test_idx_round_trips_every_element_type(tmp_path, dtype, suffix):
    array = (np.arange(60) % 50).astype(dtype).reshape(3, 4, 5)
    path = write_idx(tmp_path / f"a{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_with_type_code_and_dimensions():
    content = encode_idx(np.zeros((2, 3), dtype=np.uint8))
    assert content[:4] == bytes([0, 0, 0x08, 2])
    assert content[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 3])


def test_wrong_magic_is_named(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(DatasetError, match=r"bad.idx: wrong magic number 0x12340801"):
        read_idx(path)


def test_unknown_element_type_is_named():
    with pytest.raises(DatasetError, match="unknown IDX element type 0x07"):
        parse_idx(bytes([0, 0, 7, 1, 0, 0, 0, 1, 5]), "f")


def test_header_that_disagrees_with_the_file_size_is_named(tmp_path):
    content = encode_idx(np.zeros((4, 2), dtype=np.uint8))
    path = tmp_path / "short.idx"
    path.write_bytes(content[:-3])
    with pytest.raises(DatasetError, match=r"short.idx: header says dimensions \(4, 2\) \(20 bytes "
                                           r"with the header\), but the file holds 17 bytes"):
        read_idx(path)
    path.write_bytes(content + b"\x00")
    with pytest.raises(DatasetError, match="holds 21 bytes"):
        read_idx(path)


def test_truncated_header_is_named():
    with pytest.raises(DatasetError, match="too short"):
        parse_idx(b"\x00\x00", "f")
    with pytest.raises(DatasetError, match="truncated header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 1]), "f")


def test_truncated_gzip_is_named(tmp_path):
    compressed = gzip.compress(encode_idx(np.zeros((100, 10), dtype=np.uint8)))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DatasetError, match="cut.idx.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_corrupt_gzip_is_named(tmp_path):
    compressed = bytearray(gzip.compress(encode_idx(np.arange(200, dtype=np.uint8))))
    compressed[15:25] = b"\xff" * 10
    path = tmp_path / "rot.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(DatasetError, match="rot.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nothing.idx: cannot be read"):
        read_idx(tmp_path / "nothing.idx")


def test_genuine_mnist_test_files_parse_with_the_published_label_counts():
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"
    if not shared.is_dir():
        pytest.skip("../shared/data/mnist-t10k is not beside this checkout")
    images = read_idx(shared / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(shared / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
