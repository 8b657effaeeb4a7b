"""Settings from the environment and a `.env` file.

`DATABASE_URL` wins; otherwise the original example's `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER` and
`DB_PASSWORD` are used when `DB_HOST` is set; otherwise the app starts an embedded PostgreSQL.
"""

import os
import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from sale_orders.features import Feature, parse_features

ApiKeyScope = Literal["read", "write"]
_API_KEY_ENTRY = re.compile(r"(read|write):([0-9a-fA-F]{64})")
_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")

# A thread per core is far too few for handlers that mostly wait for PostgreSQL (docs/def-or-async-def.md).
_DEFAULT_THREADS = min(32, (os.cpu_count() or 1) * 8)


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by an environment variable of the same name."""

    # Errors name the variable, never its value: a value may be a password or a key pasted in the wrong place.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False, hide_input_in_errors=True)

    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:pass@host:port/db; unset: embedded PostgreSQL"
    )
    read_database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://... of read-only standbys (e.g. a balancer's port that routes to healthy replicas):"
        " reads go there when fresh enough, else to DATABASE_URL; unset: every read on the primary",
    )
    max_staleness_ms: int = Field(
        default=1000,
        ge=0,
        description="how far behind a standby may be to answer a read that carries no consistency token"
        " (by the commit time of the last transaction it replayed)",
    )
    db_host: str | None = None
    db_port: int = Field(default=5432, ge=1, le=65535)
    db_name: str = "postgres"
    db_user: str = "postgres"
    db_password: SecretStr = SecretStr("")
    data_dir: Path = Field(default=Path(".data"), description="where the embedded PostgreSQL keeps its files")

    sync_threads: int = Field(default=_DEFAULT_THREADS, ge=1, le=1024, description="threads running sync handlers")
    sync_pool_size: int = Field(default=_DEFAULT_THREADS, ge=1, description="psycopg2 connections per worker")
    async_pool_size: int = Field(default=_DEFAULT_THREADS, ge=1, description="asyncpg connections per worker")
    max_in_flight: int = Field(
        default=64,
        ge=0,
        description="requests each family of a worker serves at once; the next one is answered 503 `busy` at once,"
        " instead of queueing for a connection or a thread (the sizing rule gives it); 0: no bound",
    )
    shed_pause: float = Field(
        default=1,
        ge=0,
        le=4,  # below uvicorn's keep-alive (5 s), which would close a connection held this long
        description="seconds nothing more is read from a connection once one of its requests was answered 503"
        " `busy` (its Retry-After): a client that retries at once waits anyway, in its socket, and its retries do"
        " not take the worker from the requests admitted; 0: read on at once (behind a balancer that hands its"
        " kept-alive connections to other clients)",
    )
    pool_timeout: int = Field(
        default=2,
        ge=1,
        description="seconds a request waits for a free pooled connection, or a sync request for a"
        " free thread, before its 503",
    )
    db_connect_timeout: float = Field(
        default=2, gt=0, le=60, description="seconds to connect to PostgreSQL before giving up (asyncpg)"
    )
    db_response_timeout: float = Field(
        default=3,
        gt=0,
        le=3600,
        description="seconds PostgreSQL may stay silent, on a query or a connect, before its connection is closed"
        " and the request answers 503 (a cut link fails fast); above STATEMENT_TIMEOUT_MS, which the server"
        " applies first to a query that is only slow",
    )
    pool_pre_ping: bool = Field(
        default=False,
        description="test each pooled connection before use (one to three round trips per request); off: a"
        " connection lost to a database restart fails one request with 503, then the pool is renewed",
    )
    statement_timeout_ms: int = Field(
        default=2_500, ge=0, description="PostgreSQL statement_timeout; below DB_RESPONSE_TIMEOUT"
    )
    lock_timeout_ms: int | None = Field(
        default=None,
        ge=0,
        description="the longest a change waits for a row that another request is changing, in this process or in"
        " PostgreSQL (lock_timeout), before its retryable 409; below STATEMENT_TIMEOUT_MS; 0: no limit; unset:"
        " 1000, or half of STATEMENT_TIMEOUT_MS if that is less",
    )
    cors_origins: str = Field(
        default="",
        description="comma-separated origins that browsers may call the API from; empty: CORS closed",
    )
    pgbouncer: bool = Field(
        default=False,
        description="DATABASE_URL is a PgBouncer in transaction pooling mode: asyncpg reuses no prepared statement"
        " across transactions, and no startup parameter is sent (STATEMENT_TIMEOUT_MS is then not applied:"
        " set statement_timeout on the database role)",
    )

    idempotency_window_hours: float = Field(
        default=24,
        gt=0,
        le=24 * 365,
        description="how long an Idempotency-Key is remembered; a retry after that is a new request, and"
        " `sale-orders idempotency purge` deletes the expired keys",
    )
    features: str = Field(
        default="all",
        description="FOR THE BENCHMARK LADDER ONLY: which of the product's features to build (`all`, `none`, or"
        " comma-separated names from sale_orders/features.py); each one left out removes a promise",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text`: uvicorn's lines; `json`: one JSON object per line, with the request id and family",
    )
    prometheus_multiproc_dir: Path | None = Field(
        default=None,
        description="where `serve --workers N` processes share their metrics (emptied at start); unset: a"
        " temporary folder, removed at exit",
    )

    max_request_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="bytes a request line and its headers may take together; more is a 431 and the connection"
        " is closed (what the client sends beyond is never buffered)",
    )
    header_timeout: float = Field(
        default=10,
        gt=0,
        le=3600,
        description="seconds a request's headers may take to arrive, from the connection's opening (its first"
        " request) or from the first byte of a later one; then a 408 and the connection is closed",
    )
    body_timeout: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="seconds a request body may take to arrive after its headers; then a 408 (unless the answer"
        " has started) and the connection is closed, and the app sees the client gone",
    )

    @property
    def idempotency_window(self) -> timedelta:
        return timedelta(hours=self.idempotency_window_hours)

    api_keys: SecretStr = Field(
        default=SecretStr(""),
        description="comma-separated `write:<sha256 hex>` or `read:<sha256 hex>` entries, one per API key: the"
        " SHA-256 of the key and what it may do (read: GET only; write: everything). Set: every /sync and /async"
        " request needs `Authorization: Bearer <key>`. Empty: the API is open. `sale-orders api-key` makes a key",
    )

    @model_validator(mode="after")
    def _statements_end_before_their_connection_is_given_up(self) -> "Settings":
        if self.statement_timeout_ms and self.statement_timeout_ms >= self.db_response_timeout * 1000:
            msg = (
                f"STATEMENT_TIMEOUT_MS ({self.statement_timeout_ms}) must be below DB_RESPONSE_TIMEOUT"
                f" ({self.db_response_timeout:g} s): a slow query is cancelled by PostgreSQL, not cut off by the client"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _lock_waits_end_before_their_statement(self) -> "Settings":
        given = self.lock_timeout_ms
        if given and self.statement_timeout_ms and given >= self.statement_timeout_ms:
            msg = (
                f"LOCK_TIMEOUT_MS ({given}) must be below STATEMENT_TIMEOUT_MS"
                f" ({self.statement_timeout_ms}): a wait for a row ends in a retryable 409 before the statement's 503"
            )
            raise ValueError(msg)
        return self

    @property
    def lock_wait_ms(self) -> int:
        """How long a change waits for a row, in milliseconds (`LOCK_TIMEOUT_MS`, or its default); 0: no limit."""
        if self.lock_timeout_ms is not None:
            return self.lock_timeout_ms
        # At least 1 ms: 0 would mean no limit at all.
        return max(1, min(1_000, self.statement_timeout_ms // 2)) if self.statement_timeout_ms else 1_000

    @property
    def lock_timeout(self) -> float | None:
        """`lock_wait_ms` in seconds; None: no limit."""
        return self.lock_wait_ms / 1000 if self.lock_wait_ms else None

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _database_url_is_a_postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _postgresql_url(value.get_secret_value())
        return value

    @field_validator("data_dir", "prometheus_multiproc_dir")
    @classmethod
    def _is_a_folder_or_nothing_yet(cls, value: Path | None) -> Path | None:
        if value is not None and (value.exists() and not value.is_dir()):
            msg = "is a file, not a folder"
            raise ValueError(msg)
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for position, origin in enumerate((part.strip() for part in value.split(",") if part.strip()), start=1):
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                msg = f"entry {position} is not an origin (scheme://host[:port], or *)"
                raise ValueError(msg)
        return value

    @field_validator("features")
    @classmethod
    def _features_are_known(cls, value: str) -> str:
        parse_features(value)
        return value

    @cached_property
    def enabled(self) -> frozenset[Feature]:
        """The features to build (`FEATURES`)."""
        return parse_features(self.features)

    @field_validator("api_keys")
    @classmethod
    def _api_keys_are_scoped_digests(cls, value: SecretStr) -> SecretStr:
        _parse_api_keys(value.get_secret_value())
        return value

    @cached_property
    def api_key_scopes(self) -> dict[str, ApiKeyScope]:
        """The scope of each configured API key, by the key's SHA-256 (lowercase hex); empty: no keys."""
        return _parse_api_keys(self.api_keys.get_secret_value())

    @property
    def allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @cached_property
    def standby_url(self) -> URL | None:
        """The standbys' URL, if reads may go to one."""
        return None if self.read_database_url is None else _postgresql_url(self.read_database_url.get_secret_value())

    @cached_property
    def configured_url(self) -> URL | None:
        """The server URL chosen by the environment, or None for the embedded server."""
        if self.database_url is not None:
            return _postgresql_url(self.database_url.get_secret_value())
        if self.db_host:
            return URL.create(
                "postgresql",
                username=self.db_user,
                password=self.db_password.get_secret_value() or None,
                host=self.db_host,
                port=self.db_port,
                database=self.db_name,
            )
        return None


def _postgresql_url(text: str) -> URL:
    """`text` as a PostgreSQL URL, or a ValueError saying what is wrong with it (never what it is)."""
    if not text.strip():
        msg = "is set but empty: unset it for the embedded PostgreSQL, or give postgresql://user:pass@host:port/db"
        raise ValueError(msg)
    try:
        url = make_url(text)
    except ArgumentError:
        msg = "is not a URL of the form postgresql://user:pass@host:port/db"
        raise ValueError(msg) from None
    if url.get_backend_name() not in {"postgresql", "postgres"}:
        msg = f"names the {url.get_backend_name()!r} dialect; this API needs postgresql://"
        raise ValueError(msg)
    return url


class SettingsError(Exception):
    """Settings that cannot be used: one line per bad setting, naming it and what is wrong, never its value."""


def load_settings() -> Settings:
    """The settings from the environment and `.env`.

    Raises:
        SettingsError: a setting has a value it cannot take.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            if not error["loc"]:  # a rule across settings: its message names them
                lines.append(message)
                continue
            name = str(error["loc"][0]).upper()
            lines.append(message if message.startswith(name) else f"{name}: {message}")
        raise SettingsError("\n".join(lines)) from None


def _parse_api_keys(text: str) -> dict[str, ApiKeyScope]:
    scopes: dict[str, ApiKeyScope] = {}
    for position, entry in enumerate((part.strip() for part in text.split(",") if part.strip()), start=1):
        match = _API_KEY_ENTRY.fullmatch(entry)
        if match is None:
            # Name the entry by position: it may be a key pasted by mistake, which must not reach a log.
            msg = f"API_KEYS entry {position} is not `read:<sha256 hex>` or `write:<sha256 hex>`"
            raise ValueError(msg)
        scope, digest = match.groups()
        if digest.lower() in scopes:  # `read:X,write:X` would otherwise leave the scope to the order of entries
            msg = f"API_KEYS entry {position} repeats the key of an earlier entry"
            raise ValueError(msg)
        scopes[digest.lower()] = "write" if scope == "write" else "read"
    if text.strip() and not scopes:  # set but empty (`,`): the API would be open while meant to be closed
        msg = "API_KEYS is set but has no entries"
        raise ValueError(msg)
    return scopes
