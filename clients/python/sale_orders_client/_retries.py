"""Safe retries for every SDK call: a retry policy and the httpx transports that apply it, blocking and asyncio.

Hand-written as clients/runtime/_retries.py, where ruff and mypy check it; `sale-orders client` copies it verbatim
into the generated package, whose `client.py` imports it (`Client.retry` wraps the transport of every httpx client
it builds). Edit the source, never the copy.

The Sale Orders API makes every method safe to repeat: a POST create with an Idempotency-Key is answered once
(a retry with the same key and body gets the first answer and creates nothing), a PATCH sets absolute values
and replaces an order's lines whole, a DELETE repeated after a lost answer gets 404, and GETs change nothing.
"""

import datetime as dt
import email.utils
import json
import math
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
from attrs import define


@define(frozen=True)
class RetryPolicy:
    """When and how the client retries a request.

    Every POST gets an ``Idempotency-Key`` (a new uuid4 per call, made before its first attempt) unless the caller
    set one, so that a create is safe to repeat; each attempt of that call sends the same key. A request is retried
    on a connection error or a timeout (also one while the body arrives), on a status in ``statuses`` (503), and on
    a 409 problem whose ``type`` is in ``retried_conflict_types``: the first request with this key is still running,
    or the request collided with a concurrent change of the same rows; either way nothing was changed.
    Between attempts the client sleeps ``Retry-After`` when the response has it, otherwise a random time in
    [0, min(max_delay, base_delay * 2 ** (attempt - 1))] ("full jitter"). When the attempts run out, the last
    response is returned (or the last error raised).

    Attributes:
        max_attempts: attempts in all, the first included; 1 sends keys but never retries.
        base_delay: seconds, the backoff's first ceiling.
        max_delay: seconds, the cap of the backoff.
        max_retry_after: seconds; a longer Retry-After is not waited for: that response is returned.
        statuses: the statuses that are retried.
        retried_conflict_types: the problem `type`s of a 409 that is retried (others, such as a duplicate name,
            would fail again).
        methods: the methods that are retried (POST only when it carries an Idempotency-Key).
        idempotency_header: the header that carries the key.
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0
    statuses: frozenset[int] = frozenset([503])
    retried_conflict_types: frozenset[str] = frozenset(
        ["urn:sale-orders:problem:idempotency-key-in-progress", "urn:sale-orders:problem:concurrent-change"]
    )
    methods: frozenset[str] = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE", "POST"])
    idempotency_header: str = "Idempotency-Key"

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("base_delay, max_delay and max_retry_after must not be negative")

    def prepare(self, request: httpx.Request) -> None:
        """Fix the request's Idempotency-Key before its first attempt (a POST without one gets a uuid4)."""
        if request.method == "POST" and self.idempotency_header not in request.headers:
            request.headers[self.idempotency_header] = str(uuid.uuid4())

    def may_retry(self, request: httpx.Request, attempt: int) -> bool:
        """Whether the request may be sent again after `attempt` attempts."""
        if attempt >= self.max_attempts or request.method not in self.methods:
            return False
        if request.method == "POST" and self.idempotency_header not in request.headers:
            return False
        # A streamed body cannot be sent twice; the SDK's bodies are bytes.
        return isinstance(request.stream, httpx.ByteStream)

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after `attempt` failed attempts: full jitter under a capped exponential."""
        return rng() * min(self.max_delay, math.ldexp(self.base_delay, attempt - 1))

    def delay_after_error(self, request: httpx.Request, error: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after `error`, or None to raise it."""
        if not isinstance(error, _RETRIED_ERRORS) or not self.may_retry(request, attempt):
            return None
        return self.backoff(attempt)

    def delay_after_response(self, request: httpx.Request, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying after `response` (its body read), or None to return it."""
        if not self.may_retry(request, attempt):
            return None
        if response.status_code not in self.statuses and not (
            response.status_code == 409 and _problem_type(response) in self.retried_conflict_types
        ):
            return None
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is None:
            return self.backoff(attempt)
        return retry_after if retry_after <= self.max_retry_after else None


_RETRIED_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _problem_type(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) else None


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP-date (RFC 9110 10.2.3); None if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _received(response: httpx.Response, raw: bytes) -> tuple[httpx.Response, httpx.Response]:
    """A response whose raw body has arrived: (one to decide on, read; one to return, unread).

    The one returned carries the same status, headers and bytes, unread, so that httpx reads and closes it as it
    does any response (and sets `elapsed`).
    """
    decided = httpx.Response(response.status_code, headers=response.headers, content=raw)
    returned = httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
    )
    return decided, returned


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport: retries a request as `policy` says, the same Request (and Idempotency-Key) each time.

    It receives each response's whole body before returning it (the SDK never streams), so that a connection lost
    or a timeout while the body arrives is retried like one before the status line.
    """

    def __init__(
        self, transport: httpx.BaseTransport, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._policy.prepare(request)
        attempt = 1
        while True:
            try:
                response = self._transport.handle_request(request)
                if response.is_stream_consumed:  # a transport that answers read responses (httpx.MockTransport)
                    decided = returned = response
                else:
                    try:
                        raw = b"".join(response.iter_raw())
                    finally:
                        response.close()
                    decided, returned = _received(response, raw)
            except Exception as error:
                delay = self._policy.delay_after_error(request, error, attempt)
                if delay is None:
                    raise
            else:
                delay = self._policy.delay_after_response(request, decided, attempt)
                if delay is None:
                    return returned
            self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        self._transport.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The asyncio (anyio) twin of RetryTransport."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._policy.prepare(request)
        attempt = 1
        while True:
            try:
                response = await self._transport.handle_async_request(request)
                if response.is_stream_consumed:
                    decided = returned = response
                else:
                    try:
                        raw = b"".join([chunk async for chunk in response.aiter_raw()])
                    finally:
                        await response.aclose()
                    decided, returned = _received(response, raw)
            except Exception as error:
                delay = self._policy.delay_after_error(request, error, attempt)
                if delay is None:
                    raise
            else:
                delay = self._policy.delay_after_response(request, decided, attempt)
                if delay is None:
                    return returned
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        await self._transport.aclose()


# httpx.Client arguments that configure its default transport: given to the transport the retry wrapper wraps.
_TRANSPORT_ARGS = ("cert", "http1", "http2", "limits", "proxy")


def retrying_httpx_args(
    httpx_args: dict[str, Any], verify: str | bool | ssl.SSLContext, policy: RetryPolicy | None, *, asynchronous: bool
) -> dict[str, Any]:
    """The httpx Client arguments with the retry wrapper around the transport (and around any mounted one).

    Note: like any explicit httpx transport, this one does not read HTTP(S)_PROXY from the environment; pass
    ``httpx_args={"proxy": ...}``, or ``retry=None`` for httpx's own behaviour.
    """
    args = dict(httpx_args)
    if policy is None:
        return args
    transport_args = {name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
    wrap: Callable[[Any], Any] = (
        (lambda t: AsyncRetryTransport(t, policy)) if asynchronous else (lambda t: RetryTransport(t, policy))
    )
    inner = args.pop("transport", None)
    if inner is None:
        transport_type = httpx.AsyncHTTPTransport if asynchronous else httpx.HTTPTransport
        inner = transport_type(verify=verify, trust_env=args.get("trust_env", True), **transport_args)
    args["transport"] = wrap(inner)
    if args.get("mounts"):
        args["mounts"] = {pattern: None if t is None else wrap(t) for pattern, t in args["mounts"].items()}
    return args
