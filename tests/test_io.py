import numpy as np
import pytest

from dlfs import MultiLayerNet
from dlfs.io import load_params, save_params


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
