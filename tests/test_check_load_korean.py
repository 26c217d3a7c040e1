"""Korean messages of dlfs check: particles chosen for the word before them (no "dx이(가)"),
by the rule of dlfs.catalogue.final_consonant, and one register (합니다체)."""

import re
import shutil

import pytest

from dlfs import catalogue
from dlfs.catalogue import FOLDER, Catalogue, final_consonant, particle
from dlfs.check.result import CheckError

# word -> (은/는, 이/가, 을/를, 으로/로) as a Korean learner reads it
READINGS = {
    "Adam": "은이을으로",          # 아담
    "Momentum": "은이을으로",      # 모멘텀
    "Affine": "은이을으로",        # 아핀 (a silent e)
    "RMSprop": "은이을으로",       # …프롭
    "Dropout": "은이을으로",       # 드롭아웃
    "BatchNormalization": "은이을으로",
    "AdaGrad": "는가를로",         # 아다그라드
    "SGD": "는가를로",             # 에스지디
    "dx": "는가를로",              # 디엑스
    "dW": "는가를로",              # 디더블유
    "Relu": "는가를로",            # 렐루
    "Sigmoid": "는가를로",         # 시그모이드
    "SoftmaxWithLoss": "는가를로",  # …로스
    "gradient_descent": "는가를로",  # …디센트
    "lr": "은이을로",              # 엘알: ㄹ takes 로
    "W1": "은이을로",              # 더블유일
    "10": "은이을으로",            # 십
    "100": "은이을으로",           # 백
    "3": "은이을으로",             # 삼
    "0.5": "는가를로",             # 영점오
    "1e-08": "은이을로",           # …팔
    "'dx'": "는가를로",            # quotes passed over
    "update()": "는가를로",        # brackets passed over
    "학습률": "은이을로",
    "값": "은이을으로",
    "파일": "은이을로",
    "계층": "은이을으로",
}


@pytest.mark.parametrize("word", sorted(READINGS))
def test_particles_follow_the_words_last_sound_as_a_korean_learner_reads_it(word):
    want = READINGS[word]
    got = (particle(word, "은는") + particle(word, "이가") + particle(word, "을를")
           + particle(word, "으로로"))
    assert got == want, (word, final_consonant(word))


def test_a_template_chooses_the_particle_for_each_value(tmp_path):
    for path in FOLDER.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    with open(tmp_path / "ko.toml", "a", encoding="utf-8") as file:
        file.write('\n[test-particles]\n'
                   'line = "{a:이가} {b:을를} {c:과와} {d!r:은는} {e:으로로}"\n')
    with open(tmp_path / "en.toml", "a", encoding="utf-8") as file:
        file.write('\n[test-particles]\nline = "{a} {b} {c} {d!r} {e}"\n')
    texts = Catalogue(tmp_path)
    assert texts.text("test-particles.line", "ko", a="dx", b="Adam", c="SGD", d="lr",
                      e="파일") == "dx가 Adam을 SGD와 'lr'은 파일로"
    assert texts.text("test-particles.line", "ko", a="값", b="relu", c="W1", d="x",
                      e="10") == "값이 relu를 W1과 'x'는 10으로"
    assert texts.text("test-particles.line", "en", a="dx", b="Adam", c="SGD", d="lr",
                      e="x") == "dx Adam SGD 'lr' x"


def test_no_message_of_dlfs_check_writes_both_particles():
    for key in sorted(catalogue.CATALOGUE.keys("ko")):
        if key.startswith("check."):
            template = catalogue.CATALOGUE.template(key, "ko")
            assert not re.search(r"\((은|는|이|가|을|를|과|와|으)\)", template), key


def test_the_usage_errors_name_their_word_with_the_right_particle():
    assert "'dx'가 정의되어 있지 않습니다" in CheckError(
        "check.missing_name", file="a.py", name="dx", names="f").text("ko")
    assert "'Adam'이 정의되어 있지 않습니다" in CheckError(
        "check.missing_name", file="a.py", name="Adam", names="f").text("ko")
    assert "인수 lr, momentum이 필요합니다" in CheckError(
        "check.needs_arguments", name="Momentum", arguments="lr, momentum").text("ko")
    text = CheckError("check.timeout", file="a.py", name="relu", seconds=3).text("ko")
    assert "relu가 3초 안에" in text


def test_check_messages_speak_one_register_hamnida():
    """Every sentence of a [check] message ends as 합니다체 does (…니다, …세요, …습니까),
    not in the plain 해라체 (…한다, …이다)."""
    for key in sorted(catalogue.CATALOGUE.keys("ko")):
        if key.startswith("check."):
            template = catalogue.CATALOGUE.template(key, "ko")
            plain = re.findall(r"[가-힣]*(?:[한된인있없었았했이준킨친른는]|하)다(?=[.,\s]|$)",
                               template)
            assert not plain, (key, plain)
