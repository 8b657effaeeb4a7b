"""The fault proxy between the app and PostgreSQL: it forwards every byte in order, holds a cut link, resets one."""

import socket
import threading
from collections.abc import Iterator

import pytest

from sale_orders_faultproxy.proxy import ProxyThread


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A TCP server on loopback that echoes what it reads, until the test ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_echo, args=(peer,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[:2]
    stop.set()
    thread.join()
    listener.close()


def _echo(peer: socket.socket) -> None:
    with peer:
        while data := peer.recv(65536):
            peer.sendall(data)


def _exchange(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_every_byte_arrives_in_order_through_a_delay(echo: tuple[str, int]) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    with ProxyThread(("127.0.0.1", 0), echo, delay_ms=1) as proxy, socket.create_connection(proxy.listen) as sock:
        assert _exchange(sock, payload) == payload
        stats = proxy.stats()
    assert stats["bytes_up"] == stats["bytes_down"] == len(payload)


def test_a_held_link_forwards_nothing_until_it_is_released(echo: tuple[str, int]) -> None:
    with ProxyThread(("127.0.0.1", 0), echo) as proxy, socket.create_connection(proxy.listen) as sock:
        assert _exchange(sock, b"before") == b"before"
        proxy.hold()
        sock.sendall(b"during")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(10)  # nothing comes back, and nothing closes the connection either
        proxy.release()
        sock.settimeout(5)
        assert sock.recv(10) == b"during"


def test_a_reset_aborts_every_connection(echo: tuple[str, int]) -> None:
    with ProxyThread(("127.0.0.1", 0), echo) as proxy, socket.create_connection(proxy.listen) as sock:
        assert _exchange(sock, b"x") == b"x"
        assert proxy.reset() == 1
        sock.settimeout(5)
        try:
            received = sock.recv(10)
        except ConnectionResetError:  # an RST, as a cable pulled at the far end looks
            received = b""
        assert received == b""  # no data, and no waiting: the connection is gone
