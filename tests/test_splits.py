import numpy as np
import pytest

from dlfs.data import batches, shuffle, subset, train_val_split


def _data(n=50):
    return np.arange(n * 2).reshape(n, 2), np.arange(n)


def test_shuffle_permutes_x_and_t_alike_and_repeats_for_a_seed():
    x, t = _data()
    xs, ts = shuffle(x, t, seed=3)
    np.testing.assert_array_equal(xs[:, 0] // 2, ts)
    assert sorted(ts.tolist()) == t.tolist() and not np.array_equal(ts, t)
    np.testing.assert_array_equal(shuffle(x, t, seed=3)[1], ts)


def test_train_val_split_holds_out_the_ratio_without_overlap():
    x, t = _data(500)
    (xt, tt), (xv, tv) = train_val_split(x, t, val_ratio=0.2, seed=1)
    assert len(tv) == 100 and len(tt) == 400
    assert set(tt.tolist()).isdisjoint(tv.tolist())
    np.testing.assert_array_equal(xv[:, 0] // 2, tv)


def test_subset_takes_the_first_n_like_the_book_or_a_seeded_sample():
    x, t = _data()
    np.testing.assert_array_equal(subset(x, t, 5)[1], [0, 1, 2, 3, 4])
    drawn = subset(x, t, 5, seed=0)[1]
    assert len(set(drawn.tolist())) == 5
    np.testing.assert_array_equal(subset(x, t, 5, seed=0)[1], drawn)


def test_batches_cover_the_data_once_with_a_smaller_last_batch():
    x, t = _data(23)
    seen = [tb for _, tb in batches(x, t, 10, seed=0)]
    assert [len(b) for b in seen] == [10, 10, 3]
    assert sorted(np.concatenate(seen).tolist()) == list(range(23))
    assert [len(b) for _, b in batches(x, t, 10, drop_last=True)] == [10, 10]
    unshuffled = np.concatenate([b for _, b in batches(x, t, 10, shuffle=False)])
    np.testing.assert_array_equal(unshuffled, t)


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda x, t: train_val_split(x, t, val_ratio=1.0), r"val_ratio must be in \[0.0, 1.0\)"),
     (lambda x, t: train_val_split(x, t, val_ratio=0.01), "leaves an empty split"),
     (lambda x, t: subset(x, t, 51), "more than the 50 samples"),
     (lambda x, t: list(batches(x, t, 0)), "batch_size must be a positive integer"),
     (lambda x, t: shuffle(x, t[:-1]), "same number of samples, got 50 and 49")],
)
def test_bad_split_arguments_are_rejected(call, message):
    x, t = _data()
    with pytest.raises(ValueError, match=message):
        call(x, t)
