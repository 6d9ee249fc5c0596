#!/usr/bin/env python3
"""Click-to-dial: dial a number on line N, print the call states, hang up.

    python3 click_to_dial.py 2000                      # line 0, talk until Ctrl-C
    python3 click_to_dial.py --line 1 --seconds 10 +4930123456
    TAPIGW_API=gw:8274 TAPIGW_TOKEN=... python3 click_to_dial.py sip:alice@example.org

The call is dropped ``--seconds`` after it was answered (default: on Ctrl-C only), or when it
has not been answered within ``--ring-timeout`` seconds. Exit status: 0 when the call was
answered, 2 when it ended unanswered (busy, rejected, ...), 1 on an error.

It pulls messages with ``next_message`` (no callback thread), the simplest model for a script.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

import tapigw


def log(text: str) -> None:
    """Prints ``text`` with a timestamp."""
    print(f"{datetime.now().strftime('%H:%M:%S.%f')[:-3]} {text}", flush=True)


def state_text(msg: dict) -> str:
    """``CONNECTED (ACTIVE)``, ``DISCONNECTED (BUSY)``, ``PROCEEDING``."""
    state = tapigw.short(tapigw.callstate_name(msg["dwParam1"]))
    family = {"DISCONNECTED": "LINEDISCONNECTMODE_", "CONNECTED": "LINECONNECTEDMODE_",
              "BUSY": "LINEBUSYMODE_", "DIALTONE": "LINEDIALTONEMODE_"}.get(state)
    if family and msg["dwParam2"]:
        return f"{state} ({tapigw.short(tapigw.name_of(family, msg['dwParam2']))})"
    return state


def main() -> int:
    """Parses the command line, opens the line and dials."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("number", help="what to dial: a number, sip:/sips: URI or tel: number")
    p.add_argument("--api", default=None, help="gateway API host:port (default $TAPIGW_API or 127.0.0.1:8274)")
    p.add_argument("--token", default=None, help="api.token (default $TAPIGW_TOKEN)")
    p.add_argument("--line", type=int, default=0, help="line device ID (default 0)")
    p.add_argument("--seconds", type=float, default=None, help="hang up this long after the answer")
    p.add_argument("--ring-timeout", type=float, default=60.0, help="give up when not answered by then")
    args = p.parse_args()

    try:
        c = tapigw.connect(args.api, token=args.token)
    except tapigw.TapiGwError as e:
        print(f"click_to_dial: {e}", file=sys.stderr)
        return 1
    try:
        app = c.lineInitializeEx(appName="click_to_dial", apiVersion=tapigw.API_VERSION,
                                 options=tapigw.LINEINITIALIZEEXOPTION_USEHIDDENWINDOW)
        if args.line >= app["numDevs"]:
            print(f"click_to_dial: no line {args.line} (the gateway has {app['numDevs']})", file=sys.stderr)
            return 1
        line = c.lineOpen(hLineApp=app["hLineApp"], deviceId=args.line, apiVersion=tapigw.API_VERSION,
                          privileges=tapigw.LINECALLPRIVILEGE_NONE)["hLine"]
        return dial(c, line, args)
    except tapigw.TapiError as e:
        print(f"click_to_dial: {e.name}", file=sys.stderr)
        return 1
    except tapigw.TapiGwError as e:
        print(f"click_to_dial: {e}", file=sys.stderr)
        return 1
    finally:
        c.close()


def dial(c: tapigw.Client, line: int, args: argparse.Namespace) -> int:
    """Makes the call and follows it to IDLE; the exit status."""
    made = c.lineMakeCall(hLine=line, destAddress=args.number)
    request, call = made["requestId"], made["hCall"]
    log(f"dialling {args.number} on line {args.line} (request {request})")
    answered = False
    hang_up_at = time.monotonic() + args.ring_timeout
    dropping = False
    interrupted = False
    try:
        while True:
            try:
                msg = c.next_message(timeout=max(0.0, hang_up_at - time.monotonic()))
                if msg is None:  # time to hang up
                    if dropping:
                        log("the call did not go IDLE in time; leaving")
                        break
                    log("hanging up")
                    dropping = True
                    hang_up_at = time.monotonic() + 10.0
                    drop(c, call)
                    continue
                if msg["method"] == "LINE_REPLY" and msg["dwParam1"] == request and msg["dwParam2"] != 0:
                    log(f"call failed: {tapigw.lineerr_name(msg['dwParam2'])}")
                    return 1
                if msg["method"] != "LINE_CALLSTATE" or msg["hDevice"] != call:
                    continue
                log(state_text(msg))
                state = msg["dwParam1"]
                if state == tapigw.LINECALLSTATE_CONNECTED and not answered:
                    answered = True
                    hang_up_at = time.monotonic() + (args.seconds if args.seconds is not None else 10**9)
                elif state == tapigw.LINECALLSTATE_DISCONNECTED and not dropping:
                    dropping = True
                    drop(c, call)  # TAPI's way to take a DISCONNECTED call to IDLE
                elif state == tapigw.LINECALLSTATE_IDLE:
                    break
            except KeyboardInterrupt:  # the first Ctrl-C hangs up, a second one quits
                if interrupted:
                    raise
                interrupted = True
                hang_up_at = 0.0
    finally:
        try:
            c.lineDeallocateCall(hCall=call)
        except tapigw.TapiGwError:
            pass
    return 0 if answered else 2


def drop(c: tapigw.Client, call: int) -> None:
    """lineDrop, tolerating a call that went IDLE meanwhile."""
    try:
        c.lineDrop(hCall=call)
    except tapigw.TapiError as e:
        if e.code != tapigw.LINEERR_INVALCALLSTATE:
            raise


if __name__ == "__main__":
    sys.exit(main())
