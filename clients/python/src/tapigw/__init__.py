"""tapigw: a Python client for the tapigw SIP gateway's TAPI 2.x API (JSON-RPC over TCP).

::

    import tapigw

    c = tapigw.connect("127.0.0.1:8274")
    c.on_message(lambda m: print(tapigw.describe(m)))
    app = c.lineInitializeEx(appName="demo", apiVersion=0x00020002,
                             options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW)
    line = c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=0x00020002,
                      privileges=tapigw.LINECALLPRIVILEGE_NONE)
    call = c.lineMakeCall(hLine=line["hLine"], destAddress="2000")

Contents:

- :func:`connect` / :class:`Client`: the blocking client; :mod:`tapigw.aio`: the asyncio twin.
- every TAPI constant by its Microsoft name (:mod:`tapigw.constants`, re-exported here).
- names for values, for logs: :func:`message_name`, :func:`lineerr_name`,
  :func:`callstate_name`, :func:`describe`, ... (:mod:`tapigw.names`).
- the exceptions: :class:`TapiError`, :class:`ProtocolError`, :class:`ConnectionLost`, ...
"""

from . import constants, names
from .client import Client, connect
from .constants import *  # noqa: F401,F403
from .errors import (
    AuthenticationError,
    ConnectionLost,
    ProtocolError,
    RequestTimeout,
    RpcError,
    SessionLost,
    SessionTakenOver,
    TapiError,
    TapiGwError,
)
from .names import (
    callprivilege_name,
    callstate_name,
    describe,
    disconnectmode_name,
    error_name,
    flag_names,
    lineerr_name,
    message_name,
    name_of,
    phoneerr_name,
    short,
    to_s32,
)

__version__ = "0.1.0"

#: TAPI 2.2, the version the gateway speaks (0x00020002).
API_VERSION = 0x00020002

__all__ = [
    "API_VERSION",
    "AuthenticationError",
    "Client",
    "ConnectionLost",
    "ProtocolError",
    "RequestTimeout",
    "RpcError",
    "SessionLost",
    "SessionTakenOver",
    "TapiError",
    "TapiGwError",
    "callprivilege_name",
    "callstate_name",
    "connect",
    "constants",
    "describe",
    "disconnectmode_name",
    "error_name",
    "flag_names",
    "lineerr_name",
    "message_name",
    "name_of",
    "names",
    "phoneerr_name",
    "short",
    "to_s32",
] + list(constants.__all__)
