"""A TCP proxy the tests control, to cut an API connection the way a network failure does (the
Python twin of tests/common/cut_proxy.rs): the client connects to the proxy, the proxy to the
gateway. ``cut()`` resets both ends (SO_LINGER 0, then close: RST, no FIN); while ``hold()``
is on, new connections are reset as soon as they are accepted, so a client that reconnects by
itself stays away until ``release()``."""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from typing import List, Tuple

_LINGER_ZERO = struct.pack("ii", 1, 0)


def _reset(sock: socket.socket) -> None:
    """Closes ``sock`` with RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    except OSError:
        pass
    sock.close()


class CutProxy:
    def __init__(self, upstream: Tuple[str, int]):
        self.upstream = upstream
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: List[Tuple[socket.socket, socket.socket, threading.Event, List[threading.Thread]]] = []
        self._hold = False
        self.accepted = 0
        self.refused = 0
        self._closed = False
        threading.Thread(target=self._accept_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def hold(self) -> None:
        with self._lock:
            self._hold = True

    def release(self) -> None:
        with self._lock:
            self._hold = False

    def cut(self) -> int:
        """Resets every open connection, both ends; returns how many there were."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, server, stop, threads in pairs:
            stop.set()
            for t in threads:
                t.join(2.0)
            _reset(client)
            _reset(server)
        return len(pairs)

    def wait_refused(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.refused < count:
            assert time.monotonic() < deadline, f"{self.refused} of {count} refused connections"
            time.sleep(0.01)

    def close(self) -> None:
        self._closed = True
        self.hold()
        self.cut()
        self._listener.close()

    def _accept_forever(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                hold = self._hold
            if hold:
                self.refused += 1
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            stop = threading.Event()
            threads = [threading.Thread(target=self._copy, args=(a, b, stop), daemon=True)
                       for a, b in ((client, server), (server, client))]
            with self._lock:
                self._pairs.append((client, server, stop, threads))
                self.accepted += 1
            for t in threads:
                t.start()

    @staticmethod
    def _copy(src: socket.socket, dst: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                readable, _, _ = select.select([src], [], [], 0.02)
                if not readable:
                    continue
                data = src.recv(16384)
            except (OSError, ValueError):
                return
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            try:
                dst.sendall(data)
            except OSError:
                return
