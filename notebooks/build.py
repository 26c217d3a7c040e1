"""Writes the chapter notebooks, English and Korean, from one source: python notebooks/build.py

Each notebook section is (English text, Korean text, code); the code is shared, so the two
languages can never drift apart. Notebooks are written without outputs. Set DLFS_QUICK=1 to run
them with small settings (CI does).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from dlfs.catalogue import both

HERE = Path(__file__).resolve().parent

SETUP = '''import os

import matplotlib.pyplot as plt
import numpy as np

import dlfs

QUICK = os.environ.get("DLFS_QUICK") == "1"  # small settings, for CI
rng = np.random.default_rng(0)
print("dlfs", dlfs.__version__, "| quick mode" if QUICK else "")'''

KOREAN_FONT = '''from dlfs.experiments.figures import korean_font

if korean_font():  # Hangul labels need a CJK font (fonts-noto-cjk or fonts-nanum)
    plt.rcParams["font.family"] = [korean_font(), "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False'''

LOAD_DATA = '''from dlfs.data import DatasetError, load_dataset

try:
    (x_train, t_train), (x_test, t_test) = load_dataset("mnist", progress=False)
    dataset = "MNIST"
except DatasetError:  # offline: Debian's dataset-fashion-mnist package
    (x_train, t_train), (x_test, t_test) = load_dataset("fashion-mnist", progress=False)
    dataset = "Fashion-MNIST"
print(dataset, x_train.shape, t_train.shape, x_test.shape)'''


def md(en: str, ko: str):
    return ("md", {"en": en, "ko": ko})


def code(source: str, **labels: dict[str, str]):
    """A code cell. ``{{name}}`` in ``source`` becomes labels[name][lang]: the code is one, only
    its labels are translated, and they come from dlfs's catalogue (both(key) -> {lang: text})."""
    texts = {}
    for lang in ("en", "ko"):
        text = source
        for name, label in labels.items():
            text = text.replace("{{" + name + "}}", label[lang])
        texts[lang] = text
    return ("code", texts)


CH04 = [
    md("# Chapter 4: learning from data\n\nLosses, numerical differentiation, gradients, "
       "gradient descent and a two-layer network that learns — every function from `dlfs`, "
       "the library this notebook sits in. Run the cells top to bottom; each section ends with "
       "an exercise to change and rerun.",
       "# 4장: 신경망 학습\n\n손실 함수, 수치 미분, 기울기, 경사 하강법, 그리고 실제로 학습하는 "
       "2층 신경망. 모든 함수는 `dlfs` 라이브러리에서 가져온다. 위에서부터 차례로 실행하고, "
       "각 절 끝의 연습 문제에서 값을 바꿔 다시 실행해 보자."),
    code(SETUP),
    md("## 4.2 Loss functions\n\nThe book's \"mean squared error\" is half a sum, "
       "$E = \\frac{1}{2}\\sum_k (y_k - t_k)^2$; cross-entropy is "
       "$E = -\\sum_k t_k \\log y_k$. With label 2, a network that gives class 2 a probability "
       "of 0.6 has a smaller loss than one that prefers class 7.",
       "## 4.2 손실 함수\n\n책의 '평균 제곱 오차'는 사실 합의 절반이다: "
       "$E = \\frac{1}{2}\\sum_k (y_k - t_k)^2$. 교차 엔트로피 오차는 "
       "$E = -\\sum_k t_k \\log y_k$이다. 정답이 2일 때, 2에 0.6의 확률을 준 신경망이 7을 고른 "
       "신경망보다 손실이 작다."),
    code('''from dlfs.functions import cross_entropy_error, mean_squared_error

t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # one-hot: the answer is 2
y_right = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
y_wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
for name, y in [("right", y_right), ("wrong", y_wrong)]:
    print(name, "MSE", mean_squared_error(y, t), "CE", cross_entropy_error(y, t))
print("labels as indices work too:", cross_entropy_error(y_right, 2))'''),
    md("**Exercise.** Make `y_right` more confident (0.9 for class 2, the rest spread over "
       "the others). How do both losses change? What does cross-entropy do as $y_2 \\to 0$?",
       "**연습.** `y_right`를 더 확신하게 바꿔 보자(2에 0.9, 나머지는 다른 클래스에 나눠서). "
       "두 손실은 어떻게 변하는가? $y_2 \\to 0$이면 교차 엔트로피는 어떻게 되는가?"),
    md("## 4.3 Numerical differentiation\n\nThe central difference "
       "$f'(x) \\approx \\frac{f(x+h) - f(x-h)}{2h}$ with $h = 10^{-4}$: small enough for the "
       "truncation error ($\\propto h^2$), large enough for rounding error ($\\propto 1/h$).",
       "## 4.3 수치 미분\n\n중앙 차분 $f'(x) \\approx \\frac{f(x+h) - f(x-h)}{2h}$, "
       "$h = 10^{-4}$. 절단 오차($h^2$에 비례)를 줄일 만큼 작고, 반올림 오차($1/h$에 비례)를 "
       "피할 만큼 크다."),
    code('''from dlfs.gradient import numerical_diff


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


x = np.arange(0.0, 20.0, 0.1)
plt.plot(x, function_1(x), label="f(x)")
for at in (5.0, 10.0):
    slope = numerical_diff(function_1, at)
    print(f"f'({at}) = {slope!r} ({{exact}} {0.02 * at + 0.1})")
    plt.plot(x, slope * (x - at) + function_1(at), "--", label=f"{{tangent}}")
plt.xlabel("x")
plt.ylabel("f(x)")
plt.legend()
plt.show()''', exact=both("notebook.exact"), tangent=both("notebook.tangent", at="{at}")),
    md("**Exercise.** Call `numerical_diff(function_1, 5.0, h=1e-50)`. Why is the answer 0? "
       "Try `h=1e-2` and compare the error with $h = 10^{-4}$.",
       "**연습.** `numerical_diff(function_1, 5.0, h=1e-50)`를 호출해 보자. 왜 0이 나오는가? "
       "`h=1e-2`도 시도해 $h = 10^{-4}$일 때와 오차를 비교해 보자."),
    md("## 4.4 The gradient\n\n`numerical_gradient(f, x)` perturbs each element of `x` in turn. "
       "For $f(x_0, x_1) = x_0^2 + x_1^2$ the arrows of $-\\nabla f$ all point at the minimum.",
       "## 4.4 기울기\n\n`numerical_gradient(f, x)`는 `x`의 원소를 하나씩 흔든다. "
       "$f(x_0, x_1) = x_0^2 + x_1^2$에서 $-\\nabla f$의 화살표는 모두 최솟값을 가리킨다."),
    code('''from dlfs.gradient import numerical_gradient


def function_2(x):
    return np.sum(x**2)


print(numerical_gradient(function_2, np.array([3.0, 4.0])))
grid = np.arange(-2, 2.5, 0.25)
X, Y = np.meshgrid(grid, grid)
points = np.stack([X.ravel(), Y.ravel()], axis=1)
grads = np.array([numerical_gradient(function_2, p.copy()) for p in points])
plt.quiver(points[:, 0], points[:, 1], -grads[:, 0], -grads[:, 1], angles="xy", color="#666")
plt.gca().set_aspect("equal")
plt.show()'''),
    md("**Exercise.** Replace `function_2` by $x_0^2/20 + x_1^2$ (chapter 6's function). Where "
       "do the arrows point now?",
       "**연습.** `function_2`를 $x_0^2/20 + x_1^2$(6장의 함수)로 바꿔 보자. 화살표는 이제 어디를 "
       "가리키는가?"),
    md("## 4.4.1 Gradient descent\n\n$x \\leftarrow x - \\eta \\nabla f(x)$, here from "
       "$(-3, 4)$ with $\\eta = 0.1$ for 20 steps.",
       "## 4.4.1 경사 하강법\n\n$x \\leftarrow x - \\eta \\nabla f(x)$. $(-3, 4)$에서 "
       "$\\eta = 0.1$로 20단계."),
    code('''from dlfs.gradient import gradient_descent

lr = 0.1
path = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=20)
plt.plot(path[:, 0], path[:, 1], "o")
plt.axhline(0, ls="--")
plt.axvline(0, ls="--")
plt.show()
print("final point", path[-1])'''),
    md("**Exercise.** Set `lr = 10.0` and then `lr = 1e-10`. The book's point: too large "
       "diverges, too small never arrives.",
       "**연습.** `lr = 10.0`, 그리고 `lr = 1e-10`으로 바꿔 보자. 너무 크면 발산하고, 너무 "
       "작으면 도착하지 못한다는 것이 책의 요점이다."),
    md("## 4.5 A two-layer network that learns\n\n784-50-10 with sigmoid, mini-batches of 100, "
       "SGD with $\\eta = 0.1$. The gradient comes from backprop (`network.gradient`); the "
       "numerical gradient would take days (book 4.5). Offline, the data set is Fashion-MNIST.",
       "## 4.5 학습하는 2층 신경망\n\n784-50-10 시그모이드 신경망, 미니배치 100, "
       "$\\eta = 0.1$의 SGD. 기울기는 오차역전파(`network.gradient`)로 구한다. 수치 미분으로는 "
       "며칠이 걸린다(4.5절). 오프라인에서는 Fashion-MNIST를 쓴다."),
    code(LOAD_DATA),
    code('''from dlfs import Trainer, TwoLayerNet
from dlfs.optim import SGD

iters_num = 300 if QUICK else 10_000
n_train = 5_000 if QUICK else len(t_train)
net = TwoLayerNet(784, 50, 10, seed=0)
trainer = Trainer(net, SGD(lr=0.1), x_train[:n_train], t_train[:n_train], x_test, t_test,
                  epochs=-(-iters_num * 100 // n_train), batch_size=100, max_iter=iters_num,
                  seed=0)
history = trainer.train()
print(f"{dataset}: {{test_accuracy}} {history.test_acc[-1]:.3f}")''',
         test_accuracy=both("words.test_accuracy")),
    code('''fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(history.train_loss, linewidth=0.5)
left.set_xlabel("{{iteration}}")
left.set_ylabel("{{loss}}")
right.plot(history.train_acc, "o-", label="{{train}}")
right.plot(history.test_acc, "s--", label="{{test}}")
right.set_xlabel("{{epoch}}")
right.set_ylabel("{{accuracy}}")
right.legend()
plt.show()''', iteration=both("words.iteration"), loss=both("words.loss"),
         train=both("words.train"), test=both("words.test"), epoch=both("words.epoch"),
         accuracy=both("words.accuracy")),
    md("**Exercise.** Change the hidden layer to 10 or 200 units, or the learning rate to 0.01 "
       "or 1.0. Train and test accuracy stay close: this network does not overfit.",
       "**연습.** 은닉층을 10개나 200개로, 학습률을 0.01이나 1.0으로 바꿔 보자. 훈련과 시험 "
       "정확도가 가깝게 유지된다: 이 신경망은 오버피팅하지 않는다."),
    md("## Checking backprop\n\n`gradient_check` compares backprop with numerical gradients "
       "on a few samples, in float64; below $10^{-7}$ means the backward pass is right.",
       "## 오차역전파 확인\n\n`gradient_check`는 float64로 몇 개의 샘플에서 오차역전파와 수치 "
       "미분을 비교한다. $10^{-7}$ 미만이면 역전파가 맞다."),
    code('''from dlfs.gradient import gradient_check

small = TwoLayerNet(784, 10, 10, weight_init_std=0.1, dtype=np.float64, seed=1)
errors = gradient_check(small, x_train[:3].astype(np.float64), t_train[:3])
for key, error in errors.items():
    print(f"{key}: {error:.2e}")'''),
]

CH06 = [
    md("# Chapter 6: training techniques\n\nUpdate rules, weight initialisation, batch "
       "normalisation, overfitting and its remedies, and hyperparameter search, each from "
       "`dlfs`. Each section ends with an exercise.",
       "# 6장: 학습 관련 기술들\n\n매개변수 갱신 규칙, 가중치 초깃값, 배치 정규화, 오버피팅과 그 "
       "대책, 하이퍼파라미터 탐색. 모두 `dlfs`를 쓴다. 각 절 끝에 연습 문제가 있다."),
    code(SETUP),
    md("## 6.1 Update rules and their paths\n\nOn $f(x, y) = x^2/20 + y^2$ from $(-7, 2)$, 30 "
       "steps with the book's learning rates:\n\n"
       "- SGD: $W \\leftarrow W - \\eta g$\n"
       "- Momentum: $v \\leftarrow \\alpha v - \\eta g$, $W \\leftarrow W + v$\n"
       "- AdaGrad: $h \\leftarrow h + g \\odot g$, $W \\leftarrow W - \\eta g / (\\sqrt{h} + "
       "\\epsilon)$\n"
       "- Adam: bias-corrected moving averages of $g$ and $g^2$.\n\n"
       "`Book*` classes are the book's exact code; `Momentum`, `Adam`, … equal `torch.optim`.",
       "## 6.1 갱신 규칙과 경로\n\n$f(x, y) = x^2/20 + y^2$에서 $(-7, 2)$부터 책의 학습률로 "
       "30단계:\n\n"
       "- SGD: $W \\leftarrow W - \\eta g$\n"
       "- 모멘텀: $v \\leftarrow \\alpha v - \\eta g$, $W \\leftarrow W + v$\n"
       "- AdaGrad: $h \\leftarrow h + g \\odot g$, $W \\leftarrow W - \\eta g / (\\sqrt{h} + "
       "\\epsilon)$\n"
       "- Adam: 편향 보정한 $g$와 $g^2$의 이동 평균.\n\n"
       "`Book*` 클래스는 책의 코드 그대로이고, `Momentum`, `Adam` 등은 `torch.optim`과 같다."),
    code('''from dlfs import optim

settings = {"SGD": ("sgd", 0.95), "Momentum": ("book-momentum", 0.1),
            "AdaGrad": ("book-adagrad", 1.5), "Adam": ("book-adam", 0.3)}
xs, ys = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))
fig, axes = plt.subplots(1, len(settings), figsize=(16, 3.5))
for ax, (label, (name, lr)) in zip(axes, settings.items()):
    point = {"x": np.array(-7.0), "y": np.array(2.0)}
    optimizer = optim.create(name, lr=lr)
    path = [(-7.0, 2.0)]
    for _ in range(30):
        optimizer.update(point, {"x": point["x"] / 10, "y": 2 * point["y"]})
        path.append((float(point["x"]), float(point["y"])))
    path = np.array(path)
    ax.contour(xs, ys, xs**2 / 20 + ys**2, levels=12, linewidths=0.5)
    ax.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=3)
    ax.set_title(f"{label} (lr={lr})")
plt.show()'''),
    md("**Exercise.** Add `\"Nesterov\": (\"nesterov\", 0.1)` and `\"AdaDelta\": "
       "(\"adadelta\", 1.0)` to `settings`. Why does AdaDelta barely move in 30 steps? (Its "
       "first steps are about $\\sqrt{\\epsilon}$.)",
       "**연습.** `settings`에 `\"Nesterov\": (\"nesterov\", 0.1)`와 `\"AdaDelta\": "
       "(\"adadelta\", 1.0)`를 추가해 보자. AdaDelta는 왜 30단계 동안 거의 움직이지 않는가? "
       "(첫 보폭이 약 $\\sqrt{\\epsilon}$이다.)"),
    md("## 6.1.8 Optimizers on real data\n\n784-[100]×4-10 with ReLU and He init; every "
       "optimizer sees the same mini-batches. Each step is the book's: "
       "`grads = net.gradient(x_batch, t_batch)`, `optimizer.update(net.params, grads)`, then "
       "the loss, recorded after the update as `optimizer_compare_mnist.py` does.",
       "## 6.1.8 실제 데이터에서의 옵티마이저\n\nReLU와 He 초깃값의 784-[100]×4-10. 모든 "
       "옵티마이저가 같은 미니배치를 본다. 각 단계는 책과 같다: "
       "`grads = net.gradient(x_batch, t_batch)`, `optimizer.update(net.params, grads)`, 그다음 "
       "`optimizer_compare_mnist.py`처럼 갱신한 뒤의 손실을 기록한다."),
    code(LOAD_DATA),
    code('''from dlfs import MultiLayerNet
from dlfs.experiments.base import smooth_curve

iters = 200 if QUICK else 2000
losses = {}
for name, lr in {"sgd": 0.01, "momentum": 0.01, "adagrad": 0.01, "adam": 0.001}.items():
    net = MultiLayerNet(784, [100] * 4, 10, weight_init="he", seed=0)
    optimizer = optim.create(name, lr=lr)
    batch_rng = np.random.default_rng(1)
    losses[name] = []
    for _ in range(iters):
        batch = batch_rng.choice(len(t_train), 128)
        x_batch, t_batch = x_train[batch], t_train[batch]
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        losses[name].append(net.loss(x_batch, t_batch))
    plt.plot(smooth_curve(losses[name]), label=name)
plt.ylim(0, 1.5)
plt.legend()
plt.show()'''),
    md("**Exercise.** Add `\"rmsprop\": 0.01` (the book's rate). Watch the first iterations: "
       "its first steps are about $10 \\eta\\, \\mathrm{sign}(g)$. Then try 0.001.",
       "**연습.** `\"rmsprop\": 0.01`(책의 학습률)을 추가해 보자. 처음 몇 번의 반복을 보라: 첫 "
       "보폭이 약 $10 \\eta\\, \\mathrm{sign}(g)$이다. 그다음 0.001로 바꿔 보자."),
    md("## 6.2 Weight initialisation and activations\n\nFive layers of 100 units; the "
       "histograms of each layer's activations for a standard deviation of 1, 0.01, Xavier "
       "($\\sqrt{1/n}$) and He ($\\sqrt{2/n}$).",
       "## 6.2 가중치 초깃값과 활성화값\n\n100개 노드의 5층. 표준편차 1, 0.01, Xavier "
       "($\\sqrt{1/n}$), He ($\\sqrt{2/n}$)일 때 각 층 활성화값의 히스토그램."),
    code('''from dlfs.functions import relu, sigmoid
from dlfs.init import weight_scale

activation = sigmoid
fig, axes = plt.subplots(1, 4, figsize=(16, 3))
for ax, init in zip(axes, [1.0, 0.01, "xavier", "he"]):
    x = rng.standard_normal((1000, 100))
    for layer in range(5):
        x = activation(x @ (rng.standard_normal((100, 100)) * weight_scale(init, 100, 100)))
        ax.hist(x.ravel(), bins=30, range=(0, 1), histtype="step", label=f"{layer + 1}")
    ax.set_title(str(init))
axes[-1].legend()
plt.show()'''),
    md("**Exercise.** Set `activation = relu`. Which initialisation keeps the spread through "
       "all five layers?",
       "**연습.** `activation = relu`로 바꿔 보자. 다섯 층 내내 분포의 폭을 유지하는 초깃값은 "
       "어느 것인가?"),
    md("## 6.3 Batch normalisation\n\n$\\hat x = (x - \\mu_B)/\\sqrt{\\sigma_B^2 + "
       "\\epsilon}$, $y = \\gamma \\hat x + \\beta$, after every hidden Affine. With a small "
       "weight scale the plain network does not learn; with batch norm it does.",
       "## 6.3 배치 정규화\n\n모든 은닉 Affine 뒤에 $\\hat x = (x - \\mu_B)/\\sqrt{\\sigma_B^2 + "
       "\\epsilon}$, $y = \\gamma \\hat x + \\beta$. 가중치 스케일이 작으면 일반 신경망은 학습하지 "
       "못하지만 배치 정규화를 쓰면 학습한다."),
    code('''from dlfs import Trainer
from dlfs.optim import SGD

scale = 0.05
epochs = 3 if QUICK else 20
for use_batchnorm in (False, True):
    net = MultiLayerNet(784, [100] * 5, 10, weight_init=scale, use_batchnorm=use_batchnorm,
                        seed=0)
    history = Trainer(net, SGD(lr=0.01), x_train[:1000], t_train[:1000], x_train[:1000],
                      t_train[:1000], epochs=epochs, batch_size=100, seed=0).train()
    plt.plot(history.train_acc, "-" if use_batchnorm else "--",
             label="{{with_bn}}" if use_batchnorm else "{{without_bn}}")
plt.legend()
plt.ylim(0, 1)
plt.show()''', with_bn=both("words.batch_norm"), without_bn=both("notebook.plain")),
    md("**Exercise.** Try `scale = 1.0` and `scale = 0.001`. Which network is more sensitive to "
       "the initial scale?",
       "**연습.** `scale = 1.0`과 `scale = 0.001`을 시도해 보자. 어느 신경망이 초기 스케일에 더 "
       "민감한가?"),
    md("## 6.4 Overfitting, weight decay and dropout\n\nOn 300 samples a deep network memorises "
       "the training set. Weight decay adds $\\frac{1}{2}\\lambda \\sum W^2$ to the loss; "
       "dropout drops units at random while training.",
       "## 6.4 오버피팅, 가중치 감소, 드롭아웃\n\n300개 샘플이면 깊은 신경망은 훈련 데이터를 "
       "외워 버린다. 가중치 감소는 손실에 $\\frac{1}{2}\\lambda \\sum W^2$를 더하고, 드롭아웃은 "
       "훈련 중 뉴런을 무작위로 끈다."),
    code('''epochs = 20 if QUICK else 201
variants = {"{{none}}": {}, "{{decay}} 0.1": {"weight_decay_lambda": 0.1},
            "{{dropout}} 0.2": {"dropout_ratio": 0.2}}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
for ax, (label, extra) in zip(axes, variants.items()):
    net = MultiLayerNet(784, [100] * 6, 10, weight_init="he", seed=0, **extra)
    history = Trainer(net, SGD(lr=0.01), x_train[:300], t_train[:300], x_test[:2000],
                      t_test[:2000], epochs=epochs, batch_size=100, seed=0).train()
    ax.plot(history.train_acc, label="{{train}}")
    ax.plot(history.test_acc, label="{{test}}")
    gap = history.train_acc[-1] - history.test_acc[-1]
    ax.set_title(f"{label}: {{gap}} {gap:.2f}")
    ax.set_ylim(0, 1)
    ax.legend()
plt.show()''', none=both("notebook.none"), decay=both("words.weight_decay"),
         dropout=both("words.dropout"), train=both("words.train"), test=both("words.test"),
         gap=both("words.gap")),
    md("**Exercise.** Change $\\lambda$ to 0.01 or 1.0 and the dropout ratio to 0.5. Which "
       "closes the gap, and what does it cost in training accuracy?",
       "**연습.** $\\lambda$를 0.01이나 1.0으로, 드롭아웃 비율을 0.5로 바꿔 보자. 무엇이 차이를 "
       "줄이고, 훈련 정확도는 얼마나 희생되는가?"),
    md("## 6.5 Validation data and hyperparameter search\n\nHyperparameters are judged on "
       "validation data, never on the test set. The book searches lr and weight decay at "
       "random, log-uniformly; `dlfs.search` does it on Optuna (`dlfs search` on the command "
       "line adds samplers, pruning and parallel workers).",
       "## 6.5 검증 데이터와 하이퍼파라미터 탐색\n\n하이퍼파라미터는 시험 데이터가 아니라 검증 "
       "데이터로 평가한다. 책은 학습률과 가중치 감소를 로그 균등 분포로 무작위 탐색한다. "
       "`dlfs.search`는 이를 Optuna로 한다(명령줄의 `dlfs search`는 샘플러, 가지치기, 병렬 "
       "작업자를 더한다)."),
    code('''import tempfile

from dlfs import search
from dlfs.data import Data, train_val_split

(x_tr, t_tr), (x_val, t_val) = train_val_split(x_train[:500], t_train[:500], 0.2, seed=0)
print("train", x_tr.shape, "validation", x_val.shape)

# The search is handed its data: the arrays loaded at the top of this notebook.
data = Data(dataset.lower(), dataset, "loaded above", x_train, t_train, x_test, t_test)
config = search.load_config(n_trials=6 if QUICK else 30, epochs=5 if QUICK else 50)
with tempfile.TemporaryDirectory() as folder:
    storage = search.default_storage(folder)
    search.search(config, "notebook", storage, data=data)
    summary = search.summarize(search.open_study(config, "notebook", storage))
print(search.top_trials_markdown(summary, top=5))'''),
    md("**Exercise.** Narrow the space with `space={\"lr\": {\"low\": 1e-3, \"high\": 1e-1}}` in "
       "`load_config`, or try `sampler=\"tpe\"`. Does the best validation accuracy improve?",
       "**연습.** `load_config`에 `space={\"lr\": {\"low\": 1e-3, \"high\": 1e-1}}`를 주어 범위를 "
       "좁히거나 `sampler=\"tpe\"`를 써 보자. 최고 검증 정확도가 좋아지는가?"),
]


def notebook(sections, lang: str):
    cells = []
    for kind, content in sections:
        if kind == "md":
            cells.append(nbformat.v4.new_markdown_cell(content[lang]))
        else:
            cells.append(nbformat.v4.new_code_cell(content[lang]))
        if lang == "ko" and kind == "code" and content[lang] == SETUP:
            cells.append(nbformat.v4.new_code_cell(KOREAN_FONT))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{lang}-{index:02d}"
    return nb


NOTEBOOKS = {"ch04.ipynb": CH04, "ch06.ipynb": CH06}


def render() -> dict[Path, str]:
    """Every notebook's path and JSON text."""
    return {HERE / lang / name: nbformat.writes(notebook(sections, lang)) + "\n"
            for lang in ("en", "ko") for name, sections in NOTEBOOKS.items()}


def main() -> None:
    for path, text in render().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print("wrote", path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
