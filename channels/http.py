"""The HTTP session the channel adapters share."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from channels.metering import CountingAdapter

__all__ = ["HttpSession"]


class HttpSession(requests.Session):
    """A ``requests.Session`` that reads the environment once per origin, not on every call.

    Plain sessions look up proxy variables, ``no_proxy``, CA-bundle variables and ``~/.netrc`` on
    every request, which costs more CPU than the request itself on a local network. Here
    requests' own rules are applied once per scheme+host and reused; credentials are always
    given explicitly by the adapters, so ``.netrc`` is never consulted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # the environment is applied below, once per origin
        self._env: dict[tuple[str, str], dict[str, Any]] = {}
        for prefix in ("http://", "https://"):  # calls are counted per delivery (channels.metering)
            self.mount(prefix, CountingAdapter())

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        env = self._env.get(origin)
        if env is None:
            with requests.Session() as probe:  # trust_env=True: requests' environment rules
                env = probe.merge_environment_settings(url, {}, None, None, None)
            self._env[origin] = env
        return super().merge_environment_settings(
            url, {**env["proxies"], **(proxies or {})}, stream,
            env["verify"] if verify is None else verify, cert or env["cert"])
