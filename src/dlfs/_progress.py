"""A tqdm progress bar when tqdm is installed and wanted; otherwise None (tqdm is optional)."""

from __future__ import annotations


def progress_bar(total, enabled: bool, **kwargs):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, leave=False, **kwargs)
