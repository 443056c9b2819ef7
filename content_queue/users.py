"""Web page accounts and their sessions: every statement about ``web_users``/``web_sessions``.

Passwords arrive here already hashed (Argon2, by ``bot.web.passwords``); session tokens arrive
as their SHA-256, so nothing stored here logs anyone in by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from content_queue.models import Actor
from content_queue.store_core import StoreCore, utcnow
from content_queue.tables import web_sessions, web_users
from content_queue.workflow import IllegalTransition, NotFound

__all__ = ["ROLES", "SessionRow", "Users", "WebUser"]

ROLES = ("viewer", "editor", "admin")


@dataclass(frozen=True)
class WebUser:
    id: int
    name: str
    full_name: str
    role: str
    password_hash: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime

    @property
    def display(self) -> str:
        """The name people read: the full name with the login, or the login alone."""
        return f"{self.full_name} ({self.name})" if self.full_name else self.name

    @property
    def actor(self) -> Actor:
        """Who the audit log and the Telegram card name for this user's web actions."""
        return Actor(f"web:{self.display}", "web")


@dataclass(frozen=True)
class SessionRow:
    user: WebUser
    csrf_token: str
    expires_at: datetime


def _user(row: sa.Row) -> WebUser:  # type: ignore[type-arg]
    m = row._mapping
    return WebUser(**{f: m[f] for f in WebUser.__dataclass_fields__})


class Users(StoreCore):
    """Web page accounts and their sessions (``store.users``)."""

    def add_user(
        self, name: str, role: str, password_hash: str, actor: Actor, *, full_name: str = ""
    ) -> WebUser:
        """A new account; a taken name or an unknown role is refused with a readable reason."""
        if role not in ROLES:
            raise IllegalTransition(f"Vai trò “{role}” không hợp lệ; chọn: {', '.join(ROLES)}.")
        now = utcnow()
        try:
            with self.tx() as conn:
                conn.execute(
                    web_users.insert().values(
                        name=name,
                        full_name=full_name,
                        role=role,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )
                self.audit(conn, actor, "web_user_added", user=name, role=role)
        except IntegrityError:
            raise IllegalTransition(f"Tài khoản “{name}” đã có.") from None
        return self.find_user(name)  # type: ignore[return-value]

    def find_user(self, name: str) -> WebUser | None:
        with self.read() as conn:
            row = conn.execute(sa.select(web_users).where(web_users.c.name == name)).first()
        return _user(row) if row else None

    def list_users(self) -> list[WebUser]:
        with self.read() as conn:
            return [_user(r) for r in conn.execute(sa.select(web_users).order_by(web_users.c.name))]

    def _require(self, name: str) -> WebUser:
        user = self.find_user(name)
        if user is None:
            raise NotFound(f"Không có tài khoản “{name}”.")
        return user

    def set_disabled(self, name: str, disabled: bool, actor: Actor) -> None:
        """Disable (or enable) an account; disabling ends its sessions at once."""
        user = self._require(name)
        with self.tx() as conn:
            conn.execute(
                web_users.update()
                .where(web_users.c.id == user.id)
                .values(disabled=disabled, updated_at=utcnow())
            )
            if disabled:
                conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user.id))
            self.audit(
                conn, actor, "web_user_disabled" if disabled else "web_user_enabled", user=name
            )

    def set_password_hash(self, name: str, password_hash: str, actor: Actor) -> None:
        """A new password; every open session of the account ends and any lock is lifted."""
        user = self._require(name)
        with self.tx() as conn:
            conn.execute(
                web_users.update()
                .where(web_users.c.id == user.id)
                .values(
                    password_hash=password_hash,
                    failed_logins=0,
                    locked_until=None,
                    updated_at=utcnow(),
                )
            )
            conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user.id))
            self.audit(conn, actor, "web_password_changed", user=name)

    def record_login_failure(self, user_id: int, *, client: str | None) -> None:
        """Audit a wrong password for a real account. There is no lock: tries are bounded before
        the check, per address and per account from an address (``content_queue.login_attempts``)."""
        with self.tx() as conn:
            row = conn.execute(sa.select(web_users.c.name).where(web_users.c.id == user_id)).one()
            self.audit(conn, Actor(f"web:{row.name}", "web"), "web_login_failed", client=client)

    def record_login_success(self, user_id: int, password_hash: str | None = None) -> None:
        """Reset the failure count; ``password_hash`` replaces the stored one (a rehash)."""
        values: dict[str, object] = {
            "failed_logins": 0,
            "locked_until": None,
            "last_login_at": utcnow(),
        }
        if password_hash:
            values["password_hash"] = password_hash
        with self.tx() as conn:
            conn.execute(web_users.update().where(web_users.c.id == user_id).values(**values))

    def open_session(
        self,
        user: WebUser,
        token_hash: str,
        csrf_token: str,
        lifetime: timedelta,
        client: str | None,
    ) -> None:
        """Store a new session (expired ones of every user are swept on the way)."""
        now = utcnow()
        with self.tx() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
            conn.execute(
                web_sessions.insert().values(
                    token_hash=token_hash,
                    user_id=user.id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                    client=(client or "")[:100],
                )
            )
            self.audit(conn, user.actor, "web_login", client=client)

    def session_user(self, token_hash: str, *, idle: timedelta) -> SessionRow | None:
        """The live session's user; a session idle longer than ``idle``, expired, or of a disabled
        account is ended and gives None. A live one is touched at most once a minute."""
        now = utcnow()
        with self.read() as conn:
            row = conn.execute(
                sa.select(
                    web_sessions.c.csrf_token,
                    web_sessions.c.expires_at,
                    web_sessions.c.last_seen_at,
                    web_users,
                )
                .join(web_users, web_users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        user = _user(row)
        if row.expires_at <= now or row.last_seen_at + idle <= now or user.disabled:
            self.delete_session(token_hash)
            return None
        if now - row.last_seen_at > timedelta(minutes=1):
            with self.tx() as conn:
                conn.execute(
                    web_sessions.update()
                    .where(web_sessions.c.token_hash == token_hash)
                    .values(last_seen_at=now)
                )
        return SessionRow(user, row.csrf_token, row.expires_at)

    def delete_session(self, token_hash: str) -> None:
        with self.tx() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == token_hash))
