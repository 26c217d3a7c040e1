import os
import stat

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
