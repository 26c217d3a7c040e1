"""Finding, downloading and loading data sets: tiny IDX files made here, a real HTTP server on
127.0.0.1, and the real Fashion-MNIST from Debian's package."""

import dataclasses
import functools
import gzip
import hashlib
import http.server
import json
import re
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from dlfs.data import datasets, fetch, load_lab_data, locations, specs
from dlfs.data.idx import DatasetError, encode_idx

N_TRAIN, N_TEST = 30, 10


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DLFS_DATA", raising=False)


def _tiny_files(seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(N_TRAIN) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(N_TEST) % 10).astype(np.uint8),
    }
    return arrays, {key: gzip.compress(encode_idx(a), mtime=0) for key, a in arrays.items()}


FILENAMES = {"train_images": "train-images-idx3-ubyte.gz",
             "train_labels": "train-labels-idx1-ubyte.gz",
             "test_images": "t10k-images-idx3-ubyte.gz",
             "test_labels": "t10k-labels-idx1-ubyte.gz"}


def _spec(blobs, mirrors=(), name="tiny", wrong_checksum_for=None, title="Tiny"):
    files = []
    for key, filename in FILENAMES.items():
        md5 = hashlib.md5(blobs[key]).hexdigest()
        if key == wrong_checksum_for:
            md5 = "0" * 32
        files.append(datasets.FileSpec(key, filename, md5))
    return datasets.DatasetSpec(name=name, title=title, files=tuple(files), mirrors=tuple(mirrors),
                                n_train=N_TRAIN, n_test=N_TEST, classes=tuple("0123456789"))


def _write(directory: Path, blobs, skip=()):
    directory.mkdir(parents=True, exist_ok=True)
    for key, blob in blobs.items():
        if key not in skip:
            (directory / FILENAMES[key]).write_bytes(blob)
    return directory


@pytest.fixture
def tiny(monkeypatch):
    arrays, blobs = _tiny_files()

    def register(**kwargs):
        spec = _spec(blobs, **kwargs)
        monkeypatch.setitem(datasets.DATASETS, spec.name, spec)
        return spec

    return arrays, blobs, register


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _refused_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# -- finding ----------------------------------------------------------------------------------


def test_load_from_root_returns_the_books_shapes(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    _write(tmp_path / "data" / "tiny", blobs)
    (x, t), (xt, tt) = datasets.load_dataset("tiny", root=tmp_path / "data", download=False)
    assert x.shape == (N_TRAIN, 784) and x.dtype == np.float32 and xt.shape == (N_TEST, 784)
    np.testing.assert_allclose(x[0], arrays["train_images"][0].ravel() / 255, rtol=1e-6)
    assert t.dtype == np.int64 and t.tolist() == arrays["train_labels"].tolist()
    assert 0 <= x.min() and x.max() <= 1


def test_preprocessing_options(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    _write(tmp_path / "tiny", blobs)
    (x, t), _ = datasets.load_dataset("tiny", root=tmp_path, download=False, normalize=False,
                                      flatten=False, one_hot_label=True)
    assert x.shape == (N_TRAIN, 1, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[:, 0], arrays["train_images"])
    assert t.shape == (N_TRAIN, 10)
    assert t.argmax(axis=1).tolist() == (np.arange(N_TRAIN) % 10).tolist()
    (x64, _), _ = datasets.load_dataset("tiny", root=tmp_path, download=False, dtype=np.float64)
    assert x64.dtype == np.float64


def test_search_order_root_then_env_then_cache(tmp_path, tiny, monkeypatch):
    _, blobs, register = tiny
    register()
    env_dir = _write(tmp_path / "env" / "tiny", blobs)
    cache_dir = _write(tmp_path / "cache" / "dlfs" / "tiny", blobs)
    root_dir = _write(tmp_path / "root", blobs)
    monkeypatch.setenv("DLFS_DATA", str(tmp_path / "env"))
    assert datasets.find_dataset("tiny", root=root_dir).place.label == "root"
    assert datasets.find_dataset("tiny").place.directory == env_dir
    monkeypatch.delenv("DLFS_DATA")
    assert datasets.find_dataset("tiny").place.directory == cache_dir
    assert datasets.find_dataset("tiny", root=tmp_path / "empty").place.label == "user cache"


def test_image_and_label_counts_that_differ_name_both_files(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    blobs = dict(blobs, train_labels=gzip.compress(encode_idx(arrays["train_labels"][:-1])))
    _write(tmp_path / "tiny", blobs)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz holds 30 images but "
                                           r".*train-labels-idx1-ubyte.gz holds 29 labels"):
        datasets.load_dataset("tiny", root=tmp_path, download=False, verify=False)


def test_a_local_file_with_a_wrong_checksum_is_named_and_left_alone(tmp_path, tiny):
    _, blobs, register = tiny
    register(wrong_checksum_for="test_labels")
    directory = _write(tmp_path / "tiny", blobs)
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        datasets.load_dataset("tiny", root=tmp_path, download=False)
    assert (directory / "t10k-labels-idx1-ubyte.gz").read_bytes() == blobs["test_labels"]


def test_second_load_comes_from_the_npy_cache(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    _write(tmp_path / "tiny", blobs)
    first = datasets.load_dataset("tiny", root=tmp_path, download=False)
    cached = sorted(p.name for p in (tmp_path / "cache" / "dlfs" / "parsed" / "tiny").iterdir())
    assert "train_images.npy" in cached and "train_images.json" in cached
    # The cache is what is read now: a parse would need the (now unreadable) source bytes.
    original = datasets.parse_idx
    datasets.parse_idx = None
    try:
        second = datasets.load_dataset("tiny", root=tmp_path, download=False)
    finally:
        datasets.parse_idx = original
    np.testing.assert_array_equal(first[0][0], second[0][0])


def test_a_changed_source_file_invalidates_the_cache(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    directory = _write(tmp_path / "tiny", blobs)
    datasets.load_dataset("tiny", root=tmp_path, download=False)
    other_arrays, other_blobs = _tiny_files(seed=1)
    (directory / FILENAMES["train_images"]).write_bytes(other_blobs["train_images"])
    register_again = _spec(dict(blobs, train_images=other_blobs["train_images"]))
    datasets.DATASETS["tiny"] = register_again
    (x, _), _ = datasets.load_dataset("tiny", root=tmp_path, download=False, normalize=False)
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), other_arrays["train_images"])


def _bad_tiny(tmp_path, tiny, key, array):
    arrays, blobs, register = tiny
    register()
    _write(tmp_path / "tiny", dict(blobs, **{key: gzip.compress(encode_idx(array))}))


@pytest.mark.parametrize("labels, problem", [
    (np.arange(N_TRAIN, dtype=np.int16) % 10, r"unsigned integer.*got int16"),
    (np.arange(N_TRAIN, dtype=np.float32) % 10, r"unsigned integer.*got float32"),
    (np.arange(N_TRAIN, dtype=np.uint8) % 11, r"label 10 is outside the valid range 0..9"),
])
def test_labels_must_be_unsigned_class_indices_within_the_range(tmp_path, tiny, labels, problem):
    _bad_tiny(tmp_path, tiny, "train_labels", labels)
    with pytest.raises(DatasetError, match=rf"train-labels-idx1-ubyte.gz: .*{problem}"):
        datasets.load_dataset("tiny", root=tmp_path, download=False, verify=False)


@pytest.mark.parametrize("images, problem", [
    (np.zeros((N_TRAIN, 28, 28), np.float32), r"got float32 of shape \(30, 28, 28\)"),
    (np.zeros((N_TRAIN, 14, 14), np.uint8), r"got uint8 of shape \(30, 14, 14\)"),
    (np.zeros((N_TRAIN, 784), np.uint8), r"got uint8 of shape \(30, 784\)"),
])
def test_images_must_be_uint8_28_by_28_as_the_spec_says(tmp_path, tiny, images, problem):
    _bad_tiny(tmp_path, tiny, "train_images", images)
    with pytest.raises(DatasetError, match=rf"train-images-idx3-ubyte.gz: Tiny images are uint8 "
                                           rf"\(N, 28, 28\); {problem}"):
        datasets.load_dataset("tiny", root=tmp_path, download=False, verify=False)


def _unpacked(directory: Path, blobs, keys):
    """The files of ``keys`` gunzipped under their names without .gz, as a user unpacks them."""
    for key in keys:
        (directory / FILENAMES[key]).unlink()
        (directory / FILENAMES[key].removesuffix(".gz")).write_bytes(gzip.decompress(blobs[key]))


def test_unpacked_files_known_only_by_their_gzip_checksum_are_checked_by_shape(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()  # an MD5 of the .gz only, as MNIST's training files have
    directory = _write(tmp_path / "tiny", blobs)
    _unpacked(directory, blobs, FILENAMES)
    with pytest.warns(UserWarning) as caught:
        (x, t), _ = datasets.load_dataset("tiny", root=tmp_path, download=False,
                                          normalize=False)
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])
    # One warning per unpacked file, each naming it.
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == len(FILENAMES)
    for filename in FILENAMES.values():
        pattern = (rf"{filename.removesuffix('.gz')}: .*no checksum .*uncompressed"
                   r".*shape, type and range match Tiny")
        assert sum(bool(re.search(pattern, message)) for message in messages) == 1, filename


def test_an_unpacked_file_that_cannot_be_checksummed_must_have_the_published_count(tmp_path,
                                                                                     tiny):
    arrays, blobs, register = tiny
    register()
    directory = _write(tmp_path / "tiny", blobs)
    (directory / FILENAMES["train_labels"]).unlink()
    (directory / "train-labels-idx1-ubyte").write_bytes(encode_idx(arrays["train_labels"][:-1]))
    with pytest.raises(DatasetError, match=r"train-labels-idx1-ubyte: no checksum .*uncompressed"
                                           r".*Tiny's train_labels are uint8 \(30,\); got uint8 "
                                           r"of shape \(29,\)"):
        datasets.load_dataset("tiny", root=tmp_path, download=False)


@pytest.mark.slow
def test_genuine_mnist_test_files_unpacked_match_their_known_sha256(tmp_path, tiny, recwarn):
    arrays, blobs, register = tiny
    real = Path("/work/shared/data/mnist-t10k")
    spec = specs.DatasetSpec(
        name="tiny", title="Tiny", mirrors=(), n_train=N_TRAIN, n_test=10_000,
        classes=tuple("0123456789"),
        files=(*_spec(blobs).files[:2], *specs.MNIST.files[2:]))
    datasets.DATASETS["tiny"] = spec
    directory = _write(tmp_path / "tiny", blobs, skip=("test_images", "test_labels"))
    for key in ("test_images", "test_labels"):
        unpacked = gzip.decompress((real / FILENAMES[key]).read_bytes())
        (directory / FILENAMES[key].removesuffix(".gz")).write_bytes(unpacked)
    _, (xt, tt) = datasets.load_dataset("tiny", root=tmp_path, download=False)
    assert xt.shape == (10_000, 784)
    assert np.bincount(tt).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert not [w for w in recwarn if "checksum" in str(w.message)]


def _cache_of_tiny(tmp_path, tiny):
    arrays, blobs, register = tiny
    register()
    _write(tmp_path / "tiny", blobs)
    datasets.load_dataset("tiny", root=tmp_path, download=False)
    return arrays, tmp_path / "cache" / "dlfs" / "parsed" / "tiny"


@pytest.mark.parametrize("record", ["[1, 2, 3]", "null", '"text"', '{"source": 5}', "{not json"])
def test_a_cache_record_that_is_not_the_expected_object_is_rebuilt_with_a_warning(tmp_path,
                                                                                 tiny, record):
    arrays, cache = _cache_of_tiny(tmp_path, tiny)
    (cache / "train_labels.json").write_text(record)
    with pytest.warns(UserWarning, match=r"train_labels.json.* ignored; rebuilt from"):
        (_, t), _ = datasets.load_dataset("tiny", root=tmp_path, download=False)
    assert t.tolist() == arrays["train_labels"].tolist()
    assert json.loads((cache / "train_labels.json").read_text())["source"].endswith(".gz")


def test_the_warning_about_a_bad_cache_file_is_said_in_the_commands_language(tmp_path, tiny,
                                                                          monkeypatch):
    _, cache = _cache_of_tiny(tmp_path, tiny)
    (cache / "train_labels.json").write_text("{not json")
    monkeypatch.setenv("DLFS_LANG", "ko")  # what dlfs --lang ko sets
    with pytest.warns(UserWarning) as caught:
        datasets.load_dataset("tiny", root=tmp_path, download=False)
    said = [str(w.message) for w in caught if "train_labels.json" in str(w.message)]
    assert len(said) == 1 and "JSON이 아닙니다. 무시하고" in said[0] and "다시 만듭니다" in said[0]
    assert "ignored" not in said[0]


def test_a_cache_file_linked_to_dev_zero_is_never_read_and_is_rebuilt(tmp_path, tiny):
    arrays, cache = _cache_of_tiny(tmp_path, tiny)
    (cache / "train_images.npy").unlink()
    (cache / "train_images.npy").symlink_to("/dev/zero")
    with pytest.warns(UserWarning, match=r"train_images.npy.* not a regular file: ignored; "
                                         r"rebuilt from"):
        (x, _), _ = datasets.load_dataset("tiny", root=tmp_path, download=False,
                                          normalize=False)
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])
    assert not (cache / "train_images.npy").is_symlink()


def test_a_cache_file_of_another_size_than_recorded_is_rebuilt(tmp_path, tiny):
    arrays, cache = _cache_of_tiny(tmp_path, tiny)
    with open(cache / "train_images.npy", "ab") as handle:
        handle.write(bytes(1 << 16))
    with pytest.warns(UserWarning, match=r"train_images.npy.* size"):
        (x, _), _ = datasets.load_dataset("tiny", root=tmp_path, download=False,
                                          normalize=False)
    np.testing.assert_array_equal(x.reshape(-1, 28, 28), arrays["train_images"])


# -- downloading ------------------------------------------------------------------------------


def test_download_from_a_local_http_server(tmp_path, tiny, server):
    arrays, blobs, register = tiny
    url, www = server
    _write(www / "a", blobs)
    register(mirrors=[url + "a/"])
    (x, t), _ = datasets.load_dataset("tiny", root=tmp_path / "data", progress=False)
    assert t.tolist() == arrays["train_labels"].tolist()
    downloaded = sorted(p.name for p in (tmp_path / "data" / "tiny").iterdir())
    assert downloaded == sorted(FILENAMES.values())


def test_first_mirror_404_then_second_mirror_works(tmp_path, tiny, server):
    _, blobs, register = tiny
    url, www = server
    _write(www / "b", blobs)
    register(mirrors=[url + "missing/", url + "b/"])
    datasets.download("tiny", root=tmp_path, progress=False)
    assert datasets.find_dataset("tiny", root=tmp_path).place.label == "root"


def test_a_download_with_a_wrong_checksum_is_not_kept(tmp_path, tiny, server):
    _, blobs, register = tiny
    url, www = server
    _write(www / "a", blobs)
    register(mirrors=[url + "a/"], wrong_checksum_for="train_images")
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", root=tmp_path, progress=False)
    assert "train-images-idx3-ubyte.gz: checksum mismatch" in str(info.value)
    leftovers = [p.name for p in (tmp_path / "tiny").iterdir()]
    assert "train-images-idx3-ubyte.gz" not in leftovers
    assert not [name for name in leftovers if name.endswith(".part")]


@pytest.fixture
def slow_server():
    """A real HTTP server on 127.0.0.1 that announces 1000 bytes and sends one every 0.2 s."""
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                try:
                    self.wfile.write(b"\x00")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True,
                     kwargs={"poll_interval": 0.05}).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_server_sending_a_byte_at_a_time_is_dropped_at_the_deadline(tmp_path, tiny,
                                                                       slow_server):
    _, _, register = tiny
    register(mirrors=[slow_server])
    start = time.monotonic()
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: not complete after the "
                                           r"deadline of 1 s"):
        fetch.download("tiny", tmp_path, stall=5, progress=False, deadline=1)
    assert time.monotonic() - start < 4
    assert list((tmp_path / "tiny").iterdir()) == []  # no .part file left behind


@pytest.fixture
def stalling_server():
    """A real HTTP server on 127.0.0.1 that announces 1000 bytes, sends 10 and then nothing:
    each request waits (at most 10 s) until the test ends, then the server stops."""
    done = threading.Event()

    class Stalls(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" + bytes(8))
            self.wfile.flush()
            done.wait(10)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalls)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True,
                     kwargs={"poll_interval": 0.05}).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        done.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("given", ["argument", "environment"])
def test_a_mirror_that_stops_sending_is_given_up_at_the_stall_deadline_naming_its_setting(
        tmp_path, tiny, stalling_server, monkeypatch, given):
    _, _, register = tiny
    register(mirrors=[stalling_server])
    monkeypatch.setenv("DLFS_DOWNLOAD_DEADLINE", "60")
    if given == "environment":
        monkeypatch.setenv("DLFS_DOWNLOAD_STALL", "0.5")
    start = time.monotonic()
    with pytest.raises(DatasetError) as info:
        fetch.download("tiny", tmp_path, progress=False,
                       **({"stall": 0.5} if given == "argument" else {}))
    assert time.monotonic() - start < 3  # not the 60 s deadline, nor the old 600 s
    assert (f"{stalling_server}train-images-idx3-ubyte.gz: no data for 0.5 s, so this mirror "
            "was given up (set DLFS_DOWNLOAD_STALL to wait longer)") in str(info.value)
    assert list((tmp_path / "tiny").iterdir()) == []  # no .part file left behind


def test_download_limits_default_to_30_s_stalls_and_300_s_per_file_and_refuse_nonsense(
        monkeypatch):
    assert (fetch.DEFAULT_STALL, fetch.DEFAULT_DEADLINE) == (30.0, 300.0)
    monkeypatch.setenv("DLFS_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(DatasetError, match="DLFS_DOWNLOAD_DEADLINE must be a number of "
                                           "seconds above 0, got 'soon'"):
        fetch.download("mnist", progress=False)
    with pytest.raises(DatasetError, match="stall must be a number of seconds above 0, got 0"):
        fetch.download("mnist", progress=False, stall=0, deadline=1)


def test_a_download_larger_than_the_published_size_is_refused(tmp_path, tiny, server):
    _, blobs, register = tiny
    url, www = server
    _write(www / "a", blobs)
    spec = register(mirrors=[url + "a/"])
    files = tuple(dataclasses.replace(f, size=len(blobs[f.key]) - 1) for f in spec.files)
    datasets.DATASETS["tiny"] = dataclasses.replace(spec, files=files)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.gz: \d+ bytes announced, "
                                           r"more than the \d+ bytes of the published file"):
        fetch.download("tiny", tmp_path, progress=False)
    assert list((tmp_path / "tiny").iterdir()) == []


def test_connection_refused_everywhere_gives_the_offline_error(tmp_path, tiny):
    _, _, register = tiny
    register(mirrors=[_refused_url(), _refused_url()])
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", root=tmp_path / "r", progress=False)
    message = str(info.value)
    assert "Tiny was not found. Looked in:" in message
    for expected in (str(tmp_path / "r" / "tiny"), "(user cache)", "(system)",
                     "$DLFS_DATA is not set", "Connection refused",
                     "pass it as --data-root DIR (root=DIR in Python)",
                     "dlfs data tiny --fetch", "set the environment variable DLFS_DATA"):
        assert expected in message
    assert not list((tmp_path / "r" / "tiny").iterdir())


def test_download_false_names_that_downloading_was_not_allowed(tmp_path, tiny):
    _, _, register = tiny
    register()
    with pytest.raises(DatasetError, match="Downloading was not allowed"):
        datasets.load_dataset("tiny", root=tmp_path, download=False)


def test_the_fashion_mnist_error_mentions_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets.sys, "platform", "linux")
    spec = datasets.FASHION_MNIST
    error = datasets._not_found(spec, tmp_path, None)
    assert "sudo apt-get install dataset-fashion-mnist" in str(error)


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_on_macos_and_windows_the_error_says_how_to_fetch_not_apt_get(monkeypatch, tmp_path,
                                                                       platform):
    monkeypatch.setattr(datasets.sys, "platform", platform)
    message = str(datasets._not_found(datasets.FASHION_MNIST, tmp_path, None))
    assert "apt-get" not in message and "Debian" not in message
    assert "dlfs data fashion-mnist --fetch" in message
    assert "--data-root DIR" in message


def test_unknown_dataset_names_are_rejected():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; choose one of mnist, fashion"):
        datasets.load_dataset("cifar")


# -- the lab's choice ---------------------------------------------------------------------------


def test_auto_is_mnist_else_fashion_mnist_and_says_which(tmp_path, tiny):
    arrays, blobs, register = tiny
    register(name="mnist", title="MNIST", mirrors=[_refused_url()])
    register(name="fashion-mnist", title="Fashion-MNIST")
    _write(tmp_path / "fashion-mnist", blobs)
    data = load_lab_data("auto", tmp_path)
    assert data.info() == {"name": "fashion-mnist", "title": "Fashion-MNIST",
                           "source": f"{tmp_path / 'fashion-mnist'} (root)"}
    assert data.note == ("MNIST is not available here; using Fashion-MNIST from "
                         f"{tmp_path / 'fashion-mnist'} (root)")
    assert (data.input_size, data.n_classes) == (784, 10)
    assert data.t_train.tolist() == arrays["train_labels"].tolist()
    _write(tmp_path / "mnist", blobs)
    assert load_lab_data("auto", tmp_path).name == "mnist"
    assert load_lab_data("auto", tmp_path).note is None


def test_a_named_data_set_that_is_missing_is_an_error_never_a_substitute(tmp_path, tiny):
    _, blobs, register = tiny
    register(name="mnist", title="MNIST", mirrors=[_refused_url()])
    register(name="fashion-mnist", title="Fashion-MNIST")
    _write(tmp_path / "fashion-mnist", blobs)
    with pytest.raises(DatasetError, match="MNIST was not found"):
        load_lab_data("mnist", tmp_path)
    with pytest.raises(ValueError, match="dataset must be one of auto, mnist, fashion-mnist, "
                                         "or a folder of IDX files or an .npz file; got "
                                         "'cifar', which is neither"):
        load_lab_data("cifar", tmp_path)


def test_the_split_modules_keep_every_old_import_path_of_datasets():
    for name in ("FileSpec", "DatasetSpec", "DATASETS", "MNIST", "FASHION_MNIST", "get_spec"):
        assert getattr(datasets, name) is getattr(specs, name)
    for name in ("Location", "Place", "cache_dir", "places", "download_dir", "find_dataset"):
        assert getattr(datasets, name) is getattr(locations, name)
    assert datasets.download is fetch.download


# -- the real thing ---------------------------------------------------------------------------


@pytest.fixture
def fashion():
    if datasets.find_dataset("fashion-mnist") is None:
        pytest.fail("Fashion-MNIST is missing: `make test` installs Debian's dataset-fashion-mnist")
    return datasets.load_fashion_mnist(progress=False)


@pytest.mark.slow
def test_real_fashion_mnist_from_debians_package(fashion):
    (x, t), (xt, tt) = fashion
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == np.float32 and t.dtype == np.int64
    assert np.bincount(t).tolist() == [6000] * 10
    assert np.bincount(tt).tolist() == [1000] * 10
    assert x.min() == 0.0 and x.max() == 1.0
    assert datasets.find_dataset("fashion-mnist").place.label == "system"


def test_a_cache_write_that_fails_leaves_no_temporary_file(tmp_path):
    import resource
    import signal

    source = tmp_path / "source-idx"
    source.write_bytes(b"the verified source")
    cache = tmp_path / "cache"
    array = np.zeros(1_000_000, np.uint8)
    # A real failed write: a file-size limit makes the kernel refuse the .npy past 100 kB (EFBIG).
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))
    try:
        datasets._write_cached(array, source, cache, "train_images")  # best effort: no raise
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert cache.is_dir() and sorted(p.name for p in cache.iterdir()) == []
    datasets._write_cached(array, source, cache, "train_images")  # without the limit it works
    assert sorted(p.name for p in cache.iterdir()) == ["train_images.json", "train_images.npy"]


def test_a_data_set_not_found_is_said_in_korean_line_by_line(tmp_path, tiny):
    _, _, register = tiny
    register(mirrors=[_refused_url()])
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", root=tmp_path / "r", progress=False)
    english, korean = str(info.value).splitlines(), info.value.text("ko").splitlines()
    assert len(english) == len(korean) and english[0] == "Tiny was not found. Looked in:"
    assert korean[0] == "Tiny 데이터셋을 찾지 못했습니다. 찾아본 곳:"
    assert "내려받기에 실패했습니다:" in korean and "다음 가운데 하나로 해결하십시오:" in korean
    assert f"  - {tmp_path / 'r' / 'tiny'}  (root)" in korean  # the places, as they are
