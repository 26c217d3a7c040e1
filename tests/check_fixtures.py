"""What the dlfs.check tests share: loading a learner's file from tests/fixtures, finding the
line a mistake is marked on, and checking that every diagnosis speaks both languages."""

import importlib.util
import re
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
HANGUL = re.compile("[\uac00-\ud7a3]")


def load_fixture(folder: str, name: str):
    """tests/fixtures/FOLDER/NAME.py as a module (registered, so inspect finds its source)."""
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}",
                                                  FIXTURES / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def marked_line(module, header: str, code: str) -> int:
    """The first line after the one starting with ``header`` (``def softmax(``, ``class
    Affine``) in ``module``'s source that is marked `# <- CODE`."""
    lines = Path(module.__file__).read_text(encoding="utf-8").splitlines()
    start = next(n for n, text in enumerate(lines, 1) if text.startswith(header))
    return next(n for n, text in enumerate(lines, 1) if n > start and f"# <- {code}" in text)


def assert_bilingual(result):
    """Every diagnosis of ``result`` has an English message without Hangul and a Korean one
    with it."""
    for found in result.diagnoses:
        assert set(found.message) == {"en", "ko"}
        assert found.message["en"] and not HANGUL.search(found.message["en"])
        assert HANGUL.search(found.message["ko"]), found.message["ko"]
