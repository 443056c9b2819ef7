"""The common machinery of every sandbox: a threaded HTTP server on 127.0.0.1, request parsing,
records of what was received, and fault injection.

A platform sandbox subclasses :class:`SandboxServer`, registers its routes with :meth:`route` and
implements :meth:`platform_fault` to answer an injected fault in the platform's own error shape.

Control API served by every sandbox (JSON), so a person or another process can drive it::

    GET  /_sandbox/records            what the platform received, by kind
    POST /_sandbox/faults             {"kind": ..., "count": 1, "probability": 1.0,
                                       "path": "regex", "method": "POST", "seconds": 0}
    POST /_sandbox/latency            {"seconds": 0.2}
    POST /_sandbox/reset              forget faults (records stay)

Generic fault kinds handled here: ``http_500`` / ``http_502`` / ``http_503`` (platform-shaped
body from ``platform_fault``), ``drop_before`` (close the connection without acting),
``drop_after`` (act, then close without answering), ``timeout_before`` (hang ``seconds``, then
close without acting), ``timeout_after`` (act, then hang ``seconds`` and close), ``slow`` (hang ``seconds``, then act
and answer: a platform still finishing a request its client gave up on), ``html_error``
(an HTML error page, as a WAF would send), ``html_502`` (a reverse proxy's ``502 Bad Gateway``
page). ``after:KIND`` acts first, then answers as ``KIND`` would (``after:html_502``: the post
exists, the answer is nginx's error page; ``after:http_500``: the platform's own JSON error;
``after:truncated``: the real answer cut in half). Every other kind is passed to ``platform_fault``
(e.g. ``throttle``, ``token_expired``, ``duplicate``).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "PassOn", "Request", "Response", "SandboxServer", "UploadedFile"]


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)  # path parameters from the route regex
    _form: dict[str, str] | None = None
    _files: dict[str, UploadedFile] | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The JSON body, or None when the body is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _parse_form(self) -> None:
        self._form, self._files = {}, {}
        if self.content_type == "application/x-www-form-urlencoded":
            for k, v in parse_qs(
                self.body.decode("utf-8", "replace"), keep_blank_values=True
            ).items():
                self._form[k] = v[-1]
        elif self.content_type == "multipart/form-data":
            raw = (
                b"Content-Type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + self.body
            )
            msg = BytesParser(policy=HTTP).parsebytes(raw)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str) or not name:
                    continue
                filename = part.get_filename()
                raw_payload = part.get_payload(decode=True)
                payload = raw_payload if isinstance(raw_payload, bytes) else b""
                if filename is not None:
                    self._files[name] = UploadedFile(filename, part.get_content_type(), payload)
                else:
                    self._form[name] = payload.decode(part.get_content_charset() or "utf-8")

    @property
    def form(self) -> dict[str, str]:
        if self._form is None:
            self._parse_form()
        assert self._form is not None
        return self._form

    @property
    def files(self) -> dict[str, UploadedFile]:
        if self._files is None:
            self._parse_form()
        assert self._files is not None
        return self._files

    def values(self) -> dict[str, Any]:
        """Query, form and JSON-object body parameters merged (body wins), as platforms accept."""
        out: dict[str, Any] = dict(self.query)
        out.update(self.form)
        body = self.json() if self.content_type == "application/json" else None
        if isinstance(body, dict):
            out.update(body)
        return out


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list → JSON; bytes/str → as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        data = json.dumps(self.body, ensure_ascii=False).encode("utf-8")
        return data, self.content_type or "application/json; charset=utf-8"


@dataclass
class Fault:
    kind: str
    count: int = 1  # how many matching requests it hits; -1 = until reset
    probability: float = 1.0
    path: str | None = None  # regex searched in the path
    method: str | None = None
    seconds: float = 0.0

    def matches(self, req: Request) -> bool:
        if self.method and self.method.upper() != req.method:
            return False
        return not (self.path and not re.search(self.path, req.path))


Handler = Callable[[Request], Response]

_GENERIC = {
    "drop_before",
    "drop_after",
    "timeout_before",
    "timeout_after",
    "slow",
    "html_error",
    "html_502",
    "truncated",
}
_HTML_PAGES = {
    "html_error": (503, "<html><body><h1>503 Service Unavailable</h1></body></html>"),
    "html_502": (
        502,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n",
    ),
}


class _Drop(Exception):
    """Close the connection without answering."""


class PassOn(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a handler that does not serve this request: the next matching route does."""


class SandboxServer:
    """Base of every platform sandbox. Subclasses call :meth:`route` in ``__init__``."""

    name = "sandbox"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None):
        self.host, self.port = host, port
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Fault] = []
        self.latency = 0.0
        self.lock = threading.RLock()  # guards the platform state in subclasses
        self.records: dict[str, list[Any]] = defaultdict(list)
        self.request_log: list[tuple[float, str, str]] = []  # (time, method, path)
        self.rng = random.Random(seed)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------------
    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL."""
        sandbox = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer, sent at once: headers and body written separately would
            # meet the client's delayed ACK and stall every call by ~40 ms, as no real server does.
            wbufsize = -1
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                sandbox._dispatch(self)

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        self._httpd = ThreadingHTTPServer((self.host, self.port), _H)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        httpd = self._httpd
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.05),
            name=f"{self.name}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ----- routing ---------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler, *, first: bool = False) -> None:
        """Register ``handler`` for ``method`` and a full-match path regex (named groups → params);
        ``first``: before the routes registered so far (a narrower pattern of a wider one)."""
        entry = (method.upper(), re.compile(pattern), handler)
        if first:
            self._routes.insert(0, entry)
        else:
            self._routes.append(entry)

    def not_found(self, req: Request) -> Response:
        """Answer for an unknown route, in the platform's shape (subclasses override)."""
        return Response(404, {"error": "not found", "path": req.path})

    def platform_fault(self, kind: str, req: Request) -> Response:
        """Answer an injected platform-specific fault (subclasses override)."""
        if kind.startswith("http_"):
            return Response(int(kind[5:]), {"error": kind})
        raise ValueError(f"{self.name} sandbox: unknown fault kind {kind!r}")

    # ----- faults ----------------------------------------------------------------------------
    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        probability: float = 1.0,
        path: str | None = None,
        method: str | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Make the next ``count`` matching requests fail with ``kind``."""
        with self.lock:
            self._faults.append(Fault(kind, count, probability, path, method, seconds))

    def reset_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self.latency = 0.0

    def _take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for f in self._faults:
                if f.count != 0 and f.matches(req) and self.rng.random() < f.probability:
                    if f.count > 0:
                        f.count -= 1
                    return f
            self._faults = [f for f in self._faults if f.count != 0]
        return None

    # ----- request handling ------------------------------------------------------------------
    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-request: a server acts on nothing
            h.close_connection = True
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in h.headers.items()}
        req = Request(h.command, parts.path, query, headers, body)
        with self.lock:
            self.request_log.append((time.time(), req.method, req.path))
        try:
            resp = self._control(req) if req.path.startswith("/_sandbox/") else self._platform(req)
        except _Drop:
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(2)
            return
        data, ctype = resp.encode()
        try:
            h.send_response(resp.status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            for k, v in resp.headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _platform(self, req: Request) -> Response:
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(req)
        if fault and fault.kind in ("drop_before", "timeout_before"):
            if fault.kind == "timeout_before":
                time.sleep(fault.seconds or 30)
            raise _Drop
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault and fault.kind.startswith("after:"):  # acted, then an answer that does not say so
            return self._answer_as(fault.kind[6:], req, self._route(req))
        if fault and fault.kind in _HTML_PAGES:
            return self._answer_as(fault.kind, req, None)
        if fault and fault.kind not in _GENERIC:
            return self.platform_fault(fault.kind, req)
        resp = self._route(req)
        if fault and fault.kind in ("drop_after", "timeout_after"):
            if fault.kind == "timeout_after":
                time.sleep(fault.seconds or 30)
            raise _Drop
        return resp

    def _answer_as(self, kind: str, req: Request, acted: Response | None) -> Response:
        """The answer of fault ``kind`` (``acted``: the real answer, already produced)."""
        if kind in _HTML_PAGES:
            status, page = _HTML_PAGES[kind]
            return Response(status, page, content_type="text/html")
        if kind == "truncated" and acted is not None:
            data, ctype = acted.encode()
            return Response(acted.status, data[: len(data) // 2], dict(acted.headers), ctype)
        if kind in ("drop_after", "drop_before"):
            raise _Drop
        return self.platform_fault(kind, req)

    def _route(self, req: Request) -> Response:
        for method, pattern, handler in self._routes:
            if method == req.method:
                m = pattern.fullmatch(req.path)
                if m:
                    req.params = {**req.params, **m.groupdict()}
                    try:
                        return handler(req)
                    except PassOn:
                        continue
        return self.not_found(req)

    def _control(self, req: Request) -> Response:
        action = req.path.removeprefix("/_sandbox/")
        body = req.json() or {}
        if action == "records" and req.method == "GET":
            with self.lock:
                return Response(200, {k: list(v) for k, v in self.records.items()})
        if action == "faults" and req.method == "POST":
            self.inject(body.pop("kind"), **body)
            return Response(200, {"ok": True})
        if action == "latency" and req.method == "POST":
            self.latency = float(body.get("seconds", 0))
            return Response(200, {"ok": True})
        if action == "reset" and req.method == "POST":
            self.reset_faults()
            return Response(200, {"ok": True})
        return Response(404, {"error": f"unknown control action {action!r}"})

    def record(self, kind: str, item: Any) -> None:
        """Keep what the platform received (inspectable over ``/_sandbox/records``)."""
        with self.lock:
            self.records[kind].append(item)
