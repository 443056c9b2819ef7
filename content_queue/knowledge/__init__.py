"""The assistant's knowledge: the procedure catalogue, saved question–answer pairs and the
published articles it may cite (``store.knowledge``)."""

from __future__ import annotations

from content_queue.knowledge.catalogue import (
    FIELDS,
    CatalogueError,
    ProcedureRow,
    parse_catalogue,
    read_catalogue,
)
from content_queue.knowledge.queries import (
    CitableArticle,
    ImportResult,
    Knowledge,
    Procedure,
    SavedAnswer,
    procedure_as_dict,
)

__all__ = [
    "FIELDS",
    "CatalogueError",
    "CitableArticle",
    "ImportResult",
    "Knowledge",
    "Procedure",
    "ProcedureRow",
    "SavedAnswer",
    "parse_catalogue",
    "procedure_as_dict",
    "read_catalogue",
]
