"""The content store: one door to the database, composed of named sub-stores.

Every state change is one transaction that also writes the audit log. Each subject is one
sub-store over the same shared transactions (:class:`content_queue.store_core.Transactions`), one
module each; ``bot/`` reaches the database only as ``store.<subject>.<query>(…)``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from content_queue.alerts import AlertQueries
from content_queue.articles import ArticleQueries, ChannelPlan, SubmitResult
from content_queue.broadcasts import Broadcasts
from content_queue.cards import CardQueries
from content_queue.cases import Cases
from content_queue.channel_status import ChannelStateQueries, ChannelStatus
from content_queue.channel_tokens import Tokens
from content_queue.citizens import CitizenData
from content_queue.comments import Comments
from content_queue.db import open_database
from content_queue.deliveries import DeliveryQueries, claim_statement
from content_queue.follow_ups import FollowUps
from content_queue.followers import Followers
from content_queue.knowledge import Knowledge
from content_queue.login_attempts import LoginAttempts
from content_queue.media_refs import MediaRefs
from content_queue.preparations import Preparations
from content_queue.reach import ReachQueries
from content_queue.reads import Reads
from content_queue.store_core import AuditLog, Transactions, utcnow
from content_queue.users import Users

__all__ = ["ChannelPlan", "ChannelStatus", "Store", "SubmitResult", "claim_statement", "utcnow"]


class Store:
    """The sub-stores over one SQLAlchemy engine (one write queue, one read snapshot source)."""

    def __init__(self, engine: Engine):
        self.engine = engine  # for content_queue and tests only; bot/ never touches it
        t = Transactions(engine)
        self.articles = ArticleQueries(t)
        self.deliveries = DeliveryQueries(t)
        self.channels = ChannelStateQueries(t)
        self.alerts = AlertQueries(t)
        self.cards = CardQueries(t)
        self.reach = ReachQueries(t)
        self.broadcasts = Broadcasts(t)
        self.followers = Followers(t)
        self.preparations = Preparations(t)
        self.follow_ups = FollowUps(t)
        self.users = Users(t)
        self.reads = Reads(t)
        self.tokens = Tokens(t)
        self.audit = AuditLog(t)
        self.knowledge = Knowledge(t)
        self.login_attempts = LoginAttempts(engine)
        self.media_refs = MediaRefs(engine)
        self.citizens = CitizenData(t)  # webhook events, questions, replies (issue 23)
        self.comments = Comments(engine)  # comments under the Page's posts (issue 24)
        self.cases = Cases(engine)  # petitions and takedown requests (issue 24)

    @classmethod
    def open(cls, url: str, base_dir: Path | None = None) -> Store:
        """A store on a migrated database."""
        return cls(open_database(url, base_dir))

    def dispose(self) -> None:
        """Close the engine's connections (the end of a process or a test)."""
        self.engine.dispose()
