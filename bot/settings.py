"""Settings: ``config.toml`` + environment (``LOA_`` prefix, ``__`` nesting) + ``.env``.

Secrets come only from the environment or ``.env``; a secret written in ``config.toml`` is an
error. A bad config is reported as one readable line per problem (:class:`ConfigError`).
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.register_settings import CommentsSettings, PetitionsSettings, TakedownSettings
from channels.base import ChannelSettings
from channels.registry import UnknownChannelType, parse_channel_settings
from content_queue.topics import TOPIC_ORDER

__all__ = ["AssistantSettings", "ConfigError", "Settings", "config_path", "load_settings"]

_TOML_DATA: ContextVar[dict[str, Any] | None] = ContextVar("_toml_data", default=None)


class ConfigError(Exception):
    """A configuration that cannot be used; ``problems`` are one readable line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgencySettings(_Section):
    name: str = "Sở Ngoại vụ tỉnh Lạng Sơn"
    parent: str = "UBND tỉnh Lạng Sơn"
    short_name: str = "SNgV"
    place: str = "Lạng Sơn"


class DatabaseSettings(_Section):
    url: str = "sqlite:///loa.db"


class QueueSettings(_Section):
    inbox: str = "inbox"
    processed: str = "processed"
    rejected: str = "rejected"
    media: str = "media"
    poll_seconds: float = Field(default=30.0, gt=0)
    max_file_mb: float = Field(default=20.0, gt=0)


class IngestSettings(_Section):
    """Bounds on one article file and on the worker process that parses it (each refusal names
    the bound it hit and the value found)."""

    max_body_chars: int = Field(default=200_000, gt=0)
    max_body_html_kb: float = Field(default=2048.0, gt=0)  # the article's HTML, markup included
    max_link_chars: int = Field(default=2048, gt=0)  # one link's address
    max_alt_chars: int = Field(default=300, gt=0)  # a picture's description (cut, not refused)
    max_images: int = Field(default=30, ge=0)
    max_image_mb: float = Field(default=5.0, gt=0)
    max_image_megapixels: float = Field(default=40.0, gt=0)
    max_docx_xml_mb: float = Field(default=10.0, gt=0)  # word/document.xml, uncompressed
    max_zip_entries: int = Field(default=500, gt=0)  # also entries in a dropped folder
    max_unzipped_mb: float = Field(default=100.0, gt=0)
    max_front_matter_kb: float = Field(default=16.0, gt=0)
    worker_memory_mb: int = Field(default=1024, ge=256)
    worker_cpu_seconds: int = Field(default=30, ge=1)
    worker_timeout_seconds: float = Field(default=60.0, gt=0)
    # Files sent on the web page or in the chat: parsed by their own pool (bot.parsing).
    # ``parse_workers`` 0 = one per core, up to 4; beyond workers + queue files, or
    # ``parse_per_user`` from one person, the sender is told "Hệ thống đang bận".
    parse_workers: int = Field(default=0, ge=0, le=16)
    parse_queue: int = Field(default=8, ge=0)
    parse_per_user: int = Field(default=2, ge=1)


class ScheduleSettings(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    slots: list[str] = ["08:30", "15:00"]
    working_days: list[int] = [1, 2, 3, 4, 5]  # ISO weekdays, Monday = 1
    holidays: list[date] = []
    daily_cap: int = Field(default=2, ge=1)
    # Time compression for demos: slots every N seconds instead of the clock slots (0 = off).
    slot_interval_seconds: float = Field(default=0.0, ge=0)
    dispatch_interval_seconds: float = Field(default=5.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    # An attempt that may have reached a platform (the answer was lost, or the worker died) is
    # looked for on the platform only this long after Loa stopped waiting: the platform may still
    # be finishing the request, and a look too early would find nothing and post a second time.
    reconcile_after_seconds: float = Field(default=60.0, ge=0)
    max_attempts: int = Field(default=6, ge=1)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (expected e.g. 'Asia/Ho_Chi_Minh')"
            ) from None
        return v

    @field_validator("slots")
    @classmethod
    def _slots(cls, v: list[str]) -> list[str]:
        for s in v:
            try:
                time.fromisoformat(s)
            except ValueError:
                raise ValueError(f"slot {s!r} is not a time HH:MM") from None
        return sorted(v)

    @field_validator("working_days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v or any(d < 1 or d > 7 for d in v):
            raise ValueError("working days are ISO weekday numbers 1 (Monday) … 7 (Sunday)")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class PlanSettings(_Section):
    monthly_website_minimum: int = Field(default=2, ge=0)
    website_channels: list[str] = ["website"]
    quota_check_day: int = Field(default=20, ge=1, le=28)
    topics: dict[str, str] = {}  # label overrides, e.g. {"đ" = "Dịch vụ công trực tuyến"}

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if k not in TOPIC_ORDER]
        if bad:
            raise ValueError(
                f"unknown topic {bad[0]!r}; the plan's topics are {', '.join(TOPIC_ORDER)}"
            )
        return v


def _strip_secret(value: Any) -> Any:
    """A secret pasted with a trailing newline or spaces is the secret without them."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class TelegramSettings(_Section):
    api_url: str = "https://api.telegram.org"
    token: SecretStr | None = None
    admins: list[int] = []
    editors: list[int] = []
    chat_id: int | None = None
    # How the audit timeline names each Telegram user (id → name); others read as their role.
    names: dict[int, str] = {}
    # How long a question the bot asked (a reason, a time) waits for its answer.
    answer_timeout_seconds: float = Field(default=300.0, gt=0)

    _token = field_validator("token", mode="before")(_strip_secret)


class ReachSettings(_Section):
    """Decaying collection: often while a post is fresh, daily later, then stop."""

    fresh_hours: float = Field(default=24.0, ge=0)
    fresh_interval_minutes: float = Field(default=60.0, gt=0)
    daily_until_days: float = Field(default=30.0, ge=0)
    collect_interval_minutes: float = Field(default=15.0, gt=0)


class ReportSettings(_Section):
    signer_title: str = "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
    signer_name: str = ""
    recipients: list[str] = ["UBND tỉnh (b/c);", "Sở Nội vụ;", "Lãnh đạo Sở;", "Lưu: VT."]


class WebSettings(_Section):
    """The web page served by ``loa run`` (calendar, previews, plan, reports)."""

    enabled: bool = True
    listen: str = "127.0.0.1:8080"
    # The public address behind the agency's reverse proxy (links, Secure cookies when https).
    base_url: str = "http://127.0.0.1:8080"
    session_hours: float = Field(default=12.0, gt=0)
    idle_minutes: float = Field(default=120.0, gt=0)
    # Logins (bot.web.auth_pages, content_queue.login_attempts). Each try is counted in the
    # database before its password is checked. Per address: at most ``login_address_limit`` tries
    # in ``login_address_window_minutes``. Per account name from one address: the first
    # ``login_free_attempts`` wrong passwords are free, then the next try waits
    # ``login_delay_seconds``, doubling up to ``login_delay_max_minutes`` (no lock a stranger can
    # put on someone else's account); forgotten after ``login_forget_minutes`` without a try.
    login_address_limit: int = Field(default=20, ge=1)
    login_address_window_minutes: float = Field(default=15.0, gt=0)
    login_free_attempts: int = Field(default=5, ge=1)
    login_delay_seconds: float = Field(default=30.0, gt=0)
    login_delay_max_minutes: float = Field(default=15.0, gt=0)
    login_forget_minutes: float = Field(default=60.0, gt=0)
    # Argon2 checks running at once (64 MiB each); up to ``login_hash_waiting`` more tries wait
    # for a slot (at most ``login_hash_wait_seconds``, holding no thread); beyond them, 429.
    login_hash_slots: int = Field(default=1, ge=1, le=16)
    login_hash_waiting: int = Field(default=8, ge=0)
    login_hash_wait_seconds: float = Field(default=3.0, ge=0)
    # Before 0008: a hard lock after N wrong passwords. Accepted so old configs load; unused.
    login_lock_after: int | None = Field(default=None, ge=1)
    login_lock_minutes: float | None = Field(default=None, gt=0)

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:8080 (got {v!r})")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// address (got {v!r})")
        return v.rstrip("/")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class AssistantSettings(_Section):
    """The assistant that answers citizens on Zalo and Messenger (issue 23), off by default.

    The thresholds decide when it answers and when it hands the question to a person; their
    defaults were tuned on the labelled question set in ``tests/data/assistant_questions.json``.
    """

    enabled: bool = False
    channels: list[str] = ["zalo", "facebook"]  # channel NAMES whose citizens it answers
    retention_days: int = 365  # citizens' ids and messages, then deleted
    min_score: float = 5.0  # BM25 score of the best source (title + best passage)
    min_coverage: float = 0.5  # share of the question's content words found in it
    min_margin: float = 0.05  # how far the best source is ahead of the next: 1 - second/best
    synonyms_file: str = ""  # TOML admins edit (beside config.toml); built-in table otherwise
    max_answer_chars: int = 1500


class _TomlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _TOML_DATA.get() or {}


class Settings(BaseSettings):
    """Every section of ``config.toml``; ``channels`` are validated by their adapters."""

    model_config = SettingsConfigDict(
        env_prefix="LOA_", env_nested_delimiter="__", extra="forbid", env_file_encoding="utf-8"
    )

    agency: AgencySettings = AgencySettings()
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    ingest: IngestSettings = IngestSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    plan: PlanSettings = PlanSettings()
    telegram: TelegramSettings = TelegramSettings()
    reach: ReachSettings = ReachSettings()
    report: ReportSettings = ReportSettings()
    # LOA_SECRET_KEY: the key(s) that encrypt stored channel credentials ("new,old" to rotate).
    secret_key: SecretStr | None = None
    web: WebSettings = WebSettings()
    comments: CommentsSettings = CommentsSettings()
    petitions: PetitionsSettings = PetitionsSettings()
    takedowns: TakedownSettings = TakedownSettings()
    assistant: AssistantSettings = AssistantSettings()
    # Raw tables may hold secrets from the environment: kept out of repr (logs, tracebacks).
    channels: dict[str, dict[str, Any]] = Field(default={}, repr=False)

    # Filled by load_settings: the folder of config.toml and the validated channel models.
    base_dir: Path = Path(".")
    parsed_channels: dict[str, ChannelSettings] = {}

    _secret_key = field_validator("secret_key", mode="before")(_strip_secret)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings, _TomlSource(settings_cls)

    def path(self, value: str) -> Path:
        """A configured path, relative ones taken beside config.toml."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def enabled_channels(self) -> dict[str, ChannelSettings]:
        return {n: c for n, c in self.parsed_channels.items() if c.enabled}

    def missing_secrets(self, stored: dict[str, dict[str, Any]] | None = None) -> list[str]:
        """Readable lines for secrets that enabled channels need and nobody provided."""
        stored = stored or {}
        out = []
        for name, ch in self.enabled_channels().items():
            for key in ch.missing_secrets(stored.get(name)):
                out.append(
                    f"channels.{name}.{key}: secret missing — set the environment variable "
                    f"LOA_CHANNELS__{name.upper()}__{key.upper()} (or put it in .env)"
                )
        return out


def config_path(explicit: str | Path | None = None) -> Path:
    """``--config``, else ``LOA_CONFIG``, else ``./config.toml``."""
    return Path(explicit or os.environ.get("LOA_CONFIG") or "config.toml").resolve()


def _secret_keys(model: type[BaseModel]) -> set[str]:
    return {n for n, f in model.model_fields.items() if "SecretStr" in repr(f.annotation)}


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _problems(err: ValidationError, prefix: str = "") -> list[str]:
    lines = []
    for e in err.errors():
        key = prefix + _fmt_loc(e["loc"])
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif "input" in e and not isinstance(e["input"], dict | list):
            msg = f"{msg} (got {e['input']!r})"
        lines.append(f"{key}: {msg}")
    return lines


def _stripped_secrets(ch: ChannelSettings) -> ChannelSettings:
    """The channel's settings with surrounding whitespace removed from every secret."""
    changes = {}
    for key in _secret_keys(type(ch)):
        value = getattr(ch, key, None)
        if (
            isinstance(value, SecretStr)
            and value.get_secret_value() != value.get_secret_value().strip()
        ):
            stripped = value.get_secret_value().strip()
            changes[key] = SecretStr(stripped) if stripped else None
    return ch.model_copy(update=changes) if changes else ch


def load_settings(path: str | Path | None = None, *, require_file: bool = True) -> Settings:
    """Read and validate the configuration; raises ConfigError listing every problem."""
    cfg = config_path(path)
    problems: list[str] = []
    data: dict[str, Any] = {}
    if cfg.exists():
        try:
            data = tomllib.loads(cfg.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{cfg}: not valid TOML: {exc}"]) from None
    elif require_file:
        raise ConfigError([f"{cfg}: configuration file not found (run `loa init` to create one)"])
    # Secrets never live in config.toml.
    if "secret_key" in data:
        problems.append(
            "secret_key: secrets must not be in config.toml — set LOA_SECRET_KEY in "
            "the environment or .env"
        )
    for section, model in (("telegram", TelegramSettings),):
        for key in _secret_keys(model) & set(data.get(section, {})):
            problems.append(
                f"{section}.{key}: secrets must not be in config.toml — set "
                f"LOA_{section.upper()}__{key.upper()} in the environment or .env"
            )
    token = _TOML_DATA.set(data)
    try:
        settings = Settings(_env_file=cfg.parent / ".env")  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(problems + _problems(exc)) from None
    finally:
        _TOML_DATA.reset(token)
    settings.base_dir = cfg.parent
    parsed: dict[str, ChannelSettings] = {}
    toml_channels = data.get("channels", {})
    for name, raw in settings.channels.items():
        if not isinstance(raw, dict):
            problems.append(f"channels.{name}: expected a table [channels.{name}]")
            continue
        try:
            ch = parse_channel_settings(raw)
        except UnknownChannelType as exc:
            problems.append(
                f"channels.{name}.type: unknown channel type {exc.type_name!r}; "
                f"known types: {', '.join(exc.known)}"
            )
            continue
        except ValidationError as exc:
            problems.extend(_problems(exc, f"channels.{name}."))
            continue
        for key in _secret_keys(type(ch)) & set(toml_channels.get(name, {})):
            problems.append(
                f"channels.{name}.{key}: secrets must not be in config.toml — set "
                f"LOA_CHANNELS__{name.upper()}__{key.upper()} in the environment or .env"
            )
        parsed[name] = _stripped_secrets(ch)
    for name, ch in parsed.items():
        if ch.after and ch.after not in parsed:
            problems.append(f"channels.{name}.after: {ch.after!r} is not a configured channel")
    if problems:
        raise ConfigError(problems)
    settings.parsed_channels = parsed
    return settings
