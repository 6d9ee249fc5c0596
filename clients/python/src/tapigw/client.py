"""The synchronous client: blocking calls, messages on one callback thread or pulled with
``next_message``, and automatic reconnect + resume for resumable apps.

Threads: one *reader* thread owns the socket (it reads responses and notifications, and runs
reconnection and resume); one *dispatcher* thread, started by :meth:`Client.on_message`, runs
every callback in message order. Calls may be made from any thread, callbacks included.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from . import _core
from ._core import END, MESSAGE, RECONNECTED, SESSION_LOST, App, Inbox, Sessions
from .errors import (
    AuthenticationError,
    ConnectionLost,
    RequestTimeout,
    RpcError,
    SessionLost,
    SessionTakenOver,
    TapiGwError,
    error_from_response,
)

log = logging.getLogger("tapigw")

CONNECTED = "connected"
RECONNECTING = "reconnecting"
CLOSED = "closed"

MessageCallback = Callable[[Dict[str, Any]], Any]


class _Pending:
    """A request waiting for its response."""

    __slots__ = ("method", "params", "event", "result", "error", "slot", "internal", "abandoned", "done")

    def __init__(self, method: str, params: Dict[str, Any], internal: bool = False):
        self.method = method
        self.params = params
        self.event = threading.Event()
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.slot: Optional[int] = None
        self.internal = internal
        self.abandoned = False
        self.done = False


class _Function:
    """A bound API function: ``client.lineMakeCall(hLine=1, destAddress="2000")``."""

    __slots__ = ("_client", "__name__")

    def __init__(self, client: "Client", name: str):
        self._client = client
        self.__name__ = name

    def __call__(self, _params: Optional[Dict[str, Any]] = None, **params: Any) -> Dict[str, Any]:
        merged = dict(_params or {})
        merged.update(params)
        return self._client.call(self.__name__, merged)

    def __repr__(self) -> str:
        return f"<tapigw function {self.__name__}>"


def _tune(sock: socket.socket) -> None:
    """TCP_NODELAY for small request lines; keep-alive so that a dead peer is noticed."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
            except OSError:
                pass


class Client:
    """A connection to a tapigw gateway (use :func:`connect`).

    Every API function is a method of the same name taking keyword parameters and returning
    the result dict::

        app = c.lineInitializeEx(appName="demo", apiVersion=0x00020002, options=1)
        line = c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=0x00020002,
                          privileges=tapigw.LINECALLPRIVILEGE_OWNER,
                          mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
        call = c.lineMakeCall(hLine=line["hLine"], destAddress="2000")

    Names are not checked locally, so functions added to the gateway later work as they are.
    Errors raise :class:`~tapigw.TapiError` (LINEERR_/PHONEERR_) or
    :class:`~tapigw.ProtocolError` (JSON-RPC).

    Messages: register one callback with :meth:`on_message` (called on one client thread, in
    order), *or* pull them with :meth:`next_message` / :meth:`messages`; not both.

    Dropped connections: when an app initialised with ``resumable=True`` exists, the client
    reconnects by itself (backoff ``reconnect_initial`` doubling to ``reconnect_max``, with
    jitter, for at most ``resume_timeout`` seconds), authenticates again, resumes each such app
    with ``lineResume``/``phoneResume`` and its last seq, and goes on delivering messages with
    duplicates dropped. Requests made meanwhile wait up to ``reconnect_wait`` seconds for the
    connection and then raise :class:`~tapigw.ConnectionLost`; requests that were in flight
    when it dropped raise ConnectionLost at once (their outcome is unknown). A refused resume
    is reported to :meth:`on_session_lost`. Without resumable apps a dropped connection closes
    the client.
    """

    def __init__(
        self,
        address: Any = None,
        token: Optional[str] = None,
        *,
        connect_timeout: float = 10.0,
        request_timeout: Optional[float] = 30.0,
        reconnect: bool = True,
        reconnect_initial: float = 0.1,
        reconnect_max: float = 5.0,
        resume_timeout: float = 30.0,
        reconnect_wait: Optional[float] = None,
    ):
        self.address = _core.parse_address(address)
        self.token = token if token is not None else os.environ.get("TAPIGW_TOKEN") or None
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.reconnect = reconnect
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.resume_timeout = resume_timeout
        self.reconnect_wait = resume_timeout if reconnect_wait is None else reconnect_wait

        self._cv = threading.Condition()
        self._send_lock = threading.Lock()
        self._pending: Dict[int, _Pending] = {}
        self._next_id = 0
        self._inbox = Inbox()
        self._sessions = Sessions()
        self._state = CONNECTED
        self._closed_reason: Optional[ConnectionLost] = None
        self._stop = threading.Event()
        self._callback: Optional[MessageCallback] = None
        self._session_lost_cb: Optional[Callable[[SessionLost], Any]] = None
        self._reconnect_cb: Optional[Callable[[], Any]] = None
        self._closed_cb: Optional[Callable[[ConnectionLost], Any]] = None
        self._dispatcher: Optional[threading.Thread] = None
        self._sock = self._open_socket()
        self._file = self._sock.makefile("rb")
        self._reader = threading.Thread(target=self._read_forever, name="tapigw-reader", daemon=True)
        self._reader.start()
        if self.token:
            try:
                self.call("authenticate", {"token": self.token})
            except BaseException:
                self.close()
                raise

    # ------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> _Function:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Function(self, name)

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Any = "default") -> Dict[str, Any]:
        """Sends one request and returns its result (a dict for every API function).

        ``timeout`` (seconds, None = forever) defaults to ``request_timeout``, extended by the
        ``timeout`` of lineGetMessage/phoneGetMessage. Raises TapiError, ProtocolError,
        ConnectionLost or RequestTimeout.
        """
        params = dict(params or {})
        if timeout == "default":
            timeout = _core.call_timeout(method, params, self.request_timeout)
        pending = _Pending(method, params)
        with self._cv:
            self._wait_connected(method)
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = pending
            sock = self._sock
        try:
            with self._send_lock:
                sock.sendall(_core.request(request_id, method, params))
        except OSError as e:
            with self._cv:
                if not pending.done:
                    self._pending.pop(request_id, None)
                    raise ConnectionLost(f"{method}: could not send the request: {e}") from e
        try:
            pending.event.wait(timeout)
        except BaseException:  # KeyboardInterrupt: give the slot up, or delivery would stall
            with self._cv:
                pending.abandoned = True
                if pending.done:
                    self._inbox.consume(pending.slot)
                    self._cv.notify_all()
            raise
        return self._finish(pending, timeout)

    def _finish(self, pending: _Pending, timeout: Optional[float]) -> Dict[str, Any]:
        """The caller's side of a response: hands its slot back (letting the messages that
        followed the response be delivered) and returns the result or raises the error."""
        with self._cv:
            if not pending.done:
                pending.abandoned = True
                raise RequestTimeout(f"{pending.method}: no response within {timeout} s")
            self._inbox.consume(pending.slot)
            self._cv.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _wait_connected(self, method: str) -> None:
        """Under the lock: waits out a reconnection (bounded by ``reconnect_wait``)."""
        deadline = time.monotonic() + self.reconnect_wait
        while self._state == RECONNECTING:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionLost(f"{method}: not reconnected within {self.reconnect_wait} s")
            self._cv.wait(left)
        if self._state == CLOSED:
            reason = self._closed_reason or ConnectionLost("the client is closed")
            raise ConnectionLost(f"{method}: {reason}")

    # ------------------------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------------------------

    def on_message(self, callback: MessageCallback) -> MessageCallback:
        """Registers the callback every TAPI message is passed to, as a dict of the LINEMESSAGE
        fields (hDevice, dwMessageID, dwCallbackInstance, dwParam1..3, and extras such as
        ``digits``, ``dwCompletionKey``, ``seq``) plus ``"method"`` ("LINE_CALLSTATE").

        Callbacks run on one client thread, one at a time, in message order, and never before
        the call whose response preceded the message has returned to its caller. They may call
        API functions. An exception in a callback is logged and does not stop delivery.
        Messages that arrived before registration are delivered first. Usable as a decorator.
        """
        with self._cv:
            self._callback = callback
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch_forever, name="tapigw-callbacks", daemon=True)
                self._dispatcher.start()
        return callback

    def on_session_lost(self, callback: Callable[[SessionLost], Any]) -> Callable[[SessionLost], Any]:
        """Registers the function told (with a :class:`~tapigw.SessionLost`) when an app could
        not be resumed after a reconnect. Runs where messages are delivered, in order. Without
        it, ``next_message`` raises SessionLost and callback users get a logged warning."""
        self._session_lost_cb = callback
        return callback

    def on_reconnect(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """Registers a function called (in message order) after a reconnect resumed the apps."""
        self._reconnect_cb = callback
        return callback

    def on_closed(self, callback: Callable[[ConnectionLost], Any]) -> Callable[[ConnectionLost], Any]:
        """Registers a function called once, after the last message, when the client is closed
        for good (connection lost with nothing to resume, reconnection given up, or close())."""
        self._closed_cb = callback
        return callback

    def next_message(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """The next TAPI message (a dict as for :meth:`on_message`), waiting up to ``timeout``
        seconds (None: forever); None when nothing came in time. Raises ConnectionLost once the
        client is closed and every message has been taken, and SessionLost when an app could
        not be resumed (unless :meth:`on_session_lost` is registered). Not usable together
        with :meth:`on_message`."""
        if self._callback is not None:
            raise RuntimeError("next_message() cannot be used once on_message() registered a callback")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            item = self._take(left)
            if item is None:
                return None
            kind, payload = item
            if kind == MESSAGE:
                return payload
            if kind == END:
                raise payload
            if kind == SESSION_LOST:
                if self._session_lost_cb is None:
                    raise payload
                self._run_hook(self._session_lost_cb, payload)
            elif kind == RECONNECTED and self._reconnect_cb is not None:
                self._run_hook(self._reconnect_cb)

    def messages(self, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Iterates over TAPI messages until the client is closed (or, with ``timeout``, until
        none came for that long)."""
        while True:
            try:
                msg = self.next_message(timeout)
            except ConnectionLost:
                return
            if msg is None:
                return
            yield msg

    __iter__ = messages

    def hold_messages(self) -> "_Hold":
        """A context manager that holds message delivery back while it is entered, e.g. to store
        a requestId before its LINE_REPLY can reach the callback::

            with c.hold_messages():
                r = c.lineMakeCall(hLine=h, destAddress="2000")
                pending[r["requestId"]] = "dialling"
        """
        return _Hold(self)

    def _take(self, timeout: Optional[float]) -> Optional[Tuple[str, Any]]:
        """The next deliverable inbox item, or None after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while True:
                item = self._inbox.ready()
                if item is not None:
                    return item
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cv.wait(left)

    def _dispatch_forever(self) -> None:
        """The callback thread: delivers every inbox item in order."""
        while True:
            kind, payload = self._take(None)  # type: ignore[misc]
            if kind == MESSAGE:
                callback = self._callback
                if callback is not None:
                    self._run_hook(callback, payload)
            elif kind == SESSION_LOST:
                if self._session_lost_cb is not None:
                    self._run_hook(self._session_lost_cb, payload)
                else:
                    log.warning("tapigw: %s", payload)
            elif kind == RECONNECTED:
                if self._reconnect_cb is not None:
                    self._run_hook(self._reconnect_cb)
            elif kind == END:
                if self._closed_cb is not None:
                    self._run_hook(self._closed_cb, payload)
                return

    @staticmethod
    def _run_hook(fn: Callable[..., Any], *args: Any) -> None:
        """Calls an app callback; logs its exceptions."""
        try:
            fn(*args)
        except Exception:
            log.exception("tapigw: exception in callback %r", fn)

    # ------------------------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``"connected"``, ``"reconnecting"`` or ``"closed"``."""
        return self._state

    @property
    def closed(self) -> bool:
        """True once the client is closed for good."""
        return self._state == CLOSED

    def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the client is closed for good; False if ``timeout`` passed first."""
        return self.wait_state(CLOSED, timeout)

    def wait_state(self, state: str, timeout: Optional[float] = None) -> bool:
        """Blocks until :attr:`state` is ``state`` ("connected", "reconnecting", "closed");
        False if ``timeout`` passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: self._state == state, timeout)

    def apps(self) -> List[App]:
        """The apps initialised on this client (kind, handle, sessionId, resumable, last seq)."""
        with self._cv:
            return [App(**vars(a)) for a in self._sessions.apps.values()]

    def close(self, shutdown: bool = True) -> None:
        """Closes the connection. With ``shutdown`` (default) resumable apps are shut down first
        (lineShutdown/phoneShutdown), so the gateway does not keep them for the grace period;
        other apps end with the connection as the contract says."""
        with self._cv:
            if self._state == CLOSED:
                return
            apps = [a for a in self._sessions.resumable()] if shutdown and self._state == CONNECTED else []
        for app in apps:
            method = "lineShutdown" if app.kind == "line" else "phoneShutdown"
            try:
                self.call(method, {_core.APP_KEYS[app.kind]: app.handle}, timeout=2.0)
            except TapiGwError:
                pass
        self._stop.set()
        with self._cv:
            self._set_closed(ConnectionLost("the client was closed"))
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the reader, which closes the socket
        except OSError:
            pass
        current = threading.current_thread()
        if self._reader is not current:
            self._reader.join(5.0)
            self._shutdown_socket(self._sock, self._file)
        if self._dispatcher is not None and self._dispatcher is not current:
            self._dispatcher.join(5.0)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _set_closed(self, reason: ConnectionLost) -> None:
        """Under the lock: the client is closed for good."""
        if self._state == CLOSED:
            return
        self._state = CLOSED
        self._closed_reason = reason
        self._fail_pending(reason)
        self._inbox.push(END, reason)
        self._cv.notify_all()

    def _fail_pending(self, reason: BaseException) -> None:
        """Under the lock: fails every request still waiting for its response."""
        for pending in self._pending.values():
            if not pending.done:
                pending.error = ConnectionLost(f"{pending.method}: {reason}")
                pending.done = True
                pending.event.set()
        self._pending.clear()

    # ------------------------------------------------------------------------------------
    # The reader thread
    # ------------------------------------------------------------------------------------

    def _open_socket(self) -> socket.socket:
        """Opens a connection to the gateway (ConnectionLost when it cannot)."""
        try:
            sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        except OSError as e:
            raise ConnectionLost(f"cannot connect to the gateway at {self.address[0]}:{self.address[1]}: {e}") from e
        sock.settimeout(None)
        _tune(sock)
        return sock

    @staticmethod
    def _shutdown_socket(sock: socket.socket, file: Any = None) -> None:
        """Shuts a connection down and closes it (and its file), ignoring errors."""
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for closable in (file, sock):
            try:
                if closable is not None:
                    closable.close()
            except (OSError, ValueError):
                pass

    def _read_forever(self) -> None:
        """The reader thread: reads until the connection drops, then reconnects or closes."""
        while True:
            self._read_until_eof(self._file)
            self._shutdown_socket(self._sock, self._file)
            with self._cv:
                if self._state == CLOSED or self._stop.is_set():
                    self._set_closed(ConnectionLost("the client was closed"))
                    return
                lost = ConnectionLost("the connection to the gateway was lost while the request was in flight (outcome unknown)")
                self._fail_pending(lost)
                resumable = self._sessions.resumable()
                if not self.reconnect or not resumable:
                    self._set_closed(ConnectionLost("the connection to the gateway was lost"))
                    return
                for app in self._sessions.not_resumable():
                    self._lose(app, ConnectionLost("the connection dropped and the app was not resumable"))
                self._state = RECONNECTING
                self._cv.notify_all()
            log.warning("tapigw: connection to %s:%d lost; reconnecting", *self.address)
            if not self._reconnect_and_resume():
                return

    def _read_until_eof(self, file: Any) -> None:
        """Handles every line of one connection until it ends."""
        while True:
            try:
                line = file.readline()
            except (OSError, ValueError):
                return
            if not line:
                return
            if not line.endswith(b"\n"):
                return  # a partial line at EOF
            self._handle_line(line)

    def _handle_line(self, line: bytes) -> None:
        """Routes one received line: a response to its caller, a notification to the inbox."""
        obj = _core.decode(line)
        if obj is None:
            return
        if _core.is_response(obj):
            self._on_response(obj)
        elif _core.is_notification(obj):
            self._on_notification(obj)
        else:
            log.warning("tapigw: ignoring an unexpected frame: %r", line[:200])

    def _on_response(self, obj: Dict[str, Any]) -> None:
        """Completes the request a response answers and takes its ordering slot."""
        with self._cv:
            pending = self._pending.pop(obj.get("id"), None)  # type: ignore[arg-type]
            if pending is None:
                log.warning("tapigw: response to an unknown request id %r", obj.get("id"))
                return
            if "error" in obj:
                pending.error = error_from_response(obj["error"], pending.method)
            else:
                pending.result = obj.get("result")
                try:
                    self._sessions.on_result(pending.method, pending.params, pending.result)
                except Exception:
                    log.exception("tapigw: session bookkeeping failed for %s", pending.method)
            if not pending.internal and not pending.abandoned:
                pending.slot = self._inbox.take_slot()
            pending.done = True
            pending.event.set()
            self._cv.notify_all()

    def _on_notification(self, obj: Dict[str, Any]) -> None:
        """Queues a notification unless it is a duplicate (seq already seen); a
        ``sessionTakenOver`` ends its app here (the gateway closes the connection next)."""
        msg = _core.message_from(obj)
        with self._cv:
            if msg["method"] == _core.TAKEN_OVER:
                app = self._sessions.taken_over(msg)
                if app is not None:
                    self._lose(app, SessionTakenOver(f"{app.kind} app {app.handle} was resumed by another connection"))
                return
            if not self._sessions.accept(msg):
                return
            self._inbox.push(MESSAGE, msg)
            self._cv.notify_all()

    def _lose(self, app: App, cause: BaseException) -> None:
        """Under the lock: ``app`` is gone; tell the app in message order."""
        self._sessions.forget(app.key)
        self._inbox.push(SESSION_LOST, SessionLost(app.handle, app.kind, app.session_id, cause))
        self._cv.notify_all()

    # -- reconnection -----------------------------------------------------------------------

    def _reconnect_and_resume(self) -> bool:
        """Reconnects with backoff and resumes every resumable app. True when connected again
        (possibly with some apps lost); False when the client closed."""
        deadline = time.monotonic() + self.resume_timeout
        last_error: BaseException = ConnectionLost("not reconnected")
        for delay in _core.backoff(self.reconnect_initial, self.reconnect_max):
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.is_set():
                break
            if self._stop.wait(min(delay, left)):
                break
            try:
                sock = self._open_socket()
            except ConnectionLost as e:
                last_error = e
                continue
            file = sock.makefile("rb")
            with self._cv:
                if self._state == CLOSED:
                    self._shutdown_socket(sock, file)
                    return False
                self._sock, self._file = sock, file
            try:
                outcome = self._resume_on(sock, file)
            except ConnectionLost as e:
                last_error = e
                self._shutdown_socket(sock, file)
                continue
            except AuthenticationError as e:
                last_error = e
                self._shutdown_socket(sock, file)
                break
            with self._cv:
                if self._state == CLOSED:
                    self._shutdown_socket(sock, file)
                    return False
                self._state = CONNECTED
                self._inbox.push(RECONNECTED, None)
                self._cv.notify_all()
            log.info("tapigw: reconnected to %s:%d (%s)", *self.address, outcome)
            return True
        if self._stop.is_set():
            return False
        with self._cv:
            for app in self._sessions.resumable():
                self._lose(app, last_error)
            self._set_closed(ConnectionLost(f"could not reconnect within {self.resume_timeout} s: {last_error}"))
        return False

    def _internal(self, sock: socket.socket, file: Any, calls: List[Tuple[str, Dict[str, Any]]]) -> List[Any]:
        """Sends ``calls`` pipelined on a fresh connection and reads (handling notifications as
        usual) until each is answered; each entry is a result dict or an RpcError."""
        pendings = []
        data = b""
        with self._cv:
            for method, params in calls:
                self._next_id += 1
                pending = _Pending(method, params, internal=True)
                self._pending[self._next_id] = pending
                pendings.append(pending)
                data += _core.request(self._next_id, method, params)
        try:
            sock.sendall(data)
            while not all(p.done for p in pendings):
                line = file.readline()
                if not line or not line.endswith(b"\n"):
                    raise ConnectionLost("the connection dropped again while resuming")
                self._handle_line(line)
        except OSError as e:
            raise ConnectionLost(f"the connection dropped again while resuming: {e}") from e
        finally:
            with self._cv:
                for key in [k for k, p in self._pending.items() if p in pendings]:
                    del self._pending[key]
        return [p.error if p.error is not None else p.result for p in pendings]

    def _resume_on(self, sock: socket.socket, file: Any) -> str:
        """Authenticates (with a token) and resumes every resumable app on a new connection."""
        if self.token:
            (answer,) = self._internal(sock, file, [("authenticate", {"token": self.token})])
            if isinstance(answer, RpcError):
                raise answer if isinstance(answer, AuthenticationError) else AuthenticationError(answer.code, answer.message)
        with self._cv:
            apps = self._sessions.resumable()
            calls = _core.resume_calls(apps)
        answers = self._internal(sock, file, calls) if calls else []
        retry = _core.phone_retries(apps, answers)
        if retry:
            again = self._internal(sock, file, [("lineResume", calls[i][1]) for i in retry])
            for i, answer in zip(retry, again):
                answers[i] = answer
        resumed = 0
        with self._cv:
            for app, answer in zip(apps, answers):
                if isinstance(answer, BaseException):
                    self._lose(app, answer)
                    continue
                handle = _core.resumed_handle(app, answer)
                if handle is not None and handle != app.handle:
                    log.warning("tapigw: %s app %d resumed as %d", app.kind, app.handle, handle)
                    self._sessions.rekey(app.key, handle)
                resumed += 1
        return f"{resumed} of {len(apps)} apps resumed"


class _Hold:
    """See :meth:`Client.hold_messages`."""

    def __init__(self, client: Client):
        self._client = client

    def __enter__(self) -> Client:
        with self._client._cv:
            self._client._inbox.holds += 1
        return self._client

    def __exit__(self, *exc: Any) -> None:
        with self._client._cv:
            self._client._inbox.holds -= 1
            self._client._cv.notify_all()


def connect(address: Any = None, token: Optional[str] = None, **options: Any) -> Client:
    """Connects to the gateway and returns a :class:`Client`.

    Args:
        address: ``"host:port"`` (default ``$TAPIGW_API`` or ``127.0.0.1:8274``).
        token: the gateway's ``api.token`` (default ``$TAPIGW_TOKEN``); when set, the client
            sends ``authenticate`` first and raises AuthenticationError if it is refused.
        **options: ``connect_timeout``, ``request_timeout`` (30 s; None = forever),
            ``reconnect`` (True), ``reconnect_initial`` (0.1 s), ``reconnect_max`` (5 s),
            ``resume_timeout`` (30 s, the gateway's default grace), ``reconnect_wait``
            (how long a request made while reconnecting waits; default ``resume_timeout``).
    """
    return Client(address, token, **options)
