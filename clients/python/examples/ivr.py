#!/usr/bin/env python3
"""Auto-answer IVR skeleton (asyncio): answers every call offered on a line, plays an optional
greeting, collects the caller's DTMF digits and prints them, then hangs up.

    python3 ivr.py                          # line 0, 4 digits or '#'
    python3 ivr.py --line 1 --digits 1 --prompt menu.wav

Digits come from lineGatherDigits (LINE_GATHERDIGITS carries them in "digits"); when the
gateway does not offer it, from lineMonitorDigits (one LINE_MONITORDIGITS per digit); when it
offers neither (both are contract version 2: an older gateway answers -32601 "method not
found"), the IVR says so and carries on without digits. A real IVR would branch on the digits
where ``menu()`` prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Dict, Optional

import tapigw
import tapigw.aio


def log(text: str) -> None:
    """Prints ``text`` with a timestamp."""
    print(f"{datetime.now().strftime('%H:%M:%S.%f')[:-3]} {text}", flush=True)


def unsupported(e: Exception) -> bool:
    """True for "this gateway does not have that function"."""
    if isinstance(e, tapigw.ProtocolError):
        return e.code == -32601
    return isinstance(e, tapigw.TapiError) and e.code == tapigw.LINEERR_OPERATIONUNAVAIL


class Call:
    """One answered call and what its digits arrive through."""

    def __init__(self, h_call: int):
        self.h_call = h_call
        self.gathered: "asyncio.Future[tuple]" = asyncio.get_running_loop().create_future()
        self.digits: "asyncio.Queue[str]" = asyncio.Queue()
        self.task: Optional[asyncio.Task] = None


class Ivr:
    """Answers calls on one line and runs the dialogue of each."""
    def __init__(self, c: tapigw.aio.AsyncClient, args: argparse.Namespace):
        self.c = c
        self.args = args
        self.calls: Dict[int, Call] = {}
        self.handled = 0

    async def run(self) -> None:
        """The message loop (``async for``), until --calls calls were handled."""
        async for msg in self.c.messages():
            method = msg["method"]
            if method == "LINE_CALLSTATE":
                await self.on_state(msg)
            elif method == "LINE_GATHERDIGITS" and msg["hDevice"] in self.calls:
                call = self.calls[msg["hDevice"]]
                if not call.gathered.done():
                    call.gathered.set_result((msg.get("digits", ""), msg["dwParam1"]))
            elif method == "LINE_MONITORDIGITS" and msg["hDevice"] in self.calls:
                self.calls[msg["hDevice"]].digits.put_nowait(chr(msg["dwParam1"] & 0xFF))
            elif method == "LINE_REPLY" and msg["dwParam2"] != 0:
                log(f"request {msg['dwParam1']} failed: {tapigw.lineerr_name(msg['dwParam2'])}")
            if self.args.calls is not None and self.handled >= self.args.calls:
                return

    async def on_state(self, msg: dict) -> None:
        """Answers offered calls, starts the dialogue when connected, cleans up at IDLE."""
        h_call, state = msg["hDevice"], msg["dwParam1"]
        if state == tapigw.LINECALLSTATE_OFFERING:
            info = await self.c.lineGetCallInfo(hCall=h_call)
            log(f"call from {info.get('callerIdName') or ''} <{info.get('callerId', '')}> to {info.get('calledId', '')}: answering")
            self.calls[h_call] = Call(h_call)
            try:
                await self.c.lineAnswer(hCall=h_call)
            except tapigw.TapiError as e:
                log(f"lineAnswer failed: {e.name}")
        elif state == tapigw.LINECALLSTATE_CONNECTED and h_call in self.calls:
            call = self.calls[h_call]
            if call.task is None:
                log("connected")
                call.task = asyncio.ensure_future(self.serve(call))
        elif state == tapigw.LINECALLSTATE_DISCONNECTED:
            log(f"caller hung up ({tapigw.short(tapigw.disconnectmode_name(msg['dwParam2']))})")
            await self.drop(h_call)
        elif state == tapigw.LINECALLSTATE_IDLE:
            call = self.calls.pop(h_call, None)
            if call is not None and call.task is not None:
                call.task.cancel()
            try:
                await self.c.lineDeallocateCall(hCall=h_call)
            except tapigw.TapiError:
                pass
            log("call ended")
            self.handled += 1

    async def serve(self, call: Call) -> None:
        """The IVR dialogue of one call."""
        if self.args.prompt:
            try:
                await self.c.mediaPlay(hCall=call.h_call, file=self.args.prompt)
            except (tapigw.ProtocolError, tapigw.TapiError) as e:
                log(f"no greeting: {e}")
        digits = await self.collect(call)
        if digits is not None:
            self.menu(digits)
        await asyncio.sleep(self.args.linger)  # a real IVR would play something here
        log("hanging up")
        await self.drop(call.h_call)

    async def collect(self, call: Call) -> Optional[str]:
        """The caller's digits, or None when the gateway offers no way to collect them."""
        a = self.args
        try:
            await self.c.lineGatherDigits(hCall=call.h_call, digitModes=tapigw.LINEDIGITMODE_DTMF,
                                          numDigits=a.digits, termDigits="#",
                                          firstTimeout=a.first_timeout, interTimeout=a.inter_timeout)
            log(f"gathering up to {a.digits} digits")
            digits, reason = await call.gathered
            log(f"gathered {digits!r} ({tapigw.short(tapigw.name_of('LINEGATHERTERM_', reason))})")
            return digits
        except (tapigw.ProtocolError, tapigw.TapiError) as e:
            if not unsupported(e):
                raise
            log("lineGatherDigits is not available on this gateway; trying lineMonitorDigits")
        try:
            await self.c.lineMonitorDigits(hCall=call.h_call, digitModes=tapigw.LINEDIGITMODE_DTMF)
        except (tapigw.ProtocolError, tapigw.TapiError) as e:
            if not unsupported(e):
                raise
            log("digit collection is not available on this gateway: carrying on without digits")
            return None
        log(f"monitoring digits (up to {a.digits} or '#')")
        digits = ""
        timeout = a.first_timeout / 1000.0
        while len(digits) < a.digits:
            try:
                d = await asyncio.wait_for(call.digits.get(), timeout)
            except asyncio.TimeoutError:
                break
            log(f"digit {d}")
            if d == "#":
                break
            digits += d
            timeout = a.inter_timeout / 1000.0
        await self.c.lineMonitorDigits(hCall=call.h_call, digitModes=0)
        return digits

    def menu(self, digits: str) -> None:
        """Where a real IVR would branch on the digits."""
        log(f"caller chose {digits!r}" if digits else "caller entered nothing")

    async def drop(self, h_call: int) -> None:
        """lineDrop, tolerating a call that already went IDLE."""
        try:
            await self.c.lineDrop(hCall=h_call)
        except tapigw.TapiError as e:
            if e.code not in (tapigw.LINEERR_INVALCALLSTATE, tapigw.LINEERR_INVALCALLHANDLE):
                log(f"lineDrop failed: {e.name}")


async def amain(args: argparse.Namespace) -> int:
    """Connects, opens the line as its owner and runs the IVR."""
    try:
        c = await tapigw.aio.connect(args.api, token=args.token)
    except tapigw.TapiGwError as e:
        print(f"ivr: {e}", file=sys.stderr)
        return 1
    try:
        app = await c.lineInitializeEx(appName="ivr", apiVersion=tapigw.API_VERSION,
                                       options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW)
        await c.lineOpen(hLineApp=app["hLineApp"], deviceId=args.line, apiVersion=tapigw.API_VERSION,
                         privileges=tapigw.LINECALLPRIVILEGE_OWNER,
                         mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
        print(f"ivr: answering calls on line {args.line}", file=sys.stderr, flush=True)
        await Ivr(c, args).run()
        return 0
    except tapigw.TapiGwError as e:
        print(f"ivr: {e}", file=sys.stderr)
        return 1
    finally:
        await c.close()


def main() -> int:
    """Parses the command line and runs :func:`amain`."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", default=None, help="gateway API host:port (default $TAPIGW_API or 127.0.0.1:8274)")
    p.add_argument("--token", default=None, help="api.token (default $TAPIGW_TOKEN)")
    p.add_argument("--line", type=int, default=0, help="line device ID (default 0)")
    p.add_argument("--digits", type=int, default=4, help="digits to collect (default 4)")
    p.add_argument("--first-timeout", type=int, default=5000, help="ms to wait for the first digit")
    p.add_argument("--inter-timeout", type=int, default=3000, help="ms to wait between digits")
    p.add_argument("--prompt", default=None, help="WAV file (in media.files_dir) to play first")
    p.add_argument("--linger", type=float, default=1.0, help="seconds to stay on the call after the digits")
    p.add_argument("--calls", type=int, default=None, help="exit after this many calls")
    args = p.parse_args()
    try:
        return asyncio.run(amain(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
