"""Ordering promise 1 end to end: a LINE_REPLY never reaches the app before the function that
returned its requestId has returned to its caller, even though the gateway writes the reply
right behind the response and the callback runs on another thread.

The caller is slowed down between receiving its response and returning (by wrapping
Inbox.consume, where the caller hands its slot back): a dispatcher that did not wait for the
caller would deliver the LINE_REPLY inside that window, and these tests would fail.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import tapigw
import tapigw.aio
from conftest import WAIT, Collector, free_port, line_config
from fake_gateway import FakeGateway

V = tapigw.API_VERSION


@pytest.fixture
def slow_caller(monkeypatch):
    """Makes every sync caller take 0.3 s between getting its response and handing its slot
    back; records when each did (monotonic time)."""
    returned = []
    original = tapigw.Client._finish

    def finish(self, pending, timeout):
        time.sleep(0.3)  # fault injection: widen the window, not a synchronisation
        returned.append(time.monotonic())
        return original(self, pending, timeout)

    monkeypatch.setattr(tapigw.Client, "_finish", finish)
    return returned


@pytest.fixture
def slow_async_caller(monkeypatch):
    """The same for the asyncio client: the caller task yields for 0.3 s first."""
    returned = []
    original = tapigw.aio.AsyncClient._finish

    async def finish(self, pending):
        await asyncio.sleep(0.3)  # fault injection: let other tasks run, not a synchronisation
        returned.append(time.monotonic())
        return await original(self, pending)

    monkeypatch.setattr(tapigw.aio.AsyncClient, "_finish", finish)
    return returned


def _line(c):
    app = c.lineInitializeEx(appName="ordering", apiVersion=V, options=1)
    return c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=1)["hLine"]


def _check(c, line, slow_caller):
    delivered = {}
    done = threading.Event()

    def on_message(msg):
        if msg["method"] == "LINE_REPLY":
            delivered[msg["dwParam1"]] = time.monotonic()
            done.set()

    c.on_message(on_message)
    made = c.lineMakeCall(hLine=line, destAddress="1002")
    returned_at = time.monotonic()
    assert done.wait(WAIT)
    assert list(delivered) == [made["requestId"]]
    assert delivered[made["requestId"]] >= slow_caller[-1], "LINE_REPLY delivered before lineMakeCall returned"
    assert delivered[made["requestId"]] <= returned_at + WAIT


def test_reply_written_behind_the_response_waits_for_the_caller_fake(slow_caller):
    fake = FakeGateway()  # answers lineMakeCall with the response and LINE_REPLY in one write
    try:
        c = tapigw.connect(fake.address)
        app = c.lineInitializeEx(appName="ordering", apiVersion=V, options=1)
        line = c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=1)["hLine"]
        _check(c, line, slow_caller)
        c.close()
    finally:
        fake.close()


def test_reply_waits_for_the_caller_real_gateway(gateway_factory, slow_caller):
    # TCP provider refused: the gateway's LINE_REPLY follows the response at once.
    gw = gateway_factory(line_config(free_port(), "tcp"))
    c = tapigw.connect(gw.api)
    _check(c, _line(c), slow_caller)
    c.close()


def test_hold_messages_lets_the_caller_record_the_request_first(gateway_factory):
    gw = gateway_factory(line_config(free_port(), "tcp"))
    c = tapigw.connect(gw.api)
    line = _line(c)
    pending = {}
    seen = []
    got = Collector()

    def on_message(msg):
        if msg["method"] == "LINE_REPLY":
            seen.append(pending.get(msg["dwParam1"]))
        got(msg)

    c.on_message(on_message)
    for i in range(20):
        with c.hold_messages():
            r = c.lineMakeCall(hLine=line, destAddress="1002")
            pending[r["requestId"]] = f"call {i}"
    got.wait_count(20)
    assert None not in seen, "a LINE_REPLY reached the callback before its requestId was stored"
    assert sorted(seen) == sorted(f"call {i}" for i in range(20))  # replies of different requests may cross
    c.close()


def test_asyncio_reply_waits_for_the_caller(gateway_factory, slow_async_caller):
    gw = gateway_factory(line_config(free_port(), "tcp"))

    async def main():
        c = await tapigw.aio.connect(gw.api)
        app = await c.lineInitializeEx(appName="ordering", apiVersion=V, options=1)
        line = (await c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=1))["hLine"]
        known = set()
        replies = []
        done = asyncio.Event()

        async def on_message(msg):
            if msg["method"] == "LINE_REPLY":
                replies.append((msg["dwParam1"], msg["dwParam1"] in known, time.monotonic()))
                if len(replies) == 3:
                    done.set()

        c.on_message(on_message)
        for _ in range(3):
            r = await c.lineMakeCall(hLine=line, destAddress="1002")
            known.add(r["requestId"])  # no await between the return and this line
        await asyncio.wait_for(done.wait(), WAIT)
        assert all(ok for _, ok, _ in replies), replies
        await c.close()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_asyncio_fake_reply_in_the_same_write_waits_for_the_caller(slow_async_caller):
    fake = FakeGateway()

    async def main():
        c = await tapigw.aio.connect(fake.address)
        app = await c.lineInitializeEx(appName="ordering", apiVersion=V, options=1)
        await c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=1)
        delivered = asyncio.get_running_loop().create_future()
        c.on_message(lambda m: delivered.done() or delivered.set_result(time.monotonic()))
        await c.lineMakeCall(hLine=1, destAddress="1002")
        returned_at = slow_async_caller[-1]
        assert await asyncio.wait_for(delivered, WAIT) >= returned_at
        await c.close()

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        fake.close()
