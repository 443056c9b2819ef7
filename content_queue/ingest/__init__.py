"""Ingestion: an article file (.docx, .md, .html, folder or .zip) in, a clean ``ParsedArticle`` out.

The stages run one way (see ``pipeline``): ``sources`` (open the file, folder or zip) ->
``convert`` (docx, Markdown, HTML) -> ``clean`` (sanitise, NFC, title and metadata, bounds) ->
``media`` (pictures checked and copied) -> ``assemble`` (metadata checked, the article built).
``worker`` is the process boundary: the service and the bot parse through ``parse_isolated``, in a
child process with memory and CPU limits. ``inbox`` watches the inbox folder and moves files; it
never parses. Every refusal is an ``IngestRefusal`` with a Vietnamese reason and hint.
"""

from __future__ import annotations

from content_queue.ingest.assemble import parse_publish_at
from content_queue.ingest.clean import sanitise_html
from content_queue.ingest.pipeline import parse_file
from content_queue.ingest.rules import IngestLimits, IngestRefusal, printable_name
from content_queue.ingest.worker import internal_refusal, parse_isolated

__all__ = [
    "IngestLimits",
    "IngestRefusal",
    "internal_refusal",
    "parse_file",
    "parse_isolated",
    "parse_publish_at",
    "printable_name",
    "sanitise_html",
]
