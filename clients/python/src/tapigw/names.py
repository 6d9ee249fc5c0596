"""Readable names for TAPI values, for logs: the reverse of :mod:`tapigw.constants`.

>>> message_name(12)
'LINE_REPLY'
>>> lineerr_name(-2147483605)
'LINEERR_INVALLINEHANDLE'
>>> callstate_name(0x100)
'LINECALLSTATE_CONNECTED'
>>> flag_names("LINEDEVSTATE_", 0x42)
['LINEDEVSTATE_RINGING', 'LINEDEVSTATE_INSERVICE']
>>> short(callstate_name(0x100))
'CONNECTED'
"""

from __future__ import annotations

from typing import Dict, List, Optional

from . import constants as _c


def to_s32(value: int) -> int:
    """``value`` as a signed 32-bit int (0x8000002B -> -2147483605); signed input unchanged."""
    value = int(value) & 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _table(prefix: str) -> Dict[int, str]:
    """value -> name for every constant starting with ``prefix`` (first definition wins)."""
    table: Dict[int, str] = {}
    for name in _c.__all__:
        if name.startswith(prefix):
            table.setdefault(getattr(_c, name), name)
    return table


_MESSAGES: Dict[int, str] = {}
for _name in _c.__all__:
    if _name.startswith(("LINE_", "PHONE_")):
        _MESSAGES.setdefault(getattr(_c, _name), _name)
_LINEERR = _table("LINEERR_")
_PHONEERR = _table("PHONEERR_")
_TABLES: Dict[str, Dict[int, str]] = {}


def values(prefix: str) -> Dict[int, str]:
    """The ``{value: name}`` table of a constant family, e.g. ``values("LINECALLSTATE_")``.

    The prefix must end with ``_`` so that LINECALLFEATURE_ does not take in LINECALLFEATURE2_.
    """
    if not prefix.endswith("_"):
        raise ValueError(f"prefix {prefix!r} must end with '_'")
    if prefix not in _TABLES:
        _TABLES[prefix] = _table(prefix)
    return dict(_TABLES[prefix])


def name_of(prefix: str, value: int, default: Optional[str] = None) -> str:
    """The name of ``value`` in family ``prefix`` (``name_of("LINECALLSTATE_", 1)`` ->
    ``"LINECALLSTATE_IDLE"``); unknown values give ``default`` or ``"<prefix>0x..."``."""
    if prefix not in _TABLES:
        values(prefix)
    name = _TABLES[prefix].get(int(value))
    if name is not None:
        return name
    return default if default is not None else f"{prefix}0x{int(value) & 0xFFFFFFFF:08X}"


def flag_names(prefix: str, bits: int) -> List[str]:
    """The names of the bits set in ``bits`` for a bit-flag family, lowest bit first; bits with
    no name come out as hex."""
    if prefix not in _TABLES:
        values(prefix)
    table = _TABLES[prefix]
    out = []
    bits = int(bits) & 0xFFFFFFFF
    bit = 1
    while bits:
        if bits & bit:
            out.append(table.get(bit, f"{prefix}0x{bit:08X}"))
            bits &= ~bit
        bit <<= 1
    return out


def short(name: str) -> str:
    """The part of a constant's name after its family prefix (``"LINECALLSTATE_IDLE"`` ->
    ``"IDLE"``); names without an underscore are returned unchanged."""
    return name.split("_", 1)[1] if "_" in name else name


def message_name(message_id: int) -> str:
    """The name of a LINE_/PHONE_ message ID (12 -> ``"LINE_REPLY"``)."""
    return _MESSAGES.get(int(message_id), f"MESSAGE_{int(message_id)}")


def is_known_error(code: int) -> bool:
    """True when ``code`` (signed or unsigned) is a LINEERR_ or PHONEERR_ Microsoft defines."""
    code = to_s32(code)
    return code in _LINEERR or code in _PHONEERR


def lineerr_name(code: int) -> str:
    """Microsoft's name of a LINEERR_ code, signed or unsigned (``-2147483605`` or
    ``0x8000002B`` -> ``"LINEERR_INVALLINEHANDLE"``); 0 is ``"SUCCESS"``."""
    return error_name(code)


def phoneerr_name(code: int) -> str:
    """Microsoft's name of a PHONEERR_ code (``0x90000013`` -> ``"PHONEERR_INVALPHONEHANDLE"``)."""
    return error_name(code)


def error_name(code: int) -> str:
    """The name of a TAPI result: ``"SUCCESS"`` for 0, a LINEERR_/PHONEERR_ name, or the code in
    hex when Microsoft defines none."""
    code = to_s32(code)
    if code == 0:
        return "SUCCESS"
    name = _LINEERR.get(code) or _PHONEERR.get(code)
    return name if name else f"0x{code & 0xFFFFFFFF:08X}"


def callstate_name(state: int) -> str:
    """The name of a LINECALLSTATE_ value (0x100 -> ``"LINECALLSTATE_CONNECTED"``)."""
    return name_of("LINECALLSTATE_", state)


def disconnectmode_name(mode: int) -> str:
    """The name of a LINEDISCONNECTMODE_ value (0x20 -> ``"LINEDISCONNECTMODE_BUSY"``)."""
    return name_of("LINEDISCONNECTMODE_", mode)


def callprivilege_name(privilege: int) -> str:
    """The name of a LINECALLPRIVILEGE_ value (4 -> ``"LINECALLPRIVILEGE_OWNER"``)."""
    return name_of("LINECALLPRIVILEGE_", privilege)


def describe(message: dict) -> str:
    """A one-line readable rendering of a message dict, for logs::

        LINE_CALLSTATE hDevice=7 CONNECTED mode=ACTIVE privilege=0
        LINE_REPLY requestId=3 result=SUCCESS
    """
    mid = message.get("dwMessageID")
    method = message.get("method") or (message_name(mid) if mid is not None else "?")
    p1, p2, p3 = message.get("dwParam1", 0), message.get("dwParam2", 0), message.get("dwParam3", 0)
    head = f"{method} hDevice={message.get('hDevice', 0)}"
    if method in ("LINE_REPLY", "PHONE_REPLY"):
        text = f"{method} requestId={p1} result={error_name(p2)}"
    elif method == "LINE_CALLSTATE":
        state = short(callstate_name(p1))
        mode_family = {
            "DISCONNECTED": "LINEDISCONNECTMODE_",
            "CONNECTED": "LINECONNECTEDMODE_",
            "OFFERING": "LINEOFFERINGMODE_",
            "BUSY": "LINEBUSYMODE_",
            "DIALTONE": "LINEDIALTONEMODE_",
            "SPECIALINFO": "LINESPECIALINFO_",
        }.get(state)
        mode = short(name_of(mode_family, p2)) if mode_family and p2 else str(p2)
        priv = short(callprivilege_name(p3)) if p3 else "0"
        text = f"{head} {state} mode={mode} privilege={priv}"
    elif method == "LINE_APPNEWCALL":
        text = f"{head} addressId={p1} hCall={p2} privilege={short(callprivilege_name(p3))}"
    elif method == "LINE_LINEDEVSTATE":
        text = f"{head} {'|'.join(short(n) for n in flag_names('LINEDEVSTATE_', p1))} {p2} {p3}"
    elif method == "LINE_MONITORDIGITS":
        text = f"{head} digit={chr(p1 & 0xFF)!r} mode={short(name_of('LINEDIGITMODE_', p2))}"
    elif method == "LINE_GATHERDIGITS":
        text = f"{head} {short(name_of('LINEGATHERTERM_', p1))} digits={message.get('digits', '')!r}"
    elif method == "LINE_GENERATE":
        text = f"{head} {short(name_of('LINEGENERATETERM_', p1))}"
    else:
        text = f"{head} {p1} {p2} {p3}"
    if "seq" in message:
        text += f" seq={message['seq']}"
    return text
