"""A local Telegram Bot API: long-polled updates, sent and edited messages, files, faults.

Serves ``/bot{TOKEN}/{method}`` and ``/file/bot{TOKEN}/{path}`` with the real answer shapes
(``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code", "description", "parameters"}``).
A test (or a person over HTTP) plays the users: it injects a text message or command, a document
or a button press as a given user id, then reads what the bot sent (``sent``), edited
(``edits``) and answered (``answers``).

Control API (beside the generic one of :class:`SandboxServer`)::

    POST /_sandbox/telegram/message   {"user_id": 111, "text": "/queue", "chat_id": -100}
    POST /_sandbox/telegram/document  {"user_id": 222, "filename": "a.md", "content_b64": "..."}
    POST /_sandbox/telegram/press     {"user_id": 111, "message_id": 5, "data": "ap:1:1"}
    GET  /_sandbox/telegram/messages  the messages the bot sent, as they look now

Fault kinds: ``throttle`` (429 with ``parameters.retry_after``), ``http_500``/``http_502``
(platform-shaped 5xx), and the generic ``drop_before`` for a long poll the network dropped.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from channels.sandbox.base import Request, Response, SandboxServer

__all__ = ["TelegramSandbox"]

_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
}
_BAD_REQUEST_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content "
    "and reply markup are exactly the same as a current content and reply "
    "markup of the message"
)


class _EntityParser(HTMLParser):
    """Checks Telegram's HTML subset and yields the plain text, as the Bot API does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _ApiError(Exception):
    def __init__(self, code: int, description: str, **parameters: Any):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class TelegramSandbox(SandboxServer):
    """The Bot API for one bot, one group of admins and any number of private chats."""

    name = "telegram"
    TOKEN = "123456:sandbox-bot-token"
    BOT_ID = 123456
    BOT_USERNAME = "loa_sandbox_bot"
    CHAT_ID = -100
    MAX_TEXT = 4096
    MAX_CAPTION = 1024
    MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None):
        super().__init__(host, port, seed=seed)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._new_update = threading.Condition()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) → message
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, content)
        self.downloads: list[str] = []  # file paths the bot downloaded, in order
        self.declared_sizes: dict[str, int] = {}  # file_id → file_size a self-hosted API reports
        methods = (
            "getMe|deleteWebhook|getUpdates|sendMessage|editMessageText|"
            "editMessageReplyMarkup|answerCallbackQuery|sendDocument|getFile"
        )
        for verb in ("GET", "POST"):
            self.route(verb, rf"/bot(?P<token>[^/]+)/(?P<method>{methods})", self._method)
            self.route(verb, r"/file/bot(?P<token>[^/]+)/(?P<path>.+)", self._download)

    # ----- records --------------------------------------------------------------------------
    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every message the bot sent (as first sent)."""
        with self.lock:
            return list(self.records["sent"])

    @property
    def edits(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.records["edits"])

    @property
    def answers(self) -> list[dict[str, Any]]:
        """Every answerCallbackQuery call (``callback_query_id``, ``text``, ``show_alert``)."""
        with self.lock:
            return list(self.records["answers"])

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A message the bot sent, as it looks now (after edits)."""
        with self.lock:
            return json.loads(json.dumps(self.messages[(chat_id, message_id)]))

    # ----- what users do --------------------------------------------------------------------
    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"Người dùng {user_id}",
            "language_code": "vi",
        }

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Loa – quản trị"}
        return {"id": chat_id, "type": "private", "first_name": f"Người dùng {chat_id}"}

    def _push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._new_update:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, kind: payload})
            self._new_update.notify_all()
        return update_id

    def send_user_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """A user writes ``text`` (a ``/command`` gets its bot_command entity); returns the update id."""
        chat = chat_id if chat_id is not None else self.CHAT_ID
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": self._chat(chat),
            "date": int(time.time()),
            "text": text,
        }
        m = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if m:
            msg["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(m.group(0))}
            ]
        if reply_to_message_id is not None:
            with self.lock:
                original = self.messages.get((chat, reply_to_message_id))
            if original is not None:
                msg["reply_to_message"] = original
        return self._push("message", msg)

    def send_user_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        chat_id: int | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> int:
        """A user sends a file; the bot can fetch it with getFile and download it.

        ``declared_size``: the ``file_size`` announced (a self-hosted Bot API serves up to 2 GB),
        for a test that the bot looks at it before downloading."""
        chat = chat_id if chat_id is not None else self.CHAT_ID
        n = next(self._file_ids)
        file_id = f"BQACAgIAAxkBAAI{n:06d}"
        with self.lock:
            self.files[file_id] = (f"documents/file_{n}{_suffix(filename)}", content)
            if declared_size is not None:
                self.declared_sizes[file_id] = declared_size
        doc = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{n:06d}",
            "file_name": filename,
            "mime_type": mime_type or _mime(filename),
            "file_size": len(content) if declared_size is None else declared_size,
        }
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": self._chat(chat),
            "date": int(time.time()),
            "document": doc,
        }
        if caption:
            msg["caption"] = caption
        return self._push("message", msg)

    def press_button(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> str:
        """A user presses a button of message ``message_id`` (any data: clients can forge it)."""
        chat = chat_id if chat_id is not None else self.CHAT_ID
        with self.lock:
            message = self.messages.get((chat, message_id)) or {
                "message_id": message_id,
                "chat": self._chat(chat),
                "date": int(time.time()),
                "from": self._bot_user(),
                "text": "",
            }
            message = json.loads(json.dumps(message))
        query_id = f"{next(self._callback_ids)}{self.BOT_ID}"
        self._push(
            "callback_query",
            {
                "id": query_id,
                "from": self._user(user_id),
                "message": message,
                "chat_instance": f"ci{chat}",
                "data": data,
            },
        )
        return query_id

    def pending_updates(self) -> int:
        """Updates not yet acknowledged by the bot (by a later getUpdates offset)."""
        with self._new_update:
            return len(self._updates)

    # ----- Bot API --------------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.BOT_ID,
            "is_bot": True,
            "first_name": "Loa",
            "username": self.BOT_USERNAME,
        }

    def not_found(self, req: Request) -> Response:
        return Response(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def platform_fault(self, kind: str, req: Request) -> Response:
        if kind == "throttle":
            return Response(
                429,
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
            )
        if kind.startswith("http_"):
            code = int(kind[5:])
            return Response(
                code,
                {
                    "ok": False,
                    "error_code": code,
                    "description": "Internal Server Error" if code == 500 else "Bad Gateway",
                },
            )
        return super().platform_fault(kind, req)

    def _method(self, req: Request) -> Response:
        if unquote(req.params["token"]) != self.TOKEN:
            return Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = req.params["method"]
        values = req.values()
        try:
            result = getattr(self, f"_m_{method}")(values, req)
        except _ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return Response(exc.code, body)
        return Response(200, {"ok": True, "result": result})

    def _download(self, req: Request) -> Response:
        # Clients may percent-encode the ":" of the token (httpx does); the API accepts both.
        if unquote(req.params["token"]) != self.TOKEN:
            return Response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        with self.lock:
            for path, content in self.files.values():
                if path == unquote(req.params["path"]):
                    self.downloads.append(path)
                    return Response(200, content, content_type="application/octet-stream")
        return self.not_found(req)

    def _m_getMe(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_deleteWebhook(self, values: dict[str, Any], req: Request) -> bool:
        if _flag(values.get("drop_pending_updates")):
            with self._new_update:
                self._updates.clear()
        return True

    def _m_getUpdates(self, values: dict[str, Any], req: Request) -> list[dict[str, Any]]:
        offset = _int(values, "offset", 0)
        limit = _int(values, "limit", 100)
        timeout = _int(values, "timeout", 0)
        if not 1 <= limit <= 100:
            limit = 100
        deadline = time.monotonic() + max(timeout, 0)
        with self._new_update:
            if offset:
                # An offset acknowledges every update below it (negative: keep only the last ones).
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                else:
                    self._updates = self._updates[offset:]
            while not self._updates:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._new_update.wait(left)
            batch = self._updates[:limit]
        self.record("get_updates", {"offset": offset, "timeout": timeout, "count": len(batch)})
        return json.loads(json.dumps(batch))

    def _text_and_entities(
        self, values: dict[str, Any], key: str, limit: int, required: bool
    ) -> tuple[str, str | None]:
        raw = values.get(key)
        if raw is None or raw == "":
            if required:
                raise _ApiError(400, f"Bad Request: message {key} is empty")
            return "", None
        raw = str(raw)
        mode = values.get("parse_mode")
        plain = raw
        if mode == "HTML":
            p = _EntityParser()
            p.feed(raw)
            p.close()
            if p.error or p.stack:
                raise _ApiError(
                    400,
                    "Bad Request: can't parse entities: "
                    + (p.error or f'Unclosed start tag "{p.stack[-1]}"'),
                )
            plain = "".join(p.parts)
        elif mode not in (None, "", "MarkdownV2", "Markdown"):
            raise _ApiError(400, f"Bad Request: unsupported parse_mode {mode!r}")
        if required and not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(plain) > limit:
            raise _ApiError(
                400, f"Bad Request: message {'caption' if key == 'caption' else key} is too long"
            )
        return plain, raw if mode else None

    def _chat_id(self, values: dict[str, Any]) -> int:
        if "chat_id" not in values:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(values["chat_id"])
        except (TypeError, ValueError):
            raise _ApiError(400, "Bad Request: chat not found") from None

    def _m_sendMessage(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        chat_id = self._chat_id(values)
        text, source = self._text_and_entities(values, "text", self.MAX_TEXT, True)
        markup = _markup(values.get("reply_markup"))
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        with self.lock:
            self.messages[(chat_id, msg["message_id"])] = msg
            self.records["sent"].append(
                msg | {"source": source, "parse_mode": values.get("parse_mode"), "markup": markup}
            )
        return json.loads(json.dumps(msg))

    def _target(self, values: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(values)
        try:
            message_id = int(values["message_id"])
        except (KeyError, TypeError, ValueError):
            raise _ApiError(400, "Bad Request: message identifier is not specified") from None
        msg = self.messages.get((chat_id, message_id))
        if msg is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return msg

    def _m_editMessageText(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        text, source = self._text_and_entities(values, "text", self.MAX_TEXT, True)
        markup = _markup(values.get("reply_markup"))
        with self.lock:
            msg = self._target(values)
            if msg.get("text") == text and msg.get("reply_markup") == markup:
                raise _ApiError(400, _BAD_REQUEST_NOT_MODIFIED)
            msg["text"] = text
            msg["edit_date"] = int(time.time())
            if markup:
                msg["reply_markup"] = markup
            else:
                msg.pop("reply_markup", None)
            self.records["edits"].append(
                {
                    "chat_id": msg["chat"]["id"],
                    "message_id": msg["message_id"],
                    "text": text,
                    "source": source,
                    "markup": markup,
                }
            )
            return json.loads(json.dumps(msg))

    def _m_editMessageReplyMarkup(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        markup = _markup(values.get("reply_markup"))
        with self.lock:
            msg = self._target(values)
            if msg.get("reply_markup") == markup:
                raise _ApiError(400, _BAD_REQUEST_NOT_MODIFIED)
            if markup:
                msg["reply_markup"] = markup
            else:
                msg.pop("reply_markup", None)
            self.records["edits"].append(
                {
                    "chat_id": msg["chat"]["id"],
                    "message_id": msg["message_id"],
                    "text": msg["text"],
                    "source": None,
                    "markup": markup,
                }
            )
            return json.loads(json.dumps(msg))

    def _m_answerCallbackQuery(self, values: dict[str, Any], req: Request) -> bool:
        if not values.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query_id_invalid")
        text = values.get("text") or ""
        if _utf16_len(text) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.record(
            "answers",
            {
                "callback_query_id": str(values["callback_query_id"]),
                "text": text,
                "show_alert": _flag(values.get("show_alert")),
            },
        )
        return True

    def _m_sendDocument(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        chat_id = self._chat_id(values)
        upload = req.files.get("document")
        if upload is None:
            raise _ApiError(400, "Bad Request: there is no document in the request")
        caption, _ = self._text_and_entities(values, "caption", self.MAX_CAPTION, False)
        n = next(self._file_ids)
        file_id = f"BQACAgIAAxkBAAI{n:06d}"
        with self.lock:
            self.files[file_id] = (f"documents/file_{n}{_suffix(upload.filename)}", upload.data)
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"AgAD{n:06d}",
                "file_name": upload.filename,
                "mime_type": upload.content_type,
                "file_size": len(upload.data),
            },
        }
        if caption:
            msg["caption"] = caption
        with self.lock:
            self.messages[(chat_id, msg["message_id"])] = msg
            self.records["sent"].append(msg | {"source": None, "parse_mode": None, "markup": None})
        return json.loads(json.dumps(msg))

    def _m_getFile(self, values: dict[str, Any], req: Request) -> dict[str, Any]:
        file_id = values.get("file_id")
        with self.lock:
            found = self.files.get(str(file_id)) if file_id else None
        if found is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        path, content = found
        assert file_id is not None
        if len(content) > self.MAX_DOWNLOAD_BYTES:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id[-6:]}",
            "file_size": self.declared_sizes.get(file_id, len(content)),
            "file_path": path,
        }

    # ----- control API over HTTP ------------------------------------------------------------
    def _control(self, req: Request) -> Response:
        action = req.path.removeprefix("/_sandbox/")
        body = req.json() or {}
        try:
            if action == "telegram/message" and req.method == "POST":
                uid = self.send_user_message(
                    int(body["user_id"]), str(body["text"]), chat_id=body.get("chat_id")
                )
                return Response(200, {"ok": True, "update_id": uid})
            if action == "telegram/document" and req.method == "POST":
                uid = self.send_user_document(
                    int(body["user_id"]),
                    str(body["filename"]),
                    base64.b64decode(body["content_b64"]),
                    chat_id=body.get("chat_id"),
                    caption=body.get("caption"),
                )
                return Response(200, {"ok": True, "update_id": uid})
            if action == "telegram/press" and req.method == "POST":
                qid = self.press_button(
                    int(body["user_id"]),
                    int(body["message_id"]),
                    str(body["data"]),
                    chat_id=body.get("chat_id"),
                )
                return Response(200, {"ok": True, "callback_query_id": qid})
        except (KeyError, TypeError, ValueError) as exc:
            return Response(400, {"ok": False, "error": f"bad control request: {exc}"})
        if action == "telegram/messages" and req.method == "GET":
            with self.lock:
                return Response(200, list(self.messages.values()))
        return super()._control(req)


def _int(values: dict[str, Any], key: str, default: int) -> int:
    try:
        return int(values.get(key, default))
    except (TypeError, ValueError):
        raise _ApiError(400, f"Bad Request: wrong parameter {key}") from None


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _markup(value: Any) -> dict[str, Any] | None:
    """reply_markup arrives as an object (JSON body) or a JSON string (form)."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiError(
                400, "Bad Request: can't parse reply keyboard markup JSON object"
            ) from None
    if not isinstance(value, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value and not value["inline_keyboard"]:
        return None
    for row in value.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return value


def _suffix(filename: str) -> str:
    m = re.search(r"\.[A-Za-z0-9]{1,8}$", filename)
    return m.group(0).lower() if m else ""


def _mime(filename: str) -> str:
    return {
        ".md": "text/markdown",
        ".html": "text/html",
        ".htm": "text/html",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".txt": "text/plain",
    }.get(_suffix(filename), "application/octet-stream")
