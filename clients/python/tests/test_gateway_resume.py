"""Automatic resume against the real gateway binary, with SIPp as the provider and a proxy that
cuts the app's connection (RST) while the call is being set up: the call is answered while the
app is away (a monitoring connection sees it), the client comes back by itself and the
callback sees one unbroken stream, LINE_REPLY(0) then CONNECTED with consecutive seq. Then the
same with an app that never comes back (the call is dropped after ``api.resume_grace_s``), a
take-over by another connection, event mode, and the asyncio client."""

from __future__ import annotations

import asyncio
import threading
import time

import tapigw
import tapigw.aio
from conftest import WAIT, Collector, line_config
from cut_proxy import CutProxy

V = tapigw.API_VERSION
FAST = dict(reconnect_initial=0.05, reconnect_max=0.3, resume_timeout=20.0)
NO_MEDIA = '[media]\nmode = "none"\n\n'


def _late_provider(provider, pause_ms: int):
    """SIPp that answers ``pause_ms`` after the INVITE, then waits for the gateway's BYE."""
    return provider("uas_answer_after_pause.xml", extra=["-d", str(pause_ms), "-pause_msg_ign"])


def _proxied_app(gw, proxy, options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW):
    c = tapigw.connect(proxy.address, **FAST)
    app = c.lineInitializeEx(appName="crm", apiVersion=V, options=options, resumable=True)
    line = c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, callbackInstance=3,
                      privileges=tapigw.LINECALLPRIVILEGE_OWNER,
                      mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
    return c, app, line["hLine"]


def _monitor(gw):
    """A second, direct connection that monitors line 0."""
    m = tapigw.connect(gw.api)
    app = m.lineInitializeEx(appName="monitor", apiVersion=V, options=1)
    m.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V,
               privileges=tapigw.LINECALLPRIVILEGE_MONITOR)
    got = Collector()
    m.on_message(got)
    return m, got


def _sees_state(got: Collector, state: int) -> dict:
    return got.wait_for(lambda msg: msg["method"] == "LINE_CALLSTATE" and msg["dwParam1"] == state)


def _check_unbroken(messages, app_handle):
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(1, len(seqs) + 1)), f"gap or duplicate: {seqs}"
    assert all(m["hLineApp"] == app_handle for m in messages)


def test_cut_during_set_up_then_the_callback_sees_one_unbroken_stream(gateway_factory, provider):
    port, sipp = _late_provider(provider, 1500)
    gw = gateway_factory(line_config(port) + NO_MEDIA)
    proxy = CutProxy(("127.0.0.1", gw.api_port))
    monitor, seen = _monitor(gw)
    c, app, line = _proxied_app(gw, proxy)
    got = Collector()
    c.on_message(got)
    reconnected = threading.Event()
    c.on_reconnect(reconnected.set)

    made = c.lineMakeCall(hLine=line, destAddress="1002")
    proxy.hold()
    assert proxy.cut() == 1
    gw.wait_for_log("app kept for a resume", WAIT)
    _sees_state(seen, tapigw.LINECALLSTATE_CONNECTED)  # answered while the app is away
    proxy.wait_refused(1, WAIT)
    assert c.state == "reconnecting"
    proxy.release()

    connected = _sees_state(got, tapigw.LINECALLSTATE_CONNECTED)
    assert reconnected.wait(WAIT)
    first = got.messages[0]
    assert (first["method"], first["dwParam1"], first["dwParam2"]) == ("LINE_REPLY", made["requestId"], 0)
    assert connected["hDevice"] == made["hCall"] and connected["dwCallbackInstance"] == 3
    assert (first["seq"], connected["seq"]) == (1, 2)

    drop = c.lineDrop(hCall=made["hCall"])["requestId"]
    got.wait_for(lambda m: m["method"] == "LINE_REPLY" and m["dwParam1"] == drop)
    _sees_state(got, tapigw.LINECALLSTATE_IDLE)
    _check_unbroken(got.messages, app["hLineApp"])
    sipp.assert_success("provider answering late; BYE after the resume")
    c.close()
    monitor.close()
    proxy.close()


def test_an_app_that_never_comes_back_loses_its_call_after_the_grace(gateway_factory, provider):
    port, sipp = _late_provider(provider, 300)
    gw = gateway_factory(line_config(port) + NO_MEDIA, api_extra="resume_grace_s = 2")
    proxy = CutProxy(("127.0.0.1", gw.api_port))
    monitor, seen = _monitor(gw)
    c, app, line = _proxied_app(gw, proxy)
    lost = []
    lost_event = threading.Event()
    c.on_message(Collector())
    c.on_session_lost(lambda e: (lost.append(e), lost_event.set()))

    c.lineMakeCall(hLine=line, destAddress="1002")
    proxy.hold()
    proxy.cut()
    cut_at = time.monotonic()
    _sees_state(seen, tapigw.LINECALLSTATE_CONNECTED)
    _sees_state(seen, tapigw.LINECALLSTATE_IDLE)
    assert time.monotonic() - cut_at >= 2.0, "dropped only when the grace period ended"
    gw.wait_for_log("session expired", WAIT)
    sipp.assert_success("provider; BYE at the end of the grace period")

    proxy.release()
    assert lost_event.wait(WAIT)
    (e,) = lost
    assert (e.app, e.session_id) == (app["hLineApp"], app["sessionId"])
    assert isinstance(e.cause, tapigw.TapiError) and e.cause.name == "LINEERR_INVALAPPHANDLE"
    c.close()
    monitor.close()
    proxy.close()


def test_another_connection_takes_the_session_over(gateway_factory):
    gw = gateway_factory(line_config(5999) + NO_MEDIA)
    old = tapigw.connect(gw.api, **FAST)
    lost = []
    lost_event = threading.Event()
    old.on_message(Collector())
    old.on_session_lost(lambda e: (lost.append(e), lost_event.set()))
    app = old.lineInitializeEx(appName="old", apiVersion=V, options=1, resumable=True)

    new = tapigw.connect(gw.api)
    resumed = new.lineResume(sessionId=app["sessionId"], lastSeq=0)
    assert resumed == {"hLineApp": app["hLineApp"]}
    assert lost_event.wait(WAIT)
    assert isinstance(lost[0].cause, tapigw.SessionTakenOver)
    assert old.wait_closed(WAIT), "no resumable app left: the old client closes, it does not fight back"
    # The new connection has the app.
    new.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=tapigw.LINECALLPRIVILEGE_NONE)
    new.close()


def test_event_mode_resume_returns_no_message_twice(gateway_factory):
    gw = gateway_factory(line_config(5999) + NO_MEDIA)
    proxy = CutProxy(("127.0.0.1", gw.api_port))
    c, app, line = _proxied_app(gw, proxy, options=tapigw.LINEINITIALIZEEXOPTION_USEEVENT)
    h = app["hLineApp"]
    c.lineSetStatusMessages(hLine=line, lineStates=tapigw.LINEDEVSTATE_OPEN | tapigw.LINEDEVSTATE_CLOSE)
    other = tapigw.connect(gw.api)
    other_app = other.lineInitializeEx(appName="other", apiVersion=V, options=1)

    def open_and_close():  # gives our app LINE_LINEDEVSTATE(OPEN), then (CLOSE)
        opened = other.lineOpen(hLineApp=other_app["hLineApp"], deviceId=0, apiVersion=V,
                                privileges=tapigw.LINECALLPRIVILEGE_MONITOR)
        other.lineClose(hLine=opened["hLine"])

    open_and_close()
    fetched = [c.lineGetMessage(hLineApp=h, timeout=2000)]
    proxy.hold()
    proxy.cut()
    open_and_close()  # while the app is away
    proxy.release()
    for _ in range(3):  # these wait for the resume
        fetched.append(c.lineGetMessage(hLineApp=h, timeout=5000))
    assert [m["seq"] for m in fetched] == [1, 2, 3, 4], "the seq of a fetched message counts as read"
    assert [m["dwParam1"] for m in fetched] == [tapigw.LINEDEVSTATE_OPEN, tapigw.LINEDEVSTATE_CLOSE] * 2
    c.close()
    other.close()
    proxy.close()


def test_the_asyncio_client_resumes_too(gateway_factory, provider):
    port, sipp = _late_provider(provider, 1000)
    gw = gateway_factory(line_config(port) + NO_MEDIA)
    proxy = CutProxy(("127.0.0.1", gw.api_port))
    monitor, seen = _monitor(gw)

    async def main():
        c = await tapigw.aio.connect(proxy.address, **FAST)
        app = await c.lineInitializeEx(appName="bot", apiVersion=V, options=1, resumable=True)
        line = (await c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V,
                                 privileges=tapigw.LINECALLPRIVILEGE_OWNER,
                                 mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE))["hLine"]
        made = await c.lineMakeCall(hLine=line, destAddress="1002")
        proxy.hold()
        proxy.cut()
        await asyncio.get_running_loop().run_in_executor(
            None, _sees_state, seen, tapigw.LINECALLSTATE_CONNECTED)
        proxy.release()
        messages = []
        while not any(m["method"] == "LINE_CALLSTATE" and m["dwParam1"] == tapigw.LINECALLSTATE_CONNECTED
                      for m in messages):
            messages.append(await c.next_message(timeout=WAIT))
        assert messages[0]["method"] == "LINE_REPLY" and messages[0]["dwParam2"] == 0
        await c.lineDrop(hCall=made["hCall"])
        while messages[-1]["method"] != "LINE_CALLSTATE" or messages[-1]["dwParam1"] != tapigw.LINECALLSTATE_IDLE:
            messages.append(await c.next_message(timeout=WAIT))
        _check_unbroken(messages, app["hLineApp"])
        await c.close()

    asyncio.run(main())
    sipp.assert_success("provider answering late; BYE after the asyncio client resumed")
    monitor.close()
    proxy.close()
