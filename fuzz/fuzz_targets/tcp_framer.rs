//! `tapigw::sip::codec::StreamFramer` fed the same stream in chunks of varying sizes.
//!
//! Input layout: one byte `n`, then `n % 32` chunk sizes (one byte each, chunk = size + 1,
//! used in turn, cyclically; none means one byte at a time), then the stream itself.
//!
//! Properties:
//! - it never panics (nor does `decode` on the frames it cuts);
//! - the frames, the error that ends the stream (if any) and the bytes left buffered (when
//!   there is no error) are the same whether the stream came in one piece or in chunks;
//! - the frames tile the start of the stream exactly (a message frame is the stream's bytes at
//!   that point, a ping is CRLFCRLF, a keep-alive CRLF or LF), no message is larger than
//!   `MAX_MESSAGE`, and what is left is the buffered count.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tapigw::sip::codec::{decode, Frame, FramingError, StreamFramer, MAX_MESSAGE};

/// What a framer made of a stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    frames: Vec<Frame>,
    error: Option<FramingError>,
    /// Bytes left in the framer once the whole stream was pushed (none after an error: the
    /// connection is closed then, and the chunked run stopped pushing).
    buffered: Option<usize>,
}

fn split(data: &[u8]) -> Result<(Vec<usize>, &[u8])> {
    let mut u = Unstructured::new(data);
    let n: u8 = u.arbitrary()?;
    let mut sizes = Vec::new();
    for _ in 0..n % 32 {
        sizes.push(usize::from(u.arbitrary::<u8>()?) + 1);
    }
    if sizes.is_empty() {
        sizes.push(1);
    }
    Ok((sizes, u.take_rest()))
}

/// Pulls every ready frame; false once the stream has failed.
fn drain(framer: &mut StreamFramer, out: &mut Outcome) -> bool {
    loop {
        match framer.next_frame() {
            Ok(Some(frame)) => out.frames.push(frame),
            Ok(None) => return true,
            Err(e) => {
                out.error = Some(e);
                return false;
            }
        }
    }
}

fn frame(stream: &[u8], sizes: &[usize]) -> Outcome {
    let mut framer = StreamFramer::new();
    let mut out = Outcome {
        frames: Vec::new(),
        error: None,
        buffered: None,
    };
    let mut rest = stream;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        framer.push(chunk);
        if !drain(&mut framer, &mut out) {
            break;
        }
    }
    if out.error.is_none() {
        out.buffered = Some(framer.buffered());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok((sizes, stream)) = split(data) else {
        return;
    };
    let whole = frame(stream, &[stream.len().max(1)]);
    let chunked = frame(stream, &sizes);
    assert_eq!(chunked, whole, "chunks {sizes:?} frame differently");
    let Some(buffered) = whole.buffered else {
        return;
    };
    let mut at = 0;
    for f in &whole.frames {
        let bytes: &[u8] = match f {
            Frame::Message(m) => {
                assert!(m.len() <= MAX_MESSAGE);
                let _ = decode(m);
                m
            }
            Frame::Ping => b"\r\n\r\n",
            Frame::KeepAlive if stream[at] == b'\n' => b"\n",
            Frame::KeepAlive => b"\r\n",
        };
        assert_eq!(
            &stream[at..at + bytes.len()],
            bytes,
            "frame {f:?} is not the stream at {at}"
        );
        at += bytes.len();
    }
    assert_eq!(at + buffered, stream.len(), "bytes lost or invented");
});
