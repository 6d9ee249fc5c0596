//! Digits and media files through the C interface, against the real gateway and SIPp calling
//! in (uac_media_info.xml: SIP INFO digits both ways): lineMonitorDigits, lineGatherDigits
//! (the app's buffer filled before LINE_GATHERDIGITS), lineGenerateDigits with LINE_GENERATE,
//! and the tapigw extensions tapigwMediaPlay / tapigwMediaRecord / tapigwMediaStop.

mod common;

use common::*;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// A 16-bit PCM, 8 kHz, mono WAV of `ms` milliseconds of silence.
fn write_wav(path: &Path, ms: u32) {
    let data_len = 8 * ms * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.resize(b.len() + data_len as usize, 0);
    std::fs::write(path, b).unwrap();
}

#[test]
fn digits_from_sipp_info_are_monitored_and_gathered_and_media_files_play_and_record() {
    let scratch = Scratch::new("digits-media");
    let files = scratch.path("files");
    std::fs::create_dir_all(&files).unwrap();
    write_wav(&files.join("hello.wav"), 200);
    let proxy = free_port();
    let base = 30000 + (proxy % 1000) * 20;
    let media = format!(
        "mode = \"rtp\"\naddress = \"127.0.0.1\"\nport_min = {base}\nport_max = {}\nfiles_dir = \"{}\"\n",
        base + 19,
        files.display()
    );
    let gw = Gateway::start_with(proxy, "", &media);
    let exe = compile(&scratch, &c_source("digits_media.c"), &[]);
    let app = Program::start(&scratch, &exe, &["hello.wav", "rec.wav"], &gw.env());
    app.wait_for_output("ready", LIMIT);
    // SIPp's audio port: bound so that the gateway's RTP has somewhere to go.
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port().to_string();
    let sf = scenario("uac_media_info.xml");
    let sipp = Sipp::caller(&scratch, &gw, &sf, &["-key", "rtp_port", &rtp_port]);
    let ran = app.wait(LIMIT);
    assert_eq!(ran.code(), Some(0), "{ran}");
    assert!(ran.stdout.contains("\n0 failures"), "{ran}");
    sipp.assert_success("caller sending INFO digits");
    let rec = std::fs::metadata(files.join("rec.wav")).expect("the recording was written");
    assert!(
        rec.len() >= 44,
        "a WAV header at least: {} bytes",
        rec.len()
    );
}
