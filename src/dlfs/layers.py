"""Layers with forward and backward side by side (book 5.5, 5.6, 6.3 and 6.4).

Every layer has ``forward(x, train_flg=True)`` and ``backward(dout)``; ``forward`` caches what
``backward`` needs, and ``backward`` returns ∂L/∂x. Parameter layers hold references to arrays
they share with the network's ``params`` and write their gradients into ``dW``/``db`` (or
``dgamma``/``dbeta``) in place, so an optimizer updating ``params`` updates the layer too.
No layer writes into its arguments.
"""

from __future__ import annotations

import numpy as np

from dlfs import _checks
from dlfs.functions import sigmoid


class Affine:
    """Fully connected layer (book 5.6.2): out = x·W + b.

    x: (N, D) or (N, d1, d2, …) flattened to (N, D) -> out: (N, M); W: (D, M), b: (M,).
    backward: dW = xᵀ·dout, db = Σₙ dout, dx = dout·Wᵀ reshaped to x's original shape.
    ``need_dx=False`` skips dx (the network's first layer: nobody uses ∂L/∂input).
    """

    def __init__(self, W, b, dW=None, db=None, need_dx: bool = True):
        self.W, self.b = W, b
        self.dW = np.zeros_like(W) if dW is None else dW
        self.db = np.zeros_like(b) if db is None else db
        self.need_dx = need_dx
        self.x = None
        self.original_x_shape = None

    def forward(self, x, train_flg=True):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        out = self.x @ self.W
        out += self.b
        return out

    def backward(self, dout):
        np.matmul(self.x.T, dout, out=self.dW)
        np.sum(dout, axis=0, out=self.db)
        if not self.need_dx:
            return None
        return (dout @ self.W.T).reshape(self.original_x_shape)


class Relu:
    """ReLU (book 5.5.1): out = max(0, x); dx = dout where x > 0, else 0."""

    def __init__(self):
        self.mask = None

    def forward(self, x, train_flg=True):
        # Test mode (an evaluation) keeps no mask: backward follows a training forward only.
        self.mask = x > 0 if train_flg else None
        return np.maximum(x, 0)

    def backward(self, dout):
        if self.mask is None:
            raise RuntimeError("Relu.backward needs a forward in training mode first "
                               "(forward(x, train_flg=True)); a test-mode forward keeps no mask")
        # The book writes dout[mask] = 0 into the caller's array; we return a new one.
        return dout * self.mask


class Sigmoid:
    """Sigmoid (book 5.5.2): out = 1/(1 + e⁻ˣ); dx = dout·out·(1 − out)."""

    def __init__(self):
        self.out = None

    def forward(self, x, train_flg=True):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class Tanh:
    """tanh: out = tanh(x); dx = dout·(1 − out²)."""

    def __init__(self):
        self.out = None

    def forward(self, x, train_flg=True):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out * self.out)


ACTIVATION_LAYERS = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}


class BatchNormalization:
    """Batch normalisation (book 6.3; Ioffe & Szegedy 2015).

    Training, over the batch axis:
        μ = mean(x),  σ² = mean((x − μ)²)  (biased),  x̂ = (x − μ)/√(σ² + ε),  out = γ·x̂ + β
        running_mean ← m·running_mean + (1 − m)·μ
        running_var  ← m·running_var  + (1 − m)·σ²   (σ²·N/(N−1) with unbiased_running_var)
    Test: x̂ = (x − running_mean)/√(running_var + ε).

    x: (N, D) or (N, C, H, W) flattened to (N, C·H·W), so the statistics are per activation
    (like torch's BatchNorm1d on the flattened input, not per channel like BatchNorm2d).

    Conventions and how they map to PyTorch's BatchNorm1d:
      - momentum m is the weight *kept* (book 0.9); torch's momentum is the weight of the *new*
        value (0.1), so book m ↔ torch 1 − m, and the defaults coincide.
      - ε: the book writes 10e-7, which is 1e-6 (our default); torch uses 1e-5.
      - torch stores the unbiased variance in running_var; pass unbiased_running_var=True.
      - The book starts running_var at 0; we start it at 1, as torch and Keras do. With m = 0.9
        and a steady batch variance σ², after n updates the book's running_var is
        (1 − 0.9ⁿ)·σ² and ours 0.9ⁿ + (1 − 0.9ⁿ)·σ², so running_var − σ² = 0.9ⁿ·(start − σ²)
        in both. The book's approaches σ² from below and scales its test-mode x̂ up by
        1/√(1 − 0.9ⁿ): 3.2× after 1 update, 1.24× after 10, 1.02× after 30, 1.003× after 50
        (0.9⁵⁰ ≈ 0.5 %). Only evaluations in the first few dozen updates see the difference.
        running_mean starts at 0 in both (and in torch).
    With eps=1e-5 and unbiased_running_var=True both modes match torch.
    """

    def __init__(
        self,
        gamma,
        beta,
        momentum: float = 0.9,
        eps: float = 1e-6,
        running_mean=None,
        running_var=None,
        dgamma=None,
        dbeta=None,
        unbiased_running_var: bool = False,
    ):
        self.gamma, self.beta = gamma, beta
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)
        self.eps = _checks.positive_float("eps", eps)
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.dgamma = np.zeros_like(gamma) if dgamma is None else dgamma
        self.dbeta = np.zeros_like(beta) if dbeta is None else dbeta
        self.unbiased_running_var = unbiased_running_var
        self.input_shape = None
        self.xc = self.std = self.xn = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if train_flg:
            n = x.shape[0]
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc * xc, axis=0)
            std = np.sqrt(var + self.eps)
            self.xc, self.std = xc, std
            self.xn = xc / std
            stored_var = var * (n / (n - 1)) if self.unbiased_running_var and n > 1 else var
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mu
            self.running_var *= m
            self.running_var += (1 - m) * stored_var
            xn = self.xn
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return (self.gamma * xn + self.beta).reshape(self.input_shape)

    def backward(self, dout):
        dout = dout.reshape(dout.shape[0], -1)
        n = dout.shape[0]
        np.sum(dout, axis=0, out=self.dbeta)
        np.sum(self.xn * dout, axis=0, out=self.dgamma)
        # The book's step-by-step chain (dxn → dxc → dstd → dvar → dμ), collapsed:
        # dx = (γ/std)·(dout − mean(dout) − x̂·mean(dout·x̂))
        dx = (self.gamma / self.std) * (dout - self.dbeta / n - self.xn * (self.dgamma / n))
        return dx.reshape(self.input_shape)


class Dropout:
    """Inverted dropout (Srivastava et al. 2014; torch.nn.Dropout): train ≠ test only in training.

    Training: mask ~ Bernoulli(1 − p) per element, out = x·mask/(1 − p); dx = dout·mask/(1 − p).
    Test: out = x.
    p: dropout_ratio in [0, 1). A new mask is drawn from ``rng`` on every training forward, unless
    ``frozen`` is set (gradient checks need one fixed mask).

    The book's Dropout (``BookDropout``) does not rescale in training and multiplies by (1 − p)
    at test instead; the expected activations agree, the training-time magnitudes differ by
    1/(1 − p).
    """

    def __init__(self, dropout_ratio: float = 0.5, rng=None):
        self.dropout_ratio = _checks.in_range("dropout_ratio", dropout_ratio, 0.0, 1.0,
                                              high_open=True)
        self.rng = _checks.as_generator(rng, "rng")
        self.mask = None
        self.frozen = False

    def _draw_mask(self, x):
        if self.frozen and self.mask is not None and self.mask.shape == x.shape:
            return self.mask
        keep = self.rng.random(x.shape) >= self.dropout_ratio
        self.mask = keep.astype(x.dtype) * x.dtype.type(self._train_scale())
        return self.mask

    def _train_scale(self):
        return 1.0 / (1.0 - self.dropout_ratio)

    def forward(self, x, train_flg=True):
        if train_flg:
            return x * self._draw_mask(x)
        return x

    def backward(self, dout):
        return dout * self.mask


class BookDropout(Dropout):
    """The book's dropout (book 6.4.3): out = x·mask in training, x·(1 − p) at test."""

    def _train_scale(self):
        return 1.0

    def forward(self, x, train_flg=True):
        if train_flg:
            return x * self._draw_mask(x)
        return x * x.dtype.type(1.0 - self.dropout_ratio)


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy loss (book 5.6.3).

    forward(x, t): x (N, C) scores, t class indices (N,) or target rows (N, C) -> mean loss.
    A target row is one-hot or a soft target (finite, non-negative, summing to 1), for which
    both the loss −Σₖ tₖ log yₖ and the gradient y − t hold; any other row (all zeros, two
    ones, NaN) is refused with a ValueError naming it.
    backward(dout=1): dx = dout·(y − t)/N, with y = softmax(x) and t as one-hot rows.
    The loss is computed from log-softmax, so it is exact and never takes log(0).
    """

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        # log yₖ = sₖ − log Σ exp(s), s = x − max x: one exp serves both y and the loss.
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        self.y = e / total
        n = x.shape[0]
        if t.ndim == 2:
            t = _checks.target_rows("t", t, x.dtype)
        self.t = t
        if t.ndim == 2:
            return float(-np.sum(t * (shifted - np.log(total))) / n)
        picked = shifted[np.arange(n), t]
        return float(-(np.sum(picked) - np.sum(np.log(total))) / n)

    def backward(self, dout=1):
        n = self.y.shape[0]
        if self.t.ndim == 2:
            dx = self.y - self.t
        else:
            dx = self.y.copy()
            dx[np.arange(n), self.t] -= 1
        dx *= dout / n
        return dx
