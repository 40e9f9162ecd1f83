"""Runtime settings from the environment (CONTRACTS section 6): one pydantic-settings class.

``Settings.from_env(mapping)`` takes the environment as a passed-in mapping so tests supply their
own (default: the process environment); nothing else in the project reads ``os.environ`` for
configuration, and ``Settings(...)`` itself reads nothing (its fields' defaults and what it is
given). Variables are ``SYNDICATE_`` + the field's name in capitals, except the ``REDIS_*`` ones.
``unknown_variables`` names a ``SYNDICATE_*`` variable that is no setting (a typo is otherwise
silently ignored), with the setting it most likely meant.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# The configuration shipped inside the package (a link to the repository's config/): used when
# SYNDICATE_CONFIG_DIR is not set and the current folder has no config/.
PACKAGED_CONFIG = Path(__file__).resolve().parent / "default_config"
DEFAULT_GEO_HEADERS = "CloudFront-Viewer-Country,CloudFront-Viewer-Country-Region,CF-IPCountry"
DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"
# The smallest SYNDICATE_WEBHOOK_PAYLOAD_CAP: room for an event cut down to its id and link.
MIN_PAYLOAD_CAP = 1024
# What a refusal of a private/loopback target tells the operator to do.
PRIVATE_TARGETS_HINT = (
    "to allow private and loopback targets (local development only) set "
    "SYNDICATE_ALLOW_PRIVATE_TARGETS=1 for this command and for the workers too "
    "(make run ALLOW_PRIVATE=1, or syndicate up --allow-private-targets)"
)
PREFIX = "SYNDICATE_"
# SYNDICATE_* variables that are not settings but are read by one command's own option.
COMMAND_VARIABLES = {
    "SYNDICATE_DEBUG": "syndicate --debug",
    "SYNDICATE_RECEIVE_SECRET": "syndicate receive --secret",
}


def _redis(name: str) -> str:
    """A setting read from ``REDIS_*`` (no SYNDICATE_ prefix), as every Redis tool names it."""
    return name


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_sentinels(value: str) -> list[tuple[str, int]]:
    """``host:port,host:port,...`` (``[::1]:26379`` for IPv6) as (host, port) pairs."""
    out = []
    for entry in _split(value):
        host, sep, port = entry.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(
                f"REDIS_SENTINELS entry '{entry}' is not host:port (e.g. 10.0.0.5:26379,10.0.0.6:26379)"
            )
        out.append((host, int(port)))
    return out


def redact(url: str) -> str:
    """``url`` with its password replaced, for logs and status output."""
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)
    user = (parsed.username or "") + ":***"
    return urlunsplit(parsed._replace(netloc=f"{user}@{netloc[-1]}"))


class _Environment(EnvSettingsSource):
    """pydantic-settings' reading of the environment, from a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._given.items()}  # names: any case


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        ignored_types=(cached_property,),
        extra="ignore",
        populate_by_name=True,
    )

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias=_redis("REDIS_URL"))
    # Redis Sentinel (worker.storage.connect): "host:port,host:port,..." and the monitored name;
    # the database number and the data password still come from redis_url.
    redis_sentinels: str = Field("", validation_alias=_redis("REDIS_SENTINELS"))
    redis_sentinel_master: str = Field("", validation_alias=_redis("REDIS_SENTINEL_MASTER"))
    redis_sentinel_password: str = Field("", validation_alias=_redis("REDIS_SENTINEL_PASSWORD"))
    # A 202 (and every other acknowledged write) waits until this many replicas hold the write
    # (WAIT), at most ack_timeout_ms; else 503. 0: no waiting.
    ack_replicas: int = 0
    ack_timeout_ms: int = 1000
    api_token: str = ""
    base_url: str = "http://127.0.0.1:8000"
    config_dir: Path = Path("config")
    # Where the config came from, for messages: "SYNDICATE_CONFIG_DIR", "current folder", "packaged".
    _config_origin: str = PrivateAttr("current folder")
    # Local state of `syndicate up` and `syndicate beat`: the API token, logs, Redis data, beat schedule.
    var_dir: Path = Path("var")
    beat_schedule: Path | None = None  # syndicate beat's schedule file (default: VAR_DIR/beat-schedule)
    geo_headers: str = DEFAULT_GEO_HEADERS
    # The geo route's answers say Cache-Control: private unless this is on: a shared cache (CDN)
    # must have the geo headers in its cache key, else it serves one reader's audience to others.
    geo_cache_public: bool = False
    # A reader whose country is known but not the subdivision: served as in the country (country),
    # or without the articles withheld in any subdivision of it that an audience claims (strict).
    geo_unknown_subdivision: Literal["country", "strict"] = "country"
    # Private, loopback, link-local and reserved targets for every outgoing request (webhooks,
    # upstream polls and pages, WebSub hubs): development and tests only. The old name
    # SYNDICATE_WEBHOOK_ALLOW_PRIVATE is an alias: either set to 1 allows them, and both
    # fields then read True.
    allow_private_targets: bool = False
    webhook_allow_private: bool = False
    webhook_retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    webhook_timeout: float = 15.0
    webhook_payload_cap: int = 256 * 1024
    webhook_max_in_flight: int = 10  # attempts under way at once per subscription
    websub_hubs: str = ""
    # Seconds one upstream fetch (a feed or an item's page, its redirects included) may take in
    # all, however slowly the server sends: the wall-clock deadline of worker.net.deadline.
    fetch_deadline: float = 60.0
    export_dir: Path | None = None
    feed_window: int = 50
    # Days after its published_at an article out of every feed window is retired (its record,
    # index and archive entries dropped, a tombstone kept; worker.retention); 0 keeps all forever.
    retention_days: float = Field(default=0.0, ge=0)
    # Seconds one feed may take to render (all formats); one that fails or overruns backs off.
    feed_render_deadline: float = 20.0
    # Megabytes of feed bytes the HTTP server keeps in memory (invalidated by Redis); 0 turns it off.
    feed_cache_mb: int = 64
    max_body_bytes: int = 5 * 1024 * 1024
    # Seconds a write's whole body may take to arrive (then 408 and the connection is closed).
    body_timeout: float = Field(default=30.0, gt=0)
    # uvicorn: connections (or requests in progress) per server process before new requests get
    # 503, and seconds an idle keep-alive connection is kept open.
    http_limit_concurrency: int = Field(default=1000, ge=1)
    http_keepalive_timeout: float = Field(default=5.0, gt=0)
    # Seconds after which a queued piece of work that is not done is sent again (recovery of work
    # held by a worker that died). Work is idempotent, so an early re-send costs only a no-op.
    redeliver_after: float = 15.0
    delivery_retention: int = 1000

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_payload_cap")
    @classmethod
    def _cap_holds_an_event(cls, value: int) -> int:
        if value < MIN_PAYLOAD_CAP:
            raise ValueError(
                f"{value} bytes is too small for any webhook event: set at least {MIN_PAYLOAD_CAP} "
                "(default 262144)"
            )
        return value

    @field_validator("export_dir", "beat_schedule", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("ack_replicas", "ack_timeout_ms")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"must be 0 or more, not {value}")
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str) -> str:
        parse_sentinels(value)  # a ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _sentinel_master(self) -> Settings:
        if self.redis_sentinels and not self.redis_sentinel_master:
            raise ValueError(
                "REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER is not: set it to the name the "
                "sentinels monitor (their 'sentinel monitor NAME ...' line)"
            )
        return self

    @model_validator(mode="after")
    def _alias_allow_private(self) -> Settings:
        either = self.allow_private_targets or self.webhook_allow_private
        object.__setattr__(self, "allow_private_targets", either)  # frozen: set once, here
        object.__setattr__(self, "webhook_allow_private", either)
        return self

    @cached_property
    def geo_header_names(self) -> list[str]:
        return _split(self.geo_headers)

    @property
    def default_geo_headers(self) -> bool:
        """Whether the built-in header list (CloudFront's and Cloudflare's together) is in force."""
        return [n.lower() for n in self.geo_header_names] == [n.lower() for n in _split(DEFAULT_GEO_HEADERS)]

    @cached_property
    def hubs(self) -> list[str]:
        return _split(self.websub_hubs)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """``Settings(...)`` reads only what it is given: the environment comes in by ``from_env``."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        values = _Environment(cls, env)()
        origin = "SYNDICATE_CONFIG_DIR" if "config_dir" in values else "current folder"
        if origin != "SYNDICATE_CONFIG_DIR" and not Path("config").is_dir():
            values["config_dir"], origin = str(PACKAGED_CONFIG), "packaged"
        settings = cls(**values)
        settings._config_origin = origin
        return settings

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of setting ``name``: ``SYNDICATE_BASE_URL``, ``REDIS_URL``."""
        alias = cls.model_fields[name].validation_alias
        return alias if isinstance(alias, str) else f"{PREFIX}{name.upper()}"

    @property
    def config_origin(self) -> str:
        return self._config_origin

    def config_where(self) -> str:
        """Which config folder is in use and why, with how to choose another (for messages)."""
        why = {
            "SYNDICATE_CONFIG_DIR": "from SYNDICATE_CONFIG_DIR",
            "packaged": "the defaults shipped with syndicate, as there is no config/ in the current folder",
        }.get(self.config_origin, "config/ in the current folder")
        return f"config {self.config_dir.absolute()} ({why}; set SYNDICATE_CONFIG_DIR to use another)"

    def describe(self) -> dict[str, object]:
        """Settings safe to print: the API token is never shown."""
        data = self.model_dump(mode="json")
        data["api_token"] = "(set)" if self.api_token else "(not set)"
        data["redis_sentinel_password"] = "(set)" if self.redis_sentinel_password else "(not set)"
        data["redis_url"] = redact(self.redis_url)
        return data


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """One line per ``SYNDICATE_*`` variable in ``env`` that no setting reads, with the closest
    setting's name when one is close (``SYNDICATE_WEBHOOK_ALLOW_PRIVAT``)."""
    known = [Settings.variable(name) for name in Settings.model_fields]
    known = [v for v in known if v.startswith(PREFIX)] + list(COMMAND_VARIABLES)
    lines = []
    for name in sorted(env):
        if name.startswith(PREFIX) and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            hint = f"did you mean {close[0]}?" if close else "see the settings in README.md"
            lines.append(f"{name} is not a setting and is ignored: {hint}")
    return lines
