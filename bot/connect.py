"""``loa channels connect NAME``: the first thing a real department does for each platform."""

from __future__ import annotations

from collections.abc import Callable

import typer
from rich.console import Console

from bot.context import Loa
from channels import facebook_page, wordpress, zalo_oa
from content_queue.models import Actor

__all__ = ["connect_channel"]

Ask = Callable[[str], str]


def connect_channel(loa: Loa, name: str, console: Console, ask: Ask | None = None) -> None:
    """Walk an admin through connecting one channel; credentials are stored durably."""
    ask_visible = ask or (lambda prompt: typer.prompt(prompt, hide_input=False))
    # A token typed or pasted at the prompt is not echoed (nor left in the terminal's scrollback).
    ask_secret = ask or (lambda prompt: typer.prompt(prompt, hide_input=True))
    settings = loa.settings.parsed_channels[name]
    store = loa.token_store(name)
    if isinstance(settings, facebook_page.FacebookSettings):
        short = ask_secret("Dán mã truy cập người dùng (user access token) ngắn hạn lấy từ Graph API Explorer")
        long_token, expires_in = facebook_page.exchange_user_token(settings, short.strip(), loa.session)
        pages = facebook_page.page_tokens(settings, long_token, loa.session)
        page = next((p for p in pages if p["id"] == settings.page_id), None)
        if page is None:
            names = ", ".join(f"{p['name']} ({p['id']})" for p in pages) or "không có trang nào"
            raise ValueError(f"Tài khoản này không quản lý trang {settings.page_id}; các trang: {names}.")
        store.save({"page_token": page["access_token"]})
        console.print(f"Đã kết nối trang “{page['name']}” ({page['id']}); quyền: "
                      f"{', '.join(page.get('tasks') or [])}.")
    elif isinstance(settings, zalo_oa.ZaloOASettings):
        url, verifier, state = zalo_oa.consent_link(settings)
        console.print("Mở liên kết sau bằng tài khoản quản trị Zalo OA và đồng ý cấp quyền:\n" + url,
                      markup=False, highlight=False, soft_wrap=True)
        pasted = ask_visible("Dán lại nguyên địa chỉ trang được chuyển tới "
                             f"(bắt đầu bằng {settings.redirect_uri})")
        info = zalo_oa.exchange_code(settings, pasted.strip(), verifier, store, loa.session,
                                     expected_state=state)
        console.print(f"Đã kết nối Zalo OA: {info}")
    elif isinstance(settings, wordpress.WordPressSettings):
        info = wordpress.describe_account(settings, loa.session)
        console.print(f"Mật khẩu ứng dụng hợp lệ: {info}")
    else:
        console.print(f"Kênh {name} ({settings.type}) không cần kết nối tài khoản.")
        return
    loa.store.set_paused(name, False, Actor("connect", "cli"))
    loa.notifier.resolve(f"auth:{name}")
