"""The content store: every state change is one transaction that also writes the audit log.

One class over one engine, its queries grouped by subject, one module each: articles (the editorial
workflow), deliveries (claim, record, lease, doubt), channel state, alerts, cards, reach samples;
the plan's figures are read by :mod:`content_queue.kpi_reads`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from content_queue.alerts import AlertQueries
from content_queue.articles import ArticleQueries, ChannelPlan, SubmitResult
from content_queue.cards import CardQueries
from content_queue.cases import Cases
from content_queue.channel_status import ChannelStateQueries, ChannelStatus
from content_queue.citizens import CitizenData
from content_queue.comments import Comments
from content_queue.db import open_database
from content_queue.deliveries import DeliveryQueries, claim_statement
from content_queue.knowledge import Knowledge
from content_queue.reach import ReachQueries
from content_queue.store_core import utcnow

__all__ = ["ChannelPlan", "ChannelStatus", "Store", "SubmitResult", "claim_statement", "utcnow"]


class Store(
    ArticleQueries, DeliveryQueries, ChannelStateQueries, AlertQueries, CardQueries, ReachQueries
):
    """Articles, deliveries, channel state, alerts, cards and reach over one SQLAlchemy engine."""

    @classmethod
    def open(cls, url: str, base_dir: Path | None = None) -> Store:
        """A store on a migrated database."""
        return cls(open_database(url, base_dir))

    @cached_property
    def comments(self) -> Comments:
        """Comments under the Page's posts (the citizens' register)."""
        return Comments(self.engine)

    @cached_property
    def cases(self) -> Cases:
        """Petitions and takedown requests (the citizens' register)."""
        return Cases(self.engine)

    @cached_property
    def citizens(self) -> CitizenData:
        """Citizens' webhook events, questions and replies (issue 23)."""
        return CitizenData(self.engine)

    @cached_property
    def knowledge(self) -> Knowledge:
        """The assistant's knowledge: procedure catalogue, saved answers, citable articles."""
        return Knowledge(self.engine)
