"""The asyncio twin of :mod:`tapigw.client`.

::

    import asyncio, tapigw, tapigw.aio

    async def main():
        c = await tapigw.aio.connect("127.0.0.1:8274")
        app = await c.lineInitializeEx(appName="demo", apiVersion=0x00020002, options=1)
        ...
        async for msg in c.messages():
            print(tapigw.describe(msg))

    asyncio.run(main())

Everything works as in the sync client (same errors, same reconnect and resume behaviour, same
ordering guarantee); callbacks given to :meth:`AsyncClient.on_message` may be plain functions
or coroutine functions, and run one at a time in message order in one task.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple

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

#: StreamReader buffer limit: far above any line the gateway writes.
_LIMIT = 16 * 1024 * 1024


class _Pending:
    """A request waiting for its response (a future)."""
    __slots__ = ("method", "params", "future", "slot", "internal", "abandoned")

    def __init__(self, method: str, params: Dict[str, Any], future: "asyncio.Future[Any]", internal: bool = False):
        self.method = method
        self.params = params
        self.future = future
        self.slot: Optional[int] = None
        self.internal = internal
        self.abandoned = False


class _Function:
    """A bound API function: ``await client.lineMakeCall(hLine=1, destAddress="2000")``."""

    __slots__ = ("_client", "__name__")

    def __init__(self, client: "AsyncClient", name: str):
        self._client = client
        self.__name__ = name

    def __call__(self, _params: Optional[Dict[str, Any]] = None, **params: Any) -> "asyncio.Future[Dict[str, Any]]":
        merged = dict(_params or {})
        merged.update(params)
        return self._client.call(self.__name__, merged)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<tapigw async function {self.__name__}>"


def _tune(writer: asyncio.StreamWriter) -> None:
    """TCP_NODELAY for small request lines; keep-alive so that a dead peer is noticed."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    except OSError:
        pass


class AsyncClient:
    """A connection to a tapigw gateway for asyncio code (use :func:`connect`).

    API functions are coroutine methods of the same name with keyword parameters::

        r = await c.lineMakeCall(hLine=h, destAddress="2000")

    See :class:`tapigw.Client` for errors, reconnection and resume, which behave the same.
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
        self._pending: Dict[int, _Pending] = {}
        self._next_id = 0
        self._inbox = Inbox()
        self._sessions = Sessions()
        self._state = CONNECTED
        self._closed_reason: Optional[ConnectionLost] = None
        self._changed: Optional[asyncio.Condition] = None
        self._connected: Optional[asyncio.Event] = None
        self._stopping: Optional[asyncio.Event] = None
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._reader_task: Optional["asyncio.Task[None]"] = None
        self._dispatch_task: Optional["asyncio.Task[None]"] = None
        self._callback: Optional[Callable[[Dict[str, Any]], Any]] = None
        self._session_lost_cb: Optional[Callable[[SessionLost], Any]] = None
        self._reconnect_cb: Optional[Callable[[], Any]] = None
        self._closed_cb: Optional[Callable[[ConnectionLost], Any]] = None

    async def _start(self) -> "AsyncClient":
        """Connects, starts the reader task and authenticates."""
        self._changed = asyncio.Condition()
        self._connected = asyncio.Event()
        self._connected.set()
        self._stopping = asyncio.Event()
        self._reader, self._writer = await self._open()
        self._reader_task = asyncio.ensure_future(self._read_forever())
        if self.token:
            try:
                await self.call("authenticate", {"token": self.token})
            except BaseException:
                await self.close()
                raise
        return self

    async def _open(self) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Opens a connection to the gateway (ConnectionLost when it cannot)."""
        host, port = self.address
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=_LIMIT), self.connect_timeout
            )
        except (OSError, asyncio.TimeoutError) as e:
            raise ConnectionLost(f"cannot connect to the gateway at {host}:{port}: {e!r}") from e
        _tune(writer)
        return reader, writer

    # ------------------------------------------------------------------------------------
    # Calls
    # ------------------------------------------------------------------------------------

    def __getattr__(self, name: str) -> _Function:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Function(self, name)

    async def call(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Any = "default") -> Dict[str, Any]:
        """Sends one request and returns its result; see :meth:`tapigw.Client.call`."""
        params = dict(params or {})
        if timeout == "default":
            timeout = _core.call_timeout(method, params, self.request_timeout)
        await self._wait_connected(method)
        loop = asyncio.get_running_loop()
        pending = _Pending(method, params, loop.create_future())
        self._next_id += 1
        request_id = self._next_id
        self._pending[request_id] = pending
        try:
            assert self._writer is not None
            self._writer.write(_core.request(request_id, method, params))
        except (OSError, RuntimeError) as e:
            self._pending.pop(request_id, None)
            raise ConnectionLost(f"{method}: could not send the request: {e}") from e
        try:
            await self._writer.drain()
        except (OSError, RuntimeError):
            pass  # the reader sees the connection go and fails the request
        try:
            if timeout is None:
                await asyncio.shield(pending.future)
            else:
                await asyncio.wait_for(asyncio.shield(pending.future), timeout)
        except asyncio.TimeoutError:
            if not pending.future.done():
                pending.abandoned = True
                raise RequestTimeout(f"{method}: no response within {timeout} s") from None
        except asyncio.CancelledError:
            if not pending.future.done():
                pending.abandoned = True
            self._inbox.consume(pending.slot)
            raise
        except Exception:
            pass  # the future's exception is raised by _finish
        return await self._finish(pending)

    async def _finish(self, pending: _Pending) -> Dict[str, Any]:
        """The caller's side of a response: hands its slot back (letting the messages that
        followed the response be delivered) and returns the result or raises the error."""
        self._inbox.consume(pending.slot)
        await self._notify()
        return pending.future.result()

    async def _wait_connected(self, method: str) -> None:
        """Waits out a reconnection (bounded by ``reconnect_wait``)."""
        assert self._connected is not None
        if self._state == RECONNECTING:
            try:
                await asyncio.wait_for(self._connected.wait(), self.reconnect_wait)
            except asyncio.TimeoutError:
                raise ConnectionLost(f"{method}: not reconnected within {self.reconnect_wait} s") from None
        if self._state == CLOSED:
            reason = self._closed_reason or ConnectionLost("the client is closed")
            raise ConnectionLost(f"{method}: {reason}")

    async def _notify(self) -> None:
        """Wakes whoever waits on the inbox or the state."""
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------------------------

    def on_message(self, callback: Callable[[Dict[str, Any]], Any]) -> Callable[[Dict[str, Any]], Any]:
        """Registers the callback (a function or a coroutine function) every TAPI message is
        passed to; see :meth:`tapigw.Client.on_message`. Call it from within the event loop."""
        self._callback = callback
        if self._dispatch_task is None:
            self._dispatch_task = asyncio.ensure_future(self._dispatch_forever())
        return callback

    def on_session_lost(self, callback: Callable[[SessionLost], Any]) -> Callable[[SessionLost], Any]:
        """See :meth:`tapigw.Client.on_session_lost` (functions or coroutine functions)."""
        self._session_lost_cb = callback
        return callback

    def on_reconnect(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """See :meth:`tapigw.Client.on_reconnect`."""
        self._reconnect_cb = callback
        return callback

    def on_closed(self, callback: Callable[[ConnectionLost], Any]) -> Callable[[ConnectionLost], Any]:
        """See :meth:`tapigw.Client.on_closed`."""
        self._closed_cb = callback
        return callback

    async def next_message(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]:
        """See :meth:`tapigw.Client.next_message`."""
        if self._callback is not None:
            raise RuntimeError("next_message() cannot be used once on_message() registered a callback")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            item = await self._take(left)
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
                await self._run_hook(self._session_lost_cb, payload)
            elif kind == RECONNECTED and self._reconnect_cb is not None:
                await self._run_hook(self._reconnect_cb)

    async def messages(self, timeout: Optional[float] = None) -> AsyncIterator[Dict[str, Any]]:
        """``async for msg in c.messages():`` until the client is closed (or, with
        ``timeout``, until none came for that long)."""
        while True:
            try:
                msg = await self.next_message(timeout)
            except ConnectionLost:
                return
            if msg is None:
                return
            yield msg

    def hold_messages(self) -> "_Hold":
        """``async with c.hold_messages():`` holds delivery back; see
        :meth:`tapigw.Client.hold_messages`."""
        return _Hold(self)

    async def _take(self, timeout: Optional[float]) -> Optional[Tuple[str, Any]]:
        """The next deliverable inbox item, or None after ``timeout`` seconds."""
        assert self._changed is not None
        async with self._changed:
            waiter = self._changed.wait_for(lambda: self._inbox.ready_peek())
            try:
                if timeout is None:
                    await waiter
                else:
                    await asyncio.wait_for(waiter, timeout)
            except asyncio.TimeoutError:
                return None
            return self._inbox.ready()

    async def _dispatch_forever(self) -> None:
        """The callback task: delivers every inbox item in order."""
        while True:
            item = await self._take(None)
            assert item is not None
            kind, payload = item
            if kind == MESSAGE:
                if self._callback is not None:
                    await self._run_hook(self._callback, payload)
            elif kind == SESSION_LOST:
                if self._session_lost_cb is not None:
                    await self._run_hook(self._session_lost_cb, payload)
                else:
                    log.warning("tapigw: %s", payload)
            elif kind == RECONNECTED:
                if self._reconnect_cb is not None:
                    await self._run_hook(self._reconnect_cb)
            elif kind == END:
                if self._closed_cb is not None:
                    await self._run_hook(self._closed_cb, payload)
                return

    @staticmethod
    async def _run_hook(fn: Callable[..., Any], *args: Any) -> None:
        """Calls an app callback (awaiting it if it is a coroutine); logs its exceptions."""
        try:
            result = fn(*args)
            if inspect.isawaitable(result):
                await result
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

    async def wait_closed(self, timeout: Optional[float] = None) -> bool:
        """Waits until the client is closed for good; False if ``timeout`` passed first."""
        return await self.wait_state(CLOSED, timeout)

    async def wait_state(self, state: str, timeout: Optional[float] = None) -> bool:
        """Waits until :attr:`state` is ``state``; False if ``timeout`` passed first."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: self._state == state), timeout)
            except asyncio.TimeoutError:
                return False
        return True

    def apps(self) -> List[App]:
        """The apps initialised on this client."""
        return [App(**vars(a)) for a in self._sessions.apps.values()]

    async def close(self, shutdown: bool = True) -> None:
        """Closes the connection; see :meth:`tapigw.Client.close`."""
        if self._state == CLOSED:
            return
        if shutdown and self._state == CONNECTED:
            for app in self._sessions.resumable():
                method = "lineShutdown" if app.kind == "line" else "phoneShutdown"
                try:
                    await self.call(method, {_core.APP_KEYS[app.kind]: app.handle}, timeout=2.0)
                except TapiGwError:
                    pass
        assert self._stopping is not None
        self._stopping.set()
        self._set_closed(ConnectionLost("the client was closed"))
        await self._notify()
        self._close_writer(self._writer)
        current = asyncio.current_task()
        for task in (self._reader_task, self._dispatch_task):
            if task is not None and task is not current and not task.done():
                try:
                    await asyncio.wait_for(asyncio.shield(task), 5.0)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    task.cancel()
                except Exception:
                    pass

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @staticmethod
    def _close_writer(writer: Optional[asyncio.StreamWriter]) -> None:
        """Closes a connection's writer, ignoring errors."""
        if writer is None:
            return
        try:
            writer.close()
        except Exception:
            pass

    def _set_closed(self, reason: ConnectionLost) -> None:
        """The client is closed for good: fail waiting requests, end the message stream."""
        if self._state == CLOSED:
            return
        self._state = CLOSED
        self._closed_reason = reason
        self._fail_pending(reason)
        self._inbox.push(END, reason)
        assert self._connected is not None
        self._connected.set()

    def _fail_pending(self, reason: BaseException) -> None:
        """Fails every request still waiting for its response."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(ConnectionLost(f"{pending.method}: {reason}"))
                if pending.abandoned:
                    pending.future.exception()  # retrieved: no "never retrieved" warning
        self._pending.clear()

    # ------------------------------------------------------------------------------------
    # The reader task
    # ------------------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        """The reader task: reads until the connection drops, then reconnects or closes."""
        assert self._stopping is not None
        while True:
            assert self._reader is not None
            await self._read_until_eof(self._reader)
            self._close_writer(self._writer)
            if self._state == CLOSED or self._stopping.is_set():
                self._set_closed(ConnectionLost("the client was closed"))
                await self._notify()
                return
            self._fail_pending(ConnectionLost("the connection to the gateway was lost while the request was in flight (outcome unknown)"))
            if not self.reconnect or not self._sessions.resumable():
                self._set_closed(ConnectionLost("the connection to the gateway was lost"))
                await self._notify()
                return
            for app in self._sessions.not_resumable():
                self._lose(app, ConnectionLost("the connection dropped and the app was not resumable"))
            self._state = RECONNECTING
            assert self._connected is not None
            self._connected.clear()
            await self._notify()
            log.warning("tapigw: connection to %s:%d lost; reconnecting", *self.address)
            if not await self._reconnect_and_resume():
                return

    async def _read_until_eof(self, reader: asyncio.StreamReader) -> None:
        """Handles every line of one connection until it ends."""
        while True:
            try:
                line = await reader.readline()
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            if not line or not line.endswith(b"\n"):
                return
            await self._handle_line(line)

    async def _handle_line(self, line: bytes) -> None:
        """Routes one received line: a response to its caller, a notification to the inbox."""
        obj = _core.decode(line)
        if obj is None:
            return
        if _core.is_response(obj):
            self._on_response(obj)
        elif _core.is_notification(obj):
            msg = _core.message_from(obj)
            if msg["method"] == _core.TAKEN_OVER:
                app = self._sessions.taken_over(msg)
                if app is not None:
                    self._lose(app, SessionTakenOver(f"{app.kind} app {app.handle} was resumed by another connection"))
            elif self._sessions.accept(msg):
                self._inbox.push(MESSAGE, msg)
        else:
            log.warning("tapigw: ignoring an unexpected frame: %r", line[:200])
            return
        await self._notify()

    def _on_response(self, obj: Dict[str, Any]) -> None:
        """Completes the request a response answers and takes its ordering slot."""
        pending = self._pending.pop(obj.get("id"), None)  # type: ignore[arg-type]
        if pending is None:
            log.warning("tapigw: response to an unknown request id %r", obj.get("id"))
            return
        if pending.future.done():
            return
        if "error" in obj:
            pending.future.set_exception(error_from_response(obj["error"], pending.method))
            if pending.abandoned:
                pending.future.exception()
        else:
            result = obj.get("result")
            try:
                self._sessions.on_result(pending.method, pending.params, result)
            except Exception:
                log.exception("tapigw: session bookkeeping failed for %s", pending.method)
            pending.future.set_result(result)
        if not pending.internal and not pending.abandoned:
            pending.slot = self._inbox.take_slot()

    def _lose(self, app: App, cause: BaseException) -> None:
        """``app`` is gone; tells the app in message order."""
        self._sessions.forget(app.key)
        self._inbox.push(SESSION_LOST, SessionLost(app.handle, app.kind, app.session_id, cause))

    # -- reconnection -----------------------------------------------------------------------

    async def _reconnect_and_resume(self) -> bool:
        """Reconnects with backoff and resumes every resumable app. True when connected
        again (possibly with some apps lost); False when the client closed."""
        assert self._stopping is not None and self._connected is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resume_timeout
        last_error: BaseException = ConnectionLost("not reconnected")
        for delay in _core.backoff(self.reconnect_initial, self.reconnect_max):
            left = deadline - loop.time()
            if left <= 0 or self._stopping.is_set():
                break
            try:
                await asyncio.wait_for(self._stopping.wait(), min(delay, left))
                break  # stopping
            except asyncio.TimeoutError:
                pass
            try:
                reader, writer = await self._open()
            except ConnectionLost as e:
                last_error = e
                continue
            if self._state == CLOSED:
                self._close_writer(writer)
                return False
            self._reader, self._writer = reader, writer
            try:
                outcome = await self._resume_on(reader, writer)
            except ConnectionLost as e:
                last_error = e
                self._close_writer(writer)
                continue
            except AuthenticationError as e:
                last_error = e
                self._close_writer(writer)
                break
            if self._state == CLOSED:
                return False
            self._state = CONNECTED
            self._inbox.push(RECONNECTED, None)
            self._connected.set()
            await self._notify()
            log.info("tapigw: reconnected to %s:%d (%s)", *self.address, outcome)
            return True
        if self._stopping.is_set():
            return False
        for app in self._sessions.resumable():
            self._lose(app, last_error)
        self._set_closed(ConnectionLost(f"could not reconnect within {self.resume_timeout} s: {last_error}"))
        await self._notify()
        return False

    async def _internal(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, calls: List[Tuple[str, Dict[str, Any]]]
    ) -> List[Any]:
        """Sends ``calls`` pipelined on a fresh connection and reads (handling notifications
        as usual) until each is answered; each entry is a result dict or an RpcError."""
        loop = asyncio.get_running_loop()
        pendings = []
        data = b""
        for method, params in calls:
            self._next_id += 1
            pending = _Pending(method, params, loop.create_future(), internal=True)
            self._pending[self._next_id] = pending
            pendings.append(pending)
            data += _core.request(self._next_id, method, params)
        try:
            writer.write(data)
            while not all(p.future.done() for p in pendings):
                line = await reader.readline()
                if not line or not line.endswith(b"\n"):
                    raise ConnectionLost("the connection dropped again while resuming")
                await self._handle_line(line)
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            raise ConnectionLost(f"the connection dropped again while resuming: {e!r}") from e
        finally:
            for key in [k for k, p in self._pending.items() if p in pendings]:
                del self._pending[key]
            for p in pendings:
                if not p.future.done():
                    p.future.cancel()
        out: List[Any] = []
        for p in pendings:
            exc = p.future.exception()
            out.append(exc if exc is not None else p.future.result())
        return out

    async def _resume_on(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """Authenticates (with a token) and resumes every resumable app on a new connection."""
        if self.token:
            (answer,) = await self._internal(reader, writer, [("authenticate", {"token": self.token})])
            if isinstance(answer, RpcError):
                raise answer if isinstance(answer, AuthenticationError) else AuthenticationError(answer.code, answer.message)
        apps = self._sessions.resumable()
        calls = _core.resume_calls(apps)
        answers = await self._internal(reader, writer, calls) if calls else []
        retry = _core.phone_retries(apps, answers)
        if retry:
            again = await self._internal(reader, writer, [("lineResume", calls[i][1]) for i in retry])
            for i, answer in zip(retry, again):
                answers[i] = answer
        resumed = 0
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
    """See :meth:`AsyncClient.hold_messages`."""
    def __init__(self, client: AsyncClient):
        self._client = client

    async def __aenter__(self) -> AsyncClient:
        self._client._inbox.holds += 1
        return self._client

    async def __aexit__(self, *exc: Any) -> None:
        self._client._inbox.holds -= 1
        await self._client._notify()


async def connect(address: Any = None, token: Optional[str] = None, **options: Any) -> AsyncClient:
    """Connects to the gateway and returns an :class:`AsyncClient`; the arguments are those of
    :func:`tapigw.connect`."""
    return await AsyncClient(address, token, **options)._start()
