"""The asyncio client against the real gateway and SIPp: an answered call with an async
callback, a busy call read with ``async for``, errors, and concurrent calls from tasks."""

from __future__ import annotations

import asyncio

import pytest

import tapigw
import tapigw.aio
from conftest import WAIT, free_port, line_config, media_config

V = tapigw.API_VERSION


async def open_line(gw, privileges=tapigw.LINECALLPRIVILEGE_OWNER):
    c = await tapigw.aio.connect(gw.api)
    app = await c.lineInitializeEx(appName="pytest-aio", apiVersion=V, options=1)
    line = await c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=privileges,
                            mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
    return c, app["hLineApp"], line["hLine"]


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_answered_call_with_an_async_callback(gateway_factory, provider):
    port, sipp = provider("uas_answer_gw_hangs_up.xml")
    gw = gateway_factory(line_config(port) + media_config())

    async def main():
        c, _, line = await open_line(gw)
        states = []
        idle = asyncio.Event()
        connected = asyncio.Event()
        replies = {}
        tasks = set()

        async def on_message(msg):
            if msg["method"] == "LINE_REPLY":
                replies[msg["dwParam1"]] = msg["dwParam2"]
            elif msg["method"] == "LINE_CALLSTATE":
                states.append(msg["dwParam1"])
                if msg["dwParam1"] == tapigw.LINECALLSTATE_CONNECTED:
                    status = await c.lineGetCallStatus(hCall=msg["hDevice"])  # a call from the callback
                    assert status["callState"] == tapigw.LINECALLSTATE_CONNECTED
                    connected.set()
                elif msg["dwParam1"] == tapigw.LINECALLSTATE_IDLE:
                    idle.set()

        c.on_message(on_message)
        made = await c.lineMakeCall(hLine=line, destAddress="1002")
        await asyncio.wait_for(connected.wait(), WAIT)
        assert replies[made["requestId"]] == 0
        assert states == [tapigw.LINECALLSTATE_PROCEEDING, tapigw.LINECALLSTATE_RINGBACK, tapigw.LINECALLSTATE_CONNECTED]
        drop = await c.lineDrop(hCall=made["hCall"])
        await asyncio.wait_for(idle.wait(), WAIT)
        assert replies[drop["requestId"]] == 0
        with pytest.raises(tapigw.TapiError) as e:
            await c.lineDrop(hCall=made["hCall"])
        assert e.value.name == "LINEERR_INVALCALLSTATE"
        await c.lineDeallocateCall(hCall=made["hCall"])
        assert not tasks
        await c.close()

    run(main())
    sipp.assert_success("provider (answer, app hangs up)")


def test_busy_call_with_async_for(gateway_factory, provider):
    port, sipp = provider("uas_reject.xml", STATUS="486", PROVISIONAL="180 Ringing")
    gw = gateway_factory(line_config(port) + media_config())

    async def main():
        c, _, line = await open_line(gw)
        made = await c.lineMakeCall(hLine=line, destAddress="1002")
        seen = []
        async for msg in c.messages(timeout=WAIT):
            seen.append(msg)
            if msg["method"] == "LINE_CALLSTATE" and msg["dwParam1"] == tapigw.LINECALLSTATE_IDLE:
                break
        assert seen[0]["method"] == "LINE_REPLY" and seen[0]["dwParam1"] == made["requestId"] and seen[0]["dwParam2"] == 0
        calls = [(tapigw.short(tapigw.callstate_name(m["dwParam1"])), m["dwParam2"]) for m in seen if m["method"] == "LINE_CALLSTATE"]
        assert [s for s, _ in calls] == ["PROCEEDING", "RINGBACK", "DISCONNECTED", "IDLE"]
        assert calls[2][1] == tapigw.LINEDISCONNECTMODE_BUSY
        await c.close()

    run(main())
    sipp.assert_success("provider (486)")


def test_errors_and_concurrent_calls(gateway_factory):
    gw = gateway_factory(line_config(free_port()))

    async def main():
        c, app, line = await open_line(gw)
        with pytest.raises(tapigw.TapiError) as e:
            await c.lineClose(hLine=line + 999)
        assert e.value.name == "LINEERR_INVALLINEHANDLE" and e.value.code == tapigw.LINEERR_INVALLINEHANDLE
        with pytest.raises(tapigw.ProtocolError) as e:
            await c.lineSomethingNew(hLine=line)
        assert e.value.code == -32601
        # many requests in flight from several tasks, each answered to its own caller
        results = await asyncio.gather(*(c.lineGetLineDevStatus(hLine=line) for _ in range(50)),
                                       c.lineGetCallInfo(hCall=1), return_exceptions=True)
        assert all(r["numOpens"] >= 1 for r in results[:50])
        assert isinstance(results[50], tapigw.TapiError) and results[50].name == "LINEERR_INVALCALLHANDLE"
        assert await c.next_message(0.05) is None
        await c.lineShutdown(hLineApp=app)
        await c.close()
        with pytest.raises(tapigw.ConnectionLost):
            await c.lineShutdown(hLineApp=app)

    run(main())


def test_connection_refused_is_connection_lost():
    with pytest.raises(tapigw.ConnectionLost):
        run(tapigw.aio.connect(f"127.0.0.1:{free_port()}", connect_timeout=2))
