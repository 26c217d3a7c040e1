"""mkdocs hooks of the documentation site (mkdocs.yml: hooks).

Before anything reads the pages, ``on_config`` stages the site's sources in a temporary folder
(gen_pages.stage: docs/ plus the generated pages of every experiment and notebook, in English
and Korean) and points ``docs_dir`` there, so the i18n plugin sees the generated pages as
ordinary NAME.LANG.md files and the build writes nothing into the checkout. Set
DLFS_DOCS_RESULTS=RESULTS_DIR to draw the experiment figures from that saved lab run instead of
the committed ones.

The navigation's ``experiments/*.md`` and ``notebooks/*.md`` become the generated pages (their
titles come from each page's heading, so they follow the language), and a page of
OPTIONAL_PAGES that is not written yet is left out of it.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.plugins import event_priority

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
for folder in (ROOT / "src", DOCS):  # this checkout's dlfs and the generators beside us
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import gen_pages  # noqa: E402

log = logging.getLogger("mkdocs.hooks.dlfs")
OPTIONAL_PAGES = {"check.md"}  # docs/check.md: "Check your own code", written with dlfs.check


def _expand(nav, staged: Path, generated: dict[str, list[str]]):
    """``nav`` with its placeholders (experiments/*.md, notebooks/*.md) replaced by the
    generated pages, and the OPTIONAL_PAGES that ``staged`` lacks left out."""
    expanded = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), = item.items()
            if isinstance(value, list):
                value = _expand(value, staged, generated)
            elif isinstance(value, str) and value.endswith("/*.md"):
                value = generated[value.removesuffix("/*.md")]
            elif isinstance(value, str) and value in OPTIONAL_PAGES and \
                    not (staged / value).exists():
                log.info(f"{value} is not written yet: '{title}' left out of the navigation")
                continue
            expanded.append({title: value})
        else:
            expanded.append(item)
    return expanded


@event_priority(50)  # before the i18n plugin (priority -100) reads the configuration
def on_config(config):
    results = os.environ.get("DLFS_DOCS_RESULTS") or None
    staged = Path(tempfile.mkdtemp(prefix="dlfs-docs-"))
    atexit.register(shutil.rmtree, staged, ignore_errors=True)
    gen_pages.stage(staged, results)
    log.info(f"site sources staged in {staged}" +
             (f", figures drawn from {results}" if results else ""))
    # mkdocs serve watches docs_dir; the sources are these
    config.watch.extend(str(path) for path in
                        (DOCS, ROOT / "notebooks", ROOT / "src" / "dlfs" / "catalogue"))
    config.docs_dir = str(staged)
    if config.nav:
        config.nav = _expand(config.nav, staged, gen_pages.generated_nav())
    return config

