import gzip
import hashlib
import struct
import tracemalloc
import zlib
from pathlib import Path

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


# The genuine MNIST test set (t10k-*-ubyte.gz, published MD5 9fb629c4… and ec29112d…): in the
# repository its first 100 digits, cut with the standard library alone (tests/fixtures/README.md);
# in the lab also the whole files in ../shared/data/mnist-t10k, when they are beside the checkout.
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"
FIRST_100_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4, 9, 6, 6, 5, 4,
                    0, 7, 4, 0, 1, 3, 1, 3, 4, 7, 2, 7, 1, 2, 1, 1, 7, 4, 2, 3, 5, 1, 2, 4, 4,
                    6, 3, 5, 5, 6, 0, 4, 1, 9, 5, 7, 8, 9, 3, 7, 4, 6, 4, 3, 0, 7, 0, 2, 9, 1,
                    7, 3, 2, 9, 7, 7, 6, 2, 7, 8, 4, 7, 3, 6, 1, 3, 6, 9, 3, 1, 4, 1, 7, 6, 9]
# SHA-256 of the 784 pixel bytes, row by row, of the first test digit (a 7) and of all 100.
FIRST_DIGIT_SHA256 = "8f6a418c9a639f9e14e96feca47a97df2a35a0a68ae2875431c5c80e05536941"
FIRST_100_SHA256 = "8a004a2f81a80f4866259cbb77cf37af89315036b298b250b4d45c24aaa92048"
GENUINE = [pytest.param(FIXTURES / "mnist-t10k-first100-images-idx3-ubyte.gz",
                        FIXTURES / "mnist-t10k-first100-labels-idx1-ubyte.gz", 100,
                        [8, 14, 8, 11, 14, 7, 10, 15, 2, 11], id="first-100-in-the-repository")]
if SHARED.is_dir():
    GENUINE.append(pytest.param(SHARED / "t10k-images-idx3-ubyte.gz",
                                SHARED / "t10k-labels-idx1-ubyte.gz", 10000,
                                [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
                                id="whole-set-in-shared"))


@pytest.mark.parametrize(("images_path", "labels_path", "count", "label_counts"), GENUINE)
def test_genuine_mnist_test_files_parse_to_the_published_digits(images_path, labels_path, count,
                                                               label_counts):
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    header = gzip.decompress(images_path.read_bytes())[:16]
    assert header[:4] == bytes([0, 0, 0x08, 3])
    assert struct.unpack(">III", header[4:]) == images.shape == (count, 28, 28)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8 and labels.shape == (count,)
    assert labels[:100].tolist() == FIRST_100_LABELS
    assert np.bincount(labels, minlength=10).tolist() == label_counts
    assert images.min() == 0 and images.max() == 255
    assert hashlib.sha256(images[0].tobytes()).hexdigest() == FIRST_DIGIT_SHA256
    assert hashlib.sha256(images[:100].tobytes()).hexdigest() == FIRST_100_SHA256


# -- headers and gzip data that would make numpy allocate without bound -----------------------


def test_dimensions_whose_product_overflows_get_the_librarys_error():
    header = bytes([0, 0, 0x08, 4]) + struct.pack(">4I", *[2**31] * 4)
    with pytest.raises(DatasetError, match=r"f: header declares 2126\d+ bytes, more than"):
        parse_idx(header, "f")


def _gzip_bomb(header: bytes, zero_mib: int) -> bytes:
    """A gzip file: ``header`` and then ``zero_mib`` MiB of zeros, built without ever holding
    the zeros: after a full flush deflate starts afresh, so every MiB compresses to the same
    bytes. The CRC is not computed (a bounded reader stops long before it)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    size = len(header) + (zero_mib << 20)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + start + block * zero_mib + end
            + struct.pack("<2I", 0, size % 2**32))


def test_a_small_gzip_inflating_to_gigabytes_is_refused_without_allocating_it(tmp_path):
    path = tmp_path / "bomb-images-idx3-ubyte.gz"
    path.write_bytes(_gzip_bomb(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8)), 2048))
    assert path.stat().st_size < 3 << 20  # 2 GiB of zeros in about 2 MiB
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=r"bomb-images-idx3-ubyte.gz: .*inflates to more "
                                               r"than the 1584 bytes its header declares"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_a_header_declaring_more_than_the_size_limit_is_refused_before_inflating(tmp_path):
    path = tmp_path / "big.idx.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 2**31)))
    with pytest.raises(DatasetError, match=r"big.idx.gz: header declares 2147483656 bytes, "
                                           r"more than the limit of 1024 bytes"):
        read_idx(path, max_bytes=1024)
