"""Digits, tones and media files against the real gateway binary, with SIPp calling in
(``uac_media_info.xml``: no telephone-event, so digits go both ways as SIP INFO
``application/dtmf-relay``): lineMonitorDigits and lineGatherDigits see SIPp's digit,
lineGenerateDigits and lineGenerateTone end with LINE_GENERATE(DONE), mediaPlay is refused with
LINEERR_INVALPARAM for a path outside ``media.files_dir`` and plays a file inside it to
LINE_REPLY(0); digits and the refusal with the asyncio client too."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

import tapigw
import tapigw.aio
from conftest import SCENARIOS, WAIT, Collector, free_port, line_config, media_config

V = tapigw.API_VERSION
MODES = tapigw.LINEDIGITMODE_DTMF | tapigw.LINEDIGITMODE_DTMFEND


def silence_wav(ms: int) -> bytes:
    """A 16-bit PCM, 8 kHz, mono WAV of ``ms`` milliseconds of silence."""
    data = b"\0" * (16 * ms)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


def gateway_with_files(gateway_factory, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "hello.wav").write_bytes(silence_wav(200))
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    return gateway_factory(line_config(free_port()) + media_config() + f'files_dir = "{files}"\n')


def rtp_socket():
    """SIPp's audio port: bound so that the gateway's RTP has somewhere to go."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def caller(sipp_factory, gw, rtp):
    return sipp_factory([gw.sip, "-sf", str(SCENARIOS / "uac_media_info.xml"), "-m", "1", "-s", "1001",
                         "-key", "rtp_port", str(rtp.getsockname()[1])])


def is_msg(method, h_call, p1=None, p2=None):
    return lambda m: (m["method"] == method and m["hDevice"] == h_call
                      and (p1 is None or m["dwParam1"] == p1) and (p2 is None or m["dwParam2"] == p2))


def test_digits_from_sipp_info_are_monitored_and_gathered(gateway_factory, sipp_factory, tmp_path):
    gw = gateway_with_files(gateway_factory, tmp_path)
    c = tapigw.connect(gw.api)
    got = Collector()
    c.on_message(got)
    app = c.lineInitializeEx(appName="pytest-digits", apiVersion=V, options=1)
    c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V, privileges=tapigw.LINECALLPRIVILEGE_OWNER,
               mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
    rtp = rtp_socket()
    sipp = caller(sipp_factory, gw, rtp)
    h_call = got.wait_for(lambda m: m["method"] == "LINE_APPNEWCALL")["dwParam2"]
    answer = c.lineAnswer(hCall=h_call)["requestId"]
    got.wait_for(is_msg("LINE_REPLY", 0, answer, 0))
    got.wait_for(is_msg("LINE_CALLSTATE", h_call, tapigw.LINECALLSTATE_CONNECTED))

    assert c.lineMonitorDigits(hCall=h_call, digitModes=MODES) == {}
    c.lineGatherDigits(hCall=h_call, digitModes=tapigw.LINEDIGITMODE_DTMF, numDigits=1, termDigits="#",
                       firstTimeout=15000)
    # SIPp waits for our INFO (Signal=9), answers it, then sends its own digit 5.
    c.lineGenerateDigits(hCall=h_call, digitMode=tapigw.LINEDIGITMODE_DTMF, digits="9", duration=80)
    got.wait_for(is_msg("LINE_GENERATE", h_call, tapigw.LINEGENERATETERM_DONE))
    gathered = got.wait_for(is_msg("LINE_GATHERDIGITS", h_call))
    assert gathered["dwParam1"] == tapigw.LINEGATHERTERM_BUFFERFULL
    assert gathered["digits"] == "5"
    got.wait_for(is_msg("LINE_MONITORDIGITS", h_call, ord("5"), tapigw.LINEDIGITMODE_DTMF))
    got.wait_for(is_msg("LINE_MONITORDIGITS", h_call, ord("5"), tapigw.LINEDIGITMODE_DTMFEND))

    # Errors are exceptions with their TAPI names.
    with pytest.raises(tapigw.TapiError) as bad:
        c.lineMonitorDigits(hCall=h_call, digitModes=tapigw.LINEDIGITMODE_PULSE)
    assert bad.value.name == "LINEERR_INVALDIGITMODE"
    with pytest.raises(tapigw.TapiError) as bad:
        c.lineGenerateDigits(hCall=h_call, digitMode=tapigw.LINEDIGITMODE_DTMF, digits="12x")
    assert bad.value.name == "LINEERR_INVALDIGITS"
    with pytest.raises(tapigw.TapiError) as bad:
        c.lineGenerateTone(hCall=h_call, toneMode=tapigw.LINETONEMODE_CUSTOM)
    assert bad.value.name == "LINEERR_INVALTONEMODE"
    for outside in ("../secret.wav", str(tmp_path / "secret.wav")):
        with pytest.raises(tapigw.TapiError) as bad:
            c.mediaPlay(hCall=h_call, file=outside)
        assert bad.value.code == tapigw.LINEERR_INVALPARAM and bad.value.name == "LINEERR_INVALPARAM"
    assert c.mediaStop(hCall=h_call) == {}
    # Inside files_dir: played to its end.
    with c.hold_messages():
        play = c.mediaPlay(hCall=h_call, file="hello.wav")["requestId"]
        assert play > 0
        start = len(got.messages)
    assert got.wait_for(is_msg("LINE_REPLY", 0, play), start=start)["dwParam2"] == 0
    # A tone into the call's audio (RTP): 0 at once, LINE_GENERATE(DONE) at its end.
    start = len(got.messages)
    assert c.lineGenerateTone(hCall=h_call, toneMode=tapigw.LINETONEMODE_BEEP, duration=100) == {}
    got.wait_for(is_msg("LINE_GENERATE", h_call, tapigw.LINEGENERATETERM_DONE), start=start)

    drop = c.lineDrop(hCall=h_call)["requestId"]
    got.wait_for(is_msg("LINE_REPLY", 0, drop, 0))
    got.wait_for(is_msg("LINE_CALLSTATE", h_call, tapigw.LINECALLSTATE_IDLE))
    c.lineDeallocateCall(hCall=h_call)
    sipp.assert_success("caller sending INFO digits")
    rtp.close()
    c.close()


def test_digits_and_a_refused_play_with_the_asyncio_client(gateway_factory, sipp_factory, tmp_path):
    gw = gateway_with_files(gateway_factory, tmp_path)
    rtp = rtp_socket()

    async def main():
        c = await tapigw.aio.connect(gw.api)
        app = await c.lineInitializeEx(appName="pytest-digits-aio", apiVersion=V, options=1)
        await c.lineOpen(hLineApp=app["hLineApp"], deviceId=0, apiVersion=V,
                         privileges=tapigw.LINECALLPRIVILEGE_OWNER, mediaModes=tapigw.LINEMEDIAMODE_INTERACTIVEVOICE)
        sipp = caller(sipp_factory, gw, rtp)
        seen = []

        async def until(pred):
            for m in seen:
                if pred(m):
                    return m
            while True:
                m = await asyncio.wait_for(c.next_message(), WAIT)
                seen.append(m)
                if pred(m):
                    return m

        h_call = (await until(lambda m: m["method"] == "LINE_APPNEWCALL"))["dwParam2"]
        answer = (await c.lineAnswer(hCall=h_call))["requestId"]
        await until(is_msg("LINE_REPLY", 0, answer, 0))
        await until(is_msg("LINE_CALLSTATE", h_call, tapigw.LINECALLSTATE_CONNECTED))
        await c.lineMonitorDigits(hCall=h_call, digitModes=tapigw.LINEDIGITMODE_DTMFEND)
        await c.lineGatherDigits(hCall=h_call, digitModes=tapigw.LINEDIGITMODE_DTMF, numDigits=4, termDigits="#",
                                 interTimeout=300)
        with pytest.raises(tapigw.TapiError) as bad:
            await c.mediaPlay(hCall=h_call, file="../../etc/passwd", loop=False)
        assert bad.value.name == "LINEERR_INVALPARAM"
        await c.lineGenerateDigits(hCall=h_call, digitMode=tapigw.LINEDIGITMODE_DTMF, digits="9")
        await until(is_msg("LINE_GENERATE", h_call, tapigw.LINEGENERATETERM_DONE))
        await until(is_msg("LINE_MONITORDIGITS", h_call, ord("5"), tapigw.LINEDIGITMODE_DTMFEND))
        gathered = await until(is_msg("LINE_GATHERDIGITS", h_call))
        # One digit, then interTimeout without another.
        assert gathered["dwParam1"] == tapigw.LINEGATHERTERM_INTERTIMEOUT and gathered["digits"] == "5"
        drop = (await c.lineDrop(hCall=h_call))["requestId"]
        await until(is_msg("LINE_REPLY", 0, drop, 0))
        await c.close()
        return sipp

    sipp = asyncio.run(asyncio.wait_for(main(), 60))
    sipp.assert_success("caller sending INFO digits (asyncio)")
    rtp.close()
