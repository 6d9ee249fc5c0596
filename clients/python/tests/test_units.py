"""Pieces without a gateway: constants, names, errors, addresses, backoff, the inbox barrier and
the per-app seq bookkeeping."""

from __future__ import annotations

import doctest
import random

import pytest

import tapigw
from tapigw import _core, constants, names
from tapigw.errors import error_from_response


def test_constants_have_microsofts_values():
    assert tapigw.LINE_REPLY == 12 and tapigw.LINE_APPNEWCALL == 23 and tapigw.PHONE_REPLY == 17
    assert tapigw.PHONE_STATE == 18 and tapigw.LINE_CALLSTATE == 2
    assert tapigw.LINECALLSTATE_CONNECTED == 0x100 and tapigw.LINECALLSTATE_UNKNOWN == 0x8000
    assert tapigw.LINEDISCONNECTMODE_BUSY == 0x20 and tapigw.LINEDISCONNECTMODE_CANCELLED == 0x80000
    assert tapigw.LINECALLPRIVILEGE_OWNER == 4 and tapigw.LINEMEDIAMODE_INTERACTIVEVOICE == 4
    assert tapigw.PHONESTATE_HANDSETHOOKSWITCH == 0x200 and tapigw.PHONEHOOKSWITCHMODE_MICSPEAKER == 0x8
    assert tapigw.PHONEHOOKSWITCHDEV_HANDSET == 1 and tapigw.PHONEPRIVILEGE_OWNER == 2
    assert tapigw.LINEINITIALIZEEXOPTION_USEEVENT == 2 and tapigw.LINETRANSFERMODE_CONFERENCE == 2
    assert tapigw.LINEFORWARDMODE_UNCOND == 1 and tapigw.LINEFORWARDMODE_BUSY == 0x10
    assert tapigw.LINEGATHERTERM_TERMDIGIT == 2 and tapigw.LINEDIGITMODE_DTMFEND == 4
    assert tapigw.LINEADDRESSMODE_DIALABLEADDR == 2 and tapigw.LINECALLSELECT_ADDRESS == 2
    assert tapigw.LINECALLREASON_TRANSFER == 0x100 and tapigw.LINECALLORIGIN_INBOUND == 0x80
    assert tapigw.LINEMAPPER == 0xFFFFFFFF


def test_error_codes_are_signed_longs_and_complete():
    lineerr = [n for n in constants.__all__ if n.startswith("LINEERR_")]
    phoneerr = [n for n in constants.__all__ if n.startswith("PHONEERR_")]
    assert len(lineerr) == 95 and len(phoneerr) == 36
    values = {getattr(constants, n) & 0xFFFFFFFF for n in lineerr}
    assert values == set(range(0x80000001, 0x80000062)) - {0x80000004, 0x80000031}
    pvalues = {getattr(constants, n) & 0xFFFFFFFF for n in phoneerr}
    assert pvalues == set(range(0x90000001, 0x90000026)) - {0x9000001E}
    assert tapigw.LINEERR_INVALLINEHANDLE == -2147483605
    assert tapigw.LINEERR_SERVICE_NOT_RUNNING & 0xFFFFFFFF == 0x80000061
    assert tapigw.PHONEERR_INVALPHONEHANDLE & 0xFFFFFFFF == 0x90000013
    assert all(getattr(constants, n) < 0 for n in lineerr + phoneerr)


def test_names():
    assert tapigw.lineerr_name(-2147483605) == "LINEERR_INVALLINEHANDLE"
    assert tapigw.lineerr_name(0x8000002B) == "LINEERR_INVALLINEHANDLE"
    assert tapigw.lineerr_name(0) == "SUCCESS"
    assert tapigw.lineerr_name(0x80000004) == "0x80000004"
    assert tapigw.phoneerr_name(0x90000013) == "PHONEERR_INVALPHONEHANDLE"
    assert tapigw.message_name(23) == "LINE_APPNEWCALL" and tapigw.message_name(18) == "PHONE_STATE"
    assert tapigw.message_name(99) == "MESSAGE_99"
    assert tapigw.callstate_name(tapigw.LINECALLSTATE_ONHOLDPENDTRANSFER) == "LINECALLSTATE_ONHOLDPENDTRANSFER"
    assert tapigw.disconnectmode_name(0x20) == "LINEDISCONNECTMODE_BUSY"
    assert tapigw.callprivilege_name(2) == "LINECALLPRIVILEGE_MONITOR"
    assert tapigw.name_of("LINECALLSTATE_", 3) == "LINECALLSTATE_0x00000003"
    assert tapigw.flag_names("LINECALLFEATURE_", 0x80 | 0x800) == ["LINECALLFEATURE_DROP", "LINECALLFEATURE_HOLD"]
    assert tapigw.short("LINEDISCONNECTMODE_BUSY") == "BUSY"
    with pytest.raises(ValueError):
        names.values("LINECALLSTATE")
    assert "LINECALLFEATURE2_" not in "".join(names.values("LINECALLFEATURE_").values())


def test_describe():
    d = tapigw.describe({"method": "LINE_CALLSTATE", "hDevice": 7, "dwParam1": 0x4000, "dwParam2": 0x20,
                         "dwParam3": 0, "seq": 3})
    assert d == "LINE_CALLSTATE hDevice=7 DISCONNECTED mode=BUSY privilege=0 seq=3"
    d = tapigw.describe({"method": "LINE_REPLY", "hDevice": 0, "dwParam1": 4, "dwParam2": tapigw.LINEERR_OPERATIONFAILED, "dwParam3": 0})
    assert d == "LINE_REPLY requestId=4 result=LINEERR_OPERATIONFAILED"


def test_describe_digits_and_generate():
    d = tapigw.describe({"method": "LINE_GATHERDIGITS", "hDevice": 9, "dwParam1": tapigw.LINEGATHERTERM_TERMDIGIT,
                         "dwParam2": 0, "dwParam3": 0, "digits": "12#"})
    assert d == "LINE_GATHERDIGITS hDevice=9 TERMDIGIT digits='12#'"
    d = tapigw.describe({"method": "LINE_MONITORDIGITS", "hDevice": 9, "dwParam1": ord("5"),
                         "dwParam2": tapigw.LINEDIGITMODE_DTMFEND, "dwParam3": 0})
    assert d == "LINE_MONITORDIGITS hDevice=9 digit='5' mode=DTMFEND"
    d = tapigw.describe({"method": "LINE_GENERATE", "hDevice": 9, "dwParam1": tapigw.LINEGENERATETERM_CANCEL,
                         "dwParam2": 0, "dwParam3": 0})
    assert d == "LINE_GENERATE hDevice=9 CANCEL"


def test_doctests():
    assert doctest.testmod(names).failed == 0


def test_errors_from_responses():
    e = error_from_response({"code": -2147483605, "message": "LINEERR_INVALLINEHANDLE"}, "lineClose")
    assert isinstance(e, tapigw.TapiError) and e.name == "LINEERR_INVALLINEHANDLE" and e.method == "lineClose"
    e = error_from_response({"code": 0x8000002B, "message": ""})  # unsigned on the wire: still read right
    assert isinstance(e, tapigw.TapiError) and e.code == tapigw.LINEERR_INVALLINEHANDLE
    e = error_from_response({"code": -1879048173, "message": "PHONEERR_INVALPHONEHANDLE"})
    assert e.name == "PHONEERR_INVALPHONEHANDLE"
    for code in (-32700, -32600, -32601, -32602, -32000):
        e = error_from_response({"code": code, "message": "x"})
        assert type(e) is tapigw.ProtocolError and e.code == code
    e = error_from_response({"code": -32001, "message": "unauthenticated"})
    assert isinstance(e, tapigw.AuthenticationError) and isinstance(e, tapigw.ProtocolError)
    assert isinstance(error_from_response("junk"), tapigw.ProtocolError)
    assert issubclass(tapigw.ConnectionLost, ConnectionError) and issubclass(tapigw.RequestTimeout, TimeoutError)


def test_addresses(monkeypatch):
    monkeypatch.delenv("TAPIGW_API", raising=False)
    assert _core.parse_address(None) == ("127.0.0.1", 8274)
    assert _core.parse_address("gw.example:9000") == ("gw.example", 9000)
    assert _core.parse_address("[::1]:9000") == ("::1", 9000)
    assert _core.parse_address("::1") == ("::1", 8274)
    assert _core.parse_address("host") == ("host", 8274)
    assert _core.parse_address(("h", "1")) == ("h", 1)
    monkeypatch.setenv("TAPIGW_API", "10.1.2.3:1234")
    assert _core.parse_address(None) == ("10.1.2.3", 1234)


def test_call_timeouts():
    assert _core.call_timeout("lineOpen", {}, 30) == 30
    assert _core.call_timeout("lineGetMessage", {"timeout": 5000}, 30) == 35
    assert _core.call_timeout("lineGetMessage", {"timeout": 0xFFFFFFFF}, 30) is None
    assert _core.call_timeout("lineGetMessage", {"timeout": 5000}, None) is None


def test_backoff_doubles_to_the_cap_with_jitter():
    delays = _core.backoff(0.1, 2.0, random.Random(7))
    got = [next(delays) for _ in range(10)]
    bases = [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0, 2.0, 2.0]
    for d, base in zip(got, bases):
        assert base / 2 <= d <= base
    assert len(set(got)) == len(got), "jittered"
    other = _core.backoff(0.1, 2.0, random.Random(8))
    assert [next(other) for _ in range(10)] != got


def test_inbox_holds_messages_until_earlier_responses_are_consumed():
    box = _core.Inbox()
    box.push("message", "before")
    slot = box.take_slot()
    box.push("message", "after")
    assert box.ready() == ("message", "before")
    assert box.ready() is None, "waits for the caller of the response before it"
    box.consume(slot)
    assert box.ready() == ("message", "after")
    box.holds += 1
    box.push("message", "held")
    assert box.ready() is None
    box.holds -= 1
    assert box.ready() == ("message", "held")
    box.push("end", "bye")
    assert box.ready() == ("end", "bye") and box.ready() == ("end", "bye"), "the end stays"


def _msg(method, h=0, p1=0, seq=None):
    m = {"method": method, "hDevice": h, "dwMessageID": 0, "dwCallbackInstance": 0, "dwParam1": p1, "dwParam2": 0, "dwParam3": 0}
    if seq is not None:
        m["seq"] = seq
    return m


def test_sessions_attribute_messages_to_their_apps_and_drop_duplicates():
    s = _core.Sessions()
    s.on_result("lineInitializeEx", {"resumable": True}, {"hLineApp": 1, "sessionId": "a"})
    s.on_result("lineInitializeEx", {"resumable": True}, {"hLineApp": 2, "sessionId": "b"})
    s.on_result("phoneInitializeEx", {}, {"hPhoneApp": 3, "sessionId": "p"})
    s.on_result("lineOpen", {"hLineApp": 1}, {"hLine": 10})
    s.on_result("lineOpen", {"hLineApp": 2}, {"hLine": 20})
    s.on_result("lineMakeCall", {"hLine": 10}, {"requestId": 5, "hCall": 11})
    assert s.accept(_msg("LINE_REPLY", 0, 5, seq=1))  # by requestId
    assert s.accept(_msg("LINE_CALLSTATE", 11, seq=2))  # by hCall from lineMakeCall
    assert s.accept(_msg("LINE_APPNEWCALL", 20, 0, seq=1) | {"dwParam2": 21})  # by hLine
    assert s.accept(_msg("LINE_CALLSTATE", 21, seq=2))  # by hCall from LINE_APPNEWCALL
    assert not s.accept(_msg("LINE_CALLSTATE", 21, seq=2)), "duplicate"
    assert not s.accept(_msg("LINE_CALLSTATE", 11, seq=1)), "duplicate"
    assert s.accept(_msg("PHONE_STATE", 30, seq=1))  # the only phone app
    # hDevice 0 (LINE_CREATE goes to every app, one copy each): both apps at 2
    assert s.accept(_msg("LINE_CREATE", 0, 1, seq=3))
    assert s.accept(_msg("LINE_CREATE", 0, 1, seq=3))
    assert [(a.handle, a.last_seq) for a in s.resumable()] == [(1, 3), (2, 3)]
    assert s.accept(_msg("LINE_CALLSTATE", 11, seq=4))
    assert s.accept(_msg("LINE_CALLSTATE", 21, seq=4))
    assert s.accept(_msg("LINE_CALLSTATE", 11, seq=5))
    # app 1 at 5, app 2 at 4: continuity tells the copies apart
    assert s.accept(_msg("LINE_CREATE", 0, 2, seq=5))
    assert s.accept(_msg("LINE_CREATE", 0, 2, seq=6))
    assert [(a.handle, a.last_seq) for a in s.resumable()] == [(1, 6), (2, 5)]
    # app 1 at 6, app 2 at 5; next broadcast: app 2's copy (6), then app 1's (7), although
    # app 2 then is at 6 too: app 2 just had this very copy
    assert s.accept(_msg("LINE_REMOVE", 0, 3, seq=6))
    assert s.accept(_msg("LINE_REMOVE", 0, 3, seq=7))
    assert [(a.handle, a.last_seq) for a in s.resumable()] == [(1, 7), (2, 6)]
    assert [a.handle for a in s.not_resumable()] == [3], "phone app did not ask for resumable"
    s.on_result("lineDeallocateCall", {"hCall": 11}, {})
    assert ("line", 11) not in s.handles
    s.on_result("lineShutdown", {"hLineApp": 1}, {})
    assert ("line", 1) not in s.apps and ("line", 10) not in s.handles


def test_sessions_result_members_that_are_not_handles():
    s = _core.Sessions()
    s.on_result("phoneInitializeEx", {"resumable": True}, {"hPhoneApp": 1, "sessionId": "p"})
    s.on_result("phoneOpen", {"hPhoneApp": 1}, {"hPhone": 9})
    s.on_result("phoneGetStatus", {"hPhone": 9}, {"handsetHookSwitchMode": 8, "hookSwitchDevs": 1})
    assert set(s.handles) == {("phone", 9)}


def test_resumable_needs_a_session_id(caplog):
    s = _core.Sessions()
    s.on_result("lineInitializeEx", {"resumable": True}, {"hLineApp": 1})
    assert s.resumable() == []
    assert "no sessionId" in caplog.text
