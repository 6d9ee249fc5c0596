"""A small in-process stand-in for the gateway that speaks the contract's "Sessions that
survive a dropped connection" section (which the real gateway does not implement yet).

It knows authenticate, lineInitializeEx (``resumable`` -> ``sessionId``), lineOpen,
lineMakeCall (answered, then LINE_REPLY in the same write), lineShutdown, lineResume and
phoneInitializeEx/phoneResume; tests push messages with :meth:`FakeGateway.emit`, cut the
connection with :meth:`drop` (RST), and take the listener away and back with
:meth:`stop_listening` / :meth:`start_listening` on the same port.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

LINEERR_INVALAPPHANDLE = -2147483628  # 0x80000014
PHONEERR_INVALAPPHANDLE = -1879048185  # 0x90000007


@dataclass
class Session:
    kind: str
    handle: int
    session_id: str
    resumable: bool
    log: List[Dict[str, Any]] = field(default_factory=list)
    conn: Optional["Conn"] = None

    @property
    def next_seq(self) -> int:
        return len(self.log) + 1


class Conn:
    """One accepted connection."""

    def __init__(self, gw: "FakeGateway", sock: socket.socket, number: int):
        self.gw = gw
        self.sock = sock
        self.number = number
        self.lock = threading.Lock()
        self.alive = True

    def send(self, *objs: Dict[str, Any]) -> None:
        data = b"".join((json.dumps(o) + "\n").encode() for o in objs)
        with self.lock:
            if not self.alive:
                return
            try:
                self.sock.sendall(data)
            except OSError:
                self.alive = False

    def reset(self) -> None:
        """Cut the connection with a TCP RST."""
        with self.lock:
            if not self.alive:
                return
            self.alive = False
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.sock.shutdown(socket.SHUT_RD)  # wakes our reader thread
            except OSError:
                pass
            self.sock.close()


class FakeGateway:
    """See the module docstring. ``requests`` lists ``(connection number, method, params)``."""

    def __init__(self, token: Optional[str] = None):
        self.token = token
        self.cv = threading.Condition()
        self.requests: List[Tuple[int, str, Dict[str, Any]]] = []
        self.sessions: Dict[str, Session] = {}
        self.conns: List[Conn] = []
        self.refuse_resume = False
        self.replay_overlap = 0  # >0: replay that many already-seen messages too (duplicates)
        self.hold: set = set()  # methods whose response is never sent
        self.unknown: set = set()  # methods answered -32601
        self.line_resume_any_kind = False  # lineResume also resumes phone sessions
        self.handler: Optional[Callable[[Conn, int, str, Dict[str, Any]], bool]] = None
        self._next_handle = 0x10000
        self._next_request = 0
        self._listener: Optional[socket.socket] = None
        self.port = 0
        self.start_listening()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- test controls ------------------------------------------------------------------------

    def start_listening(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        self.port = s.getsockname()[1]
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def stop_listening(self) -> None:
        """Closes the listener: connection attempts are refused until start_listening()."""
        s, self._listener = self._listener, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def drop(self) -> None:
        """RSTs every live connection; sessions stay (detached), as the contract's grace."""
        with self.cv:
            conns = [c for c in self.conns if c.alive]
            for s in self.sessions.values():
                s.conn = None
        for c in conns:
            c.reset()

    def close(self) -> None:
        self.stop_listening()
        self.drop()

    def emit(self, session: Session, method: str, **params: Any) -> int:
        """Appends a message to the session's log (next seq) and sends it if attached."""
        with self.cv:
            seq = session.next_seq
            msg = {"jsonrpc": "2.0", "method": method, "params": dict(params, seq=seq)}
            session.log.append(msg)
            conn = session.conn
        if conn is not None:
            conn.send(msg)
        return seq

    def wait_request(self, method: str, count: int = 1, timeout: float = 10.0) -> List[Tuple[int, str, Dict[str, Any]]]:
        """Waits until ``count`` requests named ``method`` came in; returns them."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                found = [r for r in self.requests if r[1] == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(found)} of {count} {method} requests within {timeout} s: {self.requests}")
                self.cv.wait(left)

    def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.conns) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.conns)} of {count} connections within {timeout} s")
                self.cv.wait(left)

    def session(self, index: int = 0) -> Session:
        with self.cv:
            return list(self.sessions.values())[index]

    # -- serving ------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                listener.close()
                return
            with self.cv:
                conn = Conn(self, sock, len(self.conns) + 1)
                self.conns.append(conn)
                self.cv.notify_all()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Conn) -> None:
        authenticated = self.token is None
        reader = conn.sock.makefile("rb")
        while True:
            try:
                line = reader.readline()
            except OSError:
                break
            if not line:
                break
            req = json.loads(line)
            rid, method, params = req["id"], req["method"], req.get("params") or {}
            with self.cv:
                self.requests.append((conn.number, method, params))
                self.cv.notify_all()
            if not authenticated:
                if method == "authenticate" and params.get("token") == self.token:
                    authenticated = True
                    conn.send({"jsonrpc": "2.0", "id": rid, "result": {}})
                else:
                    conn.send(_error(rid, -32001, "unauthenticated"))
                continue
            if method in self.hold:
                continue
            if method in self.unknown:
                conn.send(_error(rid, -32601, f"Method not found: {method}"))
                continue
            if self.handler is not None and self.handler(conn, rid, method, params):
                continue
            self._dispatch(conn, rid, method, params)
        with self.cv:
            conn.alive = False
            for s in self.sessions.values():
                if s.conn is conn:
                    s.conn = None
        reader.close()
        conn.sock.close()

    def _handle(self) -> int:
        self._next_handle += 1
        return self._next_handle

    def _dispatch(self, conn: Conn, rid: Any, method: str, params: Dict[str, Any]) -> None:
        ok = lambda result: conn.send({"jsonrpc": "2.0", "id": rid, "result": result})  # noqa: E731
        if method == "authenticate":
            ok({})
        elif method in ("lineInitializeEx", "phoneInitializeEx"):
            kind = "line" if method.startswith("line") else "phone"
            key = "hLineApp" if kind == "line" else "hPhoneApp"
            with self.cv:
                handle = self._handle()
                sid = f"sess-{handle:x}"
                self.sessions[sid] = Session(kind, handle, sid, bool(params.get("resumable")), conn=conn)
            ok({key: handle, "numDevs": 1, "apiVersion": 0x00020002, "sessionId": sid})
        elif method == "lineOpen":
            with self.cv:
                h = self._handle()
            ok({"hLine": h})
        elif method == "lineMakeCall":
            with self.cv:
                self._next_request += 1
                request_id = self._next_request
                h = self._handle()
                session = self._session_of_app(None)
            response = {"jsonrpc": "2.0", "id": rid, "result": {"requestId": request_id, "hCall": h}}
            if session is None:
                conn.send(response)
                return
            with self.cv:
                reply = {"jsonrpc": "2.0", "method": "LINE_REPLY",
                         "params": {"hDevice": 0, "dwMessageID": 12, "dwCallbackInstance": 0,
                                    "dwParam1": request_id, "dwParam2": 0, "dwParam3": 0, "seq": session.next_seq}}
                session.log.append(reply)
            conn.send(response, reply)  # one write: the reply right behind the response
        elif method in ("lineShutdown", "phoneShutdown"):
            key = "hLineApp" if method == "lineShutdown" else "hPhoneApp"
            with self.cv:
                for sid, s in list(self.sessions.items()):
                    if s.handle == params.get(key):
                        del self.sessions[sid]
            ok({})
        elif method in ("lineResume", "phoneResume"):
            kind = "line" if method == "lineResume" else "phone"
            with self.cv:
                s = self.sessions.get(params.get("sessionId"))
                if s is not None and self.line_resume_any_kind and method == "lineResume":
                    kind = s.kind
                refuse = self.refuse_resume or s is None or not s.resumable or s.kind != kind
                if not refuse:
                    s.conn = conn
                    last = int(params.get("lastSeq", 0))
                    replay = [m for m in s.log if m["params"]["seq"] > last - self.replay_overlap]
            if refuse:
                code = LINEERR_INVALAPPHANDLE if kind == "line" else PHONEERR_INVALAPPHANDLE
                name = "LINEERR_INVALAPPHANDLE" if kind == "line" else "PHONEERR_INVALAPPHANDLE"
                conn.send(_error(rid, code, name))
                return
            key = "hLineApp" if kind == "line" else "hPhoneApp"
            conn.send({"jsonrpc": "2.0", "id": rid, "result": {key: s.handle}}, *replay)
        else:
            conn.send(_error(rid, -32601, f"Method not found: {method}"))

    def _session_of_app(self, handle: Optional[int]) -> Optional[Session]:
        for s in self.sessions.values():
            if handle is None or s.handle == handle:
                return s
        return None


def _error(rid: Any, code: int, message: str) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}
