"""What the sync and asyncio clients share, with no I/O and no threads: framing, addresses,
the message inbox with its ordering barrier, the per-app session and seq bookkeeping that
resuming needs, and the reconnection backoff.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

log = logging.getLogger("tapigw")

DEFAULT_ADDRESS = "127.0.0.1:8274"
DEFAULT_PORT = 8274

#: Functions that take a ``timeout`` in milliseconds and may legitimately wait that long.
WAITING_FUNCTIONS = ("lineGetMessage", "phoneGetMessage")
#: 0xFFFFFFFF: INFINITE, as TAPI spells it.
INFINITE = 0xFFFFFFFF

INIT_METHODS = {"lineInitializeEx": ("line", "hLineApp"), "phoneInitializeEx": ("phone", "hPhoneApp")}
SHUTDOWN_METHODS = {"lineShutdown": ("line", "hLineApp"), "phoneShutdown": ("phone", "hPhoneApp")}
RESUME_METHODS = {"line": ("lineResume", "hLineApp"), "phone": ("phoneResume", "hPhoneApp")}
METHOD_NOT_FOUND = -32601
APP_KEYS = {"line": "hLineApp", "phone": "hPhoneApp"}
#: The notification a connection gets when another one resumed one of its apps.
TAKEN_OVER = "sessionTakenOver"

# Parameters that name an object of an app, in the order they identify the request's app.
_HANDLE_PARAMS = (
    ("hLine", "line"),
    ("hCall", "line"),
    ("hActiveCall", "line"),
    ("hHeldCall", "line"),
    ("hConfCall", "line"),
    ("hConsultCall", "line"),
    ("hPhone", "phone"),
)
# A result member that is a handle: hLine, hCall, hConsultCall, hConfCall, hPhone, ...
_HANDLE_KEY = re.compile(r"^h[A-Z]")
# Requests after which the handle in their params is gone.
_RELEASING = {"lineDeallocateCall": "hCall", "lineClose": "hLine", "phoneClose": "hPhone"}


def parse_address(address: Any = None) -> Tuple[str, int]:
    """``(host, port)`` from ``"host:port"``, ``"[v6]:port"``, ``"host"`` (port 8274) or a
    ``(host, port)`` tuple; None means ``$TAPIGW_API`` or 127.0.0.1:8274."""
    if address is None:
        address = os.environ.get("TAPIGW_API") or DEFAULT_ADDRESS
    if isinstance(address, (tuple, list)):
        host, port = address
        return str(host), int(port)
    text = str(address).strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
    if text.count(":") == 1:
        host, port = text.split(":")
        return host or "127.0.0.1", int(port)
    if ":" in text:  # a bare IPv6 address
        return text, DEFAULT_PORT
    return text, DEFAULT_PORT


def encode(obj: Dict[str, Any]) -> bytes:
    """One JSON Lines frame: compact JSON, UTF-8, ``\\n``."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def request(request_id: int, method: str, params: Optional[Dict[str, Any]]) -> bytes:
    """The frame of a JSON-RPC 2.0 request."""
    return encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})


def decode(line: bytes) -> Optional[Dict[str, Any]]:
    """A received frame as a dict, or None (logged) when it is not a JSON object."""
    text = line.strip()
    if not text:
        return None
    try:
        obj = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        log.warning("tapigw: ignoring a line that is not JSON: %r", line[:200])
        return None
    if not isinstance(obj, dict):
        log.warning("tapigw: ignoring a JSON value that is not an object: %r", line[:200])
        return None
    return obj


def is_response(obj: Dict[str, Any]) -> bool:
    """True for a JSON-RPC response (has an id and a result or an error)."""
    return "id" in obj and ("result" in obj or "error" in obj)


def is_notification(obj: Dict[str, Any]) -> bool:
    """True for a JSON-RPC notification (a method and no id)."""
    return isinstance(obj.get("method"), str) and "id" not in obj


def message_from(obj: Dict[str, Any]) -> Dict[str, Any]:
    """The dict handed to the app for a notification: its params plus ``"method"``."""
    params = obj.get("params")
    msg = dict(params) if isinstance(params, dict) else {"params": params}
    msg["method"] = obj["method"]
    return msg


def call_timeout(method: str, params: Dict[str, Any], request_timeout: Optional[float]) -> Optional[float]:
    """How long to wait for a response: ``request_timeout``, extended by the ``timeout`` (ms) of
    lineGetMessage/phoneGetMessage, or None (forever) for their INFINITE."""
    if request_timeout is None:
        return None
    if method in WAITING_FUNCTIONS:
        waited = params.get("timeout", 0)
        if isinstance(waited, int) and waited >= INFINITE:
            return None
        if isinstance(waited, (int, float)) and waited > 0:
            return request_timeout + waited / 1000.0
    return request_timeout


def backoff(initial: float, maximum: float, rng: Optional[random.Random] = None) -> Iterator[float]:
    """Reconnection delays: exponential from ``initial``, capped at ``maximum``, each drawn at
    random in [d/2, d] ("equal jitter") so that many clients do not reconnect in step."""
    rng = rng or random.Random()
    delay = max(initial, 0.001)
    while True:
        yield rng.uniform(delay / 2.0, delay)
        delay = min(delay * 2.0, maximum)


# ---------------------------------------------------------------------------------------------
# Inbox: messages in arrival order, held back until the calls answered before them returned.
# ---------------------------------------------------------------------------------------------

MESSAGE = "message"
SESSION_LOST = "session_lost"
RECONNECTED = "reconnected"
END = "end"


class Inbox:
    """The queue between the connection and the app, with ordering promise 1 kept end to end.

    Every response that a caller is waiting for takes a *slot* when it arrives; its caller
    *consumes* the slot once it has its result in hand. Every queued item is tagged with the
    number of slots handed out before it arrived, and is not ready while any of those slots is
    unconsumed: a LINE_REPLY never reaches the app before the lineMakeCall that returned its
    requestId has returned to its caller. ``hold()``/``release()`` pause delivery as a whole.

    Not thread-safe: the clients guard it with their own lock.
    """

    def __init__(self) -> None:
        self._items: Deque[Tuple[str, Any, int]] = deque()
        self._slots = 0
        self._unconsumed: set = set()
        self.holds = 0

    def take_slot(self) -> int:
        """A response a caller waits for has arrived: its slot number."""
        self._slots += 1
        self._unconsumed.add(self._slots)
        return self._slots

    def consume(self, slot: Optional[int]) -> None:
        """The caller of ``slot`` has its result."""
        if slot is not None:
            self._unconsumed.discard(slot)

    def push(self, kind: str, payload: Any) -> None:
        """Queues an item behind every response that arrived before it."""
        self._items.append((kind, payload, self._slots))

    def ready_peek(self) -> bool:
        """True when :meth:`ready` would return an item."""
        if not self._items or self.holds:
            return False
        tag = self._items[0][2]
        return not (self._unconsumed and min(self._unconsumed) <= tag)

    def ready(self) -> Optional[Tuple[str, Any]]:
        """The next item if it may be delivered now (and removes it), else None."""
        if not self._items or self.holds:
            return None
        kind, payload, tag = self._items[0]
        if self._unconsumed and min(self._unconsumed) <= tag:
            return None
        if kind != END:  # the end stays, for every later taker
            self._items.popleft()
        return kind, payload

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------------------------------------
# Sessions: which app a message belongs to, its last seq, and what to resume.
# ---------------------------------------------------------------------------------------------


@dataclass
class App:
    """An app (hLineApp or hPhoneApp) initialised on this client."""

    kind: str
    handle: int
    session_id: Optional[str] = None
    resumable: bool = False
    last_seq: int = 0
    options: int = 0
    last_message: Optional[Tuple[Any, ...]] = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> Tuple[str, int]:
        """``(kind, handle)``, the app's key in :class:`Sessions`."""
        return (self.kind, self.handle)


def _fingerprint(msg: Dict[str, Any]) -> Tuple[Any, ...]:
    """A message without its seq, to recognise the copies of one broadcast."""
    return tuple(sorted((k, repr(v)) for k, v in msg.items() if k != "seq"))


def _kind_of_message(method: str) -> str:
    """``"phone"`` for PHONE_ messages, else ``"line"``."""
    return "phone" if method.startswith("PHONE_") else "line"


def _int(value: Any) -> Optional[int]:
    """``value`` if it is an int (and not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Sessions:
    """Per-app bookkeeping for ``seq`` (duplicates dropped) and for resuming.

    tapigw names the app of every notification (``hLineApp`` or ``hPhoneApp``, its extension
    to the contract), so a message is attributed to that app. For gateways that do not, a
    message is attributed, in this order, to: the app a ``sessionId`` field names; for
    LINE_REPLY/PHONE_REPLY the app whose request returned that requestId; the app that owns the
    handle in ``hDevice`` (handles are learnt from the results of lineOpen, lineMakeCall, ...
    and from LINE_APPNEWCALL); the only app whose next seq it is; the only app of its kind.
    lineGetMessage/phoneGetMessage results carry their seq too: it counts as accepted when the
    result arrives.
    """

    apps: Dict[Tuple[str, int], App] = field(default_factory=dict)
    handles: Dict[Tuple[str, int], Tuple[str, int]] = field(default_factory=dict)
    requests: Dict[Tuple[str, int], Tuple[str, int]] = field(default_factory=dict)

    # -- requests and their results ---------------------------------------------------------

    def app_of_request(self, method: str, params: Dict[str, Any]) -> Optional[Tuple[str, int]]:
        """The app a request acts for, from its handle parameters."""
        for kind, key in APP_KEYS.items():
            handle = _int(params.get(key))
            if handle is not None and (kind, handle) in self.apps:
                return (kind, handle)
        for key, kind in _HANDLE_PARAMS:
            handle = _int(params.get(key))
            if handle is not None and (kind, handle) in self.handles:
                return self.handles[(kind, handle)]
        return None

    def on_result(self, method: str, params: Dict[str, Any], result: Any) -> None:
        """Learns from a successful response: new apps, handles and request IDs."""
        if not isinstance(result, dict):
            return
        if method in INIT_METHODS:
            kind, key = INIT_METHODS[method]
            handle = _int(result.get(key))
            if handle is None:
                return
            session_id = result.get("sessionId")
            wanted = bool(params.get("resumable"))
            resumable = wanted and isinstance(session_id, str)
            if wanted and not resumable:
                log.warning("tapigw: %s app %d asked to be resumable but the gateway gave no "
                            "sessionId; it will not survive a dropped connection", kind, handle)
            self.apps[(kind, handle)] = App(kind, handle, session_id if isinstance(session_id, str) else None,
                                            resumable, 0, _int(params.get("options")) or 0)
            return
        if method in ("lineResume", "phoneResume"):  # an app resumed by hand (a new process)
            kind = "line" if method == "lineResume" else "phone"
            handle = _int(result.get(APP_KEYS[kind]))
            session_id = params.get("sessionId")
            if handle is not None and isinstance(session_id, str) and (kind, handle) not in self.apps:
                self.apps[(kind, handle)] = App(kind, handle, session_id, True, _int(params.get("lastSeq")) or 0)
            return
        if method in WAITING_FUNCTIONS:  # event mode: the message's seq was accepted
            kind = "phone" if method.startswith("phone") else "line"
            app = self.apps.get((kind, _int(params.get(APP_KEYS[kind]))))  # type: ignore[arg-type]
            seq = _int(result.get("seq"))
            if app is not None and seq is not None and seq > app.last_seq:
                app.last_seq = seq
            return
        if method in SHUTDOWN_METHODS:
            kind, key = SHUTDOWN_METHODS[method]
            handle = _int(params.get(key))
            if handle is not None:
                self.forget((kind, handle))
            return
        app = self.app_of_request(method, params)
        if method in _RELEASING:
            handle = _int(params.get(_RELEASING[method]))
            kind = "phone" if method.startswith("phone") else "line"
            if handle is not None:
                self.handles.pop((kind, handle), None)
        if app is None:
            return
        kind = app[0]
        for key, value in result.items():
            if key == "requestId":
                rid = _int(value)
                if rid is not None:
                    self.requests[(kind, rid)] = app
            elif key == "hCalls" and isinstance(value, list):
                for h in value:
                    if _int(h) is not None:
                        self.handles[("line", h)] = app
            elif _HANDLE_KEY.match(key) and key not in APP_KEYS.values() and _int(value) is not None:
                handle_kind = "phone" if key.startswith("hPhone") else "line"
                self.handles[(handle_kind, value)] = app

    def forget(self, key: Tuple[str, int]) -> Optional[App]:
        """Removes an app and everything learnt about it."""
        app = self.apps.pop(key, None)
        for table in (self.handles, self.requests):
            for k in [k for k, v in table.items() if v == key]:
                del table[k]
        return app

    def rekey(self, old: Tuple[str, int], new_handle: int) -> None:
        """A resume gave the app another handle than before (the contract says it does not)."""
        app = self.apps.pop(old, None)
        if app is None:
            return
        app.handle = new_handle
        self.apps[app.key] = app
        for table in (self.handles, self.requests):
            for k, v in list(table.items()):
                if v == old:
                    table[k] = app.key

    # -- notifications ----------------------------------------------------------------------

    def attribute(self, msg: Dict[str, Any]) -> Optional[App]:
        """The app a notification belongs to, or None when it cannot be told."""
        method = msg.get("method", "")
        kind = _kind_of_message(method)
        explicit = _int(msg.get(APP_KEYS[kind]))
        if explicit is not None and (kind, explicit) in self.apps:
            return self.apps[(kind, explicit)]
        sid = msg.get("sessionId")
        if isinstance(sid, str):
            for app in self.apps.values():
                if app.session_id == sid:
                    return app
        if method in ("LINE_REPLY", "PHONE_REPLY"):
            rid = _int(msg.get("dwParam1"))
            key = self.requests.get((kind, rid)) if rid is not None else None
            if key in self.apps:
                return self.apps[key]
        device = _int(msg.get("hDevice"))
        if device:
            key = self.handles.get((kind, device))
            if key in self.apps:
                return self.apps[key]
        candidates = [a for a in self.apps.values() if a.kind == kind]
        seq = _int(msg.get("seq"))
        if seq is not None:
            nexts = [a for a in candidates if a.last_seq == seq - 1]
            if len(nexts) > 1:
                # A message sent to every app (LINE_CREATE, ...) arrives once per app: a copy
                # equal to the one an app just got belongs to another app.
                copy = _fingerprint(msg)
                nexts = [a for a in nexts if a.last_message != copy]
                if len(nexts) > 1 and not device and method not in ("LINE_REPLY", "PHONE_REPLY"):
                    # Apps at the same seq get identical copies: which copy is whose does not
                    # matter, as long as each app counts one.
                    nexts = nexts[:1]
            if len(nexts) == 1:
                return nexts[0]
        if len(candidates) == 1:
            return candidates[0]
        return None

    def accept(self, msg: Dict[str, Any]) -> bool:
        """Records a notification; False for a duplicate (its seq is not above the last one
        accepted for its app), which must not be delivered again."""
        app = self.attribute(msg)
        seq = _int(msg.get("seq"))
        if app is not None and seq is not None:
            if seq <= app.last_seq:
                log.debug("tapigw: dropping duplicate %s seq %d (last %d)", msg.get("method"), seq, app.last_seq)
                return False
            if app.last_seq and seq != app.last_seq + 1:
                log.warning("tapigw: %s app %d: seq jumped from %d to %d (messages missing)",
                            app.kind, app.handle, app.last_seq, seq)
            app.last_seq = seq
        if app is not None:
            app.last_message = _fingerprint(msg)
        self._learn_from_message(msg, app)
        return True

    def _learn_from_message(self, msg: Dict[str, Any], app: Optional[App]) -> None:
        """Handles a message brings (LINE_APPNEWCALL) or ends (LINE_REPLY, LINE_CLOSE)."""
        method = msg.get("method")
        if method == "LINE_APPNEWCALL":
            line = _int(msg.get("hDevice"))
            owner = self.handles.get(("line", line)) if line else None
            owner = owner or (app.key if app else None)
            call = _int(msg.get("dwParam2"))
            if owner and call:
                self.handles[("line", call)] = owner
        elif method in ("LINE_REPLY", "PHONE_REPLY"):
            rid = _int(msg.get("dwParam1"))
            if rid is not None:
                self.requests.pop((_kind_of_message(method), rid), None)
        elif method == "LINE_CLOSE":
            self.handles.pop(("line", _int(msg.get("hDevice")) or 0), None)
        elif method == "PHONE_CLOSE":
            self.handles.pop(("phone", _int(msg.get("hDevice")) or 0), None)

    def taken_over(self, msg: Dict[str, Any]) -> Optional[App]:
        """The app a ``sessionTakenOver`` notification names (None when it is not ours)."""
        for kind, key in APP_KEYS.items():
            handle = _int(msg.get(key))
            if handle is not None and (kind, handle) in self.apps:
                return self.apps[(kind, handle)]
        return None

    # -- resuming ---------------------------------------------------------------------------

    def resumable(self) -> List[App]:
        """The apps to resume after a reconnect, in the order they were initialised."""
        return [a for a in self.apps.values() if a.resumable]

    def not_resumable(self) -> List[App]:
        """The apps a dropped connection ends for good."""
        return [a for a in self.apps.values() if not a.resumable]


def resume_calls(apps: List[App]) -> List[Tuple[str, Dict[str, Any]]]:
    """The resume request of each app: ``lineResume`` / ``phoneResume`` with sessionId and the
    last seq accepted."""
    return [(RESUME_METHODS[a.kind][0], {"sessionId": a.session_id, "lastSeq": a.last_seq}) for a in apps]


def phone_retries(apps: List[App], answers: List[Any]) -> List[int]:
    """The indexes of phone apps whose ``phoneResume`` the gateway does not know (-32601): the
    contract spells out only ``lineResume``, which may serve phone sessions too."""
    return [
        i for i, (app, answer) in enumerate(zip(apps, answers))
        if app.kind == "phone" and getattr(answer, "code", None) == METHOD_NOT_FOUND
    ]


def resumed_handle(app: App, answer: Any) -> Optional[int]:
    """The app handle a resume result gives back (hLineApp / hPhoneApp)."""
    if not isinstance(answer, dict):
        return None
    return _int(answer.get(APP_KEYS[app.kind], answer.get("hLineApp")))
