"""Reads for the web page's figure cache: when may the figures have changed.

The figures themselves are the report's (``bot.reports.kpis.compute_kpis``): the plan page,
/bao-cao, /stats and the DOCX/XLSX all read that one function.
"""

from __future__ import annotations

import sqlalchemy as sa

from content_queue.store_core import StoreCore
from content_queue.tables import audit_log, reach_samples

__all__ = ["PlanReads"]


class PlanReads(StoreCore):
    """The change mark of the web page's figure cache (part of ``store.reads``)."""

    def change_mark(self) -> tuple[int, int]:
        """A value that changes whenever anything the web page's figures read may have changed.

        Every state change of an article or a delivery writes the audit log in the same transaction,
        and reach only ever grows by inserted samples, so the newest ids of the two tables move
        with any change. Two primary-key look-ups: cheap enough to ask on every page view.
        """
        with self.read() as conn:
            return (
                int(conn.execute(sa.select(sa.func.max(audit_log.c.id))).scalar() or 0),
                int(conn.execute(sa.select(sa.func.max(reach_samples.c.id))).scalar() or 0),
            )
