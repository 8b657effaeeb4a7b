"""The proxy: `LatencyProxy` on a running loop, `ProxyThread` from synchronous code; `control.send` from afar."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine


from sale_orders_faultproxy import control
from sale_orders_faultproxy.link import Link, ProxyState, clock
from sale_orders_faultproxy.stats import Address, Direction, ProxyStats, T, Target, new_loop


class LatencyProxy:
    """A TCP proxy with one-way delay and a hold switch; runs on the current asyncio (or uvloop) loop.

    Methods are not thread-safe: call them from the loop's thread (see `ProxyThread` otherwise).
    """

    def __init__(  # noqa: PLR0913 - keyword-only options
        self,
        listen: Address,
        target: Target,
        *,
        delay_ms: float = 0.0,
        delay_up_ms: float | None = None,
        delay_down_ms: float | None = None,
        count_messages: bool = False,
        held: bool = False,
        timer_lead_ms: float = 0.0,
    ) -> None:
        """`timer_lead_ms`: write chunks up to this much before they are due (to offset timer lateness)."""
        self.listen = listen
        self.target = target
        self._state = ProxyState(
            (delay_ms if delay_up_ms is None else delay_up_ms) / 1000,
            (delay_ms if delay_down_ms is None else delay_down_ms) / 1000,
            held=held,
            count_messages=count_messages,
            lead=timer_lead_ms / 1000,
        )
        self._state.target = target
        self._server: asyncio.Server | None = None
        self._control: asyncio.Server | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self, control: Address | None = None) -> LatencyProxy:
        """Listen on `listen` (and on `control` for the line protocol, if given)."""
        self._state.loop = loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accept, *self.listen, reuse_address=True, backlog=1024)
        sock = self._server.sockets[0]
        self.listen = sock.getsockname()[:2]
        if control is not None:
            self._control = await asyncio.start_server(self._serve_control, *control, reuse_address=True)
        return self

    @property
    def control_address(self) -> Address | None:
        return None if self._control is None else self._control.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        """Stop listening and abort every connection."""
        for server in (self._server, self._control):
            if server is not None:
                server.close()
        self.reset()
        for server in (self._server, self._control):
            if server is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 1)
        self._server = self._control = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- controls ----------------------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        return self._state.held

    def hold(self) -> None:
        """Cut the link: forward nothing either way, keep every socket open, connect nothing new upstream."""
        if self._state.held:
            return
        self._state.held = True
        self._state.held_since = clock()
        self._state.released.clear()
        for link in self._state.links:
            link.on_hold()

    def release(self) -> None:
        """Lift a hold: forward what was buffered (in order) and carry on."""
        if not self._state.held:
            return
        self._state.held = False
        self._state.released.set()
        for link in list(self._state.links):
            link.on_release()

    def set_delay(self, ms: float, direction: Direction = "both") -> None:
        """One-way delay in milliseconds for chunks read from now on (``up`` is client -> server)."""
        if ms < 0:
            raise ValueError("delay must be >= 0")
        if direction in ("up", "both"):
            self._state.delay_up = ms / 1000
        if direction in ("down", "both"):
            self._state.delay_down = ms / 1000

    def reset(self) -> int:
        """Abort every open connection with an RST; returns how many there were."""
        links = list(self._state.links)
        for link in links:
            link.abort()
        return len(links)

    def stats(self) -> ProxyStats:
        self._state.stats.held = self._state.held
        self._state.stats.delay_up_ms = self._state.delay_up * 1000
        self._state.stats.delay_down_ms = self._state.delay_down * 1000
        return self._state.stats

    def zero_stats(self) -> None:
        """Zero the counters (open connections stay counted)."""
        fresh = ProxyStats()
        for name in (
            "connections_total",
            "bytes_up",
            "bytes_down",
            "chunks_up",
            "chunks_down",
            "turns",
            "delayed_chunks",
            "lateness_ms_total",
            "lateness_ms_max",
        ):
            setattr(self._state.stats, name, getattr(fresh, name))
        self._state.stats.messages_up.clear()  # cleared in place: the connections' parsers hold this counter

    # -- internals ---------------------------------------------------------------------------------------

    def _accept(self) -> asyncio.Protocol:
        link = Link(self._state)
        self._state.links.add(link)
        self._state.stats.connections_total += 1
        self._state.stats.connections_open += 1
        return link.client

    async def _serve_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = self.command(line.decode().strip())
                except Exception as exc:  # noqa: BLE001 - reported to the controlling client
                    answer = f"error {exc}"
                writer.write(answer.encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    def command(self, line: str) -> str:
        """Run one control command (the control port's protocol, `control.COMMANDS`); returns the answer line."""
        return control.run(self, line)


class ProxyThread:
    """A `LatencyProxy` on its own event loop in a daemon thread, driven from synchronous code.

    Note that the proxy then shares the GIL with the caller: for benchmarks run the CLI in its own process.
    """

    def __init__(self, listen: Address, target: Target, *, control: Address | None = None, **options: Any) -> None:
        self._args = (listen, target)
        self._options = options
        self._control = control
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.proxy: LatencyProxy | None = None

    def start(self) -> ProxyThread:
        ready: Future[None] = Future()
        self._loop = new_loop()

        loop = self._loop

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                self.proxy = LatencyProxy(*self._args, **self._options)
                await self.proxy.start(self._control)

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the starting thread
                ready.set_exception(exc)
                return
            ready.set_result(None)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="latency-proxy", daemon=True)
        self._thread.start()
        ready.result(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self.proxy is not None:
            self._run(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def listen(self) -> Address:
        return self._p().listen

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the proxy thread is not running")
        return self._loop

    def _call(self, fn: Callable[[], T]) -> T:
        future: Future[T] = Future()

        def call() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                future.set_exception(exc)

        self._running_loop().call_soon_threadsafe(call)
        return future.result(5)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._running_loop()).result(10)

    def _p(self) -> LatencyProxy:
        if self.proxy is None:
            raise RuntimeError("the proxy thread is not running")
        return self.proxy

    def hold(self) -> None:
        self._call(self._p().hold)

    def release(self) -> None:
        self._call(self._p().release)

    def set_delay(self, ms: float, direction: Direction = "both") -> None:
        self._call(lambda: self._p().set_delay(ms, direction))

    def reset(self) -> int:
        return self._call(self._p().reset)

    def stats(self) -> dict[str, Any]:
        """A snapshot of the counters, as a plain dict."""
        return self._call(lambda: self._p().stats().as_dict())

    def zero_stats(self) -> None:
        self._call(self._p().zero_stats)
