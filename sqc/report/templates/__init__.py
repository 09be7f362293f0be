"""Jinja2 templates of the pages' markup (``*.html`` here; autoescape on, so data strings are escaped).

Only jinja2 is needed (no Panel), so the index page renders wherever ``sqc.pipeline`` runs."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
ASSET_DIR = TEMPLATE_DIR.parent / "assets"


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(name: str, **values) -> str:
    """The template ``name`` (e.g. ``"summary.html"``) filled with ``values``."""
    return _environment().get_template(name).render(**values)


@lru_cache(maxsize=None)
def stylesheet(name: str) -> str:
    """The text of the stylesheet ``sqc/report/assets/<name>``."""
    return (ASSET_DIR / name).read_text(encoding="utf-8")


__all__ = ["render", "stylesheet"]
