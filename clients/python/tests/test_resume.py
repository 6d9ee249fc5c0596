"""Automatic reconnect and resume (contract: "Sessions that survive a dropped connection"),
against the fake gateway of fake_gateway.py: drop mid-stream, reconnect, lastSeq, duplicates
dropped, refused resume, requests while disconnected, re-authentication, giving up."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import tapigw
import tapigw.aio
from conftest import Collector
from fake_gateway import FakeGateway

FAST = dict(reconnect_initial=0.05, reconnect_max=0.2, resume_timeout=10.0)


@pytest.fixture
def fake():
    gw = FakeGateway()
    yield gw
    gw.close()


def _state(h_call: int, state: int) -> dict:
    return dict(hDevice=h_call, dwMessageID=tapigw.LINE_CALLSTATE, dwCallbackInstance=0,
                dwParam1=state, dwParam2=0, dwParam3=0)


def _init(c, resumable=True):
    return c.lineInitializeEx(appName="resume-test", apiVersion=tapigw.API_VERSION,
                              options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, resumable=resumable)


def _seqs(messages):
    return [m["seq"] for m in messages]


def test_drop_mid_stream_resumes_with_last_seq_and_one_unbroken_stream(fake):
    c = tapigw.connect(fake.address, **FAST)
    got = Collector()
    reconnected = threading.Event()
    c.on_message(got)
    c.on_reconnect(reconnected.set)
    app = _init(c)
    assert app["sessionId"]
    s = fake.session()
    for state in (tapigw.LINECALLSTATE_PROCEEDING, tapigw.LINECALLSTATE_RINGBACK, tapigw.LINECALLSTATE_CONNECTED):
        fake.emit(s, "LINE_CALLSTATE", **_state(77, state))
    got.wait_count(3)
    fake.drop()
    # messages produced while the app is away queue in the gateway
    fake.emit(s, "LINE_CALLSTATE", **_state(77, tapigw.LINECALLSTATE_DISCONNECTED))
    fake.emit(s, "LINE_CALLSTATE", **_state(77, tapigw.LINECALLSTATE_IDLE))
    assert reconnected.wait(10)
    (conn, _, params), = fake.wait_request("lineResume")
    assert conn == 2
    assert params == {"sessionId": app["sessionId"], "lastSeq": 3}
    fake.emit(s, "LINE_CLOSE", hDevice=5, dwMessageID=tapigw.LINE_CLOSE, dwCallbackInstance=0,
              dwParam1=0, dwParam2=0, dwParam3=0)
    messages = got.wait_count(6)
    assert _seqs(messages) == [1, 2, 3, 4, 5, 6]
    assert [m["method"] for m in messages][-1] == "LINE_CLOSE"
    assert [tapigw.short(tapigw.callstate_name(m["dwParam1"])) for m in messages[:5]] == [
        "PROCEEDING", "RINGBACK", "CONNECTED", "DISCONNECTED", "IDLE"]
    assert len(got.threads) == 1, "every callback ran on the one client thread"
    assert c.state == "connected"
    assert c.apps()[0].last_seq == 6
    # calls work on the new connection; close() shuts the resumable app down
    c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=tapigw.API_VERSION, privileges=1)
    c.close()
    assert fake.wait_request("lineShutdown")[0][2] == {"hLineApp": app["hLineApp"]}


def test_duplicates_in_a_replay_are_dropped(fake):
    fake.replay_overlap = 2  # a replay that repeats the last two messages already delivered
    c = tapigw.connect(fake.address, **FAST)
    got = Collector()
    c.on_message(got)
    _init(c)
    s = fake.session()
    for i in range(4):
        fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=i, dwParam2=0, dwParam3=0)
    got.wait_count(4)
    fake.drop()
    fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=4, dwParam2=0, dwParam3=0)
    fake.wait_request("lineResume")
    got.wait_count(5)
    # a live message after the replay proves the duplicates were read and dropped, not pending
    fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=5, dwParam2=0, dwParam3=0)
    messages = got.wait_count(6)
    assert _seqs(messages) == [1, 2, 3, 4, 5, 6]
    assert [m["dwParam1"] for m in messages] == [0, 1, 2, 3, 4, 5]
    c.close()


def test_refused_resume_tells_the_app_and_keeps_the_client_usable(fake):
    c = tapigw.connect(fake.address, **FAST)
    lost = []
    lost_event = threading.Event()
    c.on_message(Collector())
    c.on_session_lost(lambda e: (lost.append(e), lost_event.set()))
    app = _init(c)
    fake.refuse_resume = True
    fake.drop()
    assert lost_event.wait(10)
    (e,) = lost
    assert isinstance(e, tapigw.SessionLost)
    assert (e.app, e.kind, e.session_id) == (app["hLineApp"], "line", app["sessionId"])
    assert isinstance(e.cause, tapigw.TapiError) and e.cause.name == "LINEERR_INVALAPPHANDLE"
    assert c.apps() == []
    # connected again, with no app: the app can start over
    again = _init(c)
    assert again["hLineApp"] != app["hLineApp"]
    c.close()


def test_refused_resume_raises_from_next_message_without_a_handler(fake):
    c = tapigw.connect(fake.address, **FAST)
    _init(c)
    fake.emit(fake.session(), "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=0, dwParam2=0, dwParam3=0)
    assert c.next_message(5)["seq"] == 1
    fake.refuse_resume = True
    fake.drop()
    with pytest.raises(tapigw.SessionLost) as info:
        c.next_message(10)
    assert info.value.cause.code == tapigw.LINEERR_INVALAPPHANDLE
    c.close()


def test_requests_while_disconnected_wait_for_the_reconnection(fake):
    c = tapigw.connect(fake.address, reconnect_initial=0.05, reconnect_max=0.1, resume_timeout=20, reconnect_wait=0.3)
    app = _init(c)
    fake.stop_listening()
    fake.drop()
    assert c.wait_state("reconnecting", 10)
    # no gateway: a request waits reconnect_wait, then says so
    started = time.monotonic()
    with pytest.raises(tapigw.ConnectionLost, match="not reconnected"):
        c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=tapigw.API_VERSION, privileges=1)
    assert time.monotonic() - started >= 0.25
    assert c.state == "reconnecting"
    # a longer wait is served once the gateway is back
    c.reconnect_wait = 10
    result = {}
    t = threading.Thread(target=lambda: result.update(
        c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=tapigw.API_VERSION, privileges=1)))
    t.start()
    fake.start_listening()
    t.join(10)
    assert "hLine" in result
    conns = {conn for conn, method, _ in fake.requests if method == "lineOpen"}
    resume_conn = fake.wait_request("lineResume")[0][0]
    assert conns == {resume_conn}, "the request went out after the resume, on the new connection"
    order = [m for conn, m, _ in fake.requests if conn == resume_conn]
    assert order.index("lineResume") < order.index("lineOpen")
    c.close()


def test_a_request_in_flight_when_the_connection_drops_raises_connection_lost(fake):
    fake.hold.add("lineGetCallInfo")
    c = tapigw.connect(fake.address, **FAST)
    _init(c)
    errors = []

    def slow():
        try:
            c.lineGetCallInfo(hCall=1)
        except tapigw.ConnectionLost as e:
            errors.append(e)

    t = threading.Thread(target=slow)
    t.start()
    fake.wait_request("lineGetCallInfo")
    fake.drop()
    t.join(10)
    assert errors and "outcome unknown" in str(errors[0])
    fake.wait_request("lineResume")
    c.close()


def test_reauthenticates_before_resuming():
    fake = FakeGateway(token="s3cret")
    try:
        c = tapigw.connect(fake.address, token="s3cret", **FAST)
        reconnected = threading.Event()
        c.on_reconnect(reconnected.set)
        c.on_message(Collector())
        _init(c)
        fake.drop()
        assert reconnected.wait(10)
        second = [m for conn, m, _ in fake.requests if conn == 2]
        assert second[:2] == ["authenticate", "lineResume"]
        c.close()
    finally:
        fake.close()


def test_wrong_token_is_an_authentication_error():
    fake = FakeGateway(token="s3cret")
    try:
        with pytest.raises(tapigw.AuthenticationError) as info:
            tapigw.connect(fake.address, token="wrong")
        assert info.value.code == -32001
        assert isinstance(info.value, tapigw.ProtocolError)
    finally:
        fake.close()


def test_gives_up_after_resume_timeout_and_reports_every_session(fake):
    c = tapigw.connect(fake.address, reconnect_initial=0.05, reconnect_max=0.1, resume_timeout=0.8)
    lost = []
    closed = threading.Event()
    c.on_session_lost(lost.append)
    c.on_closed(lambda e: closed.set())
    c.on_message(Collector())
    app = _init(c)
    fake.stop_listening()
    fake.drop()
    assert c.wait_closed(10)
    assert closed.wait(5)
    assert [e.app for e in lost] == [app["hLineApp"]]
    assert isinstance(lost[0].cause, tapigw.ConnectionLost)
    with pytest.raises(tapigw.ConnectionLost):
        c.lineShutdown(hLineApp=app["hLineApp"])


def test_without_resumable_apps_a_drop_closes_the_client(fake):
    c = tapigw.connect(fake.address, **FAST)
    _init(c, resumable=False)
    fake.drop()
    with pytest.raises(tapigw.ConnectionLost):
        c.next_message(10)
    with pytest.raises(tapigw.ConnectionLost):
        c.next_message(0)  # and stays so
    assert c.closed
    assert len(fake.conns) == 1, "no reconnection without something to resume"


def test_two_apps_on_one_connection_resume_each_from_its_own_seq(fake):
    """Messages do not name their app: the client attributes them by handle to keep a lastSeq
    per app."""
    c = tapigw.connect(fake.address, **FAST)
    got = Collector()
    c.on_message(got)
    a = _init(c)
    b = _init(c)
    la = c.lineOpen(hLineApp=a["hLineApp"], deviceId=0, apiVersion=tapigw.API_VERSION, privileges=2)["hLine"]
    lb = c.lineOpen(hLineApp=b["hLineApp"], deviceId=0, apiVersion=tapigw.API_VERSION, privileges=2)["hLine"]
    sa, sb = fake.session(0), fake.session(1)
    dev = dict(dwMessageID=tapigw.LINE_LINEDEVSTATE, dwCallbackInstance=0, dwParam1=tapigw.LINEDEVSTATE_INSERVICE, dwParam2=0, dwParam3=0)
    for _ in range(3):
        fake.emit(sa, "LINE_LINEDEVSTATE", hDevice=la, **dev)
    fake.emit(sb, "LINE_LINEDEVSTATE", hDevice=lb, **dev)
    got.wait_count(4)
    fake.drop()
    resumes = fake.wait_request("lineResume", 2)
    assert sorted((p["sessionId"], p["lastSeq"]) for _, _, p in resumes) == sorted(
        [(a["sessionId"], 3), (b["sessionId"], 1)])
    c.close()


def test_phone_apps_resume_with_phone_resume(fake):
    c = tapigw.connect(fake.address, **FAST)
    reconnected = threading.Event()
    c.on_reconnect(reconnected.set)
    c.on_message(Collector())
    p = c.phoneInitializeEx(appName="phones", apiVersion=tapigw.API_VERSION, options=1, resumable=True)
    fake.emit(fake.session(), "PHONE_STATE", hDevice=3, dwMessageID=tapigw.PHONE_STATE, dwCallbackInstance=0,
              dwParam1=tapigw.PHONESTATE_HANDSETHOOKSWITCH, dwParam2=tapigw.PHONEHOOKSWITCHMODE_MICSPEAKER, dwParam3=0)
    fake.drop()
    assert reconnected.wait(10)
    (_, _, params), = fake.wait_request("phoneResume")
    assert params == {"sessionId": p["sessionId"], "lastSeq": 1}
    c.close()
    assert fake.wait_request("phoneShutdown")[0][2] == {"hPhoneApp": p["hPhoneApp"]}


# -- asyncio ----------------------------------------------------------------------------------


def test_asyncio_drop_resume_and_async_iteration(fake):
    async def main():
        c = await tapigw.aio.connect(fake.address, **FAST)
        app = await _ainit(c)
        s = fake.session()
        fake.emit(s, "LINE_CALLSTATE", **_state(5, tapigw.LINECALLSTATE_PROCEEDING))
        fake.emit(s, "LINE_CALLSTATE", **_state(5, tapigw.LINECALLSTATE_CONNECTED))
        seen = []
        async for msg in c.messages(timeout=10):
            seen.append(msg)
            if len(seen) == 2:
                break
        fake.drop()
        fake.emit(s, "LINE_CALLSTATE", **_state(5, tapigw.LINECALLSTATE_DISCONNECTED))
        async for msg in c.messages(timeout=10):
            seen.append(msg)
            break
        fake.emit(s, "LINE_CALLSTATE", **_state(5, tapigw.LINECALLSTATE_IDLE))
        async for msg in c.messages(timeout=10):
            seen.append(msg)
            break
        assert [m["seq"] for m in seen] == [1, 2, 3, 4]
        (conn, _, params), = fake.wait_request("lineResume")
        assert params == {"sessionId": app["sessionId"], "lastSeq": 2}
        await c.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_asyncio_refused_resume_calls_an_async_handler(fake):
    async def main():
        c = await tapigw.aio.connect(fake.address, **FAST)
        lost = asyncio.get_running_loop().create_future()

        async def on_lost(e):
            lost.set_result(e)

        c.on_session_lost(on_lost)
        c.on_message(lambda m: None)
        app = await _ainit(c)
        fake.refuse_resume = True
        fake.drop()
        e = await asyncio.wait_for(lost, 10)
        assert e.app == app["hLineApp"] and e.cause.name == "LINEERR_INVALAPPHANDLE"
        assert c.state == "connected"
        await c.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_asyncio_gives_up_and_closes(fake):
    async def main():
        c = await tapigw.aio.connect(fake.address, reconnect_initial=0.05, reconnect_max=0.1, resume_timeout=0.8)
        await _ainit(c)
        fake.stop_listening()
        fake.drop()
        with pytest.raises(tapigw.SessionLost):
            await c.next_message(10)
        with pytest.raises(tapigw.ConnectionLost):
            await c.next_message(10)
        assert await c.wait_closed(1)
        with pytest.raises(tapigw.ConnectionLost):
            await c.lineShutdown(hLineApp=1)

    asyncio.run(asyncio.wait_for(main(), 30))


async def _ainit(c):
    return await c.lineInitializeEx(appName="resume-test", apiVersion=tapigw.API_VERSION,
                                    options=1, resumable=True)


def test_a_new_process_resumes_by_hand_and_then_automatically(fake):
    first = tapigw.connect(fake.address, **FAST)
    app = _init(first)
    s = fake.session()
    fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=0, dwParam2=0, dwParam3=0)
    assert first.next_message(5)["seq"] == 1
    first.close(shutdown=False)
    assert not any(m == "lineShutdown" for _, m, _ in fake.requests)
    fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=1, dwParam2=0, dwParam3=0)
    second = tapigw.connect(fake.address, **FAST)
    assert second.lineResume(sessionId=app["sessionId"], lastSeq=1) == {"hLineApp": app["hLineApp"]}
    assert second.next_message(5)["seq"] == 2
    (info,) = second.apps()
    assert (info.handle, info.resumable, info.last_seq) == (app["hLineApp"], True, 2)
    fake.drop()
    fake.emit(s, "LINE_CALLINFO", hDevice=9, dwMessageID=1, dwCallbackInstance=0, dwParam1=2, dwParam2=0, dwParam3=0)
    assert second.next_message(10)["seq"] == 3
    assert fake.wait_request("lineResume", 2)[1][2] == {"sessionId": app["sessionId"], "lastSeq": 2}
    second.close()


def test_phone_apps_fall_back_to_line_resume_when_phone_resume_is_unknown(fake):
    fake.unknown.add("phoneResume")
    fake.line_resume_any_kind = True
    c = tapigw.connect(fake.address, **FAST)
    reconnected = threading.Event()
    c.on_reconnect(reconnected.set)
    got = Collector()
    c.on_message(got)
    p = c.phoneInitializeEx(appName="phones", apiVersion=tapigw.API_VERSION, options=1, resumable=True)
    fake.drop()
    assert reconnected.wait(10)
    fake.wait_request("phoneResume")
    (_, _, params), = fake.wait_request("lineResume")
    assert params == {"sessionId": p["sessionId"], "lastSeq": 0}
    assert [a.handle for a in c.apps()] == [p["hPhoneApp"]]
    fake.emit(fake.session(), "PHONE_STATE", hDevice=3, dwMessageID=tapigw.PHONE_STATE, dwCallbackInstance=0,
              dwParam1=tapigw.PHONESTATE_HANDSETHOOKSWITCH, dwParam2=1, dwParam3=0)
    assert got.wait_count(1)[0]["seq"] == 1
    c.close()


def test_asyncio_phone_fallback_and_token(fake):
    fake.token = "t0k"
    fake.unknown.add("phoneResume")
    fake.line_resume_any_kind = True

    async def main():
        c = await tapigw.aio.connect(fake.address, token="t0k", **FAST)
        p = await c.phoneInitializeEx(appName="phones", apiVersion=tapigw.API_VERSION, options=1, resumable=True)
        fake.drop()
        await asyncio.get_running_loop().run_in_executor(None, fake.wait_request, "lineResume")
        assert await c.wait_state("connected", 10)
        second = [m for conn, m, _ in fake.requests if conn == 2]
        assert second == ["authenticate", "phoneResume", "lineResume"]
        assert [a.handle for a in c.apps()] == [p["hPhoneApp"]]
        await c.close()
        assert fake.wait_request("phoneShutdown")[0][2] == {"hPhoneApp": p["hPhoneApp"]}

    asyncio.run(asyncio.wait_for(main(), 30))
