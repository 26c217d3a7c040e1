import numpy as np
import pytest
from conftest import make_blobs

from dlfs import MultiLayerNet, Trainer, TrainingDiverged
from dlfs.optim import SGD


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x, t = make_blobs(rng, n_per_class=50)
    return x[:120], t[:120], x[120:], t[120:]


def _train(seed, epochs=3, **kwargs):
    x, t, xt, tt = _data()
    net = MultiLayerNet(4, [8, 8], 3, use_batchnorm=True, dropout_ratio=0.1, seed=seed)
    trainer = Trainer(net, SGD(lr=0.1), x, t, xt, tt, epochs=epochs, batch_size=32, seed=seed,
                      **kwargs)
    return net, trainer, trainer.train()


def test_history_has_a_loss_per_iteration_and_an_accuracy_per_epoch_plus_start():
    _, trainer, history = _train(0, epochs=4)
    assert trainer.iter_per_epoch == 4  # ceil(120 / 32)
    assert len(history.train_loss) == 16
    assert history.eval_epochs == [0, 1, 2, 3, 4]
    assert history.eval_iterations == [0, 4, 8, 12, 16]
    assert len(history.train_acc) == len(history.test_acc) == 5


def test_training_improves_accuracy_on_separable_data():
    _, _, history = _train(0, epochs=30)
    assert history.test_acc[-1] >= 0.95
    assert np.mean(history.train_loss[-4:]) < np.mean(history.train_loss[:4])


def test_the_same_seed_gives_bit_identical_parameters():
    a, _, _ = _train(11)
    b, _, _ = _train(11)
    c, _, _ = _train(12)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    assert any(not np.array_equal(a.params[k], c.params[k]) for k in a.params)


def test_max_iter_stops_mid_epoch_and_evaluates_only_at_epoch_ends():
    _, trainer, history = _train(0, epochs=10, max_iter=10)
    assert len(history.train_loss) == 10
    assert history.eval_iterations == [0, 4, 8]


def test_the_books_sampling_with_replacement_is_available():
    _, trainer, history = _train(0, sampling="replacement")
    assert len(history.train_loss) == 3 * trainer.iter_per_epoch


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_a_diverging_loss_stops_with_the_iteration_named():
    x, t, xt, tt = _data()
    net = MultiLayerNet(4, [8], 3, seed=0, weight_init=10.0)
    trainer = Trainer(net, SGD(lr=1e6), x, t, xt, tt, epochs=5, batch_size=32)
    with pytest.raises(TrainingDiverged, match=r"became (nan|inf) at iteration \d+") as info:
        trainer.train()
    assert info.value.iteration >= 1
    assert len(trainer.history.train_loss) == info.value.iteration


def test_a_schedule_sets_the_learning_rate_before_each_update():
    _, trainer, history = _train(0, epochs=2, lr_schedule=lambda i: 0.1 / (1 + i))
    assert history.learning_rates == pytest.approx([0.1 / (1 + i) for i in range(8)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [(dict(epochs=0), "epochs must be a positive integer"),
     (dict(batch_size=-1), "batch_size must be a positive integer"),
     (dict(sampling="random"), "sampling must be one of epoch, replacement"),
     (dict(optimizer=object()), "optimizer must have an update")],
)
def test_bad_trainer_arguments_are_rejected(kwargs, message):
    x, t, xt, tt = _data()
    args = dict(network=MultiLayerNet(4, [8], 3), optimizer=SGD(), x_train=x, t_train=t,
                x_test=xt, t_test=tt) | kwargs
    with pytest.raises(ValueError, match=message):
        Trainer(**args)


def test_steady_state_training_allocates_nothing_that_grows():
    import tracemalloc

    from dlfs.optim import Adam

    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((256, 20)), rng.integers(0, 3, 256)
    net = MultiLayerNet(20, [16, 16], 3, use_batchnorm=True, dropout_ratio=0.1,
                        weight_decay_lambda=1e-3)
    opt = Adam()
    batches = [rng.choice(256, 32) for _ in range(50)]

    def steps(n):
        for i in range(n):
            index = batches[i % len(batches)]
            net.train_step(x[index], t[index], opt)

    tracemalloc.start()
    try:
        steps(100)
        after_100 = tracemalloc.get_traced_memory()[0]
        steps(10_000)
        after_10_100 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_10_100 - after_100 < 4096


def test_on_epoch_sees_every_evaluation_and_can_stop_training():
    seen = []

    class Stop(Exception):
        pass

    def on_epoch(epoch, history):
        seen.append((epoch, len(history.test_acc)))
        if epoch == 2:
            raise Stop

    with pytest.raises(Stop):
        _train(0, epochs=5, on_epoch=on_epoch)
    assert seen == [(0, 1), (1, 2), (2, 3)]
