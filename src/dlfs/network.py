"""One configurable fully connected network (book 4.5, 5.7, 6.1–6.4) and the chapter-4 TwoLayerNet.

The book has ``MultiLayerNet`` and ``MultiLayerNetExtend`` (batch norm and dropout), nearly
identical; here one class covers both. Layers, in order, for each hidden layer k:

    Affine{k} → [BatchNorm{k}] → Activation{k} → [Dropout{k}]

then the output Affine and SoftmaxWithLoss. ``params`` holds W1, b1, gamma1, beta1, …, W{L}, b{L},
arrays shared with the layers, and ``gradient`` returns a dict of arrays the layers write into;
both are made once, so a training step allocates no parameter-sized array that outlives it, and
every update must be in place: ``params[key] -= …``, never ``params[key] = …``.

Training is the book's two lines, and nothing else:

    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

Input checks come in two sizes. ``check_data(x, t)`` does the O(N) ones (every value finite,
every label in range) once per data set; the Trainer calls it once. Every other method checks
only what is cheap on each call (shapes, dtypes, the batch's labels, and whether one column
of the first Affine's output is finite, which traces a NaN or inf back to ``x``, see
``predict``): about 4 µs, 0.5–2 % of a step, so ``net.gradient(bad_batch)`` still answers with
a sentence naming the argument.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence

import numpy as np

from dlfs import _checks
from dlfs._said import SaidValueError
from dlfs.init import weight_scale
from dlfs.io import size_text
from dlfs.layers import (
    ACTIVATION_LAYERS,
    Affine,
    BatchNormalization,
    Dropout,
    SoftmaxWithLoss,
)


def param_key(name: str, index: int) -> str:
    """The book's parameter names: param_key('W', 1) == 'W1'."""
    return f"{name}{index}"


def available_memory() -> int | None:
    """Bytes this process can still claim: the kernel's MemAvailable (Linux), else the
    physical memory, lowered to the address-space limit (ulimit -v) where one is set; None
    where neither can be read."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            pass
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit != resource.RLIM_INFINITY:
            found = limit if found is None else min(found, limit)
    except (ImportError, OSError, ValueError):
        pass
    return found


def _check_fits(name: str, sizes: list[int], shapes: dict, dtype: np.dtype) -> None:
    """Raises ValueError with the network's size when its parameters, their gradients and the
    float64 draw of its largest weight matrix would not fit in the memory available, before
    numpy is asked for any of it (hidden_size=10**9 would otherwise end in numpy's
    MemoryError)."""
    values = sum(math.prod(shape) for shape in shapes.values())
    largest = max(math.prod(shape) for shape in shapes.values())
    needed = 2 * values * dtype.itemsize + 8 * largest
    available = available_memory()
    if available is not None and needed > available:
        raise SaidValueError(
            key="bounds.network_too_large", name=name, sizes="-".join(map(str, sizes)),
            needed=size_text(needed), values=values, dtype=dtype.name,
            available=size_text(available))


class MultiLayerNet:
    """Fully connected network with optional batch norm, dropout and L2 weight decay.

    Args:
        input_size: features per sample (784 for MNIST).
        hidden_sizes: widths of the hidden layers, e.g. [100] * 4; may be empty.
        output_size: number of classes.
        activation: 'relu', 'sigmoid' or 'tanh'.
        weight_init: σ as a number, or 'he'/'relu', 'xavier'/'sigmoid', 'glorot' (dlfs.init).
        weight_decay_lambda: λ ≥ 0 of the L2 term ½λΣ‖W‖² added to the loss (all W, output
            layer included, no biases), whose gradient λW backprop adds to each dW.
        use_batchnorm: insert BatchNormalization after each hidden Affine.
        dropout_ratio: p in [0, 1); 0 means no Dropout layers (inverted dropout, dlfs.layers).
        dtype: float32 (default, training) or float64 (gradient checks).
        seed: int or numpy Generator for the weights and the dropout masks.
        batchnorm_momentum: kept weight of the running statistics (dlfs.layers).
        batchnorm_eps: ε of batch norm (dlfs.layers.BatchNormalization).
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init="relu",
        weight_decay_lambda: float = 0.0,
        use_batchnorm: bool = False,
        dropout_ratio: float = 0.0,
        dtype=np.float32,
        seed=0,
        batchnorm_momentum: float = 0.9,
        batchnorm_eps: float = 1e-6,
    ):
        self.input_size = _checks.positive_int("input_size", input_size)
        self.output_size = _checks.positive_int("output_size", output_size)
        if isinstance(hidden_sizes, (int, np.integer)):
            hidden_sizes = [hidden_sizes]
        self.hidden_sizes = [
            _checks.positive_int(f"hidden_sizes[{i}]", size) for i, size in enumerate(hidden_sizes)
        ]
        if activation not in ACTIVATION_LAYERS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATION_LAYERS)}, got {activation!r}"
            )
        self.activation = activation
        self.weight_init = weight_init
        if weight_decay_lambda != 0:
            _checks.positive_float("weight_decay_lambda", weight_decay_lambda)
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.use_batchnorm = bool(use_batchnorm)
        self.dropout_ratio = _checks.in_range("dropout_ratio", dropout_ratio, 0.0, 1.0,
                                              high_open=True)
        self.dtype = _checks.float_dtype("dtype", dtype)
        rng = _checks.as_generator(seed)

        sizes = [self.input_size, *self.hidden_sizes, self.output_size]
        self.n_layers = len(sizes) - 1
        shapes: dict[str, tuple[int, ...]] = {}
        for k in range(1, self.n_layers + 1):
            shapes[param_key("W", k)] = (sizes[k - 1], sizes[k])
            shapes[param_key("b", k)] = (sizes[k],)
            if self.use_batchnorm and k < self.n_layers:
                shapes[param_key("gamma", k)] = (sizes[k],)
                shapes[param_key("beta", k)] = (sizes[k],)
        _check_fits(type(self).__name__, sizes, shapes, self.dtype)
        self.params = {key: np.zeros(shape, self.dtype) for key, shape in shapes.items()}
        # What gradient() returns: filled in place by the layers' backward on every call.
        self.grads = {key: np.zeros(shape, self.dtype) for key, shape in shapes.items()}
        # Scales are resolved before any draw so a bad weight_init fails with nothing half-built.
        scales = [weight_scale(weight_init, sizes[k - 1], sizes[k]) for k in range(1, len(sizes))]
        for k, scale in enumerate(scales, start=1):
            # Drawn in float64 and rounded, so float32 and float64 nets start at the same point.
            self.params[param_key("W", k)][...] = scale * rng.standard_normal(
                (sizes[k - 1], sizes[k]))
            if self.use_batchnorm and k < self.n_layers:
                self.params[param_key("gamma", k)][...] = 1

        self.buffers: dict[str, np.ndarray] = {}
        self.layers: list = []
        dropout_rngs = rng.spawn(self.n_layers)
        p, g = self.params, self.grads
        for k in range(1, self.n_layers + 1):
            W, b = param_key("W", k), param_key("b", k)
            self.layers.append(Affine(p[W], p[b], g[W], g[b], need_dx=k > 1))
            if k == self.n_layers:
                break
            if self.use_batchnorm:
                gamma, beta = param_key("gamma", k), param_key("beta", k)
                bn = BatchNormalization(
                    p[gamma], p[beta], momentum=batchnorm_momentum, eps=batchnorm_eps,
                    dgamma=g[gamma], dbeta=g[beta],
                )
                self.buffers[param_key("running_mean", k)] = bn.running_mean
                self.buffers[param_key("running_var", k)] = bn.running_var
                self.layers.append(bn)
            self.layers.append(ACTIVATION_LAYERS[activation]())
            if self.dropout_ratio > 0:
                self.layers.append(Dropout(self.dropout_ratio, dropout_rngs[k - 1]))
        self.last_layer = SoftmaxWithLoss()
        self.last_loss = None

    # -- inputs -------------------------------------------------------------------------------
    def check_data(self, x, t):
        """A whole data set checked once and returned as the network computes on it.

        x: (N, input_size), or images (N, 1, 28, 28) that are flattened, of any real dtype
            -> (N, input_size) array of the network's dtype; every value must be finite.
        t: class indices (N,) or one-hot rows (N, output_size) -> int class indices (N,),
            each in 0..output_size − 1.
        Raises ValueError naming the argument, the value and what would work. The checks
        cost O(N) (about 25 µs per 100 000 values): the Trainer runs them once per data set,
        so that each step needs only the cheap ones that ``gradient`` makes anyway.
        """
        x = _checks.features("x", x, self.input_size, self.dtype)
        _checks.finite("x", x)
        return x, _checks.labels("t", t, x.shape[0], self.output_size)

    def _features(self, x, *, empty: bool = False) -> np.ndarray:
        """``x`` as (N, input_size) of the network's dtype (_checks.features), with our words
        for rows of different lengths and, unless ``empty``, for no rows at all."""
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except ValueError:  # numpy: "inhomogeneous shape"
                lengths = sorted({len(row) for row in x if hasattr(row, "__len__")})
                raise ValueError(
                    "x must be a table of samples with the same number of values each (shape "
                    f"(N, {self.input_size})), got rows of lengths "
                    f"{', '.join(map(str, lengths[:5]))}") from None
        x = _checks.features("x", x, self.input_size, self.dtype)
        if not empty and x.shape[0] == 0:
            raise ValueError(f"x holds no samples (shape {x.shape}); give at least one row of "
                             f"{self.input_size} values")
        return x

    def _weights(self):
        return (self.params[param_key("W", k)] for k in range(1, self.n_layers + 1))

    # -- forward ------------------------------------------------------------------------------
    def predict(self, x, train_flg: bool = False):
        """Class scores (before softmax): x (N, input_size) -> (N, output_size).

        A NaN or inf in ``x`` raises ValueError, before any batch-norm statistics move. The
        check costs N values, not N·input_size: a NaN or ±inf in row n of x makes every
        element of row n of x·W1 + b1 NaN or ±inf (while W1 is finite: x·0 is NaN for
        x = ±inf, and inf − inf is NaN), so one column of the first Affine's output tells.
        """
        x = self._features(x)
        with np.errstate(invalid="ignore"):  # the NaNs of a bad x are reported just below
            out = self.layers[0].forward(x, train_flg)
            out_is_finite = np.isfinite(out[:, 0].sum())
        if not out_is_finite:
            _checks.finite("x", x)
        for layer in self.layers[1:]:
            out = layer.forward(out, train_flg)
        return out

    def loss(self, x, t, train_flg: bool = False) -> float:
        """Mean cross-entropy plus ½λΣ‖W‖². The book's default train_flg=False evaluates in test
        mode (no dropout, batch-norm running statistics)."""
        x = self._features(x)
        labels = _checks.labels("t", t, x.shape[0], self.output_size)
        loss = self.last_layer.forward(self.predict(x, train_flg), labels)
        if self.weight_decay_lambda:
            loss += 0.5 * self.weight_decay_lambda * sum(
                float(np.dot(W.ravel(), W.ravel())) for W in self._weights())
        return float(loss)

    def accuracy(self, x, t, batch_size: int = 1000) -> float:
        """Fraction of samples whose highest score is the label, in test mode, ``batch_size``
        samples at a time so that 60 000 samples never need one (60 000, 100) activation."""
        batch_size = _checks.positive_int("batch_size", batch_size)
        x = _checks.features("x", x, self.input_size, self.dtype)
        labels = _checks.labels("t", t, x.shape[0], self.output_size)
        if x.shape[0] == 0:
            raise ValueError("x must hold at least one sample to measure accuracy")
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            scores = self.predict(x[start:start + batch_size], train_flg=False)
            correct += int(np.count_nonzero(scores.argmax(axis=1) ==
                                            labels[start:start + batch_size]))
        return correct / x.shape[0]

    # -- backward -----------------------------------------------------------------------------
    def loss_and_gradient(self, x, t) -> tuple[float, dict[str, np.ndarray]]:
        """The training-mode loss and ∂L/∂param for every key of ``params``, from one forward
        and one backward pass (book 5.7): ``gradient`` with the loss it computed on the way.

        The arrays returned belong to the network and are overwritten by the next call; copy
        them to keep them.
        """
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        if self.weight_decay_lambda:
            for k in range(1, self.n_layers + 1):
                key = param_key("W", k)
                self.grads[key] += self.weight_decay_lambda * self.params[key]
        return self.last_loss, self.grads

    def gradient(self, x, t) -> dict[str, np.ndarray]:
        """∂L/∂param for every key of ``params`` by backprop, in training mode (book 5.7).

        The arrays returned belong to the network and are overwritten by the next call; copy
        them to keep them. The loss of the same forward pass is left in ``last_loss``.
        """
        return self.loss_and_gradient(x, t)[1]

    def numerical_gradient(self, x, t, h: float = 1e-4) -> dict[str, np.ndarray]:
        """∂L/∂param by central differences on the training-mode loss (slow: 2 losses per
        parameter element; for gradient checks on a few samples, in float64)."""
        from dlfs.gradient import numerical_gradient

        x, labels = self.check_data(x, t)

        def loss_of(_):
            return self.loss(x, labels, train_flg=True)

        return {key: numerical_gradient(loss_of, value, h) for key, value in self.params.items()}

    @contextlib.contextmanager
    def gradient_check_mode(self):
        """Holds each dropout mask fixed and restores the batch-norm running statistics on exit,
        so repeated loss evaluations see one function and leave the network as it was."""
        saved = {key: value.copy() for key, value in self.buffers.items()}
        dropouts = [layer for layer in self.layers if isinstance(layer, Dropout)]
        for layer in dropouts:
            layer.frozen = True
        try:
            yield self
        finally:
            for layer in dropouts:
                layer.frozen = False
            for key, value in saved.items():
                self.buffers[key][...] = value

    def __repr__(self):
        sizes = [self.input_size, *self.hidden_sizes, self.output_size]
        extras = []
        if self.use_batchnorm:
            extras.append("batchnorm")
        if self.dropout_ratio:
            extras.append(f"dropout={self.dropout_ratio}")
        if self.weight_decay_lambda:
            extras.append(f"weight_decay_lambda={self.weight_decay_lambda}")
        extra = ", " + ", ".join(extras) if extras else ""
        return (f"{type(self).__name__}({'-'.join(map(str, sizes))}, {self.activation}, "
                f"weight_init={self.weight_init!r}{extra}, dtype={self.dtype.name})")


class TwoLayerNet(MultiLayerNet):
    """The chapter-4 network (book 4.5.1): Affine → Sigmoid → Affine → SoftmaxWithLoss.

    W ~ weight_init_std·N(0, 1), b = 0. Same keys (W1, b1, W2, b2) and methods as MultiLayerNet.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        dtype=np.float32,
        seed=0,
    ):
        super().__init__(
            input_size, [hidden_size], output_size, activation="sigmoid",
            weight_init=weight_init_std, dtype=dtype, seed=seed,
        )
