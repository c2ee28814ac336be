//! The STOMP 1.2 frame codec: [`Frame`] values to bytes ([`Frame::encode`]) and bytes, fed in
//! arbitrary chunks, back to frames ([`Decoder`]).
//!
//! What it owns: the wire syntax (command line, `name:value` headers with 1.2's escaping,
//! `content-length`-framed binary bodies that may contain NUL bytes, the frame-ending NUL,
//! heart-beat EOLs between frames) and the size limits ([`Limits`]), checked before any buffer
//! grows past them. What it never does: interpret frames (the session does) or touch a socket.
//!
//! Every malformed input ends in a [`DecodeError`], never a panic; after an error the decoder
//! stays failed (a STOMP peer that sent garbage cannot be resynchronised: the connection must
//! close).

use std::fmt;

/// The STOMP 1.2 commands (client and server frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `STOMP`: the client's connect frame (1.2 name of CONNECT).
    Stomp,
    /// `CONNECT`: the 1.0-compatible connect frame.
    Connect,
    /// `CONNECTED`: the server accepted the connection.
    Connected,
    /// `SEND`: a message to a destination.
    Send,
    /// `SUBSCRIBE`: start receiving from a destination.
    Subscribe,
    /// `UNSUBSCRIBE`: stop a subscription.
    Unsubscribe,
    /// `ACK` (never sent by USP endpoints, R-STOMP.30).
    Ack,
    /// `NACK` (never sent by USP endpoints, R-STOMP.30).
    Nack,
    /// `BEGIN` (never sent by USP endpoints, R-STOMP.29).
    Begin,
    /// `COMMIT` (never sent by USP endpoints, R-STOMP.29).
    Commit,
    /// `ABORT` (never sent by USP endpoints, R-STOMP.29).
    Abort,
    /// `DISCONNECT`: the client closes politely.
    Disconnect,
    /// `MESSAGE`: a message delivered to a subscription.
    Message,
    /// `RECEIPT`: the server processed a frame that asked for a receipt.
    Receipt,
    /// `ERROR`: the server reports an error and closes the connection.
    Error,
}

impl Command {
    /// The command's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Stomp => "STOMP",
            Command::Connect => "CONNECT",
            Command::Connected => "CONNECTED",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    /// The command named `name` (case-sensitive, as STOMP requires).
    pub fn parse(name: &[u8]) -> Option<Command> {
        const ALL: [Command; 15] = [
            Command::Stomp,
            Command::Connect,
            Command::Connected,
            Command::Send,
            Command::Subscribe,
            Command::Unsubscribe,
            Command::Ack,
            Command::Nack,
            Command::Begin,
            Command::Commit,
            Command::Abort,
            Command::Disconnect,
            Command::Message,
            Command::Receipt,
            Command::Error,
        ];
        ALL.into_iter().find(|c| c.as_str().as_bytes() == name)
    }

    /// Frames whose headers are not escaped (STOMP 1.2: CONNECT and CONNECTED, and by extension
    /// STOMP, which is CONNECT under another name).
    fn raw_headers(self) -> bool {
        matches!(self, Command::Stomp | Command::Connect | Command::Connected)
    }

    /// Frames that may carry a body (STOMP 1.2: SEND, MESSAGE and ERROR only).
    pub fn has_body(self) -> bool {
        matches!(self, Command::Send | Command::Message | Command::Error)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One STOMP frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The command.
    pub command: Command,
    /// The headers in wire order, unescaped. Repeated names are kept; [`Frame::header`] returns
    /// the first, which is the one STOMP 1.2 says counts.
    pub headers: Vec<(String, String)>,
    /// The body (empty for frames without one).
    pub body: Vec<u8>,
}

impl Frame {
    /// A frame without headers or body.
    pub fn new(command: Command) -> Frame {
        Frame { command, headers: Vec::new(), body: Vec::new() }
    }

    /// Adds a header (builder style).
    pub fn with(mut self, name: &str, value: &str) -> Frame {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Appends the frame's wire form to `out`.
    ///
    /// Frames that may carry a body (SEND, MESSAGE, ERROR) always get a `content-length`
    /// header, computed here (a `content-length` among [`Frame::headers`] is not written).
    /// On error nothing is appended.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if !self.body.is_empty() && !self.command.has_body() {
            return Err(EncodeError::BodyNotAllowed(self.command));
        }
        let start = out.len();
        let result = self.encode_unchecked(out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn encode_unchecked(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(self.command.as_str().as_bytes());
        out.push(b'\n');
        let raw = self.command.raw_headers();
        for (name, value) in &self.headers {
            if self.command.has_body() && name == "content-length" {
                continue;
            }
            if raw {
                // No escaping exists for these frames: refuse what cannot be written.
                if name.is_empty() || name.contains([':', '\n', '\r']) {
                    return Err(EncodeError::Unescapable(name.clone()));
                }
                if value.contains(['\n', '\r']) {
                    return Err(EncodeError::Unescapable(name.clone()));
                }
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(value.as_bytes());
            } else {
                if name.is_empty() {
                    return Err(EncodeError::Unescapable(name.clone()));
                }
                escape_into(name, out);
                out.push(b':');
                escape_into(value, out);
            }
            out.push(b'\n');
        }
        if self.command.has_body() {
            out.extend_from_slice(format!("content-length:{}\n", self.body.len()).as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out.push(0);
        Ok(())
    }
}

/// Why a frame could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// A header of a frame without escaping (STOMP, CONNECT, CONNECTED) contains a character
    /// that cannot be written (a line break; a colon in the name), or a header name is empty.
    Unescapable(String),
    /// The command cannot carry a body (only SEND, MESSAGE and ERROR can).
    BodyNotAllowed(Command),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Unescapable(name) => write!(f, "header {name:?} cannot be encoded"),
            EncodeError::BodyNotAllowed(c) => write!(f, "{c} frames carry no body"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// STOMP 1.2 escaping: `\` `\r` `\n` `:` become `\\` `\r` `\n` `\c`.
fn escape_into(s: &str, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b':' => out.extend_from_slice(b"\\c"),
            _ => out.push(b),
        }
    }
}

/// Undoes [`escape_into`]; any other escape is a fatal error (STOMP 1.2).
fn unescape(s: &str) -> Result<String, DecodeError> {
    if !s.contains('\\') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('\\') => '\\',
            Some('r') => '\r',
            Some('n') => '\n',
            Some('c') => ':',
            _ => return Err(DecodeError::BadEscape),
        });
    }
    Ok(out)
}

/// The size limits a [`Decoder`] enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of command line plus headers (up to and including the blank line).
    pub max_header_bytes: usize,
    /// The most header lines in one frame.
    pub max_headers: usize,
    /// The largest body (the link's `max_record`).
    pub max_body: usize,
}

impl Limits {
    /// 16 KiB of headers, 64 header lines, and the given body limit. USP frames carry a handful
    /// of short headers; brokers add a few (RabbitMQ about six).
    pub fn with_max_body(max_body: usize) -> Limits {
        Limits { max_header_bytes: 16 * 1024, max_headers: 64, max_body }
    }
}

/// Why received bytes are not valid STOMP 1.2. Every variant is fatal to the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The command line and headers exceed [`Limits::max_header_bytes`].
    HeadersTooLarge {
        /// The limit.
        max: usize,
    },
    /// More header lines than [`Limits::max_headers`].
    TooManyHeaders {
        /// The limit.
        max: usize,
    },
    /// The body is, or announces to be, larger than [`Limits::max_body`].
    BodyTooLarge {
        /// The announced `content-length`, when there is one.
        announced: Option<u64>,
        /// The limit.
        max: usize,
    },
    /// The command line is not a STOMP 1.2 command.
    UnknownCommand(String),
    /// A header line without a colon, or with an empty name.
    BadHeaderLine,
    /// A header uses an escape sequence STOMP 1.2 does not define.
    BadEscape,
    /// The command or a header is not UTF-8.
    NotUtf8,
    /// `content-length` is not a decimal number.
    BadContentLength(String),
    /// The byte after a `content-length` body is not the frame-ending NUL.
    MissingNul,
    /// A previous error left the decoder unusable.
    Failed,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::HeadersTooLarge { max } => write!(f, "frame headers over {max} bytes"),
            DecodeError::TooManyHeaders { max } => write!(f, "more than {max} headers"),
            DecodeError::BodyTooLarge { announced: Some(n), max } => {
                write!(f, "frame body of {n} bytes over the {max}-byte limit")
            }
            DecodeError::BodyTooLarge { announced: None, max } => {
                write!(f, "frame body over the {max}-byte limit")
            }
            DecodeError::UnknownCommand(c) => write!(f, "unknown command {c:?}"),
            DecodeError::BadHeaderLine => f.write_str("malformed header line"),
            DecodeError::BadEscape => f.write_str("undefined escape sequence in a header"),
            DecodeError::NotUtf8 => f.write_str("command or header not UTF-8"),
            DecodeError::BadContentLength(v) => write!(f, "bad content-length {v:?}"),
            DecodeError::MissingNul => f.write_str("no NUL after the content-length body"),
            DecodeError::Failed => f.write_str("decoder failed earlier"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// What a [`Decoder`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// An EOL between frames (a heart-beat, or padding after a frame).
    Heartbeat,
    /// A complete frame.
    Frame(Frame),
}

/// A buffer above this capacity is shrunk once the frame that grew it is decoded.
const SHRINK_ABOVE: usize = 64 * 1024;

/// Where the decoder is within the current frame.
#[derive(Clone, Debug)]
enum State {
    /// Between frames.
    Idle,
    /// Reading the command and headers; `scanned` bytes of the buffer hold no blank line.
    Head { scanned: usize },
    /// Reading a body after `head_len` bytes of head; `scanned` body bytes hold no NUL (used
    /// when there is no `content-length`).
    Body { frame: Frame, head_len: usize, len: Option<usize>, scanned: usize },
    /// A fatal error happened.
    Failed,
}

/// An incremental STOMP decoder: [`Decoder::feed`] bytes as they arrive, then call
/// [`Decoder::next`] until it returns `Ok(None)`.
///
/// Memory: the buffer holds at most one frame (bounded by the [`Limits`]) plus the last fed
/// chunk.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    state: State,
    limits: Limits,
}

impl Decoder {
    /// An empty decoder with these limits.
    pub fn new(limits: Limits) -> Decoder {
        Decoder { buf: Vec::new(), state: State::Idle, limits }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !matches!(self.state, State::Failed) {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next heart-beat or complete frame, `Ok(None)` when more bytes are needed.
    #[allow(clippy::should_implement_trait)] // fallible, not an Iterator
    pub fn next(&mut self) -> Result<Option<Decoded>, DecodeError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Failed;
            self.buf = Vec::new();
        }
        result
    }

    fn step(&mut self) -> Result<Option<Decoded>, DecodeError> {
        loop {
            match std::mem::replace(&mut self.state, State::Failed) {
                State::Failed => return Err(DecodeError::Failed),
                State::Idle => match self.buf.first() {
                    None => {
                        self.state = State::Idle;
                        return Ok(None);
                    }
                    Some(b'\n') => {
                        self.buf.drain(..1);
                        self.state = State::Idle;
                        return Ok(Some(Decoded::Heartbeat));
                    }
                    Some(b'\r') => match self.buf.get(1) {
                        None => {
                            self.state = State::Idle;
                            return Ok(None);
                        }
                        Some(b'\n') => {
                            self.buf.drain(..2);
                            self.state = State::Idle;
                            return Ok(Some(Decoded::Heartbeat));
                        }
                        Some(_) => return Err(DecodeError::UnknownCommand("\r".into())),
                    },
                    Some(_) => self.state = State::Head { scanned: 0 },
                },
                State::Head { scanned } => match self.find_head_end(scanned)? {
                    Err(scanned) => {
                        self.state = State::Head { scanned };
                        return Ok(None);
                    }
                    Ok(head_len) => {
                        let (frame, len) = self.parse_head(head_len)?;
                        self.state = State::Body { frame, head_len, len, scanned: 0 };
                    }
                },
                State::Body { frame, head_len, len, scanned } => {
                    match self.take_body(frame, head_len, len, scanned)? {
                        Ok(frame) => {
                            self.state = State::Idle;
                            return Ok(Some(Decoded::Frame(frame)));
                        }
                        Err(waiting) => {
                            self.state = waiting;
                            return Ok(None);
                        }
                    }
                }
            }
        }
    }

    /// The length of the head (through the blank line) when complete, else how far the scan
    /// got (`Err`), checking the header size limit either way.
    fn find_head_end(&self, scanned: usize) -> Result<Result<usize, usize>, DecodeError> {
        let max = self.limits.max_header_bytes;
        let window = &self.buf[..self.buf.len().min(max)];
        // Resume one byte early so an LF that ended the previous scan is seen with its follower.
        let mut pos = scanned.saturating_sub(2);
        while let Some(i) = window[pos..].iter().position(|&b| b == b'\n') {
            let lf = pos + i;
            let rest = &window[lf + 1..];
            if rest.first() == Some(&b'\n') {
                return Ok(Ok(lf + 2));
            }
            if rest.starts_with(b"\r\n") {
                return Ok(Ok(lf + 3));
            }
            pos = lf + 1;
        }
        if self.buf.len() >= max {
            return Err(DecodeError::HeadersTooLarge { max });
        }
        Ok(Err(window.len()))
    }

    /// Parses the command line and headers in `buf[..head_len]`; returns the frame without
    /// its body and the `content-length`, if any.
    fn parse_head(&self, head_len: usize) -> Result<(Frame, Option<usize>), DecodeError> {
        let head = std::str::from_utf8(&self.buf[..head_len]).map_err(|_| DecodeError::NotUtf8)?;
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let name = lines.next().unwrap_or_default();
        let command = Command::parse(name.as_bytes())
            .ok_or_else(|| DecodeError::UnknownCommand(name.chars().take(32).collect()))?;
        let mut frame = Frame::new(command);
        for line in lines.take_while(|l| !l.is_empty()) {
            if frame.headers.len() >= self.limits.max_headers {
                return Err(DecodeError::TooManyHeaders { max: self.limits.max_headers });
            }
            let (name, value) = line.split_once(':').ok_or(DecodeError::BadHeaderLine)?;
            if name.is_empty() {
                return Err(DecodeError::BadHeaderLine);
            }
            let header = if command.raw_headers() {
                (name.to_owned(), value.to_owned())
            } else {
                (unescape(name)?, unescape(value)?)
            };
            frame.headers.push(header);
        }
        let len = match frame.header("content-length") {
            None => None,
            Some(v) => Some(self.check_length(v)?),
        };
        Ok((frame, len))
    }

    /// Parses and bounds a `content-length` value.
    fn check_length(&self, v: &str) -> Result<usize, DecodeError> {
        let bad = || DecodeError::BadContentLength(v.chars().take(32).collect());
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let max = self.limits.max_body;
        let n: u64 = match v.parse() {
            Ok(n) => n,
            // Only digits, so the only failure is overflow: certainly too large.
            Err(_) => return Err(DecodeError::BodyTooLarge { announced: Some(u64::MAX), max }),
        };
        match usize::try_from(n) {
            Ok(len) if len <= max => Ok(len),
            _ => Err(DecodeError::BodyTooLarge { announced: Some(n), max }),
        }
    }

    /// Completes the body when its bytes are there (`Ok(Ok(frame))`), else returns the state to
    /// wait in (`Ok(Err(state))`).
    fn take_body(
        &mut self,
        mut frame: Frame,
        head_len: usize,
        len: Option<usize>,
        scanned: usize,
    ) -> Result<Result<Frame, State>, DecodeError> {
        let max = self.limits.max_body;
        let available = self.buf.len() - head_len;
        let body_len = match len {
            Some(len) => {
                if available <= len {
                    return Ok(Err(State::Body { frame, head_len, len: Some(len), scanned }));
                }
                if self.buf[head_len + len] != 0 {
                    return Err(DecodeError::MissingNul);
                }
                len
            }
            None => {
                let window = &self.buf[head_len + scanned..];
                match window.iter().position(|&b| b == 0) {
                    Some(i) if scanned + i <= max => scanned + i,
                    Some(_) => return Err(DecodeError::BodyTooLarge { announced: None, max }),
                    None if available > max => {
                        return Err(DecodeError::BodyTooLarge { announced: None, max });
                    }
                    None => {
                        let scanned = available;
                        return Ok(Err(State::Body { frame, head_len, len, scanned }));
                    }
                }
            }
        };
        frame.body = self.buf[head_len..head_len + body_len].to_vec();
        self.buf.drain(..head_len + body_len + 1);
        // Give back the memory of a large frame once it is out (routers count bytes).
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() < SHRINK_ABOVE / 4 {
            self.buf.shrink_to(SHRINK_ABOVE / 4);
        }
        Ok(Ok(frame))
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
