"""Writes the chapter notebooks, English and Korean, from one source, with their outputs.

    python notebooks/build.py             every notebook, executed in full mode (a few minutes)
    python notebooks/build.py ko/ch06     only those named

Each notebook section is (English text, Korean text) or code; a code cell is one source whose
``{{name}}`` placeholders are filled per language (comments from ``tr``, printed text and plot
labels from dlfs's catalogue), so the two languages run the same code.

The notebooks are stored executed, images embedded, so a learner browsing them sees every plot.
The build is deterministic: a rebuild with nothing changed changes nothing. It runs every
notebook in a fresh kernel with one BLAS thread, a fixed hash seed and PNGs without a
"Software" entry, then drops what would differ between runs: execution timings, the kernel's
version details, widget views and their state (the stored output shows the static figure; the
sliders appear when the notebook runs in Jupyter), and the kernel's temporary file names. An
error, a warning on stderr or a memory address in an output stops the build: fix the cell.
DLFS_QUICK=1 runs them with small settings (the tests do).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dlfs.catalogue import CATALOGUE, both
from dlfs.explore import EXAMPLES

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ko")


def tr(en: str, ko: str) -> dict[str, str]:
    """A text in both languages, written here (comments in code cells)."""
    return {"en": en, "ko": ko}


def raw(key: str) -> dict[str, str]:
    """The catalogue's ``notebook.KEY`` (or ``words.KEY`` when key has a dot) unformatted in both
    languages: its {fields} are the notebook's variables, filled by the f-string it sits in."""
    key = key if "." in key else f"notebook.{key}"
    return {lang: CATALOGUE.template(key, lang) for lang in LANGS}


def md(en: str, ko: str):
    return ("md", {"en": en, "ko": ko})


def code(source: str, **labels: dict[str, str]):
    """A code cell. ``{{name}}`` in ``source`` becomes labels[name][lang]."""
    texts = {}
    for lang in LANGS:
        text = source
        for name, label in labels.items():
            if "{{" + name + "}}" not in source:
                raise ValueError(f"label {name!r} is not used in {source[:60]!r}…")
            text = text.replace("{{" + name + "}}", label[lang])
        if "{{" in text:
            raise ValueError(f"a placeholder has no label in {text[:200]!r}…")
        texts[lang] = text
    return ("code", texts)


def report_view(name: str, fragment: str, what: dict[str, str]):
    """A line pointing from a notebook's figure to the same figure, live, in the lab's report."""
    return md(f"**In the report.** After `dlfs run {name}`, `dlfs open` shows this figure live, "
              f"with the lab's numbers for {what['en']}; this view is "
              f"`report.html#{fragment}` (the address keeps it, to reopen or share).",
              f"**보고서에서.** `dlfs run {name}` 다음 `dlfs open`을 실행하면 이 그림을 보고서에서 "
              f"직접 바꿔 볼 수 있다. 실험실이 {what['ko']}에 대해 계산한 수치를 보여 준다. 이 보기의 "
              f"주소는 `report.html#{fragment}`이며, 그대로 다시 열거나 공유할 수 있다.")


def setup(chapter: str):
    """The first code cell; the Korean notebooks add one that picks a Hangul font."""
    kind, texts = code('''import os

import matplotlib.pyplot as plt
import numpy as np

import dlfs

from dlfs.check import check  # {{c_check}}

QUICK = os.environ.get("DLFS_QUICK") == "1"  # {{c_quick}}
rng = np.random.default_rng(0)  # {{c_rng}}
print("dlfs", dlfs.__version__, "|", "{{quick}}" if QUICK else "{{full}}")''',
        c_check=tr("check(obj) says whether your exercise code is right",
                   "check(obj)는 연습 문제 코드가 맞는지 알려 준다"),
        c_quick=tr("DLFS_QUICK=1: small settings, for the tests",
                   "DLFS_QUICK=1이면 작은 설정 (테스트용)"),
        c_rng=tr("every random draw comes from a seeded generator",
                 "모든 난수는 시드를 정한 생성기에서 나온다"),
        quick=raw("quick"), full=raw("full"))
    return ("setup", texts)


KOREAN_FONT = '''from dlfs.experiments.figures import korean_font

if korean_font():  # 한글 레이블에는 CJK 글꼴이 필요하다 (fonts-noto-cjk 또는 fonts-nanum)
    plt.rcParams["font.family"] = [korean_font(), "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
else:
    print("한글 글꼴이 없어 그림의 한글이 네모로 보일 수 있다: sudo apt-get install fonts-noto-cjk")'''

LOAD_DATA = code('''from dlfs.data import DatasetError, load_dataset

try:
    (x_train, t_train), (x_test, t_test) = load_dataset("mnist", progress=False)
    dataset = "MNIST"
except DatasetError:  # {{c_offline}}
    (x_train, t_train), (x_test, t_test) = load_dataset("fashion-mnist", progress=False)
    dataset = "Fashion-MNIST"
    print("{{fashion_note}}")
print(f"{{dataset_line}}")''',
    c_offline=tr("offline: Debian's dataset-fashion-mnist package",
                 "오프라인: 데비안의 dataset-fashion-mnist 패키지"),
    fashion_note=raw("fashion_note"), dataset_line=raw("dataset_line"))


def check_cell(name: str):
    """print(check(NAME, lang=...)): the verdict and the diagnoses in the notebook's language."""
    return code(f'print(check({name}, lang="{{{{lang}}}}"))', lang=tr("en", "ko"))


# ----------------------------------------------------------------------------------------------
# Chapter 4
# ----------------------------------------------------------------------------------------------

CH04 = [
    md("# Chapter 4: learning from data\n\n"
       "A neural network *learns* when it finds, on its own, weights that make its answers "
       "right. This notebook follows chapter 4 of the book: a loss function says how wrong the "
       "network is, numerical differentiation and the gradient say which way to move every "
       "weight, gradient descent takes the steps, and a two-layer network learns to read "
       "images. Every function comes from `dlfs`, the library this notebook sits in.\n\n"
       "Run the cells from top to bottom (Shift+Enter). The outputs you see were made by "
       "running exactly this notebook. Each section ends with things to try, and some with an "
       "**exercise**: write the book's function yourself in the cell given, then run the "
       "`check(...)` cell below it, which compares your code with dlfs's and names the mistake "
       "if there is one.",
       "# 4장: 신경망 학습\n\n"
       "신경망이 *학습한다*는 것은 답을 맞히는 가중치를 스스로 찾아낸다는 뜻이다. 이 노트북은 책의 "
       "4장을 따라간다: 손실 함수는 신경망이 얼마나 틀렸는지를, 수치 미분과 기울기는 각 가중치를 "
       "어느 쪽으로 움직여야 하는지를 알려 주고, 경사 하강법이 그 방향으로 한 걸음씩 나아가며, "
       "마지막에는 2층 신경망이 이미지를 읽는 법을 배운다. 모든 함수는 이 노트북이 속한 `dlfs` "
       "라이브러리에서 가져온다.\n\n"
       "셀을 위에서부터 차례로 실행하자(Shift+Enter). 지금 보이는 출력은 바로 이 노트북을 실행해 "
       "만든 것이다. 각 절의 끝에는 직접 바꿔 볼 거리가 있고, 몇몇 절에는 **연습 문제**가 있다: "
       "주어진 셀에 책의 함수를 직접 구현한 뒤 바로 아래의 `check(...)` 셀을 실행하면, 여러분의 "
       "코드를 dlfs의 구현과 비교해 틀린 곳이 있으면 무엇이 틀렸는지 알려 준다."),
    setup("ch04"),
    md("## 4.2 Loss functions\n\n"
       "Why not train for accuracy directly? Because accuracy barely ever changes when a "
       "weight moves a little: 32 right answers out of 100 stay 32 until some answer flips, "
       "then jump to 33. Its derivative is zero almost everywhere, so it cannot say which way "
       "to move a weight (book 4.2.5). A loss function changes smoothly with every weight, and "
       "its gradient always points somewhere.\n\n"
       "The book uses two. The *mean squared error* is, despite its name, half a sum: "
       "$E = \\frac{1}{2}\\sum_k (y_k - t_k)^2$. The *cross-entropy error* "
       "$E = -\\sum_k t_k \\log y_k$ with a one-hot label $t$ keeps a single term, "
       "$-\\log y_{\\text{right}}$: only the probability given to the right answer counts. "
       "Below, two networks see an image of class 2; one gives class 2 a probability of 0.6, "
       "the other gives 0.6 to class 7.",
       "## 4.2 손실 함수\n\n"
       "정확도를 곧바로 높이도록 학습하면 안 될까? 가중치를 조금 움직여도 정확도는 거의 변하지 "
       "않는다: 100개 중 32개를 맞힌 신경망은 어떤 답 하나가 뒤집힐 때까지 계속 32개를 맞히다가 "
       "갑자기 33개가 된다. 정확도의 미분은 거의 모든 곳에서 0이라서 가중치를 어느 쪽으로 움직일지 "
       "알려 주지 못한다(4.2.5절). 손실 함수는 가중치가 움직일 때마다 매끄럽게 변하고, 그 기울기는 "
       "언제나 어딘가를 가리킨다.\n\n"
       "책은 두 가지를 쓴다. *평균 제곱 오차*는 이름과 달리 합의 절반이다: "
       "$E = \\frac{1}{2}\\sum_k (y_k - t_k)^2$. *교차 엔트로피 오차* "
       "$E = -\\sum_k t_k \\log y_k$는 원-핫 레이블 $t$에서 항 하나만 남는다: "
       "$-\\log y_{\\text{정답}}$. 정답에 준 확률만 중요하다. 아래에서 두 신경망이 클래스 2의 "
       "이미지를 본다. 하나는 2에 0.6의 확률을 주고, 다른 하나는 7에 0.6을 준다."),
    code('''from dlfs.functions import cross_entropy_error, mean_squared_error

t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # {{c_onehot}}
y_right = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
y_wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
for name, y in [("{{right}}", y_right), ("{{wrong}}", y_wrong)]:
    mse, ce = mean_squared_error(y, t), cross_entropy_error(y, t)
    print(f"{{loss_line}}")
ce = cross_entropy_error(y_right, 2)  # {{c_index}}
print(f"{{index_line}}")''',
         c_onehot=tr("one-hot: the answer is 2", "원-핫 인코딩: 정답은 2"),
         right=raw("right"), wrong=raw("wrong"), loss_line=raw("loss_line"),
         c_index=tr("the label as an index, 2, instead of a one-hot row",
                    "원-핫 대신 정답 레이블의 인덱스 2"),
         index_line=raw("index_line")),
    md("The figure shows why cross-entropy punishes confident mistakes: $-\\log y$ is small "
       "near $y = 1$ and grows without bound as the probability of the right answer goes to 0 "
       "(book figure 4-3 draws $\\log y$). The right network sits at 0.6, the wrong one at 0.1.",
       "그림은 교차 엔트로피가 확신에 찬 오답을 얼마나 크게 벌하는지 보여 준다: $-\\log y$는 "
       "$y = 1$ 근처에서 작고, 정답의 확률이 0으로 갈수록 한없이 커진다(책의 그림 4-3은 "
       "$\\log y$를 그린다). 맞힌 신경망은 0.6에, 틀린 신경망은 0.1에 있다."),
    code('''p = np.linspace(0.005, 1, 400)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(p, -np.log(p), color="gray")
for name, y, marker in [("{{right}}", y_right, "o"), ("{{wrong}}", y_wrong, "s")]:
    ax.plot(y[2], -np.log(y[2]), marker, markersize=9, label=f"{name}: y₂ = {y[2]:g}")
ax.set_xlabel("{{ce_x}}")
ax.set_ylabel("{{ce_y}}")
ax.set_ylim(0, 5)
ax.legend()
plt.show()''', right=raw("right"), wrong=raw("wrong"), ce_x=raw("ce_x"), ce_y=raw("ce_y")),
    md("**Try.** Make `y_right` more confident (0.9 for class 2, the rest spread over the "
       "others): how do both losses change? What happens to cross-entropy as $y_2 \\to 0$?\n\n"
       "**Exercise: softmax and cross-entropy.** Write them as the book does (3.5.2 and "
       "4.2.4) in the cells below, then run the `check` cells. The hints say what the checker "
       "will try: a batch as well as one row, large inputs such as 1000 (where a naive "
       "`np.exp` overflows) and a probability of exactly 0 for the right answer (where a naive "
       "`np.log` gives infinity).",
       "**해 보기.** `y_right`를 더 확신하게 바꿔 보자(2에 0.9, 나머지는 다른 클래스에 나눠서). "
       "두 손실은 어떻게 변하는가? $y_2 \\to 0$이면 교차 엔트로피는 어떻게 되는가?\n\n"
       "**연습 문제: 소프트맥스와 교차 엔트로피 오차.** 아래 셀에 책(3.5.2절, 4.2.4절)처럼 직접 "
       "구현한 다음 `check` 셀을 실행하자. 힌트는 검사기가 무엇을 시험하는지 알려 준다: 한 행뿐 "
       "아니라 배치, 1000 같은 큰 입력(그대로 `np.exp`를 하면 오버플로가 난다), 정답의 확률이 "
       "정확히 0인 경우(그대로 `np.log`를 하면 무한대가 된다)."),
    code('''def softmax(x):
    # {{h1}}
    # {{h2}}
    # {{h3}}
    raise NotImplementedError("{{todo}}")''',
         h1=tr("1. subtract each row's maximum, x - x.max(axis=-1, keepdims=True): "
               "exp(1000) is inf",
               "1. 각 행의 최댓값을 뺀다, x - x.max(axis=-1, keepdims=True): exp(1000)은 inf다"),
         h2=tr("2. take np.exp, then divide by the sum over the last axis",
               "2. np.exp를 취한 뒤 마지막 축의 합으로 나눈다"),
         h3=tr("3. x is one row (C,) or a batch (N, C): keepdims=True serves both",
               "3. x는 한 행 (C,)이거나 배치 (N, C)다: keepdims=True면 둘 다 된다"),
         todo=raw("todo")),
    check_cell("softmax"),
    code('''def cross_entropy_error(y, t):
    # {{h1}}
    # {{h2}}
    # {{h3}}
    # {{h4}}
    raise NotImplementedError("{{todo}}")''',
         h1=tr("y: probabilities (N, C) or one row (C,); t: one-hot rows or label indices",
               "y: 확률 (N, C) 또는 한 행 (C,); t: 원-핫 행 또는 정답 레이블의 인덱스"),
         h2=tr("1. one row becomes a batch of one: y.reshape(1, -1), t.reshape(1, -1)",
               "1. 한 행은 크기 1인 배치로 바꾼다: y.reshape(1, -1), t.reshape(1, -1)"),
         h3=tr("2. one-hot t becomes indices with t.argmax(axis=1); then take "
               "-log y[i, t[i]] and average over the batch",
               "2. 원-핫 t는 t.argmax(axis=1)로 인덱스로 바꾼다; 그다음 -log y[i, t[i]]의 배치 "
               "평균을 구한다"),
         h4=tr("3. log(0) is -inf: the book adds a tiny delta = 1e-7 inside the log",
               "3. log(0)은 -inf다: 책은 log 안에 아주 작은 delta = 1e-7을 더한다"),
         todo=raw("todo")),
    check_cell("cross_entropy_error"),
    md("## 4.3 Numerical differentiation\n\n"
       "The derivative is the slope of $f$ at a point. On a computer we approximate it with a "
       "small step $h$. The *forward difference* $\\frac{f(x+h) - f(x)}{h}$ measures the slope "
       "between $x$ and $x + h$, not at $x$: its error shrinks only like $h$. The *central "
       "difference* $\\frac{f(x+h) - f(x-h)}{2h}$ is symmetric around $x$, and its error "
       "shrinks like $h^2$. The book uses the central difference with $h = 10^{-4}$.\n\n"
       "Why not $h = 10^{-50}$? A float64 holds about 16 significant digits, so "
       "$x + 10^{-50}$ rounds back to $x$ and the difference is exactly 0. Below, the slopes "
       "of $f(x) = 0.01x^2 + 0.1x$ at 5 and 10 (exactly 0.2 and 0.3) and their tangent lines "
       "(book figure 4-7).",
       "## 4.3 수치 미분\n\n"
       "미분은 한 점에서 $f$의 기울기다. 컴퓨터에서는 작은 간격 $h$로 근사한다. *전방 차분* "
       "$\\frac{f(x+h) - f(x)}{h}$는 $x$에서가 아니라 $x$와 $x + h$ 사이의 기울기를 재므로 "
       "오차가 $h$에 비례해서만 줄어든다. *중심 차분* $\\frac{f(x+h) - f(x-h)}{2h}$는 $x$를 "
       "중심으로 대칭이라 오차가 $h^2$에 비례해 줄어든다. 책은 $h = 10^{-4}$인 중심 차분을 "
       "쓴다.\n\n"
       "왜 $h = 10^{-50}$은 안 될까? float64는 유효 숫자가 16자리 정도라서 $x + 10^{-50}$은 "
       "다시 $x$로 반올림되고, 차이는 정확히 0이 된다. 아래는 $f(x) = 0.01x^2 + 0.1x$의 5와 "
       "10에서의 기울기(정확한 값은 0.2와 0.3)와 접선이다(책의 그림 4-7)."),
    code('''from dlfs.gradient import numerical_diff


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


x = np.arange(0.0, 20.0, 0.1)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(x, function_1(x), color="black", label="f(x) = 0.01x² + 0.1x")
for at in (5.0, 10.0):
    slope = numerical_diff(function_1, at)
    exact = 0.02 * at + 0.1  # {{c_exact}}
    error = abs(slope - exact)
    print(f"{{slope_line}}")
    ax.plot(x, slope * (x - at) + function_1(at), "--", label=f"{{tangent}}")
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.legend()
plt.show()''', c_exact=tr("f'(x) = 0.02x + 0.1", "f'(x) = 0.02x + 0.1"),
         slope_line=raw("slope_line"), tangent=raw("tangent")),
    md("How small should $h$ be? The next figure measures the error of both differences at "
       "$x = 5$ for $h$ from $10^{-16}$ to $10^{-1}$. Read it from the right. The forward "
       "difference's truncation error falls in step with $h$ (a straight line of slope 1): at "
       "the book's $h = 10^{-4}$ it is still off by $10^{-6}$. For this parabola the central "
       "difference has no truncation error at all (in general it falls like $h^2$), so only "
       "rounding is left, about $10^{-12}$ at $h = 10^{-4}$. Further left, rounding error, "
       "which grows like $1/h$, takes over both: below $h \\approx 10^{-8}$ making $h$ "
       "smaller only makes the answer worse.",
       "$h$는 얼마나 작아야 할까? 다음 그림은 $h$를 $10^{-16}$에서 $10^{-1}$까지 바꾸며 "
       "$x = 5$에서 두 차분의 오차를 잰다. 오른쪽부터 읽자. 전방 차분의 절단 오차는 $h$와 함께 "
       "줄어든다(기울기 1인 직선): 책의 $h = 10^{-4}$에서도 여전히 $10^{-6}$만큼 틀린다. 이 "
       "포물선에서 중심 차분은 절단 오차가 전혀 없으므로(일반적으로는 $h^2$에 비례해 줄어든다) "
       "반올림 오차만 남는다: $h = 10^{-4}$에서 약 $10^{-12}$. 더 왼쪽에서는 $1/h$에 비례해 "
       "커지는 반올림 오차가 둘 다를 압도한다: $h \\approx 10^{-8}$보다 작게 하면 답이 "
       "나빠지기만 한다."),
    code('''hs = np.logspace(-16, -1, 61)
forward = np.array([(function_1(5 + h) - function_1(5)) / h for h in hs])
central = np.array([(function_1(5 + h) - function_1(5 - h)) / (2 * h) for h in hs])
fig, ax = plt.subplots(figsize=(6, 4))
# {{c_floor}}
ax.loglog(hs, np.maximum(abs(forward - 0.2), 1e-17), "o-", markersize=3, label="{{forward}}")
ax.loglog(hs, np.maximum(abs(central - 0.2), 1e-17), "s-", markersize=3, label="{{central}}")
ax.axvline(1e-4, color="gray", linestyle=":", label="h = 1e-4")
ax.set_xlabel("{{h_x}}")
ax.set_ylabel("{{h_y}}")
ax.legend()
plt.show()''', c_floor=tr("an error of exactly 0 is drawn at 1e-17: a log axis has no 0",
                          "오차가 정확히 0이면 1e-17에 그린다: 로그 축에는 0이 없다"),
         forward=raw("forward"), central=raw("central"), h_x=raw("h_x"), h_y=raw("h_y")),
    md("**Try.** Call `numerical_diff(function_1, 5.0, h=1e-50)`: why is the answer exactly "
       "0? Where on the figure above would $h = 10^{-2}$ be, and how large is its error?",
       "**해 보기.** `numerical_diff(function_1, 5.0, h=1e-50)`를 호출해 보자. 왜 정확히 0이 "
       "나오는가? $h = 10^{-2}$는 위 그림의 어디쯤이고, 오차는 얼마나 큰가?"),
    md("## 4.4 The gradient\n\n"
       "With several inputs, the partial derivatives together form the *gradient* "
       "$\\nabla f = (\\partial f/\\partial x_0, \\partial f/\\partial x_1)$. "
       "`numerical_gradient(f, x)` computes it with the central difference, one element of "
       "$x$ at a time: it moves $x_i$ by $\\pm h$, evaluates $f$ twice and puts $x_i$ back.\n\n"
       "The gradient points where $f$ grows fastest, so $-\\nabla f$ is the way down. On the "
       "left, $f(x_0, x_1) = x_0^2 + x_1^2$ (book figure 4-8); on the right, the arrows of "
       "$-\\nabla f$ (figure 4-9): every one points at the minimum (0, 0), and they get "
       "shorter near it, where the bowl is flat. Careful: many notes say \"the gradient points "
       "downhill\"; it is the *negative* gradient that does.",
       "## 4.4 기울기\n\n"
       "입력이 여럿이면 편미분을 모은 벡터가 *기울기*다: "
       "$\\nabla f = (\\partial f/\\partial x_0, \\partial f/\\partial x_1)$. "
       "`numerical_gradient(f, x)`는 중심 차분으로 $x$의 원소를 하나씩 계산한다: $x_i$를 "
       "$\\pm h$만큼 움직여 $f$를 두 번 계산하고 $x_i$를 원래대로 돌려놓는다.\n\n"
       "기울기는 $f$가 가장 빠르게 커지는 방향을 가리키므로, 내려가는 방향은 $-\\nabla f$다. "
       "왼쪽은 $f(x_0, x_1) = x_0^2 + x_1^2$(책의 그림 4-8), 오른쪽은 $-\\nabla f$의 화살표다"
       "(그림 4-9): 모두 최솟값 (0, 0)을 가리키고, 그릇 바닥이 평평한 최솟값 근처에서는 짧아진다. "
       "주의: '기울기가 내려가는 방향을 가리킨다'고 쓴 노트가 많지만, 그 방향을 가리키는 것은 "
       "*음의* 기울기다."),
    code('''from dlfs.gradient import numerical_gradient


def function_2(x):
    return np.sum(x**2)


g = numerical_gradient(function_2, np.array([3.0, 4.0]))
print(f"{{grad_line}}")

grid = np.arange(-2, 2.5, 0.25)
X, Y = np.meshgrid(grid, grid)
points = np.stack([X.ravel(), Y.ravel()], axis=1)
grads = np.array([numerical_gradient(function_2, p.copy()) for p in points])
fig = plt.figure(figsize=(11, 4.5))
surface = fig.add_subplot(1, 2, 1, projection="3d")
surface.plot_surface(X, Y, X**2 + Y**2, cmap="viridis", linewidth=0)
surface.set_xlabel("x0")
surface.set_ylabel("x1")
surface.set_title("f(x0, x1) = x0² + x1²")
arrows = fig.add_subplot(1, 2, 2)
arrows.quiver(points[:, 0], points[:, 1], -grads[:, 0], -grads[:, 1], angles="xy",
              color="#666666")
arrows.plot(0, 0, "+", color="red", markersize=12)
arrows.set_xlim(-2, 2)
arrows.set_ylim(-2, 2)
arrows.set_aspect("equal")
arrows.set_xlabel("x0")
arrows.set_ylabel("x1")
arrows.set_title("{{quiver_title}}")
plt.show()''', grad_line=raw("grad_line"), quiver_title=raw("quiver_title")),
    md("**Try.** Replace `function_2` by $x_0^2/20 + x_1^2$, chapter 6's function. Do the "
       "arrows still point at the minimum? (They do not: this is why plain gradient descent "
       "zig-zags there.)\n\n"
       "**Exercise: numerical_gradient.** Write the book's `numerical_gradient` (4.4) for an "
       "array `x` of any shape. The checker compares it with dlfs's on vectors and matrices, "
       "and checks that `x` comes back exactly as it was given.",
       "**해 보기.** `function_2`를 6장의 함수 $x_0^2/20 + x_1^2$로 바꿔 보자. 화살표가 여전히 "
       "최솟값을 가리키는가? (그렇지 않다: 그래서 평범한 경사 하강법이 그 함수에서 지그재그로 "
       "움직인다.)\n\n"
       "**연습 문제: numerical_gradient.** 어떤 모양의 배열 `x`든 받는 책의 "
       "`numerical_gradient`(4.4절)를 구현하자. 검사기는 벡터와 행렬에서 dlfs의 구현과 비교하고, "
       "`x`가 받은 그대로 돌아오는지도 확인한다."),
    code('''def numerical_gradient(f, x):
    # {{h1}}
    # {{h2}}
    # {{h3}}
    # {{h4}}
    # {{h5}}
    raise NotImplementedError("{{todo}}")''',
         h1=tr("h = 1e-4; grad = np.zeros_like(x)",
                 "h = 1e-4로 하고 grad = np.zeros_like(x)로 시작한다"),
         h2=tr("for every index idx of x (for idx in np.ndindex(x.shape)):",
               "x의 모든 인덱스 idx에 대해 (for idx in np.ndindex(x.shape)):"),
         h3=tr("    keep tmp = x[idx]; set x[idx] = tmp + h and take f(x), then tmp - h",
               "    tmp = x[idx]를 기억하고, x[idx] = tmp + h로 f(x)를, 다음에 tmp - h로 f(x)를 "
               "구한다"),
         h4=tr("    grad[idx] = (f(x + h) - f(x - h)) / (2 * h)",
               "    grad[idx] = (f(x + h) - f(x - h)) / (2 * h)로 계산한다"),
         h5=tr("    put x[idx] = tmp back: the caller's x must come back unchanged",
               "    x[idx] = tmp로 되돌린다: 호출한 쪽의 x가 바뀌지 않은 채 돌아가야 한다"),
         todo=raw("todo")),
    check_cell("numerical_gradient"),
    md("## 4.4.1 Gradient descent\n\n"
       "Gradient descent repeats one step, $x \\leftarrow x - \\eta \\nabla f(x)$: move a "
       "little against the gradient, compute the gradient again, and so on. The learning rate "
       "$\\eta$ is how far each step goes. It is a *hyperparameter*: nothing learns it, we "
       "choose it.\n\n"
       "The figure starts from $(-3, 4)$ on $x_0^2 + x_1^2$ for 20 steps with three learning "
       "rates, as the book does. With $\\eta = 0.1$ every step shrinks the distance to the "
       "minimum by 20 %, and the path walks straight in. With $\\eta = 10$ each step "
       "overshoots the minimum by nineteen times the distance, and the point flies out of the "
       "picture: it diverges (its final value stops growing near $10^{13}$ only because the "
       "numerical gradient loses its precision there, not because it converged). With "
       "$\\eta = 10^{-10}$ it does not visibly move at all.",
       "## 4.4.1 경사 하강법\n\n"
       "경사 하강법은 한 단계를 되풀이한다: $x \\leftarrow x - \\eta \\nabla f(x)$. 기울기의 "
       "반대쪽으로 조금 움직이고, 기울기를 다시 구하고, 또 움직인다. 학습률 $\\eta$는 한 번에 "
       "얼마나 움직일지를 정한다. 학습률은 *하이퍼파라미터*다: 학습으로 정해지지 않고 사람이 "
       "정한다.\n\n"
       "그림은 책처럼 $x_0^2 + x_1^2$에서 $(-3, 4)$부터 세 가지 학습률로 20단계를 간다. "
       "$\\eta = 0.1$이면 한 단계마다 최솟값까지의 거리가 20 %씩 줄어 곧장 들어간다. "
       "$\\eta = 10$이면 단계마다 최솟값을 거리의 19배만큼 지나쳐 점이 그림 밖으로 날아간다: "
       "발산이다(마지막 값이 $10^{13}$ 근처에서 더 커지지 않는 것은 수렴해서가 아니라 거기서 수치 "
       "미분의 정밀도가 바닥나기 때문이다). $\\eta = 10^{-10}$이면 눈에 보이게 움직이지 "
       "않는다."),
    code('''from dlfs.gradient import gradient_descent

init = np.array([-3.0, 4.0])
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, lr in zip(axes, [0.1, 10.0, 1e-10]):
    path = gradient_descent(function_2, init, lr=lr, step_num=20)
    x0, x1 = path[-1]
    print(f"{{gd_line}}")
    ax.plot(path[:, 0], path[:, 1], "o", markersize=4)
    if np.abs(path).max() > 5:
        ax.text(0, -4, "{{gd_outside}}", ha="center", fontsize=9, backgroundcolor="white")
    ax.axhline(0, color="gray", linestyle="--")
    ax.axvline(0, color="gray", linestyle="--")
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(f"{{gd_title}}")
plt.show()''', gd_line=raw("gd_line"), gd_title=raw("gd_title"), gd_outside=raw("gd_outside")),
    report_view("gradient-descent", EXAMPLES["gradient-descent"],
                tr("15 learning rates from 1e-10 to 10", "1e-10부터 10까지의 학습률 15개")),
    md("**Try.** Find the largest learning rate that still converges on this function (hint: "
       "one step multiplies $x$ by $1 - 2\\eta$). What happens at exactly $\\eta = 0.5$, and "
       "at $\\eta = 1$?",
       "**해 보기.** 이 함수에서 수렴하는 가장 큰 학습률을 찾아보자(힌트: 한 단계는 $x$에 "
       "$1 - 2\\eta$를 곱한다). $\\eta = 0.5$이면, 또 $\\eta = 1$이면 어떻게 되는가?"),
    md("## 4.5 A two-layer network that learns\n\n"
       "Now the whole of chapter 4 at once. A 784-50-10 network with sigmoid hidden units "
       "reads 28×28 images; each iteration draws a *mini-batch* of 100 training images, "
       "computes the gradient of the loss over that batch, and takes one SGD step with "
       "$\\eta = 0.1$. That the gradient of a random batch is enough, and far cheaper than the "
       "whole training set's, is the point of *stochastic* gradient descent.\n\n"
       "The gradient comes from backpropagation (`network.gradient`, chapter 5). With "
       "`numerical_gradient` each step would need two forward passes per weight, about 80 000 "
       "of them: the 10 000 iterations below would take days (book 4.5). Without network "
       "access this notebook uses Fashion-MNIST (clothes instead of digits), which is harder: "
       "its accuracies are lower than the book's MNIST numbers.",
       "## 4.5 학습하는 2층 신경망\n\n"
       "이제 4장 전체를 한꺼번에 해 보자. 은닉층에 시그모이드를 쓰는 784-50-10 신경망이 28×28 "
       "이미지를 읽는다. 반복마다 훈련 이미지 100장의 *미니배치*를 뽑아 그 배치에 대한 손실의 "
       "기울기를 구하고, $\\eta = 0.1$로 SGD 한 단계를 간다. 무작위 배치의 기울기만으로 충분하고, "
       "그것이 훈련 데이터 전체의 기울기보다 훨씬 싸다는 것이 *확률적* 경사 하강법의 핵심이다.\n\n"
       "기울기는 오차역전파(`network.gradient`, 5장)로 구한다. `numerical_gradient`로 구하면 "
       "한 단계에 가중치마다 순전파를 두 번, 약 8만 번 해야 하므로 아래의 10,000번 반복에 며칠이 "
       "걸린다(4.5절). 네트워크에 연결되지 않았을 때 이 노트북은 Fashion-MNIST(숫자 대신 옷 "
       "사진)를 쓰는데, 더 어려운 데이터라서 정확도가 책의 MNIST 수치보다 낮다."),
    LOAD_DATA,
    code('''from dlfs import Trainer, TwoLayerNet
from dlfs.optim import SGD

iters_num = 300 if QUICK else 10_000
n_train = 5_000 if QUICK else len(t_train)
net = TwoLayerNet(784, 50, 10, seed=0)
trainer = Trainer(net, SGD(lr=0.1), x_train[:n_train], t_train[:n_train], x_test, t_test,
                  epochs=-(-iters_num * 100 // n_train), batch_size=100, max_iter=iters_num,
                  seed=0)
history = trainer.train()
print(f"{{accuracy_line}}")''', accuracy_line=raw("accuracy_line")),
    md("On the left, the loss of every mini-batch: noisy, because each batch is different, "
       "but falling fast and then slowly. On the right, the accuracy on the training and the "
       "test images after each epoch (one pass over the training set, book 4.5.3). The two "
       "curves stay close together: the network does not *overfit*, it does as well on images "
       "it has never seen as on those it learned from. Chapter 6 shows what happens when they "
       "part.",
       "왼쪽은 미니배치마다의 손실이다: 배치가 매번 달라 들쭉날쭉하지만, 처음에는 빠르게, 그다음 "
       "천천히 떨어진다. 오른쪽은 에폭(훈련 데이터를 한 번 다 보는 것, 4.5.3절)마다 잰 훈련 "
       "데이터와 시험 데이터의 정확도다. 두 곡선이 가깝게 붙어 있다: 신경망이 *오버피팅*하지 "
       "않고, 처음 보는 이미지에서도 학습한 이미지만큼 잘한다. 두 곡선이 벌어지면 어떻게 되는지는 "
       "6장에서 본다."),
    code('''fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(history.train_loss, linewidth=0.5)
left.set_xlabel("{{iteration}}")
left.set_ylabel("{{loss}}")
right.plot(history.train_acc, "o-", label="{{train}}")
right.plot(history.test_acc, "s--", label="{{test}}")
right.set_xlabel("{{epoch}}")
right.set_ylabel("{{accuracy}}")
right.set_ylim(0, 1)
right.legend()
plt.show()''', iteration=both("words.iteration"), loss=both("words.loss"),
         train=both("words.train"), test=both("words.test"), epoch=both("words.epoch"),
         accuracy=both("words.accuracy")),
    md("**Try.** Change the hidden layer to 10 or 200 units, or the learning rate to 0.01 or "
       "1.0. Which change costs the most accuracy? Do train and test accuracy ever part?",
       "**해 보기.** 은닉층을 10개나 200개로, 학습률을 0.01이나 1.0으로 바꿔 보자. 어떤 변화가 "
       "정확도를 가장 많이 떨어뜨리는가? 훈련 정확도와 시험 정확도가 벌어지는 경우가 있는가?"),
    md("## Checking backprop\n\n"
       "Backpropagation is fast but easy to get wrong, and a wrong gradient still trains, just "
       "badly, so the bug hides. The remedy (book 5.7) is the *gradient check*: compute the "
       "same gradient numerically, slow but simple, and compare. `gradient_check` does it on a "
       "few samples in float64 and prints the relative error of each parameter. Below "
       "$10^{-7}$ means the backward pass is right; a bug typically gives $10^{-2}$ or more.",
       "## 오차역전파 확인\n\n"
       "오차역전파는 빠르지만 틀리기 쉽고, 틀린 기울기로도 학습은 (나쁘게나마) 되기 때문에 버그가 "
       "숨는다. 해결책은 *기울기 확인*이다(5.7절): 느리지만 단순한 수치 미분으로 같은 기울기를 "
       "구해 비교한다. `gradient_check`는 float64로 몇 개의 샘플에서 이를 하고 매개변수마다의 "
       "상대 오차를 출력한다. $10^{-7}$ 미만이면 역전파가 맞고, 버그가 있으면 보통 $10^{-2}$ "
       "이상이 나온다."),
    code('''from dlfs.gradient import gradient_check

small = TwoLayerNet(784, 10, 10, weight_init_std=0.1, dtype=np.float64, seed=1)
errors = gradient_check(small, x_train[:3].astype(np.float64), t_train[:3])
for key, error in errors.items():
    print(f"{{gradcheck_line}}")''', gradcheck_line=raw("gradcheck_line")),
    md("**Exercise: the layers behind `network.gradient`.** Write the book's `Relu` and "
       "`Affine` layers (5.5.1 and 5.6.2): `forward` keeps what `backward` needs, `backward` "
       "returns the gradient with respect to the input and stores `dW` and `db`. The checker "
       "compares them with dlfs's layers and with a numerical gradient, and warns when a layer "
       "writes into the array it was given (the book's `Relu` does: `out = x.copy()` first).",
       "**연습 문제: `network.gradient` 뒤의 계층.** 책의 `Relu`와 `Affine` 계층(5.5.1절, "
       "5.6.2절)을 구현하자: `forward`는 `backward`에 필요한 것을 기억하고, `backward`는 입력에 "
       "대한 기울기를 반환하며 `dW`와 `db`를 저장한다. 검사기는 dlfs의 계층, 그리고 수치 미분과 "
       "비교하고, 받은 배열에 값을 덮어쓰는 계층에는 경고한다(책의 `Relu`가 그렇다: 먼저 "
       "`out = x.copy()`를 하자)."),
    code('''class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x, train_flg=True):
        # {{h1}}
        # {{h2}}
        raise NotImplementedError("{{todo}}")

    def backward(self, dout):
        # {{h3}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("self.mask = (x <= 0); the output is x with those entries set to 0",
               "self.mask = (x <= 0); 출력은 그 자리를 0으로 바꾼 x다"),
         h2=tr("do not write into x: work on a copy", "x에 덮어쓰지 말고 복사본으로 작업하자"),
         h3=tr("dout passes where x > 0 and is 0 where x <= 0 (again on a copy)",
               "dout은 x > 0인 곳에서는 그대로 흐르고 x <= 0인 곳에서는 0이다 (역시 복사본으로)"),
         todo=raw("todo")),
    check_cell("Relu"),
    code('''class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x, train_flg=True):
        # {{h1}}
        raise NotImplementedError("{{todo}}")

    def backward(self, dout):
        # {{h2}}
        # {{h3}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("out = x·W + b (np.dot); keep x for backward",
               "out = x·W + b (np.dot); backward를 위해 x를 기억한다"),
         h2=tr("dx = dout·Wᵀ, self.dW = xᵀ·dout, self.db = dout summed over the batch (axis=0)",
               "dx = dout·Wᵀ, self.dW = xᵀ·dout, self.db = 배치 방향(axis=0)으로 더한 dout"),
         h3=tr("return dx", "dx를 반환한다"),
         todo=raw("todo")),
    check_cell("Affine"),
]

# ----------------------------------------------------------------------------------------------
# Chapter 6
# ----------------------------------------------------------------------------------------------

OPTIMIZER_EXERCISES = [
    md("### Write the update rules yourself\n\n"
       "Each class below has the book's interface (`common/optimizer.py`): the constructor "
       "takes the hyperparameters with the book's defaults, and `update(params, grads)` "
       "changes every array of `params` **in place**, key by key. In place matters: the "
       "network's layers hold the very same arrays, so `params[key] = params[key] - …` would "
       "give the dictionary new arrays while the layers keep training the old ones.\n\n"
       "The checker runs your class beside dlfs's for more than 50 steps on several parameter "
       "shapes, with zero, tiny and constant gradients, and names the classic mistakes: state "
       "recreated on every call, ε outside the denominator, a missing bias correction.",
       "### 갱신 규칙 직접 구현하기\n\n"
       "아래 클래스는 모두 책의 인터페이스(`common/optimizer.py`)를 따른다: 생성자는 책의 기본값으로 "
       "하이퍼파라미터를 받고, `update(params, grads)`는 `params`의 배열을 키마다 **제자리에서** "
       "바꾼다. 제자리 갱신이 중요하다: 신경망의 계층이 바로 그 배열을 들고 있으므로 "
       "`params[key] = params[key] - …`라고 쓰면 딕셔너리만 새 배열을 받고 계층은 옛 배열로 학습을 "
       "계속한다.\n\n"
       "검사기는 여러분의 클래스를 dlfs의 클래스와 나란히 여러 모양의 매개변수에서 50단계 넘게 "
       "실행하고(기울기가 0, 아주 작은 값, 상수인 경우 포함), 흔한 실수를 짚어 준다: 호출할 때마다 "
       "상태를 새로 만드는 것, 분모 밖에 있는 ε, 빠진 편향 보정."),
    md("**SGD** (6.1.2): $W \\leftarrow W - \\eta \\frac{\\partial L}{\\partial W}$.",
       "**SGD** (6.1.2절): $W \\leftarrow W - \\eta \\frac{\\partial L}{\\partial W}$."),
    code('''class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        # {{h1}}
        # {{h2}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("for every key: W ← W − η·grads[key]", "키마다: W ← W − η·grads[key]"),
         h2=tr("in place: params[key] -= ..., never params[key] = ...",
               "제자리에서: params[key] -= ..., params[key] = ...는 안 된다"),
         todo=raw("todo")),
    check_cell("SGD"),
    md("**Momentum** (6.1.4): $v \\leftarrow \\alpha v - \\eta \\frac{\\partial L}{\\partial W}$, "
       "then $W \\leftarrow W + v$. The velocity $v$ is the optimizer's *state*: one array per "
       "parameter, zero at first, kept from call to call.",
       "**모멘텀** (6.1.4절): $v \\leftarrow \\alpha v - \\eta \\frac{\\partial L}{\\partial W}$, "
       "그다음 $W \\leftarrow W + v$. 속도 $v$는 옵티마이저의 *상태*다: 매개변수마다 배열 하나, "
       "처음에는 0, 호출이 바뀌어도 유지된다."),
    code('''class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        # {{h1}}
        # {{h2}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("on the first call only: self.v = {key: np.zeros_like(value) for each param}",
               "첫 호출에서만: self.v = {key: np.zeros_like(value)} (매개변수마다)"),
         h2=tr("v ← α·v − η·g, then W ← W + v (both in place)",
               "v ← α·v − η·g, 그다음 W ← W + v (둘 다 제자리에서)"),
         todo=raw("todo")),
    check_cell("Momentum"),
    md("**AdaGrad** (6.1.5): $h \\leftarrow h + g \\odot g$, "
       "$W \\leftarrow W - \\eta \\frac{g}{\\sqrt{h} + \\epsilon}$ with $\\epsilon = 10^{-7}$. "
       "Two bugs from real course notes: creating `h` on *every* call (then $h = g^2$ and the "
       "rule is $\\eta\\,\\mathrm{sign}(g)$, no adaptation at all), and adding $\\epsilon$ "
       "outside the parentheses (every weight drifts, and a zero gradient gives NaN).",
       "**AdaGrad** (6.1.5절): $h \\leftarrow h + g \\odot g$, "
       "$W \\leftarrow W - \\eta \\frac{g}{\\sqrt{h} + \\epsilon}$, $\\epsilon = 10^{-7}$. "
       "실제 강의 노트에 있던 버그 두 가지: `h`를 호출할 *때마다* 새로 만드는 것(그러면 "
       "$h = g^2$이라 규칙이 $\\eta\\,\\mathrm{sign}(g)$가 되어 전혀 적응하지 않는다), 그리고 "
       "$\\epsilon$을 괄호 밖에서 더하는 것(모든 가중치가 조금씩 밀리고, 기울기가 0이면 NaN이 "
       "된다)."),
    code('''class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        # {{h1}}
        # {{h2}}
        # {{h3}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("create h (zeros like each parameter) on the FIRST call only, then keep it",
               "h(매개변수마다 0 배열)는 첫 호출에서만 만들고 그 뒤로는 유지한다"),
         h2=tr("h ← h + g·g", "h ← h + g·g"),
         h3=tr("W ← W − η·g / (√h + 1e-7): the 1e-7 goes inside the parentheses",
               "W ← W − η·g / (√h + 1e-7): 1e-7은 괄호 안에 들어간다"),
         todo=raw("todo")),
    check_cell("AdaGrad"),
    md("**Adam** (6.1.6), in the book's form: $t \\leftarrow t + 1$, "
       "$\\eta_t = \\eta \\sqrt{1 - \\beta_2^t} / (1 - \\beta_1^t)$, "
       "$m \\leftarrow m + (1 - \\beta_1)(g - m)$, $v \\leftarrow v + (1 - \\beta_2)(g^2 - v)$, "
       "$W \\leftarrow W - \\eta_t\\, m / (\\sqrt{v} + \\epsilon)$. The factor in $\\eta_t$ is the "
       "*bias correction*: $m$ and $v$ start at 0, so without it the first steps are far too "
       "small. $t$ counts updates, once per call, not once per parameter.",
       "**Adam** (6.1.6절), 책의 형태: $t \\leftarrow t + 1$, "
       "$\\eta_t = \\eta \\sqrt{1 - \\beta_2^t} / (1 - \\beta_1^t)$, "
       "$m \\leftarrow m + (1 - \\beta_1)(g - m)$, $v \\leftarrow v + (1 - \\beta_2)(g^2 - v)$, "
       "$W \\leftarrow W - \\eta_t\\, m / (\\sqrt{v} + \\epsilon)$. $\\eta_t$의 계수가 *편향 "
       "보정*이다: $m$과 $v$가 0에서 시작하므로 이것이 없으면 처음 몇 단계가 너무 작다. $t$는 "
       "매개변수마다가 아니라 호출마다 한 번 센다."),
    code('''class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        # {{h1}}
        # {{h2}}
        # {{h3}}
        # {{h4}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("first call: m and v, zeros like each parameter",
               "첫 호출: m과 v를 매개변수마다 0 배열로 만든다"),
         h2=tr("self.iter += 1, once per update; lr_t = η·√(1 − β2^t) / (1 − β1^t)",
               "self.iter += 1 (갱신마다 한 번); lr_t = η·√(1 − β2^t) / (1 − β1^t)"),
         h3=tr("m ← m + (1 − β1)·(g − m); v ← v + (1 − β2)·(g² − v)",
               "m ← m + (1 − β1)·(g − m); v ← v + (1 − β2)·(g² − v)"),
         h4=tr("W ← W − lr_t·m / (√v + 1e-7)", "W ← W − lr_t·m / (√v + 1e-7)"),
         todo=raw("todo")),
    check_cell("Adam"),
]

CH06 = [
    md("# Chapter 6: training techniques\n\n"
       "Chapter 4's network learned with plain SGD, small random weights and nothing else. "
       "Chapter 6 is about what makes deeper networks train well and generalise: better update "
       "rules than SGD, the right scale for the initial weights, batch normalisation, and the "
       "remedies for overfitting (weight decay and dropout), then how to choose "
       "hyperparameters without fooling yourself. Every function comes from `dlfs`.\n\n"
       "Run the cells from top to bottom. Two cells have sliders (they need a running kernel "
       "with `ipywidgets`, which `make notebook` installs); elsewhere the figure shows the "
       "book's settings. After each update rule and each new layer, an **exercise** asks you "
       "to write it yourself, and the `check(...)` cell below it says whether it is right.",
       "# 6장: 학습 관련 기술들\n\n"
       "4장의 신경망은 평범한 SGD와 작은 무작위 가중치만으로 학습했다. 6장은 더 깊은 신경망이 잘 "
       "학습하고 처음 보는 데이터에서도 잘하게 만드는 기술을 다룬다: SGD보다 나은 갱신 규칙, "
       "가중치 초깃값의 알맞은 크기, 배치 정규화, 오버피팅의 대책(가중치 감소와 드롭아웃), 그리고 "
       "스스로를 속이지 않고 하이퍼파라미터를 고르는 법. 모든 함수는 `dlfs`에서 가져온다.\n\n"
       "셀을 위에서부터 차례로 실행하자. 슬라이더가 있는 셀이 두 개 있다(실행 중인 커널과 "
       "`ipywidgets`가 필요하고, `make notebook`이 설치해 준다). 나머지 그림은 책의 설정을 "
       "보여 준다. 갱신 규칙과 새 계층이 나올 때마다 **연습 문제**에서 직접 구현해 보고, 바로 "
       "아래의 `check(...)` 셀이 맞는지 알려 준다."),
    setup("ch06"),
    md("## 6.1 Update rules and their paths\n\n"
       "SGD steps straight against the gradient: $W \\leftarrow W - \\eta g$. That is the "
       "fastest way down only where the gradient points at the minimum. On "
       "$f(x, y) = x^2/20 + y^2$, a long, narrow valley, it does not: the slope is twenty "
       "times steeper across the valley ($y$) than along it ($x$), so SGD bounces from wall to "
       "wall and crawls along the floor (book figure 6-3). The other rules fix this in two "
       "ways:\n\n"
       "- **Momentum** (6.1.4): $v \\leftarrow \\alpha v - \\eta g$, $W \\leftarrow W + v$. "
       "Like a ball rolling downhill, the velocity averages the steps: the bounces across the "
       "valley cancel, the push along it adds up (figure 6-5).\n"
       "- **AdaGrad** (6.1.5): $h \\leftarrow h + g \\odot g$, "
       "$W \\leftarrow W - \\eta g / (\\sqrt{h} + \\epsilon)$. Each parameter gets its own "
       "learning rate, smaller for those that have had large gradients: the steep $y$ "
       "direction is damped at once (figure 6-6). Since $h$ only grows, the steps keep "
       "shrinking; RMSprop forgets old gradients to avoid stopping.\n"
       "- **Adam** (6.1.6) combines both: a moving average of $g$ (momentum) divided by the "
       "root of a moving average of $g^2$ (per-parameter scale), with a bias correction for "
       "the first steps (figure 6-7).\n\n"
       "Each panel runs 30 steps from $(-7, 2)$ with the book's learning rates. `Book*` "
       "classes are the book's exact code; `Momentum`, `Adam`, … equal `torch.optim`.",
       "## 6.1 갱신 규칙과 경로\n\n"
       "SGD는 기울기의 반대 방향으로 곧장 나아간다: $W \\leftarrow W - \\eta g$. 이것이 가장 빨리 "
       "내려가는 길인 것은 기울기가 최솟값을 가리킬 때뿐이다. 길고 좁은 골짜기인 "
       "$f(x, y) = x^2/20 + y^2$에서는 그렇지 않다: 골짜기를 가로지르는 방향($y$)의 경사가 골짜기를 "
       "따라가는 방향($x$)보다 20배 가파르기 때문에, SGD는 양쪽 벽 사이를 오가며 바닥을 따라서는 "
       "느릿느릿 나아간다(책의 그림 6-3). 다른 규칙은 이를 두 가지 방법으로 고친다:\n\n"
       "- **모멘텀** (6.1.4절): $v \\leftarrow \\alpha v - \\eta g$, $W \\leftarrow W + v$. "
       "비탈을 구르는 공처럼 속도가 걸음을 평균한다: 골짜기를 가로지르는 흔들림은 서로 상쇄되고, "
       "골짜기를 따라 미는 힘은 쌓인다(그림 6-5).\n"
       "- **AdaGrad** (6.1.5절): $h \\leftarrow h + g \\odot g$, "
       "$W \\leftarrow W - \\eta g / (\\sqrt{h} + \\epsilon)$. 매개변수마다 학습률이 따로 있고, "
       "기울기가 컸던 매개변수일수록 학습률이 작아진다: 가파른 $y$ 방향이 곧바로 누그러진다"
       "(그림 6-6). $h$는 커지기만 하므로 보폭이 계속 줄어든다. RMSprop은 오래된 기울기를 잊어서 "
       "멈추지 않게 한다.\n"
       "- **Adam** (6.1.6절)은 둘을 합친다: $g$의 이동 평균(모멘텀)을 $g^2$의 이동 평균의 "
       "제곱근(매개변수마다의 크기)으로 나누고, 처음 몇 단계를 위해 편향을 보정한다(그림 6-7).\n\n"
       "각 그림은 $(-7, 2)$에서 책의 학습률로 30단계를 간다. `Book*` 클래스는 책의 코드 그대로이고, "
       "`Momentum`, `Adam` 등은 `torch.optim`과 같다."),
    code('''from dlfs import optim


def f(x, y):
    return x**2 / 20 + y**2


def optimizer_path(name, lr, steps=30):
    point = {"x": np.array(-7.0), "y": np.array(2.0)}
    optimizer = optim.create(name, lr=lr)
    path = [(-7.0, 2.0)]
    for _ in range(steps):
        grads = {"x": point["x"] / 10, "y": 2 * point["y"]}  # {{c_grad}}
        optimizer.update(point, grads)  # {{c_inplace}}
        path.append((float(point["x"]), float(point["y"])))
    return np.array(path)


xs, ys = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))


def draw_path(ax, label, name, lr):
    path = optimizer_path(name, lr)
    ax.contour(xs, ys, f(xs, ys), levels=[0.05, 0.2, 0.5, 1, 2, 3.5, 5, 7], colors="#bbbbbb",
               linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=3)
    ax.plot(0, 0, "+", color="black", markersize=12)
    ax.set_xlim(-10, 10)
    ax.set_ylim(-3, 3)
    x_end, y_end = path[-1]
    ax.set_title(f"{{path_title}}")


BOOK = {"SGD": ("sgd", 0.95), "{{momentum}}": ("book-momentum", 0.1),
        "AdaGrad": ("book-adagrad", 1.5), "Adam": ("book-adam", 0.3)}
fig, axes = plt.subplots(2, 2, figsize=(12, 6))
for ax, (label, (name, lr)) in zip(axes.flat, BOOK.items()):
    draw_path(ax, label, name, lr)
fig.tight_layout()
plt.show()''', c_grad=tr("∇f = (x/10, 2y)", "∇f = (x/10, 2y)"),
         c_inplace=tr("the book's interface: changes point's arrays in place",
                      "책의 인터페이스: point의 배열을 제자리에서 바꾼다"),
         path_title=raw("path_title"), momentum=raw("momentum")),
    report_view("optimizer-paths", EXAMPLES["optimizer-paths"],
                tr("every rule at 13 learning rates", "갱신 규칙마다 학습률 13개")),
    md("**Try it with sliders.** Pick an update rule and move the learning rate. SGD "
       "zig-zags more as $\\eta$ grows and diverges above 1 (a step across the valley "
       "multiplies $y$ by $1 - 2\\eta$); Momentum overshoots and spirals at large $\\eta$; "
       "AdaGrad tolerates large rates because it divides them away. AdaDelta barely moves in 30 "
       "steps whatever the rate: its first steps are about $\\sqrt{\\epsilon}$ long by design "
       "(it has no learning rate in the paper; ours multiplies its step). Without a running "
       "kernel you see the figure for SGD at the book's rate.",
       "**슬라이더로 해 보기.** 갱신 규칙을 고르고 학습률을 움직여 보자. SGD는 $\\eta$가 클수록 "
       "더 지그재그로 움직이고 1을 넘으면 발산한다(골짜기를 가로지르는 한 걸음이 $y$에 "
       "$1 - 2\\eta$를 곱한다). 모멘텀은 $\\eta$가 크면 지나쳐서 소용돌이친다. AdaGrad는 학습률을 "
       "스스로 나눠 없애므로 큰 학습률도 견딘다. AdaDelta는 학습률과 상관없이 30단계 동안 거의 "
       "움직이지 않는다: 처음 보폭이 설계상 약 $\\sqrt{\\epsilon}$이다(논문에는 학습률이 없고, "
       "여기서는 보폭에 곱해진다). 실행 중인 커널이 없으면 책의 학습률로 그린 SGD 그림이 보인다."),
    code('''from IPython.display import display

try:
    import ipywidgets as widgets
except ImportError:  # {{c_no_widgets}}
    widgets = None

CHOICES = {**BOOK, "Nesterov": ("book-nesterov", 0.1), "RMSprop": ("book-rmsprop", 0.3),
           "AdaDelta": ("adadelta", 1.0)}


def path_figure(label, lr):
    fig, ax = plt.subplots(figsize=(8, 3.2))
    draw_path(ax, label, CHOICES[label][0], lr)
    plt.close(fig)  # {{c_close}}
    return fig


path_display = display(path_figure("SGD", 0.95), display_id=True)
if widgets is None:
    print("{{widget_note}}")
else:
    rule_menu = widgets.Dropdown(options=list(CHOICES), value="SGD",
                                 description="{{optimizer}}")
    lr_slider = widgets.FloatLogSlider(value=0.95, base=10, min=-3, max=1, step=0.01,
                                       description="{{lr}}", readout_format=".3g")

    def redraw_path(change=None):
        path_display.update(path_figure(rule_menu.value, lr_slider.value))

    def choose_rule(change):  # {{c_choose}}
        book_lr = CHOICES[change["new"]][1]
        if lr_slider.value == book_lr:
            redraw_path()
        else:
            lr_slider.value = book_lr

    rule_menu.observe(choose_rule, "value")
    lr_slider.observe(redraw_path, "value")
    display(widgets.HBox([rule_menu, lr_slider]))''',
         c_no_widgets=tr("without ipywidgets: the static figure only",
                         "ipywidgets가 없으면 정적인 그림만"),
         c_close=tr("shown once, through display() below", "아래 display()로 한 번만 보여 준다"),
         widget_note=raw("widget_note"), optimizer=raw("optimizer"),
         lr=both("words.learning_rate"),
         c_choose=tr("a new rule starts at its book learning rate",
                     "규칙을 바꾸면 책의 학습률에서 시작한다")),
    *OPTIMIZER_EXERCISES,
    md("## 6.1.8 Optimizers on real data\n\n"
       "A toy function is not a network. Here the four rules train the same 784-[100]×4-10 "
       "ReLU network with He initialisation (book figure 6-9), each from the same initial "
       "weights and on the same mini-batches of 128, so only the rule differs. Each step is "
       "the book's two lines, `grads = net.gradient(x_batch, t_batch)` and "
       "`optimizer.update(net.params, grads)`; the loss is recorded after the update, as "
       "`optimizer_compare_mnist.py` does, and smoothed as the book smooths it.\n\n"
       "What to look for: SGD learns slowest, the adaptive rules and Momentum fall faster. "
       "The book's caution holds: which rule wins depends on the problem and on its "
       "hyperparameters, and SGD with a tuned learning rate is often good enough.",
       "## 6.1.8 실제 데이터에서의 옵티마이저\n\n"
       "장난감 함수는 신경망이 아니다. 여기서는 네 규칙이 He 초깃값을 쓰는 같은 784-[100]×4-10 "
       "ReLU 신경망을 학습시킨다(책의 그림 6-9). 모두 같은 초기 가중치에서 같은 128개짜리 "
       "미니배치로 학습하므로 규칙만 다르다. 각 단계는 책의 두 줄, "
       "`grads = net.gradient(x_batch, t_batch)`와 `optimizer.update(net.params, grads)`다. "
       "손실은 `optimizer_compare_mnist.py`처럼 갱신한 뒤에 기록하고, 책처럼 평활화한다.\n\n"
       "볼 점: SGD가 가장 느리게 배우고, 적응적 규칙과 모멘텀이 더 빨리 내려간다. 책의 당부도 "
       "유효하다: 어느 규칙이 이기는지는 문제와 하이퍼파라미터에 따라 다르고, 학습률을 잘 고른 "
       "SGD로도 충분한 경우가 많다."),
    LOAD_DATA,
    code('''from dlfs import MultiLayerNet
from dlfs.experiments.base import smooth_curve

iters = 200 if QUICK else 2000
RULES = {"SGD": ("sgd", 0.01), "{{momentum}}": ("momentum", 0.01),
         "AdaGrad": ("adagrad", 0.01), "Adam": ("adam", 0.001)}
losses = {}
fig, ax = plt.subplots(figsize=(8, 4.5))
for (label, (name, lr)), marker in zip(RULES.items(), "oxsD"):
    net = MultiLayerNet(784, [100] * 4, 10, weight_init="he", seed=0)
    optimizer = optim.create(name, lr=lr)
    batch_rng = np.random.default_rng(1)  # {{c_batches}}
    losses[label] = []
    for _ in range(iters):
        batch = batch_rng.choice(len(t_train), 128)
        x_batch, t_batch = x_train[batch], t_train[batch]
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        losses[label].append(net.loss(x_batch, t_batch))
    ax.plot(smooth_curve(losses[label]), marker=marker, markevery=iters // 20, label=label)
    final = np.mean(losses[label][-100:])
    print(f"{{final_loss}}")
ax.set_xlabel("{{iteration}}")
ax.set_ylabel("{{smoothed_loss}}")
ax.set_ylim(0, 1.5)
ax.legend()
plt.show()''', momentum=raw("momentum"),
         c_batches=tr("the same mini-batches for every rule", "모든 규칙이 같은 미니배치를 본다"),
         final_loss=raw("final_loss"), iteration=both("words.iteration"),
         smoothed_loss=both("words.smoothed_loss")),
    report_view("optimizer-compare", EXAMPLES["optimizer-compare"],
                tr("seven rules (switch each curve on and off; over several seeds, a band or "
                   "one seed at a time)",
                   "일곱 규칙(곡선마다 켜고 끌 수 있고, 시드가 여럿이면 범위나 시드 하나씩)")),
    md("**Try.** Add `\"RMSprop\": (\"rmsprop\", 0.01)`, the book's rate: its first steps "
       "are about $10\\,\\eta\\,\\mathrm{sign}(g)$, and the loss jumps before it recovers "
       "(this is why the book leaves RMSprop commented out). Then try 0.001.",
       "**해 보기.** 책의 학습률로 `\"RMSprop\": (\"rmsprop\", 0.01)`을 추가해 보자: 처음 "
       "보폭이 약 $10\\,\\eta\\,\\mathrm{sign}(g)$라서 손실이 튀었다가 회복한다(책이 RMSprop을 "
       "주석으로 막아 둔 이유다). 그다음 0.001로 바꿔 보자."),
    md("## 6.2 Weight initialisation\n\n"
       "Why not start with all weights 0, or all equal? Then every unit of a layer computes "
       "the same thing and receives the same gradient, and they stay identical forever: the "
       "symmetry must be broken with random weights. But their *scale* decides whether the "
       "signal survives the layers. The experiment (book 6.2.2) feeds 1000 random inputs "
       "through 5 layers of 100 units and draws each layer's activations:\n\n"
       "- **std 1, sigmoid**: the activations pile up at 0 and 1, where the sigmoid is flat "
       "and its derivative near 0: the gradient shrinks layer by layer on the way back "
       "(*vanishing gradients*).\n"
       "- **std 0.01, sigmoid**: everything is near 0.5. Nothing vanishes, but 100 units "
       "that all say the same thing are worth one (*limited expressive power*).\n"
       "- **Xavier**, std $\\sqrt{1/n}$ with $n$ inputs per unit: the spread is kept through "
       "all layers (for sigmoid and tanh).\n"
       "- **ReLU** zeroes half of its inputs, so it needs twice the variance: **He**, std "
       "$\\sqrt{2/n}$ (6.2.3). With std 0.01 the ReLU activations collapse towards 0 layer "
       "by layer, and with Xavier they shrink more slowly.\n\n"
       "ReLU outputs exactly 0 for about half of the inputs; drawn as a bar, those zeros would "
       "dwarf the rest, so the ReLU histograms count them apart (the share is written in each "
       "panel) and draw only the positive values.",
       "## 6.2 가중치 초깃값\n\n"
       "가중치를 모두 0이나 모두 같은 값으로 시작하면 안 될까? 그러면 한 층의 모든 뉴런이 같은 "
       "값을 계산하고 같은 기울기를 받아서 영원히 똑같이 남는다: 무작위 가중치로 대칭을 깨야 "
       "한다. 하지만 그 *크기*가 신호가 층을 지나 살아남을지를 정한다. 실험(6.2.2절)은 무작위 "
       "입력 1000개를 100개 뉴런의 5층에 통과시키며 층마다 활성화값을 그린다:\n\n"
       "- **표준편차 1, 시그모이드**: 활성화값이 0과 1에 몰린다. 그곳에서 시그모이드는 평평하고 "
       "미분이 0에 가까워서, 역전파 때 기울기가 층을 지날수록 작아진다(*기울기 소실*).\n"
       "- **표준편차 0.01, 시그모이드**: 모두 0.5 근처다. 소실은 없지만, 모두 같은 값을 내는 "
       "뉴런 100개는 뉴런 1개와 다를 바 없다(*표현력 제한*).\n"
       "- **Xavier 초깃값**, 입력이 $n$개일 때 표준편차 $\\sqrt{1/n}$: 모든 층에서 분포의 폭이 "
       "유지된다(시그모이드와 tanh).\n"
       "- **ReLU**는 입력의 절반을 0으로 만드므로 분산이 두 배 필요하다: **He 초깃값**, 표준편차 "
       "$\\sqrt{2/n}$(6.2.3절). 표준편차 0.01이면 ReLU의 활성화값이 층마다 0 쪽으로 쪼그라들고, "
       "Xavier면 더 천천히 줄어든다.\n\n"
       "ReLU는 입력의 약 절반에서 정확히 0을 낸다. 이것을 막대로 그리면 나머지가 보이지 않으므로 "
       "ReLU의 히스토그램은 0을 따로 세고(비율을 그림마다 적었다) 양수만 그린다."),
    code('''from dlfs.functions import relu, sigmoid, tanh
from dlfs.init import weight_scale

ACTIVATIONS = {"{{sigmoid}}": sigmoid, "tanh": tanh, "ReLU": relu}
XAVIER, HE = weight_scale("xavier", 100, 100), weight_scale("he", 100, 100)


def layer_activations(activation, std, layers=5):
    layer_rng = np.random.default_rng(0)  # {{c_same}}
    x = layer_rng.standard_normal((1000, 100))
    outputs = []
    for _ in range(layers):
        w = layer_rng.standard_normal((100, 100)) * std
        x = ACTIVATIONS[activation](x @ w)  # {{c_nobias}}
        outputs.append(x)
    return outputs


def draw_histograms(axes, activation, std, name):
    low = -1 if activation == "tanh" else 0
    for layer, (ax, a) in enumerate(zip(axes, layer_activations(activation, std)), start=1):
        values = a.ravel()
        if activation == "ReLU":  # {{c_zeros}}
            ax.text(0.95, 0.9, f"{{zeros}}", transform=ax.transAxes, ha="right")
            values = values[values > 0]
        ax.hist(values, bins=30, range=(low, 1), color="C0")
        ax.set_title(f"{{layer}}")
        ax.set_yticks([])
    axes[0].set_ylabel(f"{{row}}")


for activation, inits in [("{{sigmoid}}", [("{{std_name}}", 1.0), ("{{std_name}}", 0.01),
                                            ("Xavier", XAVIER)]),
                          ("ReLU", [("{{std_name}}", 0.01), ("Xavier", XAVIER), ("He", HE)])]:
    fig, axes = plt.subplots(3, 5, figsize=(14, 6.5))
    for row, (init, std) in zip(axes, inits):
        draw_histograms(row, activation, std, init.format(std=std))
    fig.tight_layout()
    plt.show()''', sigmoid=both("words.sigmoid"),
         c_same=tr("the same inputs and weights for every setting",
                   "모든 설정에서 같은 입력과 가중치"),
         c_nobias=tr("no bias, as in the book's experiment", "책의 실험처럼 편향 없이"),
         c_zeros=tr("ReLU's exact zeros are counted apart", "ReLU의 정확한 0은 따로 센다"),
         zeros=raw("zeros"), layer=raw("words.layer"), row=raw("hist_row"),
         std_name=raw("std_name")),
    md("**Try it with sliders.** Move the weight scale and watch where the spread is kept; "
       "mark where Xavier (0.1) and He (≈ 0.141) sit for 100 inputs. For tanh the book's "
       "range (0, 1) would hide the negative half, so it is drawn from −1. Why do tanh and "
       "the sigmoid both prefer Xavier, and ReLU He?",
       "**슬라이더로 해 보기.** 가중치 스케일을 움직이며 분포의 폭이 어디서 유지되는지 보자. "
       "입력이 100개일 때 Xavier는 0.1, He는 약 0.141이다. tanh는 책의 범위 (0, 1)로는 음수 쪽 "
       "절반이 가려지므로 −1부터 그린다. tanh와 시그모이드는 왜 Xavier를, ReLU는 왜 He를 "
       "좋아할까?"),
    code('''def histogram_figure(activation, std):
    fig, axes = plt.subplots(1, 5, figsize=(14, 2.6))
    draw_histograms(axes, activation, std, f"{std:.3g}")
    fig.tight_layout()
    plt.close(fig)  # {{c_close}}
    return fig


histogram_display = display(histogram_figure("{{sigmoid}}", 1.0), display_id=True)
if widgets is None:
    print("{{widget_note}}")
else:
    activation_menu = widgets.Dropdown(options=list(ACTIVATIONS), value="{{sigmoid}}",
                                       description="{{activation}}")
    scale_slider = widgets.FloatLogSlider(value=1.0, base=10, min=-3, max=1, step=0.01,
                                          description="{{weight_std}}", readout_format=".3g")

    def redraw_histograms(change=None):
        histogram_display.update(histogram_figure(activation_menu.value, scale_slider.value))

    activation_menu.observe(redraw_histograms, "value")
    scale_slider.observe(redraw_histograms, "value")
    display(widgets.HBox([activation_menu, scale_slider]))''',
         c_close=tr("shown once, through display() below", "아래 display()로 한 번만 보여 준다"),
         sigmoid=both("words.sigmoid"), widget_note=raw("widget_note"),
         activation=raw("activation"), weight_std=raw("weight_std")),
    report_view("activation-histograms", EXAMPLES["activation-histograms"],
                tr("3 activations × 8 weight scales", "활성화 함수 3개 × 가중치 스케일 8개")),
    md("## 6.3 Batch normalisation\n\n"
       "Instead of hoping that the initial scale is right, batch normalisation *makes* every "
       "layer's input well spread: after each hidden Affine it normalises each unit over the "
       "mini-batch, $\\hat x = (x - \\mu_B)/\\sqrt{\\sigma_B^2 + \\epsilon}$, then lets the "
       "network choose the scale and shift it wants, $y = \\gamma \\hat x + \\beta$ ($\\gamma$ "
       "and $\\beta$ are learned like weights). At test time there is no batch to average "
       "over, so the layer uses running averages of $\\mu$ and $\\sigma^2$ kept during "
       "training.\n\n"
       "The book lists three gains: training is faster, it depends much less on the initial "
       "weights, and it overfits less. The figure shows the second one (book figure 6-18): "
       "a 6-layer network with a weight scale of 0.05, too small, trained on 1000 images. "
       "Without batch norm the signal fades through the layers and the network barely learns; "
       "with it, it learns at once.",
       "## 6.3 배치 정규화\n\n"
       "초깃값의 크기가 알맞기를 바라는 대신, 배치 정규화는 모든 층의 입력이 적당히 퍼지도록 "
       "*만든다*: 은닉층의 Affine 뒤마다 각 뉴런을 미니배치에 대해 정규화하고, "
       "$\\hat x = (x - \\mu_B)/\\sqrt{\\sigma_B^2 + \\epsilon}$, 신경망이 원하는 크기와 "
       "이동을 고르게 한다, $y = \\gamma \\hat x + \\beta$($\\gamma$와 $\\beta$는 가중치처럼 "
       "학습된다). 시험할 때는 평균을 낼 배치가 없으므로 훈련 중에 모아 둔 $\\mu$와 "
       "$\\sigma^2$의 이동 평균을 쓴다.\n\n"
       "책은 세 가지 이점을 든다: 학습이 빠르고, 초깃값에 크게 의존하지 않으며, 오버피팅을 "
       "억제한다. 그림은 두 번째를 보여 준다(책의 그림 6-18): 가중치 스케일이 0.05로 너무 작은 "
       "6층 신경망을 이미지 1000장으로 학습시킨다. 배치 정규화가 없으면 신호가 층을 지나며 "
       "사그라들어 거의 학습하지 못하고, 있으면 곧바로 학습한다."),
    code('''from dlfs import Trainer
from dlfs.optim import SGD

scale = 0.05
epochs = 3 if QUICK else 20
fig, ax = plt.subplots(figsize=(7, 4))
for use_batchnorm in (False, True):
    net = MultiLayerNet(784, [100] * 5, 10, weight_init=scale, use_batchnorm=use_batchnorm,
                        seed=0)
    history = Trainer(net, SGD(lr=0.01), x_train[:1000], t_train[:1000], x_train[:1000],
                      t_train[:1000], epochs=epochs, batch_size=100, seed=0).train()
    ax.plot(history.train_acc, "-" if use_batchnorm else "--",
            label="{{with_bn}}" if use_batchnorm else "{{without_bn}}")
ax.set_xlabel("{{epoch}}")
ax.set_ylabel("{{training_accuracy}}")
ax.set_ylim(0, 1)
ax.legend()
plt.show()''', with_bn=both("words.batch_norm"), without_bn=raw("without_bn"),
         epoch=both("words.epoch"), training_accuracy=both("words.training_accuracy")),
    report_view("batch-norm", EXAMPLES["batch-norm"],
                tr("its 16 weight scales", "가중치 스케일 16개")),
    md("**Try.** Set `scale = 1.0` and `scale = 0.001`. Which network is more sensitive to "
       "the initial scale?\n\n"
       "**Exercise: BatchNormalization.** Write the layer for 2-D input (N, D) in the book's "
       "interface (6.3.1): `forward(x, train_flg)` normalises with the batch statistics when "
       "training and with the running averages when not, and `backward(dout)` returns `dx` "
       "and stores `dgamma` and `dbeta`. The checker compares both passes with dlfs's layer "
       "and with numerical gradients; the book's choices (running variance starting at 0, "
       "$\\epsilon = 10^{-6}$) are a recognised variant.",
       "**해 보기.** `scale = 1.0`과 `scale = 0.001`을 시도해 보자. 어느 신경망이 초기 스케일에 "
       "더 민감한가?\n\n"
       "**연습 문제: BatchNormalization.** 2차원 입력 (N, D)을 받는 이 계층을 책의 "
       "인터페이스(6.3.1절)로 구현하자: `forward(x, train_flg)`는 훈련 중에는 배치의 통계량으로, "
       "아닐 때는 이동 평균으로 정규화하고, `backward(dout)`는 `dx`를 반환하며 `dgamma`와 "
       "`dbeta`를 저장한다. 검사기는 순전파와 역전파를 dlfs의 계층, 그리고 수치 미분과 비교한다. "
       "책의 선택(0에서 시작하는 이동 분산, $\\epsilon = 10^{-6}$)은 인정된 변형으로 판정된다."),
    code('''class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = None
        self.running_var = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        # {{h1}}
        # {{h2}}
        # {{h3}}
        # {{h4}}
        raise NotImplementedError("{{todo}}")

    def backward(self, dout):
        # {{h5}}
        # {{h6}}
        raise NotImplementedError("{{todo}}")''',
         h1=tr("training: mu = x.mean(axis=0), var = ((x - mu)**2).mean(axis=0)",
               "훈련: mu = x.mean(axis=0), var = ((x - mu)**2).mean(axis=0)"),
         h2=tr("    x_hat = (x - mu) / √(var + 1e-6); running ← momentum·running + "
               "(1 − momentum)·new",
               "    x_hat = (x - mu) / √(var + 1e-6); 이동 평균 ← momentum·이동 평균 + "
               "(1 − momentum)·새 값"),
         h3=tr("test (train_flg=False): the running mean and variance instead of the batch's",
               "시험 (train_flg=False): 배치 대신 이동 평균과 이동 분산을 쓴다"),
         h4=tr("return gamma·x_hat + beta, keeping x_hat and the std for backward",
               "gamma·x_hat + beta를 반환하고, backward를 위해 x_hat과 표준편차를 기억한다"),
         h5=tr("dbeta = dout.sum(axis=0); dgamma = (x_hat * dout).sum(axis=0)",
               "dbeta = dout.sum(axis=0), dgamma = (x_hat * dout).sum(axis=0)로 구한다"),
         h6=tr("dx = gamma / std · (dout − mean(dout) − x_hat·mean(dout·x_hat)), means over "
               "axis 0",
               "dx = gamma / std · (dout − mean(dout) − x_hat·mean(dout·x_hat)), 평균은 axis 0"),
         todo=raw("todo")),
    check_cell("BatchNormalization"),
    md("## 6.4 Overfitting, weight decay and dropout\n\n"
       "A network *overfits* when it fits the training data so closely that it learns their "
       "accidents instead of the pattern. The book provokes it with the two usual causes: a "
       "lot of capacity (7 layers of 100 units) and little data (300 images). On the left "
       "(book figure 6-20) training accuracy reaches 100 % while test accuracy stops far "
       "below: the gap is what memorising costs.\n\n"
       "**Weight decay** (6.4.2, figure 6-21) adds $\\frac{1}{2}\\lambda \\sum W^2$ to the "
       "loss, so large weights cost something and the gradient of every $W$ gains "
       "$\\lambda W$, pulling it towards 0. **Dropout** (6.4.3, figure 6-23) switches off a "
       "random share of the hidden units at every training step, so no unit can rely on "
       "another one being there; at test time all units work (the book scales their output by "
       "the share kept; frameworks divide during training instead, the same on average). Both "
       "narrow the gap at some cost in training accuracy.",
       "## 6.4 오버피팅, 가중치 감소, 드롭아웃\n\n"
       "신경망이 훈련 데이터에 너무 꼭 맞아서 패턴 대신 우연까지 배우면 *오버피팅*이다. 책은 흔한 "
       "두 원인으로 이를 일으킨다: 큰 표현력(뉴런 100개의 7층)과 적은 데이터(이미지 300장). "
       "왼쪽(책의 그림 6-20)에서 훈련 정확도는 100 %에 이르지만 시험 정확도는 한참 아래에서 "
       "멈춘다: 그 차이가 외우기의 대가다.\n\n"
       "**가중치 감소**(6.4.2절, 그림 6-21)는 손실에 $\\frac{1}{2}\\lambda \\sum W^2$를 더해 큰 "
       "가중치에 값을 치르게 한다: 모든 $W$의 기울기에 $\\lambda W$가 더해져 $W$를 0 쪽으로 "
       "당긴다. **드롭아웃**(6.4.3절, 그림 6-23)은 훈련 단계마다 은닉 뉴런의 일부를 무작위로 꺼서 "
       "어떤 뉴런도 다른 뉴런에 기댈 수 없게 한다. 시험할 때는 모든 뉴런을 쓴다(책은 출력에 남긴 "
       "비율을 곱하고, 프레임워크는 대신 훈련 중에 나눈다. 평균은 같다). 둘 다 훈련 정확도를 조금 "
       "희생해 차이를 줄인다."),
    code('''epochs = 20 if QUICK else 201
lam, ratio = 0.1, 0.2
variants = {"{{no_regularisation}}": {}, f"{{decay_title}}": {"weight_decay_lambda": lam},
            f"{{dropout_title}}": {"dropout_ratio": ratio}}
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, (title, extra) in zip(axes, variants.items()):
    net = MultiLayerNet(784, [100] * 6, 10, weight_init="he", seed=0, **extra)
    history = Trainer(net, SGD(lr=0.01), x_train[:300], t_train[:300], x_test[:2000],
                      t_test[:2000], epochs=epochs, batch_size=100, seed=0).train()
    ax.plot(history.train_acc, label="{{train}}")
    ax.plot(history.test_acc, "--", label="{{test}}")
    gap = round(history.train_acc[-1] - history.test_acc[-1], 2) + 0.0  # {{c_gap}}
    ax.set_title(f"{{gap_title}}")
    ax.set_xlabel("{{epoch}}")
    ax.set_ylabel("{{accuracy}}")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
plt.show()''', no_regularisation=both("words.no_regularisation"),
         decay_title=raw("decay_title"), dropout_title=raw("dropout_title"),
         train=both("words.train"), test=both("words.test"), gap_title=raw("gap_title"),
         c_gap=tr("+ 0.0 turns -0.0 into 0.0", "+ 0.0은 -0.0을 0.0으로 바꾼다"),
         epoch=both("words.epoch"), accuracy=both("words.accuracy")),
    report_view("weight-decay", EXAMPLES["weight-decay"],
                tr("λ over a small grid, with the gap at each", "작은 격자의 λ 값마다 차이와 함께")),
    report_view("dropout", EXAMPLES["dropout"],
                tr("the dropout ratio over a small grid, with the gap at each",
                   "작은 격자의 드롭아웃 비율마다 차이와 함께")),
    md("**Try.** Change $\\lambda$ to 0.01 or 1.0 and the dropout ratio to 0.5. Which closes "
       "the gap, and what does it cost in training accuracy? What does 3000 training images "
       "instead of 300 do to the gap without any remedy?\n\n"
       "**Exercise: Dropout.** Write the book's `Dropout` (6.4.3). The checker accepts the "
       "book's scaling at test time and the frameworks' inverted dropout, and says which one "
       "you wrote.",
       "**해 보기.** $\\lambda$를 0.01이나 1.0으로, 드롭아웃 비율을 0.5로 바꿔 보자. 무엇이 "
       "차이를 줄이고, 훈련 정확도는 얼마나 희생되는가? 아무 대책 없이 훈련 이미지를 300장 대신 "
       "3000장 쓰면 차이는 어떻게 되는가?\n\n"
       "**연습 문제: Dropout.** 책의 `Dropout`(6.4.3절)을 구현하자. 검사기는 시험 때 출력에 "
       "곱하는 책의 방식과 프레임워크의 역 드롭아웃을 모두 인정하고, 어느 쪽을 썼는지 알려 준다."),
    code('''class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None
        self.rng = np.random.default_rng()  # {{c_rng}}

    def forward(self, x, train_flg=True):
        # {{h1}}
        # {{h2}}
        raise NotImplementedError("{{todo}}")

    def backward(self, dout):
        # {{h3}}
        raise NotImplementedError("{{todo}}")''',
         c_rng=tr("the book uses np.random.rand; a Generator is the modern way",
                  "책은 np.random.rand를 쓴다; Generator가 요즘 방식이다"),
         h1=tr("training: a new mask every call, self.mask = self.rng.random(x.shape) > "
               "self.dropout_ratio; return x * self.mask",
               "훈련: 호출마다 새 마스크, self.mask = self.rng.random(x.shape) > "
               "self.dropout_ratio; x * self.mask를 반환한다"),
         h2=tr("test: the book returns x * (1.0 - self.dropout_ratio)",
               "시험: 책은 x * (1.0 - self.dropout_ratio)를 반환한다"),
         h3=tr("dout flows only through the units kept: dout * self.mask",
               "dout은 남긴 뉴런으로만 흐른다: dout * self.mask"),
         todo=raw("todo")),
    check_cell("Dropout"),
    md("## 6.5 Validation data and hyperparameter search\n\n"
       "Learning rate, weight decay, layer sizes: hyperparameters are chosen by trying. But "
       "if you judge them on the test data, you tune the network to the test set, and its test "
       "accuracy no longer tells how it does on new data. So a third set is split off the "
       "training data, the *validation data*, and hyperparameters are judged on it alone; the "
       "test data are used once, at the very end (book 6.5.1).\n\n"
       "The book searches at random, and on a log scale, because a learning rate of 0.001 and "
       "0.01 differ as much as 0.01 and 0.1: $\\eta = 10^{U(-6, -2)}$ and "
       "$\\lambda = 10^{U(-8, -4)}$, a few epochs each, then narrows the ranges around the "
       "best. `dlfs.search` does this on Optuna (`dlfs search` on the command line adds other "
       "samplers, pruning and parallel workers). The figure shows each trial's validation "
       "accuracy against its learning rate: the good ones gather at the top of the range, "
       "while weight decay barely matters in this range.",
       "## 6.5 검증 데이터와 하이퍼파라미터 탐색\n\n"
       "학습률, 가중치 감소, 층의 크기 같은 하이퍼파라미터는 시도해 보며 고른다. 하지만 시험 "
       "데이터로 평가하면 신경망을 시험 데이터에 맞추게 되어, 시험 정확도가 더는 새 데이터에서의 "
       "성능을 말해 주지 못한다. 그래서 훈련 데이터에서 세 번째 데이터, *검증 데이터*를 떼어 내 "
       "하이퍼파라미터는 그것으로만 평가하고, 시험 데이터는 맨 마지막에 한 번만 쓴다(6.5.1절).\n\n"
       "책은 로그 스케일에서 무작위로 탐색한다. 학습률 0.001과 0.01의 차이는 0.01과 0.1의 차이만큼 "
       "크기 때문이다: $\\eta = 10^{U(-6, -2)}$, $\\lambda = 10^{U(-8, -4)}$로 각각 몇 에폭씩 "
       "학습하고, 좋은 값 주변으로 범위를 좁힌다. `dlfs.search`는 이를 Optuna로 한다(명령줄의 "
       "`dlfs search`는 다른 샘플러, 가지치기, 병렬 작업자를 더한다). 그림은 각 시도의 검증 "
       "정확도를 학습률에 대해 그린다: 좋은 시도는 범위의 위쪽 끝에 모이고, 이 범위에서 가중치 "
       "감소는 거의 상관이 없다."),
    code('''import tempfile

from dlfs import search
from dlfs.data import Data, train_val_split

(x_tr, t_tr), (x_val, t_val) = train_val_split(x_train[:500], t_train[:500], 0.2, seed=0)
print(f"{{split_line}}")

# {{c_data}}
data = Data(dataset.lower(), dataset, "notebook", x_train, t_train, x_test, t_test)
config = search.load_config(n_trials=6 if QUICK else 30, epochs=5 if QUICK else 50)
with tempfile.TemporaryDirectory() as folder:
    storage = search.default_storage(folder)
    search.search(config, "notebook", storage, data=data)
    summary = search.summarize(search.open_study(config, "notebook", storage))

by_number = {trial["number"]: trial for trial in summary["trials"]}
for rank, number in enumerate(summary["ranking"][:5], start=1):
    trial = by_number[number]
    lr, lam = trial["params"]["lr"], trial["params"]["weight_decay_lambda"]
    print(f"{{best_line}}")

done = [trial for trial in summary["trials"] if trial["state"] == "COMPLETE"]
fig, ax = plt.subplots(figsize=(7, 4))
points = ax.scatter([t["params"]["lr"] for t in done], [t["value"] for t in done],
                    c=[np.log10(t["params"]["weight_decay_lambda"]) for t in done],
                    cmap="viridis")
fig.colorbar(points, label="{{lambda_label}}")
ax.set_xscale("log")
ax.set_xlabel("{{learning_rate}}")
ax.set_ylabel("{{validation_accuracy}}")
ax.set_ylim(0, 1)
plt.show()''', split_line=raw("split_line"),
         c_data=tr("the search is handed its data: the arrays loaded above",
                   "탐색에는 데이터를 넘겨준다: 위에서 읽은 배열"),
         best_line=raw("best_line"), lambda_label=raw("lambda_label"),
         learning_rate=both("words.learning_rate"),
         validation_accuracy=both("words.validation_accuracy")),
    md("**Try.** Narrow the space with `space={\"lr\": {\"low\": 1e-3, \"high\": 1e-1}}` in "
       "`load_config`, or try `sampler=\"tpe\"`. Does the best validation accuracy improve? "
       "Only when you are done choosing, measure the best setting once on the test data.",
       "**해 보기.** `load_config`에 `space={\"lr\": {\"low\": 1e-3, \"high\": 1e-1}}`를 주어 "
       "범위를 좁히거나 `sampler=\"tpe\"`를 써 보자. 최고 검증 정확도가 좋아지는가? 고르기를 "
       "모두 마친 뒤에만 가장 좋은 설정을 시험 데이터로 한 번 재자."),
]

NOTEBOOKS = {"ch04.ipynb": CH04, "ch06.ipynb": CH06}


def notebook(sections, lang: str):
    """The notebook without outputs: what a learner who clears the outputs sees."""
    cells = []
    for kind, content in sections:
        if kind == "md":
            cells.append(nbformat.v4.new_markdown_cell(content[lang]))
        else:
            cells.append(nbformat.v4.new_code_cell(content[lang]))
            if kind == "setup" and lang == "ko":
                cells.append(nbformat.v4.new_code_cell(KOREAN_FONT))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = metadata()
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{lang}-{index:02d}"
    return nb


def metadata() -> dict:
    return {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def sources() -> dict[Path, nbformat.NotebookNode]:
    """Every notebook's path and its cells without outputs."""
    return {HERE / lang / name: notebook(sections, lang)
            for lang in LANGS for name, sections in NOTEBOOKS.items()}


# ----------------------------------------------------------------------------------------------
# Executing and tidying
# ----------------------------------------------------------------------------------------------

class BuildError(RuntimeError):
    """A notebook whose outputs cannot be stored as they are."""


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNEL_FILE = re.compile(r"/[^\s'\"]*?ipykernel_\d+/\d+\.py")  # the file a cell runs as
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}")
FONT_CACHE = "Matplotlib is building the font cache; this may take a moment.\n"
KERNEL_CONFIG = """\
c.InlineBackend.figure_formats = {"png"}
c.InlineBackend.print_figure_kwargs = {"bbox_inches": "tight", "metadata": {"Software": None}}
"""


def kernel_environment(folder: Path, quick: bool) -> dict[str, str]:
    """The kernel's environment: one BLAS thread (the same sums in the same order on every
    machine, and no oversubscription of the cores), a fixed hash seed, PNGs without the
    matplotlib version, and every file it writes (IPython's, temporary ones) under ``folder``."""
    profile = folder / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG, encoding="utf-8")
    (folder / "tmp").mkdir()
    env = {key: value for key, value in os.environ.items() if key != "DLFS_QUICK"}
    env.update(IPYTHONDIR=str(folder / "ipython"), TMPDIR=str(folder / "tmp"),
               PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    if quick:
        env["DLFS_QUICK"] = "1"
    return env


def execute(nb: nbformat.NotebookNode, quick: bool = False, name: str = "notebook",
            folder: Path | None = None, timeout: int = 1800) -> nbformat.NotebookNode:
    """A copy of ``nb`` run top to bottom in a fresh kernel, its outputs tidied for storing.
    The kernel works in ``folder`` (an empty folder; a temporary one when None)."""
    if folder is None:
        with tempfile.TemporaryDirectory() as temporary:
            return execute(nb, quick, name, Path(temporary), timeout)
    nb = copy.deepcopy(nb)
    (folder / "work").mkdir(parents=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(folder / "work")}})
    client.execute(env=kernel_environment(folder, quick))
    return tidy(nb, name)


def tidy(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """Drops what differs from run to run; refuses what should not be stored."""
    nb.metadata = metadata()  # no widget state, no kernel version
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            where = f"{name}, cell {index}"
            if output.output_type == "error":
                raise BuildError(f"{where} raised {output.ename}: {output.evalue}")
            if output.output_type == "stream":
                output.text = output.text.replace(FONT_CACHE, "")
                if output.name == "stderr" and output.text:
                    raise BuildError(f"{where} wrote to stderr (a warning?): "
                                     f"{output.text.strip()[:300]}")
                if not output.text:
                    continue
                output.text = KERNEL_FILE.sub("<cell>", output.text)
            else:
                data = output.get("data", {})
                if WIDGET_VIEW in data:
                    continue  # the sliders: live only in a running kernel
                for mime in [m for m in data if m.startswith("text/")]:
                    data[mime] = KERNEL_FILE.sub("<cell>", data[mime])
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/"))
            if ADDRESS.search(text):
                raise BuildError(f"{where} shows a memory address, different on every run: "
                                 f"{ADDRESS.search(text).group()}; end the cell with "
                                 f"plt.show() or assign the value")
            if (outputs and output.output_type == "stream" and outputs[-1].output_type == "stream"
                    and outputs[-1].name == output.name):
                outputs[-1].text += output.text  # one block, however the kernel flushed it
            else:
                outputs.append(output)
        cell.outputs = outputs
    return nb


def render(quick: bool = False, only=None) -> dict[Path, str]:
    """Every notebook's path and its executed JSON text (``only``: the paths wanted)."""
    out = {}
    for path, nb in sources().items():
        if only is None or path in only:
            name = f"{path.parent.name}/{path.name}"
            out[path] = nbformat.writes(execute(nb, quick=quick, name=name)) + "\n"
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="LANG/CHAPTER",
                        help="notebooks to build, e.g. ko/ch06 (default: all)")
    args = parser.parse_args(argv)
    paths = list(sources())
    wanted = {f"{p.parent.name}/{p.stem}": p for p in paths}
    for name in args.names:
        if name.removesuffix(".ipynb") not in wanted:
            parser.error(f"no notebook {name!r}; choose from {', '.join(wanted)}")
    only = {wanted[n.removesuffix(".ipynb")] for n in args.names} or None
    quick = os.environ.get("DLFS_QUICK") == "1"
    if quick:
        print("DLFS_QUICK=1: executing with small settings; do not commit these outputs")
    for path in paths:
        if only is not None and path not in only:
            continue
        text = render(quick=quick, only={path})[path]
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print("wrote", path.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
