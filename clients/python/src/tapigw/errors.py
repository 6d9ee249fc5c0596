"""The exceptions the clients raise.

::

    TapiGwError                     base of everything below
    +-- RpcError                    the gateway answered a request with a JSON-RPC error
    |   +-- TapiError               a TAPI failure: LINEERR_/PHONEERR_ code and name
    |   +-- ProtocolError           a JSON-RPC protocol error (-32700, -32600, -32601, -32602, ...)
    |       +-- AuthenticationError -32001 "unauthenticated" (no or wrong ``api.token``)
    +-- ConnectionLost              no connection to the gateway (and none came back in time)
    +-- RequestTimeout              no response within the request timeout
    +-- SessionLost                 a resumable app could not be resumed after a reconnect

``RpcError.code`` is the JSON-RPC error code as a signed int, ``RpcError.message`` the
gateway's text. ``TapiError.name`` is the Microsoft name ("LINEERR_INVALLINEHANDLE").
"""

from __future__ import annotations

from typing import Any, Optional

from . import names

#: JSON-RPC codes from -32768 to -32000 are reserved for the protocol (JSON-RPC 2.0 §5.1).
_PROTOCOL_RANGE = range(-32768, -31999)

#: The API's "unauthenticated" error (contract: Security and operations).
UNAUTHENTICATED = -32001
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


class TapiGwError(Exception):
    """Base class of every exception of the tapigw package."""


class RpcError(TapiGwError):
    """The gateway answered a request with a JSON-RPC error object.

    Attributes:
        code: the error code (signed int).
        message: the error's message text.
        data: the error's optional ``data`` member, or None.
        method: the method of the request that failed, when known.
    """

    def __init__(self, code: int, message: str, data: Any = None, method: Optional[str] = None):
        self.code = int(code)
        self.message = str(message)
        self.data = data
        self.method = method
        super().__init__(self._text())

    def _text(self) -> str:
        """The exception's text."""
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.message} ({self.code})"


class TapiError(RpcError):
    """A TAPI failure: the function returned a LINEERR_ (or PHONEERR_) code.

    Attributes:
        code: the code as a signed 32-bit int, as TAPI's LONG (-2147483605).
        name: Microsoft's name of the code ("LINEERR_INVALLINEHANDLE").

    Compare ``code`` with the constants: ``e.code == tapigw.LINEERR_INVALLINEHANDLE``.
    """

    def __init__(self, code: int, message: str = "", data: Any = None, method: Optional[str] = None):
        code = names.to_s32(code)
        self.name = names.error_name(code) if names.is_known_error(code) else (message or names.error_name(code))
        super().__init__(code, message or self.name, data, method)

    def _text(self) -> str:
        """The exception's text."""
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.name} (0x{self.code & 0xFFFFFFFF:08X})"


class ProtocolError(RpcError):
    """A JSON-RPC protocol error: -32700 (not JSON), -32600 (not a request), -32601 (unknown
    method), -32602 (params of the wrong shape), or another code of the reserved range."""


class AuthenticationError(ProtocolError):
    """-32001 "unauthenticated": the gateway wants ``authenticate`` with the right token first."""


class ConnectionLost(TapiGwError, ConnectionError):
    """There is no connection to the gateway.

    Raised for a request that was in flight when the connection dropped (its outcome is
    unknown: the gateway may have carried it out), for a request made while the client was
    reconnecting once ``reconnect_wait`` has passed without a connection, and for every request
    after the client gave up or was closed.
    """


class SessionTakenOver(TapiGwError):
    """Another connection resumed this app's session (``lineResume`` with its sessionId): the
    gateway told this connection with a ``sessionTakenOver`` notification and closed it. The
    cause of the :class:`SessionLost` reported for the app; the client does not resume it."""


class RequestTimeout(TapiGwError, TimeoutError):
    """The gateway sent no response to a request within the request timeout."""


class SessionLost(TapiGwError):
    """A resumable app's session is gone: the reconnection failed or ``lineResume`` /
    ``phoneResume`` was refused (e.g. LINEERR_INVALAPPHANDLE once the grace period is over).

    Attributes:
        app: the app's handle (hLineApp or hPhoneApp).
        kind: ``"line"`` or ``"phone"``.
        session_id: the sessionId that was refused.
        cause: the exception that ended the session (a TapiError, ConnectionLost, ...).
    """

    def __init__(self, app: int, kind: str, session_id: Optional[str], cause: BaseException):
        self.app = app
        self.kind = kind
        self.session_id = session_id
        self.cause = cause
        super().__init__(f"{kind} app {app} (session {session_id!r}) lost: {cause}")


def error_from_response(error: Any, method: Optional[str] = None) -> RpcError:
    """The exception for a response's ``error`` member."""
    if not isinstance(error, dict):
        return ProtocolError(INVALID_REQUEST, f"malformed error object: {error!r}", None, method)
    code = error.get("code")
    message = error.get("message", "")
    data = error.get("data")
    if not isinstance(code, int) or isinstance(code, bool):
        return ProtocolError(INVALID_REQUEST, f"malformed error code: {code!r}", data, method)
    if code == UNAUTHENTICATED:
        return AuthenticationError(code, message or "unauthenticated", data, method)
    if code in _PROTOCOL_RANGE:
        return ProtocolError(code, message, data, method)
    return TapiError(code, message, data, method)
