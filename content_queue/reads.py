"""The read-only figures of the plan, its calendar and its queue (``store.reads``): the KPI rows
(:mod:`content_queue.kpi_reads`), the plan page's year (:mod:`content_queue.plan_reads`) and the
calendar and pending queue (:mod:`content_queue.calendar_reads`)."""

from __future__ import annotations

from content_queue.calendar_reads import CalendarReads
from content_queue.kpi_reads import KpiReads
from content_queue.plan_reads import PlanReads

__all__ = ["Reads"]


class Reads(KpiReads, PlanReads, CalendarReads):
    """Every read behind a figure, a chart or a calendar: snapshots, never a write."""
