"""Demo helpers for the assistant: the sample procedure catalogue shipped with Loa."""

from __future__ import annotations

from pathlib import Path

from content_queue.knowledge import ImportResult, read_catalogue
from content_queue.models import Actor
from content_queue.store import Store

__all__ = ["SAMPLE_CATALOGUE", "import_sample_catalogue"]

# ~20 procedures of a provincial Department of Foreign Affairs; every entry says it is sample data.
SAMPLE_CATALOGUE = Path(__file__).parents[1] / "demo_articles" / "thu_tuc_mau.json"


def import_sample_catalogue(store: Store, actor: Actor | None = None) -> ImportResult:
    """Import the sample catalogue (what `make demo` uses; same as `loa knowledge import`)."""
    return store.knowledge.import_procedures(
        read_catalogue(SAMPLE_CATALOGUE), actor or Actor("demo", "cli")
    )
