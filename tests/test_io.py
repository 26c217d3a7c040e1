import io
import os
import stat
import zipfile

import numpy as np
import pytest

from dlfs import MultiLayerNet
from dlfs.io import atomic_dir, atomic_file, load_params, save_params, writable_folder, write_text


def test_save_and_load_round_trip_params_and_running_statistics(tmp_path, rng):
    net = MultiLayerNet(6, [5], 3, use_batchnorm=True, seed=1)
    net.gradient(rng.standard_normal((8, 6)), rng.integers(0, 3, 8))  # moves running stats
    path = save_params(net, tmp_path / "net.npz")
    other = MultiLayerNet(6, [5], 3, use_batchnorm=True, seed=2)
    load_params(other, path)
    for key in [*net.params, *net.buffers]:
        np.testing.assert_array_equal({**other.params, **other.buffers}[key],
                                      {**net.params, **net.buffers}[key])
    x = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(other.predict(x), net.predict(x))
    with np.load(path, allow_pickle=False) as data:
        assert "running_var1" in data.files


def test_loading_into_another_shape_names_the_key_and_both_shapes(tmp_path):
    path = save_params(MultiLayerNet(6, [5], 3), tmp_path / "net.npz")
    other = MultiLayerNet(6, [7], 3)
    before = other.params["W1"].copy()
    with pytest.raises(ValueError, match=r"W1 .* shape \(6, 5\), but the network's W1 has shape "
                                         r"\(6, 7\)"):
        load_params(other, path)
    np.testing.assert_array_equal(other.params["W1"], before)


def test_loading_a_file_with_missing_keys_names_them(tmp_path):
    path = save_params(MultiLayerNet(6, [5], 3), tmp_path / "net.npz")
    with pytest.raises(ValueError, match="lacks parameter.*W3"):
        load_params(MultiLayerNet(6, [5, 5], 3), path)


def test_loading_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, W1=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_params(MultiLayerNet(6, [5], 3), path)


def test_save_requires_npz_and_an_existing_folder(tmp_path):
    net = MultiLayerNet(6, [5], 3)
    with pytest.raises(ValueError, match="must end in .npz"):
        save_params(net, tmp_path / "net.pkl")
    with pytest.raises(ValueError, match="does not exist"):
        save_params(net, tmp_path / "missing" / "net.npz")
    assert list(tmp_path.iterdir()) == []


# -- atomic writers ---------------------------------------------------------------------------


def test_atomic_file_keeps_the_old_content_when_the_block_fails(tmp_path):
    path = write_text(tmp_path / "notes.txt", "old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_file(path, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_atomic_file_gives_a_new_file_the_mode_the_umask_allows(tmp_path):
    previous = os.umask(0o027)
    try:
        write_text(tmp_path / "shared.txt", "for the group")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "shared.txt").stat().st_mode) == 0o640


def test_atomic_file_refuses_an_unknown_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w', got 'a'"):
        with atomic_file(tmp_path / "log.txt", "a"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_the_old_folder_with_the_new_one(tmp_path):
    target = tmp_path / "result"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    with atomic_dir(target) as folder:
        write_text(folder / "results.json", "{}")
        assert not (target / "results.json").exists()  # unseen until the block ends
    assert [p.name for p in target.iterdir()] == ["results.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_atomic_dir_leaves_the_old_folder_when_the_block_fails(tmp_path):
    target = tmp_path / "result"
    target.mkdir()
    (target / "results.json").write_text("old")
    with pytest.raises(RuntimeError, match="plot failed"):
        with atomic_dir(target) as folder:
            write_text(folder / "results.json", "new")
            raise RuntimeError("plot failed")
    assert (target / "results.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result"]


def test_writable_folder_creates_the_folder_and_leaves_it_empty(tmp_path):
    folder = writable_folder(tmp_path / "a" / "b")
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_writable_folder_raises_oserror_below_a_file(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError):
        writable_folder(tmp_path / "file" / "sub")


# -- load_params refuses every bad file before copying anything -------------------------------


def _saved_arrays(net):
    return {key: value.copy() for key, value in {**net.params, **net.buffers}.items()}


def test_a_bad_second_array_leaves_the_first_untouched(tmp_path):
    source = MultiLayerNet(6, [5], 3, seed=1)
    arrays = _saved_arrays(source)
    arrays["W2"] = np.full_like(arrays["W2"], np.nan)
    path = tmp_path / "net.npz"
    np.savez(path, **arrays)
    target = MultiLayerNet(6, [5], 3, seed=2)
    before = _saved_arrays(target)
    with pytest.raises(ValueError, match="W2"):
        load_params(target, path)
    for key, value in before.items():
        np.testing.assert_array_equal({**target.params, **target.buffers}[key], value)


@pytest.mark.parametrize("bad, what", [
    (lambda a: a.astype(np.int64), "int64"),
    (lambda a: a > 0, "bool"),
    (lambda a: a.astype(np.complex128), "complex128"),
    (lambda a: np.where(a > 0, np.inf, a), "infinite"),
    (lambda a: np.where(a > 0, np.nan, a), "NaN"),
    (lambda a: a.astype(str), "<U"),
    (lambda a: np.full(a.shape, 1e300), "float32"),  # overflows the network's float32
])
def test_non_float_or_non_finite_arrays_are_refused_naming_the_key(tmp_path, bad, what):
    source = MultiLayerNet(6, [5], 3, seed=1)
    arrays = _saved_arrays(source)
    arrays["b1"] = bad(arrays["b1"] + 0.5)
    path = tmp_path / "net.npz"
    np.savez(path, **arrays)
    target = MultiLayerNet(6, [5], 3, seed=2, dtype=np.float32)
    before = _saved_arrays(target)
    with pytest.raises(ValueError, match=rf"b1.*{what}"):
        load_params(target, path)
    for key, value in before.items():
        np.testing.assert_array_equal({**target.params, **target.buffers}[key], value)


def _npz_member_claiming(shape, key="W1") -> bytes:
    """The bytes of a .npy member whose header declares ``shape`` but holds 8 bytes of data."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(8)


def test_a_member_declaring_more_than_the_network_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    net = MultiLayerNet(6, [5], 3, seed=1)
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in _saved_arrays(net).items():
            if key == "W1":
                continue
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
        # 2**40 float64 values: 8 TiB that numpy would try to allocate if it read this member
        archive.writestr("W1.npy", _npz_member_claiming((2**20, 2**20)))
    with pytest.raises(ValueError, match=r"W1 .*shape \(1048576, 1048576\).*\(6, 5\)"):
        load_params(net, path)


def test_an_empty_file_is_named_as_empty(tmp_path):
    path = tmp_path / "net.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="is empty"):
        load_params(MultiLayerNet(6, [5], 3), path)


@pytest.mark.parametrize("content", [b"W1,b1\n1,2\n", b"PK\x03\x04 not really a zip"])
def test_a_file_that_is_not_an_npz_gets_a_clear_error(tmp_path, content):
    path = tmp_path / "net.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_params(MultiLayerNet(6, [5], 3), path)


def test_a_single_npy_file_is_not_taken_for_an_npz(tmp_path):
    path = tmp_path / "net.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((6, 5)))
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_params(MultiLayerNet(6, [5], 3), path)


def test_load_params_refusals_are_said_in_korean_by_text(tmp_path):
    from dlfs.io import ParamsError

    net = MultiLayerNet(4, [3], 2)
    path = save_params(MultiLayerNet(4, [5], 2), tmp_path / "wide.npz")
    with pytest.raises(ParamsError) as info:
        load_params(net, path)
    assert isinstance(info.value, ValueError)  # what load_params raised before
    assert str(info.value) == (f"parameter W1 in '{path}' has shape (4, 5), but the network's "
                               "W1 has shape (4, 3)")
    assert info.value.text("ko") == (f"'{path}'의 매개변수 W1의 형태는 (4, 5)인데, 신경망의 "
                                     "W1의 형태는 (4, 3)입니다.")
