"""Báo cáo (a period's key figures, the DOCX/XLSX of ``loa report``) and Kênh (channels)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.reports.files import kpis_for, write_report
from bot.reports.kpis import STATUS_VI, Kpis, parse_period
from bot.web import texts
from bot.web.site import Forbidden, site_of

__all__ = ["routes"]

_MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _periods(year: int) -> list[tuple[str, str]]:
    return [
        (f"{year}-Q{q}", f"Quý {['I', 'II', 'III', 'IV'][q - 1]}/{year}") for q in range(1, 5)
    ] + [
        (f"{year}-H1", f"6 tháng đầu năm {year}"),
        (f"{year}-H2", f"6 tháng cuối năm {year}"),
        (str(year), f"Cả năm {year}"),
    ]


async def report_page(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    now = datetime.now(site.tz)
    default = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    key = request.query_params.get("ky", default)[:10]
    try:
        period = parse_period(key)
        if period.kind == "month":
            raise ValueError(texts.PERIOD_BAD)
    except ValueError:
        return site.page(
            "report.html",
            sess,
            status=400,
            kpis=None,
            error=texts.PERIOD_BAD,
            periods=_periods(now.year - 1) + _periods(now.year),
            selected=key,
        )
    kpis: Kpis = await run_in_threadpool(kpis_for, site.loa, period.key)
    return site.page(
        "report.html",
        sess,
        kpis=kpis,
        status_vi=STATUS_VI,
        error="",
        periods=_periods(now.year - 1) + _periods(now.year),
        selected=period.key,
    )


async def report_download(request: Request) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    fmt = request.query_params.get("dinh-dang", "docx")
    try:
        period = parse_period(request.query_params.get("ky", "")[:10])
    except ValueError:
        return site.refusal(sess, texts.PERIOD_BAD, 400)
    if fmt not in _MEDIA:
        return site.refusal(sess, texts.PERIOD_BAD, 400)

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="loa-web-report-") as tmp:
            path, _ = write_report(
                site.loa, period.key, fmt, Path(tmp) / f"bao-cao-cchc-{period.key}.{fmt}"
            )
            assert path is not None
            return path.read_bytes()

    content = await run_in_threadpool(build)
    name = f"bao-cao-cchc-{period.key}.{fmt}"
    return Response(
        content,
        media_type=_MEDIA[fmt],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


async def channels_page(
    request: Request,
    *,
    message: str = "",
    ok: bool = True,
    status: int = 200,
    confirm: str = "",
) -> Response:
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    loa = site.loa

    def rows() -> list[dict[str, object]]:
        out = []
        for name, cfg in loa.settings.parsed_channels.items():
            out.append(
                {
                    "name": name,
                    "type": cfg.type,
                    "enabled": cfg.enabled,
                    "after": cfg.after,
                    "status": loa.store.channels.channel_status(name),
                }
            )
        return out

    return site.page(
        "channels.html",
        sess,
        status=status,
        channels=await run_in_threadpool(rows),
        message=message,
        ok=ok,
        confirm=confirm,
        now=datetime.now(site.tz),
    )


async def channel_action(request: Request) -> Response:
    """Pause or resume a channel: the call ``/pause`` and ``/resume`` make in Telegram."""
    site = site_of(request)
    sess = await site.session(request)
    if sess is None:
        return site.login_redirect(request)
    try:
        form = await site.form(request, sess, "admin")
    except Forbidden as exc:
        return site.refusal(sess, str(exc))
    name = request.path_params["name"]
    if name not in site.loa.settings.parsed_channels:
        return site.refusal(sess, texts.UNKNOWN_CHANNEL.format(name=name), 404)
    if request.path_params["action"] not in ("tam-dung", "tiep-tuc"):
        return site.refusal(sess, texts.NOT_FOUND, 404)
    paused = request.path_params["action"] == "tam-dung"
    if paused and form.get("xac-nhan") != "1":
        return await channels_page(request, confirm=name)  # pausing asks for confirmation
    actor = sess.user.actor
    await run_in_threadpool(
        site.loa.store.channels.set_paused,
        name,
        paused,
        actor,
        texts.PAUSE_REASON.format(actor=sess.user.display) if paused else None,
    )
    return await channels_page(
        request,
        message=(
            f"Đã tạm dừng kênh {site.channel_labels.get(name, name)}."
            if paused
            else f"Đã cho kênh {site.channel_labels.get(name, name)} đăng trở lại."
        ),
    )


routes = [
    Route("/bao-cao", report_page, methods=["GET"]),
    Route("/bao-cao/tai", report_download, methods=["GET"]),
    Route("/kenh", channels_page, methods=["GET"]),
    Route("/kenh/{name:str}/{action:str}", channel_action, methods=["POST"]),
]
