"""The ``loa`` command line. Errors are printed as one readable line, never a traceback."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.broadcasts import broadcasts_app
from bot.cli.cases import cases_app, takedown_app
from bot.cli.citizens import citizens_app
from bot.cli.knowledge import ask, knowledge_app
from bot.context import Loa
from bot.run import build_dispatcher
from bot.settings import ConfigError, load_settings
from bot.wording import delivery_state_vi
from channels.base import ChannelError
from channels.comments import CommentsUnreadable
from content_queue.credential_cipher import SecretKeyError
from content_queue.models import Actor, Article
from content_queue.workflow import STATE_VI, IllegalTransition, NotFound

__all__ = ["app", "main"]

app = typer.Typer(
    help="Loa — đăng bài CCHC lên website, Facebook và Zalo theo lịch, sau khi được duyệt.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
channels_app = typer.Typer(
    help="Channel health, pause/resume and connecting accounts.", invoke_without_command=True
)
reach_app = typer.Typer(help="Reach collection.", no_args_is_help=True)
secrets_app = typer.Typer(
    help="The key that encrypts stored channel credentials.", no_args_is_help=True
)
app.add_typer(channels_app, name="channels")
app.add_typer(reach_app, name="reach")
app.add_typer(broadcasts_app, name="broadcasts")
app.add_typer(citizens_app, name="citizens")
app.add_typer(secrets_app, name="secrets")
app.add_typer(takedown_app, name="takedown")
app.add_typer(cases_app, name="cases")
users_app = typer.Typer(
    help="Accounts of the web page (viewer, editor, admin).", no_args_is_help=True
)
app.add_typer(users_app, name="users")
app.add_typer(knowledge_app, name="knowledge")
app.command("ask")(ask)

console = Console()
err = Console(stderr=True)

_state: dict[str, Any] = {"config": None}


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="config.toml path (else LOA_CONFIG, else ./config.toml)"
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    _state["config"] = config
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _loa() -> Loa:
    from bot.logmask import install_secret_mask

    settings = load_settings(_state["config"])
    install_secret_mask(settings)
    return Loa(settings)


def _actor(by: str | None = None) -> Actor:
    return Actor(by or getpass.getuser(), "cli")


def _local(dt: datetime | None, loa: Loa) -> str:
    return dt.astimezone(loa.settings.schedule.tz).strftime("%Y-%m-%d %H:%M") if dt else "—"


def _print_articles(loa: Loa, items: list[Article], as_json: bool) -> None:
    if as_json:
        print(json.dumps([a.as_json() for a in items], ensure_ascii=False, indent=2))
        return
    t = Table("ID", "Tiêu đề", "Chủ đề", "Trạng thái", "Lịch đăng", "Kênh")
    for a in items:
        chans = ", ".join(
            f"{d.channel}: {delivery_state_vi(d.state)}" for d in a.deliveries
        ) or ", ".join(a.channels)
        t.add_row(
            str(a.id),
            a.title[:60],
            a.topic,
            STATE_VI.get(a.state, a.state),
            _local(a.scheduled_at or a.publish_at, loa),
            chans,
        )
    console.print(t)


# ----- setup -----------------------------------------------------------------------------------
@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace")] = Path("."),
) -> None:
    """Write a starter config.toml, .env.example and the inbox folders."""
    from bot.cli.workspace import write_workspace

    written = write_workspace(directory)
    for p in written:
        console.print(f"đã tạo {p}")
    console.print("Tiếp theo: điền bí mật vào .env (xem .env.example), rồi chạy `loa check`.")


@app.command()
def check() -> None:
    """Validate the configuration, the database and each channel's credentials."""
    loa = _loa()
    key_problem = _secret_key_problem(loa)
    if key_problem:
        err.print(key_problem, markup=False, highlight=False)
        raise typer.Exit(1)
    problems = loa.settings.missing_secrets(loa.stored_credentials())
    for p in problems:
        err.print(p, markup=False, highlight=False)
    from bot.citizens import assistant_problems, webhook_urls
    from bot.service.covers import ensure_default_covers

    for line in assistant_problems(loa):
        err.print(f"assistant: {line}", markup=False, highlight=False)
        problems.append(line)
    for name, url in webhook_urls(loa).items():
        console.print(f"webhook {name}: {url}", markup=False, highlight=False)
    for name, problem in ensure_default_covers(loa).items():
        console.print(f"✗ {name}: {problem}")
        problems.append(name)
    for name, ch in loa.channels().items():
        try:
            h = ch.check()
        except ChannelError as exc:
            console.print(f"✗ {name}: {exc.message}")
            problems.append(name)
            continue
        loa.store.channels.record_health(name, h.ok, h.detail, h.expires_at)
        console.print(f"{'✓' if h.ok else '✗'} {name}: {h.detail}")
        if not h.ok:
            problems.append(name)
        if isinstance(ch, CommentsUnreadable):
            console.print(f"ℹ {name}: {ch.comments_note()}", markup=False)
    if problems:
        raise typer.Exit(1)


# ----- articles --------------------------------------------------------------------------------
@app.command()
def submit(
    files: Annotated[list[Path], typer.Argument(help=".docx, .md, .html, folder or .zip")],
    by: Annotated[str | None, typer.Option(help="Editor name")] = None,
) -> None:
    """Add article files to the queue (same checks as the inbox folder); a Markdown or HTML file
    brings the pictures beside it that it uses (``cover: anh.png``, ``![](anh.png)``)."""
    from bot.intake import ingest_with_pictures

    loa = _loa()
    failed = False
    for f in files:
        res = ingest_with_pictures(loa, f, _actor(by))
        console.print(res.message)
        failed |= not res.ok
    if failed:
        raise typer.Exit(1)


@app.command("queue")
def queue_cmd(
    state: Annotated[str | None, typer.Option(help="Only this state")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List articles and their deliveries."""
    loa = _loa()
    _print_articles(loa, loa.store.articles.list([state] if state else None), as_json)


@app.command()
def show(article_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one article, its deliveries and its audit trail."""
    loa = _loa()
    a = loa.store.articles.get(article_id)
    if as_json:
        data = a.as_json()
        data["audit"] = [
            {
                "at": e["at"].isoformat(),
                "actor": e["actor"],
                "via": e["via"],
                "action": e["action"],
                "detail": e["detail"],
            }
            for e in loa.store.audit.audit_entries(article_id)
        ]
        data.update(_readiness_json(loa, article_id))
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_articles(loa, [a], False)
    console.print(f"Tóm tắt: {a.summary}")
    if a.topic_reason:
        console.print(f"Chủ đề: {a.topic_reason}")
    calls = loa.store.preparations.calls_of_article(article_id)
    for d in a.deliveries:
        console.print(
            f"  {d.channel}: {delivery_state_vi(d.state)}, lần thử {d.attempts}, {d.url or ''} {d.last_error or ''}",
            markup=False,
        )
        if d.id in calls:
            console.print("      lượt gọi nền tảng: " + describe_calls(calls[d.id]), markup=False)
    for name, p in loa.store.preparations.preparations_of(article_id).items():
        state = "sẵn sàng" if p.ready else f"CHƯA chuẩn bị được: {p.error}"
        notes = " ".join(p.data.get("notes") or [])
        console.print(
            f"  chuẩn bị {name} ({_local(p.prepared_at, loa)}): {state} {notes}", markup=False
        )


@app.command()
def approve(
    article_id: int,
    at: Annotated[str | None, typer.Option(help='"YYYY-MM-DD HH:MM" local time')] = None,
    now: Annotated[bool, typer.Option("--now", help="Due immediately")] = False,
    by: Annotated[str | None, typer.Option(help="Approver name")] = None,
) -> None:
    """Approve a pending article for the next free slot (or --at / --now)."""
    from bot.approval import approve_article

    loa = _loa()
    a, skipped = approve_article(loa, article_id, _actor(by), at=at, now=now)
    console.print(f"Đã duyệt bài #{a.id}; lịch đăng {_local(a.scheduled_at, loa)}.")
    for name, why in skipped.items():
        console.print(f"Bỏ qua kênh {name}: {why}")
    for name, p in loa.store.preparations.preparations_of(a.id).items():
        if not p.ready:
            err.print(f"Chưa chuẩn bị được kênh {name}: {p.error} (Loa sẽ thử lại trước giờ đăng.)")


@app.command()
def reject(
    article_id: int,
    reason: Annotated[str, typer.Option(help="Why (sent to the editor)")],
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Reject a pending article with a reason."""
    _loa().store.articles.reject(article_id, _actor(by), reason)
    console.print(f"Đã từ chối bài #{article_id}.")


@app.command()
def withdraw(article_id: int, by: Annotated[str | None, typer.Option()] = None) -> None:
    """Cancel an approved article before it is posted."""
    _loa().store.articles.withdraw(article_id, _actor(by))
    console.print(f"Đã rút lại bài #{article_id}.")


@app.command()
def retract(
    article_id: int,
    by: Annotated[str | None, typer.Option()] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Take a published article down from every channel."""
    from bot.approval import retract_article

    if not yes and not typer.confirm(f"Gỡ bài #{article_id} khỏi mọi kênh?"):
        raise typer.Exit(1)
    _, problems = retract_article(_loa(), article_id, _actor(by))
    for p in problems:
        err.print(f"Chưa gỡ được: {p}")
    if problems:
        raise typer.Exit(1)
    console.print(f"Đã gỡ bài #{article_id}.")


_CHANNEL_HELP = "Channel (may be left out when only one delivery of the article fits)"


@app.command("retry")
def retry_cmd(
    article_id: Annotated[int, typer.Argument(help="Article id")],
    channel: Annotated[str | None, typer.Argument(help=_CHANNEL_HELP)] = None,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Queue a failed delivery again: ARTICLE [CHANNEL]."""
    from bot.delivery_commands import act_on_delivery

    d = act_on_delivery(_loa(), "retry", article_id, _channel(channel), _actor(by))
    console.print(f"Bài #{d.article_id} sẽ được đăng lại lên {d.channel}.", markup=False)


@app.command()
def confirm(
    article_id: Annotated[int, typer.Argument(help="Article id")],
    channel: Annotated[str | None, typer.Argument(help=_CHANNEL_HELP)] = None,
    url: Annotated[str | None, typer.Argument(help="Public URL of the post")] = None,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record that an in-doubt or hand-off delivery is online: ARTICLE [CHANNEL] [URL]."""
    from bot.delivery_commands import act_on_delivery, split_channel_and_url

    channel, url = split_channel_and_url([w for w in (channel, url) if w is not None])
    d = act_on_delivery(_loa(), "confirm", article_id, channel, _actor(by), url=url)
    console.print(
        f"Đã ghi nhận bài #{d.article_id} đã lên {d.channel}" + (f": {d.url}." if d.url else "."),
        markup=False,
    )


@app.command()
def notposted(
    article_id: Annotated[int, typer.Argument(help="Article id")],
    channel: Annotated[str | None, typer.Argument(help=_CHANNEL_HELP)] = None,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Record that an in-doubt delivery did not reach the platform (it will be sent): ARTICLE [CHANNEL]."""
    from bot.delivery_commands import act_on_delivery

    d = act_on_delivery(_loa(), "notposted", article_id, _channel(channel), _actor(by))
    console.print(f"Bài #{d.article_id} chưa lên {d.channel}; Loa sẽ đăng lại.", markup=False)


def _channel(name: str | None) -> str | None:
    return name.strip().lower() if name is not None else None


# ----- service ---------------------------------------------------------------------------------
@app.command()
def dispatch(
    once: Annotated[
        bool, typer.Option("--once", help="Process what is due now, then exit")
    ] = False,
) -> None:
    """Publish everything due now (for cron and tests)."""
    if not once:
        err.print("Dùng `loa dispatch --once`, hoặc `loa run` để chạy dịch vụ liên tục.")
        raise typer.Exit(2)
    loa = _loa()
    _require_secrets(loa)
    d = build_dispatcher(loa)
    try:
        n = d.tick()
    finally:
        d.close()
    console.print(f"Đã xử lý {n} lượt đăng.")


def _require_secrets(loa: Loa) -> None:
    key_problem = _secret_key_problem(loa)
    if key_problem:
        raise ConfigError([key_problem])
    missing = loa.settings.missing_secrets(loa.stored_credentials())
    if missing:
        raise ConfigError(missing)


def _secret_key_problem(loa: Loa) -> str | None:
    """One line when LOA_SECRET_KEY is missing, malformed or does not open the stored rows.

    With a good key, rows stored in clear by an older version (or under an older key) are
    encrypted with the newest key on the way.
    """

    if loa.settings.secret_key is None:
        return (
            "secret_key: LOA_SECRET_KEY is missing — run `loa init` in the folder of "
            "config.toml to add a new key to .env (Thiếu khóa mã hóa LOA_SECRET_KEY: chạy "
            "`loa init` để tạo khóa vào .env)."
        )
    try:
        assert loa.cipher is not None
        loa.store.tokens.reseal_credentials(loa.cipher)
    except SecretKeyError as exc:
        return f"secret_key: LOA_SECRET_KEY is wrong ({exc})"
    return None


@app.command()
def run() -> None:
    """Run the service: scheduler, inbox polling, reach collection (and the bot when configured)."""
    from bot.run import run_service

    loa = _loa()
    _require_secrets(loa)
    run_service(loa)


# ----- channels --------------------------------------------------------------------------------
@channels_app.callback()
def channels_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Show each channel's state and health."""
    if ctx.invoked_subcommand:
        return
    loa = _loa()
    rows = []
    for name, cs in loa.settings.parsed_channels.items():
        st = loa.store.channels.channel_status(name)
        rows.append(
            {
                "channel": name,
                "type": cs.type,
                "enabled": cs.enabled,
                "paused": st.paused,
                "paused_reason": st.paused_reason,
                "needs_reauth": st.needs_reauth,
                "token_expires_at": st.token_expires_at.isoformat()
                if st.token_expires_at
                else None,
                "last_check_ok": st.last_check_ok,
                "last_check_detail": st.last_check_detail,
            }
        )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    t = Table("Kênh", "Loại", "Bật", "Tạm dừng", "Token hết hạn", "Kiểm tra gần nhất")
    for r in rows:
        t.add_row(
            str(r["channel"]),
            str(r["type"]),
            "có" if r["enabled"] else "không",
            str(r["paused_reason"] or "có") if r["paused"] else "không",
            str(r["token_expires_at"] or "—"),
            str(r["last_check_detail"] or "—"),
        )
    console.print(t)


@channels_app.command("pause")
def channels_pause(name: str, reason: Annotated[str, typer.Option()] = "Tạm dừng thủ công") -> None:
    """Stop posting to a channel until resumed."""
    loa = _loa()
    _known(loa, name)
    loa.store.channels.set_paused(name, True, _actor(), reason)
    console.print(f"Đã tạm dừng kênh {name}.")


@channels_app.command("resume")
def channels_resume(name: str) -> None:
    """Resume a paused channel; its held deliveries are queued again."""
    loa = _loa()
    _known(loa, name)
    loa.store.channels.set_paused(name, False, _actor())
    loa.notifier.resolve(f"auth:{name}")
    console.print(f"Đã mở lại kênh {name}.")


@channels_app.command("connect")
def channels_connect(name: str) -> None:
    """Connect an account: Facebook page token, Zalo OA consent, WordPress password check."""
    from bot.cli.connect import connect_channel

    loa = _loa()
    _known(loa, name)
    connect_channel(loa, name, console)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt stored credentials with the first key of LOA_SECRET_KEY="new,old"."""

    loa = _loa()
    if loa.cipher is None:
        raise SecretKeyError("Thiếu khóa mã hóa LOA_SECRET_KEY (chạy `loa init` để tạo khóa).")
    rewritten = loa.store.tokens.reseal_credentials(loa.cipher)
    console.print(
        f"Đã mã hóa lại bằng khóa mới: {', '.join(rewritten)}."
        if rewritten
        else "Mọi thông tin đăng nhập đã được mã hóa bằng khóa mới nhất."
    )
    if loa.cipher.key_count > 1:
        console.print("Giờ có thể bỏ khóa cũ khỏi LOA_SECRET_KEY (chỉ giữ khóa đầu tiên).")


@secrets_app.command("new-key")
def secrets_new_key() -> None:
    """Print a new key, to put in front of LOA_SECRET_KEY ("new,old") before `loa secrets rotate`."""
    from content_queue.credential_cipher import generate_key

    print(generate_key())


def _known(loa: Loa, name: str) -> None:
    if name not in loa.settings.parsed_channels:
        raise NotFound(
            f"Không có kênh “{name}”; các kênh: {', '.join(loa.settings.parsed_channels)}."
        )


# ----- reach, reports, sandbox, demo -----------------------------------------------------------
@reach_app.command("collect")
def reach_collect() -> None:
    """Collect reach metrics for posts that are due a sample."""
    from bot.service.reach import collect_reach

    loa = _loa()
    n = collect_reach(loa, datetime.now(UTC))
    console.print(f"Đã ghi {n} số liệu tiếp cận.")


@app.command()
def report(
    period: Annotated[str, typer.Option(help="2026-03 | 2026-Q1 | 2026-H1 | 2026")],
    fmt: Annotated[str, typer.Option("--format", help="docx | xlsx | md | json")] = "docx",
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Write the plan's report for a period."""
    from bot.reports.files import write_report

    path, text = write_report(_loa(), period, fmt, output)
    if text is not None:
        print(text)
    else:
        console.print(f"Đã ghi báo cáo: {path}")


@app.command()
def sandbox(
    port_base: Annotated[int, typer.Option(help="First port (0 = free ports)")] = 0,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace", help="Write a working config.toml and .env for the sandboxes here"
        ),
    ] = None,
) -> None:
    """Serve local fake WordPress, Facebook and Zalo for exploration (Ctrl-C to stop)."""
    from bot.devtools.sandboxes import serve_sandboxes

    serve_sandboxes(console, port_base, workspace=workspace)


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Keep the workspace here")] = None,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Keep the sandboxes and the web page running (Ctrl-C stops)"),
    ] = False,
) -> None:
    """Run the whole flow against local sandboxes and write a report."""
    from bot.devtools.demo import run_demo

    raise typer.Exit(run_demo(console, directory, serve=serve))


def _new_password(password_stdin: bool) -> str:
    """The new password from stdin (one line) or asked twice without echo."""
    from bot.web.passwords import check_new_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != password:
            raise ValueError("Hai lần nhập mật khẩu không khớp.")
    check_new_password(password)
    return password


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name")],
    role: Annotated[str, typer.Option(help="viewer | editor | admin")] = "viewer",
    full_name: Annotated[str, typer.Option(help="Name shown in the audit log and cards")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a web account; the password is asked (hidden) and stored as an Argon2 hash."""
    from bot.web.passwords import hash_password

    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise ValueError(
            "Tên đăng nhập không được để trống, có khoảng trắng hoặc dài quá 100 ký tự."
        )
    loa = _loa()
    user = loa.store.users.add_user(
        name,
        role,
        hash_password(_new_password(password_stdin)),
        _actor(by),
        full_name=full_name.strip(),
    )
    console.print(f"Đã tạo tài khoản {user.name} ({user.role}).")


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every web account: role, disabled or not, last login (never the hash)."""

    loa = _loa()
    users = loa.store.users.list_users()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "name": u.name,
                        "full_name": u.full_name,
                        "role": u.role,
                        "disabled": u.disabled,
                        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
                    }
                    for u in users
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table("tài khoản", "họ tên", "vai trò", "trạng thái", "đăng nhập gần nhất")
    for u in users:
        table.add_row(
            u.name,
            u.full_name,
            u.role,
            "đã khóa" if u.disabled else "hoạt động",
            _local(u.last_login_at, loa),
        )
    console.print(table)


@users_app.command("disable")
def users_disable(
    name: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable it again")] = False,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Disable an account (its sessions end at once); --enable undoes it."""
    _loa().store.users.set_disabled(name, not enable, _actor(by))
    console.print(f"Đã {'mở lại' if enable else 'khóa'} tài khoản {name}.")


@users_app.command("passwd")
def users_passwd(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    by: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Set a new password (its sessions end at once)."""
    from bot.web.passwords import hash_password

    loa = _loa()
    loa.store.users.set_password_hash(
        name, hash_password(_new_password(password_stdin)), _actor(by)
    )
    console.print(f"Đã đổi mật khẩu tài khoản {name}.")


def main() -> None:
    """Entry point: domain and config errors become one line and a non-zero exit."""
    try:
        app()
    except ConfigError as exc:
        for line in exc.problems:
            err.print(f"config: {line}", markup=False, highlight=False)
        sys.exit(2)
    except (IllegalTransition, NotFound, ValueError, SecretKeyError) as exc:
        err.print(f"Lỗi: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except ChannelError as exc:
        err.print(f"Lỗi kênh: {exc.message}", markup=False, highlight=False)
        sys.exit(1)


def describe_calls(calls: dict[str, int]) -> str:
    """``3 (POST /wp-json/wp/v2/posts ×1, …)``: the total and each kind."""
    return f"{sum(calls.values())} (" + ", ".join(f"{k} ×{n}" for k, n in calls.items()) + ")"


def _readiness_json(loa: Loa, article_id: int) -> dict[str, Any]:
    """Calls per delivery and each channel's preparation, for ``loa show --json``."""
    return {
        "calls": {
            str(k): v for k, v in loa.store.preparations.calls_of_article(article_id).items()
        },
        "preparations": {
            name: {
                "state": p.state,
                "error": p.error,
                "calls": p.calls,
                "notes": p.data.get("notes") or [],
                "prepared_at": p.prepared_at.isoformat(),
            }
            for name, p in loa.store.preparations.preparations_of(article_id).items()
        },
    }


if __name__ == "__main__":
    main()
