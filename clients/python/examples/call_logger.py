#!/usr/bin/env python3
"""Call logger: monitor every line and print one CSV line per call when it ends.

    python3 call_logger.py                 # until Ctrl-C
    python3 call_logger.py --resumable     # survive a gateway restart / network blip
    python3 call_logger.py >> calls.csv

Columns: start (ISO 8601, local time), line (device ID), direction (inbound/outbound),
caller, called, duration (seconds connected; 0 if never answered), disconnect (the
LINEDISCONNECTMODE_ name without its prefix; empty when the call was cleared from this side
and so never went DISCONNECTED).

It opens every line with LINECALLPRIVILEGE_MONITOR, so it sees every call without taking part
(inbound calls still need an owner app, such as ivr.py, or the gateway refuses them with 480),
and handles messages in a callback on the client's thread.
"""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional

import tapigw

COLUMNS = ["start", "line", "direction", "caller", "called", "duration", "disconnect"]


@dataclass
class Call:
    """What the logger knows of one call."""
    line: int
    start: datetime
    connected_at: Optional[float] = None
    ended_at: Optional[float] = None
    disconnect: str = ""
    direction: str = ""
    caller: str = ""
    called: str = ""


class Logger:
    """Turns the message stream into CSV rows."""

    def __init__(self, c: tapigw.Client, out, count: Optional[int]):
        self.c = c
        self.out = csv.writer(out, lineterminator="\n")
        self.stream = out
        self.lines: Dict[int, int] = {}  # hLine -> device ID
        self.calls: Dict[int, Call] = {}
        self.left = count
        self.done = threading.Event()

    def on_message(self, msg: dict) -> None:
        """The callback: every TAPI message, on the client's thread."""
        method = msg["method"]
        if method == "LINE_APPNEWCALL":
            self.calls[msg["dwParam2"]] = Call(self.lines.get(msg["hDevice"], -1), datetime.now().astimezone())
        elif method == "LINE_CALLSTATE" and msg["hDevice"] in self.calls:
            self.on_state(msg["hDevice"], self.calls[msg["hDevice"]], msg["dwParam1"], msg["dwParam2"])
        elif method == "LINE_CLOSE":
            print(f"call_logger: line {self.lines.get(msg['hDevice'])} was closed by the gateway", file=sys.stderr)

    def on_state(self, h_call: int, call: Call, state: int, mode: int) -> None:
        """Follows one call's states; IDLE ends it and prints its row."""
        if not call.direction and state != tapigw.LINECALLSTATE_UNKNOWN:
            self.fill_in(h_call, call)
        if state == tapigw.LINECALLSTATE_CONNECTED and call.connected_at is None:
            call.connected_at = time.monotonic()
        elif state == tapigw.LINECALLSTATE_DISCONNECTED:
            call.disconnect = tapigw.short(tapigw.disconnectmode_name(mode))
            call.ended_at = time.monotonic()
        elif state == tapigw.LINECALLSTATE_IDLE:
            self.fill_in(h_call, call)
            self.finish(h_call, call)

    def fill_in(self, h_call: int, call: Call) -> None:
        """Caller, called and direction from lineGetCallInfo (a call from inside the callback)."""
        try:
            info = self.c.lineGetCallInfo(hCall=h_call)
        except tapigw.TapiError:
            return
        origin = info.get("origin", 0)
        call.direction = "outbound" if origin & tapigw.LINECALLORIGIN_OUTBOUND else "inbound"
        call.caller = info.get("callerId", "") or call.caller
        call.called = info.get("calledId", "") or call.called

    def finish(self, h_call: int, call: Call) -> None:
        """Prints the call's CSV row and frees its handle."""
        end = call.ended_at or time.monotonic()
        duration = round(end - call.connected_at) if call.connected_at is not None else 0
        self.out.writerow([call.start.isoformat(timespec="seconds"), call.line, call.direction,
                           call.caller, call.called, duration, call.disconnect])
        self.stream.flush()
        del self.calls[h_call]
        try:
            self.c.lineDeallocateCall(hCall=h_call)
        except tapigw.TapiError:
            pass
        if self.left is not None:
            self.left -= 1
            if self.left <= 0:
                self.done.set()


def main() -> int:
    """Parses the command line, opens every line and logs until Ctrl-C or --count."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", default=None, help="gateway API host:port (default $TAPIGW_API or 127.0.0.1:8274)")
    p.add_argument("--token", default=None, help="api.token (default $TAPIGW_TOKEN)")
    p.add_argument("--resumable", action="store_true", help="keep the session across a dropped connection")
    p.add_argument("--count", type=int, default=None, help="exit after this many calls")
    p.add_argument("--no-header", action="store_true", help="do not print the CSV header")
    args = p.parse_args()

    try:
        c = tapigw.connect(args.api, token=args.token)
    except tapigw.TapiGwError as e:
        print(f"call_logger: {e}", file=sys.stderr)
        return 1
    logger = Logger(c, sys.stdout, args.count)
    lost = []

    def gone(e: Exception) -> None:
        """The session or the connection is lost: stop."""
        print(f"call_logger: {e}", file=sys.stderr)
        lost.append(e)
        logger.done.set()

    c.on_session_lost(gone)
    c.on_closed(lambda e: (lost.append(e), logger.done.set()))
    try:
        # Hold messages back until every line is open and in self.lines.
        with c.hold_messages():
            params = {"resumable": True} if args.resumable else {}
            app = c.lineInitializeEx(appName="call_logger", apiVersion=tapigw.API_VERSION,
                                     options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, **params)
            for device in range(app["numDevs"]):
                h = c.lineOpen(hLineApp=app["hLineApp"], deviceId=device, apiVersion=tapigw.API_VERSION,
                               privileges=tapigw.LINECALLPRIVILEGE_MONITOR)["hLine"]
                logger.lines[h] = device
            c.on_message(logger.on_message)
        print(f"call_logger: monitoring {app['numDevs']} line(s)", file=sys.stderr, flush=True)
        if not args.no_header:
            print(",".join(COLUMNS), flush=True)
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM as Ctrl-C
        try:
            logger.done.wait()
        except KeyboardInterrupt:
            pass
        return 1 if lost else 0
    except tapigw.TapiGwError as e:
        print(f"call_logger: {e}", file=sys.stderr)
        return 1
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main())
