"""results.json files a learner received from someone else: the report escapes every field and
key, embeds only PNG images of sane size from inside the experiment's own folder, and skips a bad
results.json with a warning; dlfs show refuses the same files in one line. Every hazard is real
(a FIFO, a symbolic link to /dev/zero, a sparse 21 MB file) and every call is bounded in time."""

import json
import os
import re
import struct
import threading
import zlib
from html.parser import HTMLParser

import pytest

from dlfs.catalogue import LANGS
from dlfs.cli import main
from dlfs.cli.results import show_text
from dlfs.records import (
    MAX_FIGURE_BYTES,
    MAX_RECORD_BYTES,
    RecordError,
    load_record,
    read_png,
    with_runs,
)
from dlfs.report import build_report

HANGUL = re.compile("[\uac00-\ud7a3]")
PAYLOAD = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
GOOD, BAD = "numerical-diff", "gradient-field"  # two experiments of the registry


def _within(seconds, function, *args, **kwargs):
    """function(*args, **kwargs), failing the test when it has not returned after
    ``seconds`` (a FIFO read without a writer blocks for ever; the thread is a daemon)."""
    outcome = {}

    def call():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _png() -> bytes:
    """A valid 1×1 grey PNG image."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def _record(name, text="text", figures=None):
    return {"name": name, "chapter": 4, "section": "4.3", "seed": 0, "quick": False,
            "wall_time_s": 1.0, "parameters": {"h": 0.0001}, "overrides": {},
            "figures": {lang: {"png": f"figure.{lang}.png"} for lang in LANGS}
            if figures is None else figures,
            "dataset": None,
            "verdict": {"held": True, "judged": True, "detail": {lang: text for lang in LANGS}},
            **{part: {lang: text for lang in LANGS} for part in ("title", "claim", "about")}}


def _write(out, record, name=None):
    folder = out / (name or record["name"])
    folder.mkdir(parents=True, exist_ok=True)
    for files in record["figures"].values():
        if isinstance(files, dict) and isinstance(files.get("png"), str) \
                and "/" not in files["png"]:
            target = folder / files["png"]
            # Never write through a hazard the test planted (a symlink to /etc/passwd, a FIFO):
            # as root, writing through the link would overwrite the system's file.
            if not target.exists() and not target.is_symlink():
                target.write_bytes(_png())
    (folder / "results.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


class _Markup(HTMLParser):
    """Every start tag of a page and the names of its attributes."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)


# -- every field escaped -------------------------------------------------------------------------


def _crafted():
    """A well-formed record carrying PAYLOAD in every string value and every free key."""
    file_name = '"><img src=x onerror=alert(3)>.png'  # a file name holds no "/"
    record = _record(PAYLOAD, text=PAYLOAD, figures={PAYLOAD: {"png": file_name}})
    record.update(section=PAYLOAD, parameters={PAYLOAD: PAYLOAD}, overrides={PAYLOAD: PAYLOAD},
                  dataset={"name": PAYLOAD, "title": PAYLOAD, "source": PAYLOAD})
    for part in ("title", "claim", "about"):
        record[part][PAYLOAD] = PAYLOAD
    record["verdict"]["detail"][PAYLOAD] = PAYLOAD
    return record


def test_a_crafted_results_json_puts_no_markup_of_its_own_on_the_page(tmp_path):
    _write(tmp_path, _crafted(), name=GOOD)
    skipped = []
    page, count = _within(10, build_report, tmp_path, on_skip=skipped.append)
    assert count == 1 and skipped == []
    markup = _Markup()
    markup.feed(page)
    assert markup.tags.count("script") == 1  # the page's own
    assert markup.tags.count("img") == 1  # the crafted figure, a real PNG, and nothing more
    assert not {name for name in markup.attributes if name.startswith("on")}
    assert "x" not in {value for tag, value in re.findall(r"<(img) src=(\w+)", page)}
    assert page.count('lang="&quot;&gt;&lt;script&gt;') >= 1  # the figure's key, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_show_prints_no_terminal_control_sequence_from_a_crafted_file():
    record = _record(GOOD, text="\x1b]0;owned\x07\x1b[2J text\x9b31m")
    record["parameters"] = {"h\x1b[31m": "\x1b[0m"}
    for lang in LANGS:
        shown = show_text(record, lang)
        assert not [char for char in shown if ord(char) < 32 and char != "\n"
                    or 127 <= ord(char) < 160], shown


# -- figures: inside the folder, regular, PNG, of sane size --------------------------------------


def _figure_hazard(kind, folder):
    """The name results.json gives a figure that must not be read; makes the file it names."""
    if kind == "parent":
        return "../../../../../../../../etc/passwd"
    if kind == "absolute":
        return "/etc/passwd"
    if kind == "dev-zero":
        return "/dev/zero"
    if kind in ("symlink-out", "symlink-zero"):
        # Out of the folder: a file beside it that holds what /etc/passwd would (never the real
        # one: a bug that wrote through the link would then overwrite the system's file).
        secret = folder.parent / "passwd"
        secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
        (folder / "figure.en.png").symlink_to(secret if kind == "symlink-out" else "/dev/zero")
    elif kind == "fifo":
        os.mkfifo(folder / "figure.en.png")
    elif kind == "not-png":
        (folder / "figure.en.png").write_text("root:x:0:0:root:/root:/bin/bash\n")
    elif kind == "huge":
        with open(folder / "figure.en.png", "wb") as handle:  # sparse: costs no disk
            handle.write(_png())
            handle.truncate(MAX_FIGURE_BYTES + 1)
    elif kind == "folder":
        (folder / "figure.en.png").mkdir()
    return "figure.en.png"


FIGURE_HAZARDS = ["parent", "absolute", "dev-zero", "symlink-out", "symlink-zero", "fifo",
                  "not-png", "huge", "folder"]


@pytest.mark.parametrize("kind", FIGURE_HAZARDS)
def test_a_figure_outside_its_folder_or_not_a_sane_png_is_left_out_with_a_warning(kind,
                                                                                   tmp_path):
    folder = tmp_path / GOOD
    folder.mkdir()
    name = _figure_hazard(kind, folder)
    _write(tmp_path, _record(GOOD, figures={"en": {"png": name}, "ko": {"png": "figure.ko.png"}}))
    skipped = []
    page, count = _within(10, build_report, tmp_path, on_skip=skipped.append)
    assert count == 1
    assert [error.what for error in skipped] == ["figure"]
    assert name in str(skipped[0])
    markup = _Markup()
    markup.feed(page)
    assert markup.tags.count("img") == 1  # the Korean figure, a real PNG
    assert "cm9vd" not in page  # base64 of "root": /etc/passwd is not embedded


def test_a_symlink_to_a_png_inside_the_folder_is_embedded(tmp_path):
    folder = tmp_path / GOOD
    folder.mkdir()
    (folder / "real.png").write_bytes(_png())
    (folder / "figure.en.png").symlink_to("real.png")
    _write(tmp_path, _record(GOOD))
    skipped = []
    page, _ = _within(10, build_report, tmp_path, on_skip=skipped.append)
    assert skipped == [] and page.count("data:image/png;base64,") == 2


# -- bad results.json: skipped by the report, refused by show ------------------------------------


def _bad_record(kind, folder):
    """Makes folder/results.json bad in the way ``kind`` says; returns a word its error names."""
    path = folder / "results.json"
    good = _record(BAD)
    if kind == "invalid-json":
        path.write_text('{"name": "gradient-field", ', encoding="utf-8")
        return "JSON"
    if kind == "not-utf8":
        path.write_bytes(b'{"name": "\xff\xfe"}')
        return "UTF-8"
    if kind == "list":
        path.write_text("[1, 2]", encoding="utf-8")
        return "JSON object"
    if kind == "missing-verdict":
        del good["verdict"]
        path.write_text(json.dumps(good), encoding="utf-8")
        return "verdict"
    if kind == "seed-text":
        good["seed"] = "<script>alert(1)</script>"
        path.write_text(json.dumps(good), encoding="utf-8")
        return "seed"
    if kind == "korean-title-missing":
        del good["title"]["ko"]
        path.write_text(json.dumps(good), encoding="utf-8")
        return "title.ko"
    if kind == "figure-name-number":
        good["figures"]["en"]["png"] = 5
        path.write_text(json.dumps(good), encoding="utf-8")
        return "figures"
    if kind == "deeply-nested":
        path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
        return "JSON"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-zero":
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        with open(path, "wb") as handle:  # sparse: costs no disk
            handle.write(b'{"name": "gradient-field"}')
            handle.truncate(MAX_RECORD_BYTES + 1)
        return str(MAX_RECORD_BYTES)
    return "results.json"


BAD_RECORDS = ["invalid-json", "not-utf8", "list", "missing-verdict", "seed-text",
               "korean-title-missing", "figure-name-number", "deeply-nested", "folder", "fifo",
               "symlink-zero", "huge"]


@pytest.fixture
def lab_with_one_bad(tmp_path):
    """A results folder holding one good result (GOOD) and BAD's folder, results.json to make."""
    _write(tmp_path, _record(GOOD))
    (tmp_path / BAD).mkdir()
    return tmp_path


@pytest.mark.parametrize("kind", BAD_RECORDS)
def test_one_bad_results_json_is_named_and_skipped_and_the_report_keeps_the_rest(
        kind, lab_with_one_bad):
    named = _bad_record(kind, lab_with_one_bad / BAD)
    skipped = []
    page, count = _within(10, build_report, lab_with_one_bad, on_skip=skipped.append)
    assert count == 1 and f'<section id="{GOOD}">' in page
    assert [error.what for error in skipped] == ["record"]
    message = str(skipped[0])
    assert str(lab_with_one_bad / BAD / "results.json") in message and named in message


@pytest.mark.parametrize("kind", BAD_RECORDS)
def test_show_refuses_a_bad_results_json_in_one_line(kind, lab_with_one_bad, capsys):
    named = _bad_record(kind, lab_with_one_bad / BAD)
    capsys.readouterr()
    assert _within(10, main, ["show", BAD, "--out", str(lab_with_one_bad)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("dlfs: error: ")
    assert str(lab_with_one_bad / BAD / "results.json") in err and named in err


@pytest.mark.parametrize("kind", ["seed-text", "fifo", "huge"])
def test_dlfs_report_warns_in_korean_on_stderr_and_writes_the_rest(kind, lab_with_one_bad,
                                                                   capsys):
    _bad_record(kind, lab_with_one_bad / BAD)
    capsys.readouterr()
    assert _within(10, main, ["report", "--out", str(lab_with_one_bad), "--lang", "ko"]) == 0
    captured = capsys.readouterr()
    warnings = captured.err.splitlines()
    assert len(warnings) == 1 and HANGUL.search(warnings[0])
    assert str(lab_with_one_bad / BAD / "results.json") in warnings[0]
    assert "실험 1개의 보고서" in captured.out
    page = (lab_with_one_bad / "report.html").read_text(encoding="utf-8")
    assert f'<section id="{GOOD}">' in page and f'<section id="{BAD}">' not in page


def test_show_refuses_a_bad_results_json_in_korean(lab_with_one_bad, capsys):
    _bad_record("korean-title-missing", lab_with_one_bad / BAD)
    capsys.readouterr()
    assert main(["show", BAD, "--out", str(lab_with_one_bad), "--lang", "ko"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and HANGUL.search(err) and "title.ko" in err


def test_load_record_returns_a_good_record_as_written(tmp_path):
    record = with_runs(_record(GOOD))  # with the fields of several seeds, as dlfs run writes
    folder = _write(tmp_path, record)
    assert load_record(folder / "results.json") == record


def test_load_record_names_the_path_and_the_field_in_its_error(tmp_path):
    record = _record(GOOD)
    record["wall_time_s"] = "fast"
    folder = _write(tmp_path, record)
    with pytest.raises(RecordError, match=r"results\.json: wall_time_s should be a number"):
        load_record(folder / "results.json")


# -- passwords -----------------------------------------------------------------------------------

STORAGE = "postgresql://lab:s3cr&t@pw@127.0.0.1:5432/dlfs"


def test_a_storage_password_in_a_record_is_masked_on_the_page_and_in_show(tmp_path):
    record = _record(GOOD, text=f"study stored in {STORAGE}")
    record["parameters"] = {"storage": STORAGE}
    _write(tmp_path, record)
    page, _ = _within(10, build_report, tmp_path)
    for shown in (page, *(show_text(record, lang) for lang in LANGS)):
        assert "s3cr" not in shown and "@pw@" not in shown
        assert "postgresql://lab:***@127.0.0.1:5432/dlfs" in shown


def test_read_png_reads_a_png_inside_the_folder_and_refuses_one_beside_it(tmp_path):
    folder = tmp_path / GOOD
    folder.mkdir()
    (folder / "figure.png").write_bytes(_png())
    (tmp_path / "beside.png").write_bytes(_png())
    assert read_png(folder, "figure.png") == _png()
    with pytest.raises(RecordError, match="outside its experiment's folder") as refused:
        read_png(folder, "../beside.png")
    assert refused.value.what == "figure"
