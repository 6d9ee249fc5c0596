#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/ (run from anywhere).

Sources: the SIPp scenarios (tests/sipp/*.xml, their keywords filled in as SIPp would), the
RFC 4475 torture messages (tests/fixtures/rfc4475/*.sip), the string constants of the codec and
SDP unit tests, SDP offers of the kinds real peers send (baresip, Asterisk, a WebRTC-ish one),
and one API request line per method of docs/api.md plus the malformed lines of tests/api.rs.
The committed corpus is these seeds plus what `cargo fuzz cmin` kept of the fuzzers' finds.
"""
import hashlib
import json
import pathlib
import re

FUZZ = pathlib.Path(__file__).resolve().parent.parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


# --- SIP -------------------------------------------------------------------------------------

FILL = {
    "local_ip": "127.0.0.1", "local_port": "5070", "remote_ip": "127.0.0.1",
    "remote_port": "5060", "transport": "UDP", "local_ip_type": "4", "media_ip": "127.0.0.1",
    "media_ip_type": "4", "media_port": "6000", "call_number": "1", "pid": "4242",
    "service": "1001", "branch": "z9hG4bK-4242-1-0", "call_id": "1-4242@127.0.0.1",
    "last_cseq_number": "1", "next_url": "sip:1002@127.0.0.1:5060", "routes": "",
    "$local_party": "<sip:1001@127.0.0.1>", "$remote_party": "<sip:1002@127.0.0.1>",
}
LAST = {
    "Via:": "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKgw1;rport=5060;received=127.0.0.1",
    "From:": "From: <sip:1001@127.0.0.1>;tag=gw1",
    "To:": "To: <sip:1002@127.0.0.1:5070>",
    "Call-ID:": "Call-ID: 8c1b2e4f@127.0.0.1",
    "CSeq:": "CSeq: 1 INVITE",
    "Contact:": "Contact: <sip:1001@127.0.0.1:5060>",
    "Record-Route:": "Record-Route: <sip:127.0.0.1;lr>",
}


def sipp_message(cdata):
    lines = [l.strip() for l in cdata.strip("\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    head, body = lines, []
    if "" in lines:
        i = lines.index("")
        head, body = lines[:i], lines[i + 1:]
    body_text = "".join(l + "\r\n" for l in body)

    def sub(m):
        key = m.group(1)
        if key.startswith("last_"):
            return LAST.get(key[5:], key[5:] + " x")
        if key == "len":
            return str(len(fill(body_text).encode()))
        return FILL.get(key, "x")

    def fill(text):
        return re.sub(r"\[([^\]\[]+)\]", sub, text)

    head = [fill(l) for l in head if l]
    return "".join(l + "\r\n" for l in head) + "\r\n" + fill(body_text)


def sipp_messages():
    for xml in sorted((ROOT / "tests/sipp").glob("*.xml")):
        for cdata in re.findall(r"<!\[CDATA\[(.*?)\]\]>", xml.read_text(), re.S):
            yield sipp_message(cdata)


def rust_strings(path):
    """The contents of the normal string literals of a Rust file, escapes undone."""
    text = path.read_text()
    for m in re.finditer(r'(?<![r#\w])"((?:[^"\\]|\\.)*)"', text, re.S):
        s = re.sub(r"\\\n\s*", "", m.group(1))
        s = (s.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
             .replace('\\"', '"').replace("\\0", "\0").replace("\\\\", "\\"))
        yield s


MORE_SIP = [
    # A REGISTER challenge and the answer to it.
    "REGISTER sip:pbx.example SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKr2;rport\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:1001@pbx.example>;tag=r1\r\nTo: <sip:1001@pbx.example>\r\n"
    "Call-ID: reg1@192.0.2.10\r\nCSeq: 2 REGISTER\r\nContact: <sip:1001@192.0.2.10:5060;transport=tcp>;expires=3600\r\n"
    "Authorization: Digest username=\"1001\", realm=\"pbx.example\", nonce=\"abc\", uri=\"sip:pbx.example\", "
    "response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c1\"\r\n"
    "Expires: 3600\r\nUser-Agent: tapigw\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKr1;rport=5060;received=192.0.2.10\r\n"
    "From: <sip:1001@pbx.example>;tag=r1\r\nTo: <sip:1001@pbx.example>;tag=as1\r\nCall-ID: reg1@192.0.2.10\r\n"
    "CSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"pbx.example\", nonce=\"abc\", qop=\"auth,auth-int\", algorithm=SHA-256\r\n"
    "Content-Length: 0\r\n\r\n",
    # In-dialog requests of call control: REFER with Replaces, NOTIFY with a sipfrag, a re-INVITE.
    "REFER sip:1001@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKref\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:1002@pbx.example>;tag=b\r\nTo: <sip:1001@pbx.example>;tag=a\r\n"
    "Call-ID: call2@pbx.example\r\nCSeq: 5 REFER\r\nContact: <sip:1002@[2001:db8::1]>\r\n"
    "Refer-To: <sip:1003@pbx.example?Replaces=abc%40h%3Bto-tag%3Dx%3Bfrom-tag%3Dy>\r\nReferred-By: <sip:1002@pbx.example>\r\n"
    "Content-Length: 0\r\n\r\n",
    "NOTIFY sip:1001@192.0.2.10 SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bKn\r\nf: <sip:b@h>;tag=b\r\nt: <sip:a@h>;tag=a\r\n"
    "i: n1\r\nCSeq: 6 NOTIFY\r\no: refer;id=5\r\nu: refer\r\nSubscription-State: terminated;reason=noresource\r\n"
    "c: message/sipfrag;version=2.0\r\nl: 16\r\n\r\nSIP/2.0 200 OK\r\n",
    "INVITE tel:+4930123456;phone-context=+49 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKt\r\n"
    "Route: <sip:p1.example;lr>,<sip:p2.example;lr>\r\nFrom: \"A \\\"q\\\" B\" <tel:+4930111>;tag=t\r\nTo: tel:+4930123456\r\n"
    "Call-ID: t1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 69\r\nContact: *\r\nReplaces: abc@h;to-tag=x;from-tag=y\r\n"
    "Diversion: <sip:1001@pbx>;reason=unconditional\r\nSupported: replaces, timer\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKt\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContact: <sip:b@10.0.0.2>, \"X\" <sips:b@[::1]:5061>;q=0.5\r\n"
    "Record-Route: <sip:p1;lr>\r\nRecord-Route: <sip:p2;lr>\r\nContent-Length: 0\r\n\r\n",
    "SIP/2.0 302 Moved Temporarily\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK3\r\nFrom: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>;tag=2\r\nCall-ID: c3\r\nCSeq: 1 INVITE\r\nContact: <sip:900@h>;expires=60\r\nContent-Length: 0\r\n\r\n",
    "CANCEL sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK4\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\n"
    "Call-ID: c4\nCSeq: 1 CANCEL\nMax-Forwards: 70\nContent-Length: 0\n\n",
    "OPTIONS sip:h SIP/2.0\r\nVia  :  SIP/2.0/UDP h;branch=z9hG4bK5\r\nFrom: <sip:a@h>\r\n ;tag=1\r\nTo: sip:h\r\n"
    "Call-ID: c5\r\nCSeq: 1 OPTIONS\r\nAccept: application/sdp\r\n\r\n",
]


def sip_seeds():
    seeds = list(sipp_messages())
    seeds += [p.read_bytes() for p in sorted((ROOT / "tests/fixtures/rfc4475").glob("*.sip"))]
    for f in ["src/sip/codec/tests/mod.rs", "src/sip/codec/tests/rfc4475.rs",
              "src/sip/codec/encode.rs", "src/sip/codec/decode.rs"]:
        seeds += [s for s in rust_strings(ROOT / f) if "SIP/2.0" in s and "\r\n\r\n" in s or "\n\n" in s]
    seeds += MORE_SIP
    return [s.encode() if isinstance(s, str) else s for s in seeds]


# --- SDP -------------------------------------------------------------------------------------

MORE_SDP = [
    # baresip
    "v=0\r\no=- 1638524925 2436891263 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n"
    "a=tool:baresip 3.10.1\r\nm=audio 10230 RTP/AVP 9 0 8 101\r\nb=AS:64\r\na=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=sendrecv\r\na=label:1\r\na=ssrc:1234567 cname:abc@host\r\na=rtcp-rsize\r\na=ptime:20\r\n",
    # Asterisk
    "v=0\r\no=- 1227016154 1227016154 IN IP4 203.0.113.5\r\ns=Asterisk\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
    "m=audio 18206 RTP/AVP 8 0 3 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:3 GSM/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=maxptime:150\r\na=sendonly\r\n",
    # FreeSWITCH-ish, IPv6, with video and an inactive stream
    "v=0\r\no=FreeSWITCH 1700000000 1700000001 IN IP6 2001:db8::5\r\ns=FreeSWITCH\r\nc=IN IP6 2001:db8::5\r\n"
    "t=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 24000 RTP/AVP 102 0 96\r\na=rtpmap:102 opus/48000/2\r\n"
    "a=fmtp:102 useinbandfec=1\r\na=rtpmap:96 telephone-event/8000\r\na=ptime:20\r\na=inactive\r\n"
    "m=video 24002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n",
    # dynamic PCMU, media-level c=, recvonly, RTCP attributes
    "v=0\r\no=alice 2890844526 2890844527 IN IP4 host.example\r\ns=\r\nt=0 0\r\nm=audio 49170 RTP/AVP 96 97\r\n"
    "c=IN IP4 198.51.100.1/127\r\na=rtpmap:96 pcmu/8000\r\na=rtpmap:97 TELEPHONE-EVENT/8000\r\na=fmtp:97 0-15,66,70\r\n"
    "a=rtcp:49171 IN IP4 198.51.100.1\r\na=recvonly\r\n",
    # WebRTC-ish
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 "
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n"
    "a=candidate:1 1 udp 2122260223 192.0.2.3 54321 typ host\r\n",
    # our own offer (build_offer), bare-LF
    "v=0\no=tapigw 7 1 IN IP4 127.0.0.1\ns=tapigw\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 20000 RTP/AVP 0 8 101\n"
    "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"
    "a=ptime:20\na=sendrecv\n",
]


def sdp_seeds():
    seeds = [s for s in rust_strings(ROOT / "src/sdp/mod.rs") if s.startswith("v=0")]
    for msg in sipp_messages():
        if "\r\n\r\nv=0" in msg:
            seeds.append(msg.split("\r\n\r\n", 1)[1])
    return seeds + MORE_SDP


# --- API -------------------------------------------------------------------------------------

def req(id_, method, **params):
    return json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params},
                      separators=(",", ":"))


API = [
    req(1, "lineInitializeEx", appName="crm", apiVersion=0x20002, options=1),
    req("a-2", "lineInitializeEx", appName="ivr \u00e9\u4e2d", apiVersion=0x10004, options=3, completionKey=7),
    req(3, "lineShutdown", hLineApp=1),
    req(4, "lineNegotiateAPIVersion", hLineApp=1, deviceId=0, apiLowVersion=0x10004, apiHighVersion=0x20002),
    req(5, "lineGetDevCaps", hLineApp=1, deviceId=0, apiVersion=0x20002),
    req(6, "lineOpen", hLineApp=1, deviceId=4294967295, apiVersion=0x20002, callbackInstance=9, privileges=4, mediaModes=8),
    req(7, "lineClose", hLine=2),
    req(8, "lineSetStatusMessages", hLine=2, lineStates=0x1FFFFFF, addressStates=0),
    req(9, "lineGetLineDevStatus", hLine=2),
    req(10, "lineMakeCall", hLine=2, destAddress="sip:1002@127.0.0.1"),
    req(11, "lineAccept", hCall=3),
    req(12, "lineAnswer", hCall=3),
    req(13, "lineDrop", hCall=3),
    req(14, "lineRedirect", hCall=3, destAddress="+4930123"),
    req(15, "lineDeallocateCall", hCall=3),
    req(16, "lineGetCallInfo", hCall=3),
    req(17, "lineGetCallStatus", hCall=3),
    req(18, "lineSetCallPrivilege", hCall=3, callPrivilege=4),
    req(19, "lineGetMessage", hLineApp=1, timeout=0),
    req(20, "lineHold", hCall=3),
    req(21, "lineUnhold", hCall=3),
    req(22, "lineSwapHold", hActiveCall=3, hHeldCall=4),
    req(23, "lineBlindTransfer", hCall=3, destAddress="1003"),
    req(24, "lineSetupTransfer", hCall=3),
    req(25, "lineDial", hCall=4, destAddress="1003"),
    req(26, "lineCompleteTransfer", hCall=3, hConsultCall=4, transferMode=1),
    req(27, "lineForward", hLine=2, allAddresses=True, forwardList=[{"forwardMode": 1, "destAddress": "1009"}], numRingsNoAnswer=3),
    req(1.5e300, "lineShutdown", hLineApp=-1),
    '{"jsonrpc":"2.0","id":"\\ud83d\\ude00\\u0000","method":"lineShutdown","params":{"hLineApp":1}}',
    '{"jsonrpc":"2.0","id":12345678901234567890123,"method":"lineClose","params":{"hLine":1,"hLine":2}}',
    '{"jsonrpc":"2.0","id":-0.0e-7,"method":"lineClose"}',
    '{"jsonrpc":"2.0","id":null,"method":"lineClose","params":[]}',
    '[{"jsonrpc":"2.0","id":1,"method":"lineClose","params":{"hLine":1}}]',
    '{"jsonrpc":"1.0","id":true,"method":7}',
    '{"jsonrpc":"2.0","id":1,"method":"lineFrobnicate","params":{}}',
    '{"jsonrpc":"2.0","id":2,"method":"lineShutdown","params":{"hLineApp":"one"}}',
    '  {"jsonrpc" : "2.0" , "id" : 1 , "method" : "lineShutdown" , "params" : { "hLineApp" : 1 } }  ',
    '{"jsonrpc":"2.0","id":1,"method":"lineShutdown","params":{"hLineApp":1}',
    "not json",
    "",
]


def main():
    for s in sip_seeds():
        put("sip_decode", s)
        # tcp_framer: one stream of a message, and a pipeline with keep-alives, cut two ways.
        put("tcp_framer", b"\x00" + s)
    msgs = sip_seeds()
    stream = b"\r\n\r\n".join(m for m in msgs[:6]) + b"\r\n" + msgs[6] + b"\n" + msgs[7]
    put("tcp_framer", b"\x03\x00\x10\xff" + stream)
    put("tcp_framer", b"\x01\x06" + b"\r\n\r\n\r\n" + msgs[1] + msgs[2])
    for s in sdp_seeds():
        put("sdp", s)
    for s in API:
        put("api_request", s)


if __name__ == "__main__":
    main()
