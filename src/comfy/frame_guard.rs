//! A read-side guard under the WebSocket: it watches the server's frame headers as the
//! bytes arrive and refuses a text message over its cap before that message's payload is
//! read, so a hostile server cannot make us hold hundreds of MiB of "JSON".
//!
//! Why here and not in tungstenite's settings: tungstenite reads a whole frame into memory
//! before handing it over, and its `max_frame_size` / `max_message_size` apply to text and
//! binary alike. Binary frames must stay large (`SaveImageWebsocket` sends full-size PNGs of
//! tens of MiB, unfragmented), while real text messages are a few KB. Only the frame header
//! says which kind a frame is, so the check has to sit where the header passes by: in the
//! byte stream, before tungstenite buffers the payload.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest text message accepted. A `progress_state` for a 1,000-node graph is far below
/// 1 MiB; anything near this is not ComfyUI talking.
pub const MAX_TEXT_BYTES: u64 = 8 * 1024 * 1024;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;

/// A text message over the cap, found from its frame headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server sent a text message of {size} bytes (the limit is {limit})")]
pub struct TextTooLarge {
    pub size: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The HTTP upgrade response: `matched` bytes of its closing `\r\n\r\n` seen so far.
    Http { matched: usize },
    /// Inside a frame header; `have` of its bytes are in `header`.
    Header { have: usize },
    /// Inside a payload, `left` bytes to go.
    Payload { left: u64 },
    /// Refused: nothing more is read.
    Failed(TextTooLarge),
}

/// Follows the server-to-client byte stream: pure, fed slices in order.
#[derive(Debug, Clone)]
pub struct Scanner {
    limit: u64,
    state: State,
    header: [u8; 14],
    /// The size so far of a text message that is split into several frames.
    text_so_far: Option<u64>,
}

impl Scanner {
    /// A scanner for a connection that starts with the HTTP upgrade response.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            state: State::Http { matched: 0 },
            header: [0; 14],
            text_so_far: None,
        }
    }

    /// Takes the next bytes the server sent; an error once a text message is too large.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), TextTooLarge> {
        while !data.is_empty() {
            match self.state {
                State::Failed(e) => return Err(e),
                State::Http { mut matched } => {
                    const END: &[u8] = b"\r\n\r\n";
                    let mut used = 0;
                    for &b in data {
                        used += 1;
                        matched = if b == END[matched] {
                            matched + 1
                        } else if b == END[0] {
                            1
                        } else {
                            0
                        };
                        if matched == END.len() {
                            break;
                        }
                    }
                    data = &data[used..];
                    self.state = if matched == END.len() {
                        State::Header { have: 0 }
                    } else {
                        State::Http { matched }
                    };
                }
                State::Header { mut have } => {
                    let mut used = 0;
                    while used < data.len() {
                        self.header[have] = data[used];
                        have += 1;
                        used += 1;
                        if have >= 2 && have == header_len(&self.header) {
                            break;
                        }
                    }
                    data = &data[used..];
                    if have >= 2 && have == header_len(&self.header) {
                        let left = self.frame_header()?;
                        self.state = if left == 0 {
                            State::Header { have: 0 }
                        } else {
                            State::Payload { left }
                        };
                    } else {
                        self.state = State::Header { have };
                    }
                }
                State::Payload { left } => {
                    let take = left.min(data.len() as u64);
                    data = &data[take as usize..];
                    self.state = if take == left {
                        State::Header { have: 0 }
                    } else {
                        State::Payload { left: left - take }
                    };
                }
            }
        }
        match self.state {
            State::Failed(e) => Err(e),
            _ => Ok(()),
        }
    }

    /// A complete header is in `self.header`: checks it and returns its payload length.
    fn frame_header(&mut self) -> Result<u64, TextTooLarge> {
        let fin = self.header[0] & 0x80 != 0;
        let opcode = self.header[0] & 0x0F;
        let len = payload_len(&self.header);
        let text = match opcode {
            OP_TEXT => Some(len),
            OP_CONTINUATION => self.text_so_far.map(|n| n.saturating_add(len)),
            OP_BINARY => None,
            // Control frames may come between the pieces of a message.
            _ => return Ok(len),
        };
        if let Some(size) = text
            && size > self.limit
        {
            let error = TextTooLarge {
                size,
                limit: self.limit,
            };
            self.state = State::Failed(error);
            return Err(error);
        }
        self.text_so_far = if fin { None } else { text };
        Ok(len)
    }
}

/// The length of a header whose first two bytes are known.
fn header_len(header: &[u8; 14]) -> usize {
    let extended = match header[1] & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if header[1] & 0x80 != 0 { 4 } else { 0 };
    2 + extended + mask
}

fn payload_len(header: &[u8; 14]) -> u64 {
    match header[1] & 0x7F {
        126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        127 => u64::from_be_bytes([
            header[2], header[3], header[4], header[5], header[6], header[7], header[8], header[9],
        ]),
        n => u64::from(n),
    }
}

/// A stream whose reads pass through a [`Scanner`]; writes go straight through.
pub struct Guarded<S> {
    inner: S,
    /// `None` when the bytes are not the WebSocket's own (TLS records: see [`Guarded::new`]).
    scanner: Option<Scanner>,
}

impl<S> Guarded<S> {
    /// Guards `inner`. With `scan` false the bytes pass unchecked: under `wss://` this layer
    /// sits below TLS and sees only ciphertext, so there the cap falls back to the
    /// whole-message check in [`super::ws`].
    pub fn new(inner: S, limit: u64, scan: bool) -> Self {
        Self {
            inner,
            scanner: scan.then(|| Scanner::new(limit)),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(scanner)) = (&result, this.scanner.as_mut())
            && let Err(e) = scanner.feed(&buf.filled()[before..])
        {
            // An error, not a close: the runtime treats it as a broken connection and
            // reconnects. The refused bytes are dropped with the connection.
            buf.set_filled(before);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e)));
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

    /// An unmasked server frame header.
    fn header(fin: bool, opcode: u8, len: u64) -> Vec<u8> {
        let mut h = vec![if fin { 0x80 } else { 0 } | opcode];
        match len {
            0..=125 => h.push(len as u8),
            126..=0xFFFF => {
                h.push(126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(127);
                h.extend_from_slice(&len.to_be_bytes());
            }
        }
        h
    }

    fn frame(fin: bool, opcode: u8, len: usize) -> Vec<u8> {
        let mut f = header(fin, opcode, len as u64);
        f.extend(std::iter::repeat_n(b'x', len));
        f
    }

    #[test]
    fn small_text_and_large_binary_pass() {
        let mut s = Scanner::new(1000);
        let mut stream = UPGRADE.to_vec();
        stream.extend(frame(true, OP_TEXT, 900));
        stream.extend(frame(true, OP_BINARY, 70_000));
        stream.extend(frame(true, OP_TEXT, 10));
        assert_eq!(s.feed(&stream), Ok(()));
    }

    #[test]
    fn an_oversize_text_frame_is_refused_from_its_header_alone() {
        let mut s = Scanner::new(8 * 1024 * 1024);
        s.feed(UPGRADE).unwrap();
        let err = s
            .feed(&header(true, OP_TEXT, 200 * 1024 * 1024))
            .unwrap_err();
        assert_eq!(err.size, 200 * 1024 * 1024);
        // And stays refused.
        assert!(s.feed(b"more").is_err());
    }

    #[test]
    fn fragmented_text_counts_all_its_pieces() {
        let mut s = Scanner::new(1000);
        s.feed(UPGRADE).unwrap();
        s.feed(&frame(false, OP_TEXT, 600)).unwrap();
        // A ping between the pieces does not count, nor end the message.
        s.feed(&frame(true, 0x9, 4)).unwrap();
        let err = s.feed(&frame(true, OP_CONTINUATION, 600)).unwrap_err();
        assert_eq!(err.size, 1200);
    }

    #[test]
    fn continuations_of_binary_messages_are_not_text() {
        let mut s = Scanner::new(1000);
        s.feed(UPGRADE).unwrap();
        s.feed(&frame(false, OP_BINARY, 900)).unwrap();
        assert_eq!(s.feed(&frame(true, OP_CONTINUATION, 900)), Ok(()));
    }

    #[test]
    fn headers_split_at_every_byte_are_followed() {
        let mut stream = UPGRADE.to_vec();
        stream.extend(frame(true, OP_BINARY, 300));
        stream.extend(frame(true, OP_TEXT, 5));
        stream.extend(header(true, OP_TEXT, 70_000));
        let mut s = Scanner::new(65_536);
        let mut result = Ok(());
        for b in &stream {
            result = s.feed(std::slice::from_ref(b));
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result.unwrap_err().size, 70_000);
    }

    #[test]
    fn a_masked_header_is_measured_with_its_key() {
        let mut s = Scanner::new(100);
        s.feed(UPGRADE).unwrap();
        let mut f = vec![0x81, 0x80 | 5, 1, 2, 3, 4];
        f.extend_from_slice(b"hello");
        s.feed(&f).unwrap();
        assert!(s.feed(&header(true, OP_TEXT, 101)).is_err());
    }

    #[tokio::test]
    async fn the_guarded_stream_reports_an_error_instead_of_the_bytes() {
        use tokio::io::AsyncReadExt;
        let mut stream = UPGRADE.to_vec();
        stream.extend(frame(true, OP_TEXT, 3));
        stream.extend(header(true, OP_TEXT, 1 << 30));
        let mut guarded = Guarded::new(&stream[..], MAX_TEXT_BYTES, true);
        let mut sink = Vec::new();
        let err = guarded.read_to_end(&mut sink).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("1073741824 bytes"), "{err}");
        let mut plain = Guarded::new(&stream[..], MAX_TEXT_BYTES, false);
        sink.clear();
        plain.read_to_end(&mut sink).await.unwrap();
        assert_eq!(sink, stream);
    }
}
