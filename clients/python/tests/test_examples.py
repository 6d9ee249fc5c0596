"""The examples, run as their users run them, against the real gateway and SIPp."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from typing import List, Optional

import pytest

from conftest import EXAMPLES, PYTHON, SCENARIOS, WAIT, line_config, media_config, python_env


class Program:
    """An example running in a subprocess, its stdout and stderr read line by line."""

    def __init__(self, name: str, *args: str):
        self.proc = subprocess.Popen([PYTHON, str(EXAMPLES / name), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=python_env(), text=True)
        self.out: List[str] = []
        self.err: List[str] = []
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._pumps = [threading.Thread(target=self._pump, args=(stream, into), daemon=True)
                       for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._pumps:
            t.start()

    def _pump(self, stream, into: List[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, needle: str, timeout: float = WAIT) -> None:
        """Waits until stdout or stderr has a line containing ``needle``."""
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.out + self.err):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not printed within {timeout} s:\n{self.text()}")
            try:
                self._lines.get(timeout=left)
            except queue.Empty:
                pass

    def finish(self, timeout: float = WAIT) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"did not exit within {timeout} s:\n{self.text()}")
        for t in self._pumps:
            t.join(5)  # the rest of the output
        return code

    def text(self) -> str:
        return "--- stdout\n" + "\n".join(self.out) + "\n--- stderr\n" + "\n".join(self.err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._pumps:
            t.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


@pytest.fixture
def programs():
    started: List[Program] = []

    def start(name: str, *args: str) -> Program:
        p = Program(name, *args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()


def states_printed(p: Program) -> List[str]:
    """The state words click_to_dial printed ("PROCEEDING", "DISCONNECTED (BUSY)", ...)."""
    return [line.split(" ", 1)[1] for line in p.out if " " in line and not line.split(" ", 1)[1].startswith(("dialling", "hanging"))]


def test_click_to_dial_answered_then_hung_up(gateway_factory, provider, programs):
    port, sipp = provider("uas_answer_gw_hangs_up.xml")
    gw = gateway_factory(line_config(port) + media_config())
    p = programs("click_to_dial.py", "--api", gw.api, "--seconds", "0.5", "1002")
    code = p.finish(30)
    assert code == 0, p.text()
    assert states_printed(p) == ["PROCEEDING", "RINGBACK", "CONNECTED (ACTIVE)", "IDLE"], p.text()
    assert any("hanging up" in line for line in p.out)
    sipp.assert_success("provider (answered, BYE from the gateway)")


def test_click_to_dial_busy(gateway_factory, provider, programs):
    port, sipp = provider("uas_reject.xml", STATUS="486", PROVISIONAL="180 Ringing")
    gw = gateway_factory(line_config(port) + media_config())
    p = programs("click_to_dial.py", "--api", gw.api, "1002")
    assert p.finish(30) == 2, p.text()
    assert states_printed(p) == ["PROCEEDING", "RINGBACK", "DISCONNECTED (BUSY)", "IDLE"], p.text()
    sipp.assert_success("provider (486)")


def test_click_to_dial_ctrl_c_hangs_up(gateway_factory, provider, programs):
    port, sipp = provider("uas_ring_expect_cancel.xml")
    gw = gateway_factory(line_config(port) + media_config())
    p = programs("click_to_dial.py", "--api", gw.api, "1002")
    p.wait_for("RINGBACK")
    p.proc.send_signal(signal.SIGINT)
    assert p.finish(30) == 2, p.text()
    assert states_printed(p)[-1] == "IDLE", p.text()
    sipp.assert_success("provider (ringing, CANCEL)")


def test_click_to_dial_errors(gateway_factory, programs):
    gw = gateway_factory(line_config(5))
    p = programs("click_to_dial.py", "--api", gw.api, "not a number")
    assert p.finish() == 1
    assert "LINEERR_INVALADDRESS" in "\n".join(p.err), p.text()
    p = programs("click_to_dial.py", "--api", gw.api, "--line", "3", "1002")
    assert p.finish() == 1 and "no line 3" in "\n".join(p.err)


def test_ivr_answers_and_call_logger_logs_the_inbound_call(gateway_factory, sipp_factory, programs):
    gw = gateway_factory(line_config(5) + media_config())
    logger = programs("call_logger.py", "--api", gw.api, "--count", "1")
    logger.wait_for("monitoring 1 line(s)")
    ivr = programs("ivr.py", "--api", gw.api, "--calls", "1", "--first-timeout", "500", "--linger", "0.2")
    ivr.wait_for("answering calls on line 0")
    caller = sipp_factory([gw.sip, "-sf", str(SCENARIOS / "uac_call_app_hangs_up.xml"), "-m", "1", "-s", "1001"])
    caller.assert_success("caller (answered by the IVR, which hangs up)")
    assert ivr.finish() == 0, ivr.text()
    assert logger.finish() == 0, logger.text()
    ivr_text = ivr.text()
    assert "call from Alice <2000> to 1001: answering" in ivr_text
    assert "connected" in ivr_text and "hanging up" in ivr_text and "call ended" in ivr_text
    # lineGatherDigits is contract v2: this gateway may lack it, and the IVR copes either way
    assert ("gathered" in ivr_text or "not available on this gateway" in ivr_text), ivr_text
    header, row = logger.out[0], logger.out[1]
    assert header == "start,line,direction,caller,called,duration,disconnect"
    start, line, direction, caller_id, called, duration, mode = row.split(",")
    assert (line, direction, caller_id, called, mode) == ("0", "inbound", "2000", "1001", ""), row
    assert int(duration) >= 0 and start[:4].isdigit() and "T" in start


def test_call_logger_logs_an_outbound_call_of_another_app(gateway_factory, provider, programs):
    port, sipp = provider("uas_reject.xml", STATUS="486", PROVISIONAL="180 Ringing")
    gw = gateway_factory(line_config(port) + media_config())
    logger = programs("call_logger.py", "--api", gw.api, "--count", "1", "--resumable")
    logger.wait_for("monitoring 1 line(s)")
    dial = programs("click_to_dial.py", "--api", gw.api, "1002")
    assert dial.finish(30) == 2, dial.text()
    assert logger.finish() == 0, logger.text()
    start, line, direction, caller_id, called, duration, mode = logger.out[1].split(",")
    assert (line, direction, called, duration, mode) == ("0", "outbound", "1002", "0", "BUSY"), logger.text()
    sipp.assert_success("provider (486)")
