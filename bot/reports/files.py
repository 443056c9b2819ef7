"""``loa report`` and ``/report``: the plan's figures for a period, in the chosen format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.context import Loa
from bot.reports.docx_report import ReportAgency, write_docx
from bot.reports.kpis import Kpis, compute_kpis, parse_period
from bot.reports.tables import write_json, write_markdown, write_xlsx

__all__ = ["kpis_for", "write_report"]

FORMATS = ("docx", "xlsx", "md", "json")


def kpis_for(loa: Loa, period_text: str) -> Kpis:
    """The KPIs of a period, computed from the database."""
    s = loa.settings
    return compute_kpis(
        loa.store,
        parse_period(period_text),
        monthly_minimum=s.plan.monthly_website_minimum,
        website_channels=s.plan.website_channels,
        topics=loa.topics,
        tz=s.schedule.timezone,
        now=datetime.now(UTC),
    )


def write_report(
    loa: Loa, period_text: str, fmt: str, output: Path | None = None
) -> tuple[Path | None, str | None]:
    """Write the report file (docx/xlsx) and return its path, or return the md/json text."""
    if fmt not in FORMATS:
        raise ValueError(f"Định dạng “{fmt}” không hỗ trợ; chọn một trong: {', '.join(FORMATS)}.")
    kpis = kpis_for(loa, period_text)
    if fmt in ("md", "json"):
        text = write_markdown(kpis) if fmt == "md" else write_json(kpis)
        if output:
            output.write_text(text, "utf-8")
            return output, None
        return None, text
    path = output or Path(f"bao-cao-cchc-{kpis.period.key}.{fmt}")
    if fmt == "xlsx":
        return write_xlsx(kpis, path), None
    s = loa.settings
    agency = ReportAgency(
        name=s.agency.name,
        parent=s.agency.parent,
        place=s.agency.place,
        number_prefix=f"/BC-{s.agency.short_name}",
        signer_title=s.report.signer_title,
        signer_name=s.report.signer_name,
        recipients=list(s.report.recipients),
    )
    return write_docx(kpis, path, agency=agency), None
