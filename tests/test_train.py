import io
import warnings

import numpy as np
import pytest
from conftest import make_blobs

from dlfs import MultiLayerNet, Trainer, TrainingDiverged
from dlfs.optim import SGD, Adam
from dlfs.train import TrainingCollapsed, TrainingTooLong


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


def test_without_a_test_set_the_trainer_measures_the_same_training_accuracy_alone():
    x, t, xt, tt = _data()
    histories = []
    for test in ((xt, tt), (None, None)):
        net = MultiLayerNet(4, [8, 8], 3, use_batchnorm=True, seed=3)
        trainer = Trainer(net, SGD(lr=0.1), x, t, *test, epochs=3, batch_size=32, seed=3)
        histories.append(trainer.train())
    with_test, alone = histories
    assert len(with_test.test_acc) == 4 and alone.test_acc == []
    assert alone.train_acc == with_test.train_acc and alone.train_loss == with_test.train_loss
    with pytest.raises(ValueError, match="has no test set"):
        trainer.final_test_accuracy  # noqa: B018


def test_a_schedule_sets_the_learning_rate_before_each_update():
    _, trainer, history = _train(0, epochs=2, lr_schedule=lambda i: 0.1 / (1 + i))
    assert history.learning_rates == pytest.approx([0.1 / (1 + i) for i in range(8)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [(dict(epochs=0), "epochs must be a positive integer"),
     (dict(batch_size=-1), "batch_size must be a positive integer"),
     (dict(sampling="random"), "sampling must be one of epoch, replacement"),
     (dict(optimizer=object()), "optimizer must have an update"),
     (dict(x_test=None), "x_test and t_test go together")],
)
def test_bad_trainer_arguments_are_rejected(kwargs, message):
    x, t, xt, tt = _data()
    args = dict(network=MultiLayerNet(4, [8], 3), optimizer=SGD(), x_train=x, t_train=t,
                x_test=xt, t_test=tt) | kwargs
    with pytest.raises(ValueError, match=message):
        Trainer(**args)


@pytest.mark.slow
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
            grads = net.gradient(x[index], t[index])
            opt.update(net.params, grads)

    tracemalloc.start()
    try:
        steps(100)
        after_100 = tracemalloc.get_traced_memory()[0]
        steps(1_000)  # anything kept per step, a pointer or more, would grow by 8 000+ bytes
        after_1_100 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_1_100 - after_100 < 4096


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


class GradientAndLossOnly:
    """A foreign network, by composition: only the book's params, gradient, loss, accuracy."""

    def __init__(self, net):
        self.net = net
        self.params = net.params

    def gradient(self, x, t):
        return self.net.gradient(x, t)

    def loss(self, x, t):  # the book's MultiLayerNet.loss takes no train_flg
        return self.net.loss(x, t)

    def accuracy(self, x, t):
        return self.net.accuracy(x, t)


class LossAndGradientOnly:
    """A foreign network exposing params, loss_and_gradient and accuracy, nothing else."""

    def __init__(self, net):
        self.net = net
        self.params = net.params

    def loss_and_gradient(self, x, t):
        return self.net.loss_and_gradient(x, t)

    def accuracy(self, x, t):
        return self.net.accuracy(x, t)


@pytest.mark.parametrize(
    ("wrapper", "kwargs"),
    [(GradientAndLossOnly, dict(weight_decay_lambda=0.01)),
     (LossAndGradientOnly, dict(use_batchnorm=True, dropout_ratio=0.1))],
)
def test_a_foreign_network_trains_exactly_like_the_network_it_wraps(wrapper, kwargs):
    from dlfs.optim import Adam

    x, t, xt, tt = _data()
    histories, nets = [], []
    for wrap in (lambda net: net, wrapper):
        net = MultiLayerNet(4, [8, 8], 3, seed=5, **kwargs)
        trainer = Trainer(wrap(net), Adam(lr=0.01), x, t, xt, tt, epochs=3, batch_size=32,
                          seed=5)
        histories.append(trainer.train().as_dict())
        nets.append(net)
    assert histories[0] == histories[1]
    assert histories[0]["test_acc"][-1] > histories[0]["test_acc"][0]
    for key in nets[0].params:
        np.testing.assert_array_equal(nets[0].params[key], nets[1].params[key])


def test_a_network_missing_a_method_is_named_before_training():
    class NoGradient:
        params = {}

        def loss(self, x, t):
            return 0.0

    x, t, xt, tt = _data()
    with pytest.raises(ValueError, match="NoGradient.* lacks accuracy, gradient; the Trainer"):
        Trainer(NoGradient(), SGD(), x, t, xt, tt)


def test_the_trainer_checks_each_data_set_once_and_not_per_batch():
    x, t, xt, tt = _data()
    net = MultiLayerNet(4, [8], 3)
    checked = []

    def check_data(x, t):
        checked.append(len(x))
        return MultiLayerNet.check_data(net, x, t)

    net.check_data = check_data
    Trainer(net, SGD(lr=0.1), x, t, xt, tt, epochs=3, batch_size=32).train()
    assert checked == [120, 30]


def test_mismatched_sample_counts_are_rejected_for_a_foreign_network():
    x, t, xt, tt = _data()
    with pytest.raises(ValueError, match=r"x_train and t_train must hold the same number of "
                                         r"samples, got shapes \(120, 4\) and \(119,\)"):
        Trainer(GradientAndLossOnly(MultiLayerNet(4, [8], 3)), SGD(), x, t[:119], xt, tt)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam",
                                  "adamw", "book-nesterov", "book-adam"])
def test_the_trainers_step_is_the_books_two_lines(name):
    from dlfs import optim

    x, t, xt, tt = _data()
    kwargs = dict(use_batchnorm=True, weight_decay_lambda=0.01, seed=4)
    trained, by_hand = MultiLayerNet(4, [5, 4], 3, **kwargs), MultiLayerNet(4, [5, 4], 3, **kwargs)
    history = Trainer(trained, optim.create(name), x, t, xt, tt, epochs=2, batch_size=50,
                      seed=9).train()
    optimizer, order_rng, losses = optim.create(name), np.random.default_rng(9), []
    for _epoch in range(2):
        order = order_rng.permutation(len(t))
        for start in range(0, len(t), 50):
            batch = order[start:start + 50]
            grads = by_hand.gradient(x[batch], t[batch])
            optimizer.update(by_hand.params, grads)
            losses.append(by_hand.last_loss)
    assert history.train_loss == losses
    for key in trained.params:
        np.testing.assert_array_equal(trained.params[key], by_hand.params[key])


def test_a_foreign_optimizer_gets_the_params_dict_key_by_key():
    seen = []

    class Recorder:
        def update(self, params, grads):
            seen.append((sorted(params), sorted(grads)))

    x, t, xt, tt = _data()
    Trainer(MultiLayerNet(4, [5], 3), Recorder(), x, t, xt, tt, epochs=1, batch_size=60).train()
    assert seen == [(["W1", "W2", "b1", "b2"], ["W1", "W2", "b1", "b2"])] * 2


def _teacher_data(rng):
    """Four classes set by a random linear teacher: learnable, but not at any learning rate."""
    teacher = rng.normal(size=(10, 4))
    x = rng.normal(size=(800, 10))
    t = (x @ teacher).argmax(axis=1)
    return x[:600], t[:600], x[600:], t[600:]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("optimizer", [SGD(lr=10.0), Adam(lr=1000.0)],
                         ids=["SGD lr 10", "Adam lr 1000"])
def test_accuracy_fallen_to_chance_after_a_finite_blow_up_ends_with_a_warning(optimizer):
    x, t, xt, tt = _teacher_data(np.random.default_rng(5))
    net = MultiLayerNet(10, [32, 32], 4, seed=0)
    trainer = Trainer(net, optimizer, x, t, xt, tt, epochs=6, batch_size=50, seed=0)
    with pytest.warns(TrainingCollapsed, match=r"learning rate \(\w+ lr [\d.e+]+\) is likely "
                                               r"too high") as caught:
        history = trainer.train()
    assert all(np.isfinite(history.train_loss))
    chance = np.bincount(t).max() / len(t)
    assert history.train_acc[-1] <= chance + 0.05
    assert history.warnings == [str(caught[0].message)]
    assert f"{chance:.3f} for always guessing the most common class" in history.warnings[0]


def _blob_data(rng):
    """Ten classes around random centres in [0, 1]^64, pixels clipped as images are."""
    centres, t = rng.random((10, 64)), rng.integers(0, 10, 1200)
    x = np.clip(centres[t] + 0.3 * rng.normal(size=(1200, 64)), 0, 1)
    return x[:1000], t[:1000], x[1000:], t[1000:]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_a_loss_ten_thousand_times_its_start_is_flagged_though_accuracy_stays_above_chance():
    # SGD lr 10 for two steps, then lr 0.1: the loss reaches 1.9e4 (10^4 times its start) and
    # the network recovers to 0.40 against 0.295 for always guessing; the old rule (blow-up
    # and chance) said nothing
    x, t, xt, tt = _teacher_data(np.random.default_rng(5))
    net = MultiLayerNet(10, [32, 32], 4, seed=0)
    trainer = Trainer(net, SGD(lr=10.0), x, t, xt, tt, epochs=6, batch_size=50, seed=0,
                      lr_schedule=lambda i: 10.0 if i < 2 else 0.1)
    with pytest.warns(TrainingCollapsed) as caught:
        history = trainer.train()
    assert history.train_acc[-1] > np.bincount(t).max() / len(t) + 0.05
    assert max(history.train_loss) > 1e4 * history.train_loss[0]
    assert history.warnings == [str(caught[0].message)]
    assert history.warnings[0].startswith(
        "the loss blew up though it stayed finite: the loss rose from 1.8 to 1.92e+04 at "
        "iteration 2, 1.07e+04 times its start (train accuracy 0.397 at the end), so the "
        "learning rate (SGD lr 10) is likely too high")


def test_a_loss_that_tripled_before_accuracy_fell_to_chance_is_flagged():
    # SGD lr 3 on ten classes: the loss rises from 2.6 to 8 (3 times), every ReLU dies and the
    # network ends at chance; the old rule wanted 10 times
    x, t, xt, tt = _blob_data(np.random.default_rng(1))
    net = MultiLayerNet(64, [32, 32], 10, seed=0)
    trainer = Trainer(net, SGD(lr=3.0), x, t, xt, tt, epochs=6, batch_size=50, seed=0)
    with pytest.warns(TrainingCollapsed, match=r"^training ended at chance: .* the loss rose "
                                               r"from 2.62 to 7.96 at iteration \d+, 3.03 times"):
        trainer.train()


@pytest.mark.slow
def test_the_books_std_001_deep_network_stuck_at_chance_with_a_flat_loss_is_not_flagged():
    # the book's figure 6-14 setting: five sigmoid layers of 100 at std 0.01 do not learn
    # (vanishing gradients), but nothing blew up
    x, t, xt, tt = _blob_data(np.random.default_rng(1))
    net = MultiLayerNet(64, [100] * 5, 10, activation="sigmoid", weight_init=0.01, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingCollapsed)
        history = Trainer(net, SGD(lr=0.01), x, t, xt, tt, epochs=6, batch_size=50,
                          seed=0).train()
    assert history.train_acc[-1] <= np.bincount(t).max() / len(t) + 0.05
    assert history.warnings == []


def test_a_run_that_learns_records_no_warning():
    x, t, xt, tt = _teacher_data(np.random.default_rng(5))
    net = MultiLayerNet(10, [32, 32], 4, seed=0)
    history = Trainer(net, SGD(lr=0.1), x, t, xt, tt, epochs=6, batch_size=50, seed=0).train()
    assert history.train_acc[-1] > 0.8 and history.warnings == []


@pytest.mark.parametrize("returned", ["fast", "0.1", None, float("nan"), -0.1])
def test_an_lr_schedule_returning_no_positive_number_is_refused_naming_what_it_returned(
        returned):
    x, t, xt, tt = _data()
    trainer = Trainer(MultiLayerNet(4, [5], 3), SGD(lr=0.1), x, t, xt, tt, epochs=1,
                      batch_size=60, lr_schedule=lambda iteration: returned)
    with pytest.raises(ValueError) as info:
        trainer.train()
    assert str(info.value).startswith(
        f"lr_schedule(0) returned {returned!r} ({type(returned).__name__}); a schedule returns "
        "the learning rate as a positive finite number")


# -- the time a run would take, estimated from its first updates --------------------------------


def test_an_absurd_iteration_count_is_refused_after_its_first_updates_with_an_estimate():
    x, t, xt, tt = _data()
    trainer = Trainer(MultiLayerNet(4, [5], 3), SGD(lr=0.1), x, t, xt, tt, epochs=10**30,
                      batch_size=10, max_iter=10**30, time_limit=3600)
    with pytest.raises(TrainingTooLong) as info:
        trainer.train()
    assert len(trainer.history.train_loss) < 10**4  # refused early, not after an hour
    message = str(info.value)
    assert message.startswith("this training would take about ")
    assert " years: 1e+30 updates at " in message and "more than the limit of 1 h" in message
    assert "or let it run anyway with dlfs run --force (DLFS_TIME_LIMIT=0" in message
    assert info.value.text("ko").startswith("이 훈련은 약 ")


@pytest.mark.slow
def test_the_time_limit_comes_from_dlfs_time_limit_and_0_lifts_it(monkeypatch):
    x, t, xt, tt = _data()

    def train():
        return Trainer(MultiLayerNet(4, [5], 3), SGD(lr=0.1), x, t, xt, tt, epochs=200,
                       batch_size=10, seed=0).train()

    monkeypatch.setenv("DLFS_TIME_LIMIT", "0.01")  # 2 400 updates take longer than 10 ms
    with pytest.raises(TrainingTooLong, match="more than the limit of 0.01 s"):
        train()
    monkeypatch.setenv("DLFS_TIME_LIMIT", "0")
    assert len(train().train_loss) == 200 * 12


def test_time_limit_lifted_sets_the_variable_for_the_block_and_restores_it(monkeypatch):
    from dlfs.train import time_limit_from_env, time_limit_lifted

    monkeypatch.setenv("DLFS_TIME_LIMIT", "120")
    with time_limit_lifted(True):
        assert time_limit_from_env() is None
    assert time_limit_from_env() == 120.0
    with time_limit_lifted(False):
        assert time_limit_from_env() == 120.0
    monkeypatch.delenv("DLFS_TIME_LIMIT")
    with time_limit_lifted(True):
        assert time_limit_from_env() is None
    assert time_limit_from_env() == 3600.0


def test_dlfs_run_refuses_iters_num_10_to_the_30_in_one_line_naming_force(tmp_path, capsys):
    from dlfs.cli import main

    rng = np.random.default_rng(0)
    own = tmp_path / "own.npz"
    np.savez(own, x_train=rng.random((200, 8)), t_train=np.arange(200) % 2,
             x_test=rng.random((50, 8)), t_test=np.arange(50) % 2)
    assert main(["run", "two-layer-net", "--quick", "--dataset", str(own), "--set",
                 f"iters_num={10**30}", "--set", "train_samples=200", "--set", "test_samples=50",
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()  # (the samples set: no notice that defaults shrank)
    assert len(err.splitlines()) == 1 and "1e+30 updates at" in err and "--force" in err


def test_progress_bars_say_their_units_in_the_commands_language(monkeypatch):
    from dlfs._progress import progress_bar

    for lang, unit, desc in (("en", "it", "gradient check"), ("ko", "회", "기울기 확인")):
        monkeypatch.setenv("DLFS_LANG", lang)
        shown = io.StringIO()
        bar = progress_bar(10, True, unit="it", desc="gradient check", file=shown)
        bar.update(3)
        bar.refresh()
        assert (bar.unit, bar.desc) == (unit, desc) and f"{desc}:" in shown.getvalue()
        bar.close()
    monkeypatch.delenv("DLFS_LANG")
    monkeypatch.setenv("LC_ALL", "ko_KR.UTF-8")
    bar = progress_bar(10, True, unit="trial", file=io.StringIO())
    assert bar.unit == "시행"
    bar.close()


def test_dlfs_sets_dlfs_lang_for_its_command_and_restores_it(monkeypatch, capsys):
    import os

    from dlfs.cli import _lang_for_progress_bars, main

    monkeypatch.setenv("DLFS_LANG", "en")
    with _lang_for_progress_bars("ko"):
        assert os.environ["DLFS_LANG"] == "ko"
    assert os.environ["DLFS_LANG"] == "en"
    monkeypatch.delenv("DLFS_LANG")
    assert main(["--lang", "ko", "list"]) == 0
    assert "DLFS_LANG" not in os.environ
