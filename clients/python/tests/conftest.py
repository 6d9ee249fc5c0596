"""Test harness: the real ``tapigw`` binary on free ports with a generated config, bounded SIPp
runs (``-m``, ``-timeout Ns -timeout_error``), and a collector for callback messages.

The gateway binary is ``$TAPIGW_BIN``, else ``target/release/tapigw``, else
``target/debug/tapigw`` under the repository root (``run-tests.sh`` builds one when missing).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE.parent
try:  # the installed package (run-tests.sh); else the source tree
    import tapigw  # noqa: F401
    _FROM_SOURCE = False
except ImportError:
    sys.path.insert(0, str(PACKAGE_DIR / "src"))
    _FROM_SOURCE = True
REPO_ROOT = PACKAGE_DIR.parent.parent
SCENARIOS = REPO_ROOT / "tests" / "sipp"
EXAMPLES = PACKAGE_DIR / "examples"
WAIT = 15.0


def gateway_binary() -> Path:
    """The tapigw binary the tests run."""
    env = os.environ.get("TAPIGW_BIN")
    if env:
        return Path(env)
    for profile in ("release", "debug"):
        candidate = REPO_ROOT / "target" / profile / "tapigw"
        if candidate.exists():
            return candidate
    return REPO_ROOT / "target" / "release" / "tapigw"


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def bound_port(line: str, field: str) -> int:
    """The port of ``field=127.0.0.1:PORT`` in the gateway's "tapigw listening" log line."""
    m = re.search(rf"\b{field}=[^\s:]+:(\d+)", line)
    if not m:
        pytest.fail(f"no {field}= address in {line!r}")
    return int(m.group(1))


def free_port() -> int:
    """An even port free on 127.0.0.1 for both UDP and TCP right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            if port % 2:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


def free_udp_range(count: int) -> int:
    """The first port of ``count`` consecutive UDP ports free right now (even first port)."""
    for _ in range(200):
        base = free_port()
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range")


def line_config(proxy_port: int, transport: str = "udp", user: str = "1001", name: str = "Line 1") -> str:
    """One ``[[lines]]`` entry whose provider is ``127.0.0.1:proxy_port``."""
    return (
        f'[[lines]]\nname = "{name}"\nuser = "{user}"\ndomain = "127.0.0.1"\n'
        f'proxy = "127.0.0.1:{proxy_port}"\ntransport = "{transport}"\n\n'
    )


def media_config() -> str:
    """``[media]`` with real RTP on a free port range."""
    base = free_udp_range(10)
    return f'[media]\nmode = "rtp"\naddress = "127.0.0.1"\nport_min = {base}\nport_max = {base + 9}\n\n'


class Gateway:
    """A running tapigw process; stopped with SIGTERM by :meth:`stop`."""

    def __init__(self, rest: str, api_extra: str = ""):
        binary = gateway_binary()
        if not binary.exists():
            pytest.fail(f"no gateway binary at {binary}: run `cargo build --release` or set TAPIGW_BIN")
        # Port 0: the gateway binds what the kernel gives and logs it, so no other process can
        # take a port between our choice and the gateway's bind.
        self.sip_port = 0
        self.api_port = 0
        self.dir = tempfile.mkdtemp(prefix="tapigw-py-")
        config = (
            f'[sip]\nlisten = "127.0.0.1:{self.sip_port}"\nt1_ms = 100\n\n'
            f'[api]\nlisten = "127.0.0.1:{self.api_port}"\n{api_extra}\n\n{rest}'
        )
        self.config_path = Path(self.dir) / "tapigw.toml"
        self.config_path.write_text(config)
        env = dict(os.environ, RUST_LOG="tapigw=debug")
        self.proc = subprocess.Popen(
            [str(binary), "--config", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.log: List[str] = []
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        listening = ANSI.sub("", self.wait_for_log("tapigw listening", 20.0))
        self.sip_port = bound_port(listening, "sip")
        self.api_port = bound_port(listening, "api")

    @property
    def api(self) -> str:
        return f"127.0.0.1:{self.api_port}"

    @property
    def sip(self) -> str:
        return f"127.0.0.1:{self.sip_port}"

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self._lines.put(None)

    def wait_for_log(self, needle: str, timeout: float) -> str:
        """Waits for a log line containing ``needle``; fails with the log so far."""
        for line in self.log:
            if needle in line:
                return line
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.0)) if left > 0 else None
            except queue.Empty:
                line = None
            if line is None:
                tail = "\n".join(self.log[-40:])
                pytest.fail(f"no log line with {needle!r} within {timeout} s (exit {self.proc.poll()}); log:\n{tail}")
            self.log.append(line)
            if needle in line:
                return line

    def stop(self) -> int:
        """SIGTERM and wait (10 s at most)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail("tapigw did not stop within 10 s of SIGTERM")
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Sipp:
    """One bounded SIPp run in its own directory."""

    def __init__(self, args: Sequence[str], timeout_s: int = 30):
        if shutil.which("sipp") is None:
            pytest.fail("sipp not found: apt-get install sip-tester")
        self.dir = tempfile.mkdtemp(prefix="tapigw-sipp-")
        cmd = ["sipp", *args, "-i", "127.0.0.1", "-nostdin", "-trace_err", "-trace_msg",
               "-timeout", f"{timeout_s}s", "-timeout_error"]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.timeout_s = timeout_s

    def wait(self) -> int:
        """Waits for SIPp to finish (its own -timeout bounds it) and returns its exit code."""
        try:
            _, err = self.proc.communicate(timeout=self.timeout_s + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr = err.decode("utf-8", "replace")
        return self.proc.returncode

    def errors(self) -> str:
        text = []
        for entry in sorted(Path(self.dir).iterdir()):
            if entry.name.endswith(("_errors.log", "_messages.log")):
                text.append(f"--- {entry.name}\n{entry.read_text(errors='replace')}")
        text.append(getattr(self, "stderr", ""))
        return "\n".join(text)

    def assert_success(self, what: str) -> None:
        code = self.wait()
        assert code == 0, f"{what}: sipp exited {code}\n{self.errors()}"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def scenario_with(name: str, directory: str, values: Dict[str, str]) -> str:
    """A copy of scenario ``name`` with ``@KEY@`` placeholders replaced, written to ``directory``."""
    text = (SCENARIOS / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    path = Path(directory) / name
    path.write_text(text)
    return str(path)


class Collector:
    """Collects messages from a callback and lets a test wait for one."""

    def __init__(self) -> None:
        self.messages: List[dict] = []
        self.cv = threading.Condition()
        self.threads: set = set()

    def __call__(self, msg: dict) -> None:
        with self.cv:
            self.threads.add(threading.get_ident())
            self.messages.append(msg)
            self.cv.notify_all()

    def wait_for(self, pred: Callable[[dict], bool], timeout: float = WAIT, start: int = 0) -> dict:
        """The first message from index ``start`` on that satisfies ``pred``."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for msg in self.messages[start:]:
                    if pred(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message within {timeout} s; got {self.messages}")
                self.cv.wait(left)

    def wait_count(self, count: int, timeout: float = WAIT) -> List[dict]:
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} messages within {timeout} s: {self.messages}")
                self.cv.wait(left)
            return list(self.messages)

    def states(self, h_call: int) -> List[int]:
        with self.cv:
            return [m["dwParam1"] for m in self.messages if m["method"] == "LINE_CALLSTATE" and m["hDevice"] == h_call]


@pytest.fixture
def gateway_factory():
    """Starts gateways (``factory(rest_config, api_extra="")``) and kills them after the test."""
    started: List[Gateway] = []

    def start(rest: str, api_extra: str = "") -> Gateway:
        gw = Gateway(rest, api_extra)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.kill()


@pytest.fixture
def sipp_factory():
    """Runs SIPp (``factory(args, timeout_s=30)``) and kills leftovers after the test."""
    runs: List[Sipp] = []

    def run(args: Sequence[str], timeout_s: int = 30) -> Sipp:
        s = Sipp(args, timeout_s)
        runs.append(s)
        return s

    yield run
    for s in runs:
        s.kill()


@pytest.fixture
def provider(sipp_factory, tmp_path):
    """SIPp as the provider (UAS) on a free UDP port: ``provider(name, **placeholders)`` returns
    ``(port, sipp)``."""

    def start(name: str, extra: Sequence[str] = (), **values: str):
        port = free_port()
        path = scenario_with(name, str(tmp_path), values) if values else str(SCENARIOS / name)
        args = ["-sf", path, "-p", str(port), "-t", "u1", "-m", "1", *extra]
        return port, sipp_factory(args)

    return start


def python_env() -> Dict[str, str]:
    """The environment for running examples as subprocesses (the package importable)."""
    env = dict(os.environ)
    if _FROM_SOURCE:
        src = str(PACKAGE_DIR / "src")
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


PYTHON = sys.executable
