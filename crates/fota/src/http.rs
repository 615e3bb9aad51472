//! A minimal HTTP/1.1 client side: request writer and an incremental response parser.
//!
//! The parser is a byte-at-a-time state machine: it buffers nothing but the few header values
//! it needs (Content-Length, Content-Range, Transfer-Encoding, Connection, Location), so input
//! may be split anywhere and the result is the same for every split. The whole response head
//! (status line, headers, interim 1xx responses) is bounded by [`MAX_HEAD_LEN`]; longer heads are
//! refused with [`HttpError::HeadTooLarge`].
//!
//! Not supported, refused clearly: transfer codings (`Transfer-Encoding: chunked` and any other
//! except `identity`) → [`HttpError::TransferCoding`] when the body is read; obsolete header
//! folding; `101 Switching Protocols`; HTTP versions other than 1.x.

use lwm2m_formats::str_from_utf8;

use crate::uri::MAX_URI_LEN;

/// Upper bound on the response head (status line + headers + interim responses), bytes.
pub const MAX_HEAD_LEN: usize = 1024;
/// Longest `Location` value kept.
pub const MAX_LOCATION_LEN: usize = MAX_URI_LEN;
const NAME_LEN: usize = 20; // longest header name we look for is 17 ("transfer-encoding")
const SMALL_LEN: usize = 64;

/// HTTP-level errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// Status line or header syntax error.
    Malformed,
    /// Not HTTP/1.x.
    UnsupportedVersion,
    /// The response head exceeds [`MAX_HEAD_LEN`].
    HeadTooLarge,
    /// Content-Length is not a number, too large, or repeated with another value.
    BadContentLength,
    /// Content-Range is not `bytes a-b/total`, `bytes a-b/*` or `bytes */total`, or inconsistent.
    BadContentRange,
    /// The body uses a transfer coding (e.g. chunked): not supported.
    TransferCoding,
    /// The connection ended before the message did.
    Truncated,
    /// The request does not fit the caller's buffer, or a field holds a forbidden byte.
    Request,
}

/// A parsed `Content-Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/total` (`total` is `None` for `*`). `first <= last < total`.
    Range {
        /// First byte position.
        first: u32,
        /// Last byte position (inclusive).
        last: u32,
        /// Complete length, when known.
        total: Option<u32>,
    },
    /// `bytes */total` (with 416 Range Not Satisfiable).
    Unsatisfied {
        /// Complete length.
        total: u32,
    },
}

/// The response head, once complete.
#[derive(Clone, Debug)]
pub struct Head {
    /// Status code (100..=999).
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Content-Length.
    pub content_length: Option<u32>,
    /// Content-Range.
    pub content_range: Option<ContentRange>,
    /// A transfer coding other than `identity` was announced.
    pub transfer_coded: bool,
    /// The connection stays open after this response.
    pub keep_alive: bool,
    conn_close: bool,
    conn_keep_alive: bool,
    location: [u8; MAX_LOCATION_LEN],
    location_len: usize,
    location_overflow: bool,
    has_location: bool,
}

impl Head {
    const fn new() -> Head {
        Head {
            status: 0,
            minor_version: 1,
            content_length: None,
            content_range: None,
            transfer_coded: false,
            keep_alive: true,
            conn_close: false,
            conn_keep_alive: false,
            location: [0; MAX_LOCATION_LEN],
            location_len: 0,
            location_overflow: false,
            has_location: false,
        }
    }

    /// The `Location` header, if present, fits [`MAX_LOCATION_LEN`] and is visible ASCII.
    pub fn location(&self) -> Option<&str> {
        if !self.has_location || self.location_overflow {
            return None;
        }
        let v = trim(self.location.get(..self.location_len)?);
        if v.is_empty() || !v.iter().all(|b| (0x21..=0x7e).contains(b)) {
            return None;
        }
        str_from_utf8(v)
    }

    /// True for 301, 302, 303, 307 and 308.
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// What one [`ResponseParser::feed`] call produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Output<'d> {
    /// All input consumed; the message is not complete.
    NeedMore,
    /// The head is complete: see [`ResponseParser::head`].
    Head,
    /// Body bytes (a slice of the input).
    Body(&'d [u8]),
    /// The message is complete; bytes after it are not consumed.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Status(u8),
    Reason,
    ReasonCr,
    LineStart,
    HeadCr,
    Name,
    ValueWs,
    Value,
    ValueCr,
    BodyStart,
    Body,
    UntilClose,
    Done,
    Failed(HttpError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    ContentLength,
    ContentRange,
    TransferEncoding,
    Connection,
    Location,
    Other,
}

/// Incremental HTTP/1.x response parser (one response; [`ResponseParser::reset`] for the next).
#[derive(Clone, Debug)]
pub struct ResponseParser {
    state: State,
    head_len: usize,
    head_done: bool,
    head: Head,
    name: [u8; NAME_LEN],
    name_len: usize,
    name_overflow: bool,
    field: Field,
    small: [u8; SMALL_LEN],
    small_len: usize,
    small_overflow: bool,
    remaining: u32,
}

impl Default for ResponseParser {
    fn default() -> Self {
        ResponseParser::new()
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

fn is_bad_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Parses a non-empty decimal `u32` (no sign, no spaces).
pub fn parse_u32(v: &[u8]) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Parses a `Content-Range` value (`bytes a-b/total`, `bytes a-b/*`, `bytes */total`).
pub fn parse_content_range(v: &[u8]) -> Result<ContentRange, HttpError> {
    let v = trim(v);
    let unit = v.get(..5).ok_or(HttpError::BadContentRange)?;
    if !unit.eq_ignore_ascii_case(b"bytes") {
        return Err(HttpError::BadContentRange);
    }
    let rest = v.get(5..).unwrap_or(&[]);
    if !rest.starts_with(b" ") {
        return Err(HttpError::BadContentRange);
    }
    let rest = trim(rest);
    let slash = rest.iter().position(|&b| b == b'/').ok_or(HttpError::BadContentRange)?;
    let (range, total) = rest.split_at(slash);
    let total = total.get(1..).unwrap_or(&[]);
    let total = if total == b"*" {
        None
    } else {
        Some(parse_u32(total).ok_or(HttpError::BadContentRange)?)
    };
    if range == b"*" {
        return match total {
            Some(total) => Ok(ContentRange::Unsatisfied { total }),
            None => Err(HttpError::BadContentRange),
        };
    }
    let dash = range.iter().position(|&b| b == b'-').ok_or(HttpError::BadContentRange)?;
    let (first, last) = range.split_at(dash);
    let first = parse_u32(first).ok_or(HttpError::BadContentRange)?;
    let last = parse_u32(last.get(1..).unwrap_or(&[])).ok_or(HttpError::BadContentRange)?;
    if first > last || total.is_some_and(|t| last >= t) {
        return Err(HttpError::BadContentRange);
    }
    Ok(ContentRange::Range { first, last, total })
}

impl ResponseParser {
    /// A parser waiting for a status line.
    // Out of line: inlined into a caller whose frame is 8-byte aligned, its two buffers were
    // cleared by `__aeabi_memclr8`, a third copy of the clearing routine in the image.
    #[inline(never)]
    pub const fn new() -> ResponseParser {
        ResponseParser {
            state: State::Status(0),
            head_len: 0,
            head_done: false,
            head: Head::new(),
            name: [0; NAME_LEN],
            name_len: 0,
            name_overflow: false,
            field: Field::Other,
            small: [0; SMALL_LEN],
            small_len: 0,
            small_overflow: false,
            remaining: 0,
        }
    }

    /// Back to the initial state, for the next response on the same connection.
    pub fn reset(&mut self) {
        *self = ResponseParser::new();
    }

    /// The head, once [`Output::Head`] was returned.
    pub fn head(&self) -> Option<&Head> {
        match self.state {
            _ if self.head_done => Some(&self.head),
            _ => None,
        }
    }

    /// True once the whole message was parsed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Body bytes still expected (Content-Length framing).
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// The peer closed the connection: completes a close-delimited body, else `Truncated`.
    pub fn eof(&mut self) -> Result<(), HttpError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            State::Failed(e) => Err(e),
            _ => self.fail(HttpError::Truncated),
        }
    }

    fn fail<T>(&mut self, e: HttpError) -> Result<T, HttpError> {
        self.state = State::Failed(e);
        Err(e)
    }

    /// Feeds bytes. Returns how many were consumed and what happened. Call again with the rest
    /// (also with an empty slice after [`Output::Head`], which may yield [`Output::Done`]).
    /// Errors are sticky.
    pub fn feed<'d>(&mut self, data: &'d [u8]) -> Result<(usize, Output<'d>), HttpError> {
        if self.state == State::BodyStart {
            self.start_body()?;
        }
        match self.state {
            State::Failed(e) => return Err(e),
            State::Done => return Ok((0, Output::Done)),
            State::Body => {
                if self.remaining == 0 {
                    self.state = State::Done;
                    return Ok((0, Output::Done));
                }
                if data.is_empty() {
                    return Ok((0, Output::NeedMore));
                }
                let n = data.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= u32::try_from(n).unwrap_or(self.remaining);
                return Ok((n, Output::Body(data.get(..n).unwrap_or(&[]))));
            }
            State::UntilClose => {
                if data.is_empty() {
                    return Ok((0, Output::NeedMore));
                }
                return Ok((data.len(), Output::Body(data)));
            }
            _ => {}
        }
        for (i, &b) in data.iter().enumerate() {
            self.head_len += 1;
            if self.head_len > MAX_HEAD_LEN {
                return self.fail(HttpError::HeadTooLarge);
            }
            match self.byte(b) {
                Ok(true) => return Ok((i + 1, Output::Head)),
                Ok(false) => {}
                Err(e) => return self.fail(e),
            }
        }
        Ok((data.len(), Output::NeedMore))
    }

    /// Decides the body framing after the head was reported.
    fn start_body(&mut self) -> Result<(), HttpError> {
        let h = &self.head;
        if h.transfer_coded {
            return self.fail(HttpError::TransferCoding);
        }
        if matches!(h.status, 204 | 304) {
            self.state = State::Done;
        } else if let Some(n) = h.content_length {
            self.remaining = n;
            self.state = if n == 0 { State::Done } else { State::Body };
        } else {
            self.state = State::UntilClose;
        }
        Ok(())
    }

    /// One head byte; `Ok(true)` when the (final) head just completed.
    fn byte(&mut self, b: u8) -> Result<bool, HttpError> {
        match self.state {
            State::Status(pos) => {
                let ok = match pos {
                    0..=4 => b == b"HTTP/"[usize::from(pos)],
                    5 => {
                        if b != b'1' {
                            return Err(HttpError::UnsupportedVersion);
                        }
                        true
                    }
                    6 => b == b'.',
                    7 => {
                        self.head.minor_version = b.wrapping_sub(b'0');
                        b.is_ascii_digit()
                    }
                    8 => b == b' ',
                    9..=11 => {
                        self.head.status = self.head.status * 10 + u16::from(b.wrapping_sub(b'0'));
                        b.is_ascii_digit() && !(pos == 9 && b == b'0')
                    }
                    _ => match b {
                        b' ' => {
                            self.state = State::Reason;
                            return Ok(false);
                        }
                        b'\r' => {
                            self.state = State::ReasonCr;
                            return Ok(false);
                        }
                        b'\n' => {
                            self.state = State::LineStart;
                            return Ok(false);
                        }
                        _ => false,
                    },
                };
                if !ok {
                    return Err(HttpError::Malformed);
                }
                self.state = State::Status(pos + 1);
            }
            State::Reason => match b {
                b'\r' => self.state = State::ReasonCr,
                b'\n' => self.state = State::LineStart,
                _ if is_bad_ctl(b) => return Err(HttpError::Malformed),
                _ => {}
            },
            State::ReasonCr | State::ValueCr | State::HeadCr => {
                if b != b'\n' {
                    return Err(HttpError::Malformed);
                }
                match self.state {
                    State::ReasonCr => self.state = State::LineStart,
                    State::ValueCr => self.end_field()?,
                    _ => return self.end_head(),
                }
            }
            State::LineStart => match b {
                b'\r' => self.state = State::HeadCr,
                b'\n' => return self.end_head(),
                _ if is_tchar(b) => {
                    self.name_len = 0;
                    self.name_overflow = false;
                    self.push_name(b);
                    self.state = State::Name;
                }
                _ => return Err(HttpError::Malformed), // includes obsolete line folding
            },
            State::Name => match b {
                b':' => {
                    self.field = self.classify();
                    self.small_len = 0;
                    self.small_overflow = false;
                    if self.field == Field::Location {
                        self.head.has_location = true;
                        self.head.location_len = 0;
                        self.head.location_overflow = false;
                    }
                    self.state = State::ValueWs;
                }
                _ if is_tchar(b) => self.push_name(b),
                _ => return Err(HttpError::Malformed),
            },
            State::ValueWs | State::Value => match b {
                b' ' | b'\t' if self.state == State::ValueWs => {}
                b'\r' => self.state = State::ValueCr,
                b'\n' => self.end_field()?,
                _ if is_bad_ctl(b) => return Err(HttpError::Malformed),
                _ => {
                    self.state = State::Value;
                    self.push_value(b);
                }
            },
            // Not reachable: feed() handles the body states before calling byte().
            _ => return Err(HttpError::Malformed),
        }
        Ok(false)
    }

    fn push_name(&mut self, b: u8) {
        match self.name.get_mut(self.name_len) {
            Some(slot) => {
                *slot = b.to_ascii_lowercase();
                self.name_len += 1;
            }
            None => self.name_overflow = true,
        }
    }

    fn push_value(&mut self, b: u8) {
        match self.field {
            Field::Other => {}
            Field::Location => match self.head.location.get_mut(self.head.location_len) {
                Some(slot) => {
                    *slot = b;
                    self.head.location_len += 1;
                }
                None => self.head.location_overflow = true,
            },
            _ => match self.small.get_mut(self.small_len) {
                Some(slot) => {
                    *slot = b;
                    self.small_len += 1;
                }
                None => self.small_overflow = true,
            },
        }
    }

    fn classify(&self) -> Field {
        if self.name_overflow {
            return Field::Other;
        }
        match self.name.get(..self.name_len).unwrap_or(&[]) {
            b"content-length" => Field::ContentLength,
            b"content-range" => Field::ContentRange,
            b"transfer-encoding" => Field::TransferEncoding,
            b"connection" => Field::Connection,
            b"location" => Field::Location,
            _ => Field::Other,
        }
    }

    fn end_field(&mut self) -> Result<(), HttpError> {
        self.state = State::LineStart;
        let value = trim(self.small.get(..self.small_len).unwrap_or(&[]));
        match self.field {
            Field::ContentLength => {
                let n = if self.small_overflow { None } else { parse_u32(value) };
                match (n, self.head.content_length) {
                    (None, _) => return Err(HttpError::BadContentLength),
                    (Some(n), Some(old)) if n != old => return Err(HttpError::BadContentLength),
                    (Some(n), _) => self.head.content_length = Some(n),
                }
            }
            Field::ContentRange => {
                if self.small_overflow || self.head.content_range.is_some() {
                    return Err(HttpError::BadContentRange);
                }
                self.head.content_range = Some(parse_content_range(value)?);
            }
            Field::TransferEncoding => {
                if self.small_overflow || !value.eq_ignore_ascii_case(b"identity") {
                    self.head.transfer_coded = true;
                }
            }
            Field::Connection => {
                for token in value.split(|&b| b == b',') {
                    let token = trim(token);
                    if token.eq_ignore_ascii_case(b"close") {
                        self.head.conn_close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        self.head.conn_keep_alive = true;
                    }
                }
            }
            Field::Location | Field::Other => {}
        }
        Ok(())
    }

    fn end_head(&mut self) -> Result<bool, HttpError> {
        let status = self.head.status;
        if status == 101 {
            return Err(HttpError::Malformed);
        }
        if (100..200).contains(&status) {
            // Interim response: skip it, keep counting towards MAX_HEAD_LEN.
            let used = self.head_len;
            self.reset();
            self.head_len = used;
            return Ok(false);
        }
        let h = &mut self.head;
        h.keep_alive = if h.minor_version == 0 { h.conn_keep_alive } else { true } && !h.conn_close;
        if h.content_length.is_none() && !h.transfer_coded && !matches!(status, 204 | 304) {
            h.keep_alive = false; // close-delimited body
        }
        self.state = State::BodyStart;
        self.head_done = true;
        Ok(true)
    }
}

/// A GET request with a `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// Host name or address (IPv6 without brackets).
    pub host: &'a str,
    /// True when `host` is an IPv6 literal (bracketed in the Host header).
    pub ipv6: bool,
    /// Port for the Host header; `None` when it is the scheme's default.
    pub port: Option<u16>,
    /// Path and query; a leading `/` is added when missing.
    pub target: &'a str,
    /// `Range: bytes=first-[last]`; `None` sends no Range header.
    pub range: Option<(u32, Option<u32>)>,
    /// `Connection: keep-alive` (else `close`).
    pub keep_alive: bool,
}

struct Cursor<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Cursor<'_> {
    fn put(&mut self, s: &[u8]) -> Result<(), HttpError> {
        let end = self.len.checked_add(s.len()).ok_or(HttpError::Request)?;
        self.buf.get_mut(self.len..end).ok_or(HttpError::Request)?.copy_from_slice(s);
        self.len = end;
        Ok(())
    }
    fn put_u32(&mut self, mut v: u32) -> Result<(), HttpError> {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(digits.get(i..).unwrap_or(&[]))
    }
}

impl Request<'_> {
    /// Writes the request into `buf`; returns its length.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if !visible(self.host) || !(self.target.is_empty() || visible(self.target)) {
            return Err(HttpError::Request);
        }
        let mut c = Cursor { buf, len: 0 };
        c.put(b"GET ")?;
        if !self.target.starts_with('/') {
            c.put(b"/")?;
        }
        c.put(self.target.as_bytes())?;
        c.put(b" HTTP/1.1\r\nHost: ")?;
        if self.ipv6 {
            c.put(b"[")?;
        }
        c.put(self.host.as_bytes())?;
        if self.ipv6 {
            c.put(b"]")?;
        }
        if let Some(port) = self.port {
            c.put(b":")?;
            c.put_u32(u32::from(port))?;
        }
        c.put(b"\r\n")?;
        if let Some((first, last)) = self.range {
            c.put(b"Range: bytes=")?;
            c.put_u32(first)?;
            c.put(b"-")?;
            if let Some(last) = last {
                c.put_u32(last)?;
            }
            c.put(b"\r\n")?;
        }
        c.put(b"User-Agent: lwm2m-fota\r\nConnection: ")?;
        c.put(if self.keep_alive { b"keep-alive\r\n\r\n" } else { b"close\r\n\r\n" })?;
        Ok(c.len)
    }
}

/// What parsing a whole response gave, comparable across chunkings (see [`parse_chunks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Final status code.
    pub status: u16,
    /// Content-Length.
    pub content_length: Option<u32>,
    /// Content-Range.
    pub content_range: Option<ContentRange>,
    /// Keep-alive.
    pub keep_alive: bool,
    /// Body length seen.
    pub body_len: u32,
    /// CRC-32 of the body.
    pub body_crc: u32,
    /// Bytes after the end of the message (not consumed).
    pub trailing: u32,
}

/// Parses one response delivered as `chunks`, then end of stream.
pub fn parse_chunks<'c>(chunks: impl IntoIterator<Item = &'c [u8]>) -> Result<Summary, HttpError> {
    let mut p = ResponseParser::new();
    let mut crc = crate::sink::Crc32::new();
    let mut s = Summary {
        status: 0,
        content_length: None,
        content_range: None,
        keep_alive: false,
        body_len: 0,
        body_crc: 0,
        trailing: 0,
    };
    for chunk in chunks {
        let mut data = chunk;
        loop {
            let (n, out) = p.feed(data)?;
            data = data.get(n..).unwrap_or(&[]);
            match out {
                Output::NeedMore => break,
                Output::Head => {
                    if let Some(h) = p.head() {
                        s.status = h.status;
                        s.content_length = h.content_length;
                        s.content_range = h.content_range;
                        s.keep_alive = h.keep_alive;
                    }
                }
                Output::Body(b) => {
                    crc.update(b);
                    s.body_len = s.body_len.saturating_add(b.len() as u32);
                }
                Output::Done => {
                    s.trailing = s.trailing.saturating_add(data.len() as u32);
                    break;
                }
            }
        }
    }
    if !p.is_done() {
        // Let a head that just completed decide its framing, then end of stream.
        let _ = p.feed(&[])?;
        p.eof()?;
    }
    s.body_crc = crc.finish();
    Ok(s)
}

/// Fuzz entry point: parses `data` whole and split at two points derived from it, and asserts
/// that every chunking gives the same result (an assertion failure is a parser bug). Never
/// panics otherwise.
pub fn fuzz_response(data: &[u8]) -> Result<Summary, HttpError> {
    let whole = parse_chunks([data]);
    let a = data.first().map_or(0, |&b| usize::from(b) * data.len() / 256);
    let b = data.last().map_or(0, |&b| a + (data.len() - a) * usize::from(b) / 256);
    let (x, rest) = data.split_at(a.min(data.len()));
    let (y, z) = rest.split_at((b - a).min(rest.len()));
    let split = parse_chunks([x, y, z]);
    assert_eq!(whole, split, "chunking changed the parse result");
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(data: &[u8]) -> Result<Summary, HttpError> {
        parse_chunks([data])
    }

    const OK206: &[u8] = b"HTTP/1.1 206 Partial Content\r\nServer: nginx\r\nContent-Length: 5\r\n\
Content-Range: bytes 10-14/100\r\nConnection: keep-alive\r\n\r\nhello";

    #[test]
    fn partial_content() {
        let s = one(OK206).unwrap();
        assert_eq!(s.status, 206);
        assert_eq!(s.content_length, Some(5));
        assert_eq!(
            s.content_range,
            Some(ContentRange::Range { first: 10, last: 14, total: Some(100) })
        );
        assert!(s.keep_alive);
        assert_eq!(s.body_len, 5);
        assert_eq!(s.trailing, 0);
    }

    #[test]
    fn every_split_point_same_result() {
        let whole = one(OK206).unwrap();
        for i in 0..=OK206.len() {
            for j in i..=OK206.len() {
                let s = parse_chunks([&OK206[..i], &OK206[i..j], &OK206[j..]]).unwrap();
                assert_eq!(s, whole, "split {i}/{j}");
            }
        }
    }

    #[test]
    fn byte_by_byte_events() {
        let mut p = ResponseParser::new();
        let mut body = [0u8; 8];
        let mut n = 0;
        let mut heads = 0;
        for b in OK206 {
            let mut d: &[u8] = core::slice::from_ref(b);
            loop {
                let (c, out) = p.feed(d).unwrap();
                d = &d[c..];
                match out {
                    Output::NeedMore => break,
                    Output::Head => heads += 1,
                    Output::Body(x) => {
                        body[n..n + x.len()].copy_from_slice(x);
                        n += x.len();
                    }
                    Output::Done => break,
                }
            }
        }
        assert_eq!(p.feed(&[]).unwrap(), (0, Output::Done));
        assert_eq!(heads, 1);
        assert_eq!(&body[..n], b"hello");
    }

    #[test]
    fn trailing_bytes_not_consumed() {
        let mut r = OK206.to_vec();
        r.extend_from_slice(b"HTTP/1.1");
        assert_eq!(one(&r).unwrap().trailing, 8);
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            one(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").unwrap().status,
            404
        );
        assert_eq!(one(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").unwrap().status, 200);
        assert_eq!(one(b"HTTP/1.1 200\nContent-Length: 0\n\n").unwrap().status, 200);
        assert_eq!(one(b"HTTP/2.0 200 OK\r\n\r\n"), Err(HttpError::UnsupportedVersion));
        assert_eq!(one(b"HTTP/1.1 099 X\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 2x0 X\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1  200 X\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"http/1.1 200 X\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 200 X\r\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 101 Switching\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 200 OK\r\n"), Err(HttpError::Truncated));
        assert_eq!(one(b""), Err(HttpError::Truncated));
    }

    #[test]
    fn interim_response_skipped() {
        let s = one(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab")
            .unwrap();
        assert_eq!((s.status, s.body_len), (200, 2));
    }

    #[test]
    fn header_syntax() {
        assert_eq!(one(b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 200 OK\r\n: y\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n"), Err(HttpError::Malformed));
        assert_eq!(one(b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n"), Err(HttpError::Malformed));
        // Unknown long headers and obs-text values are fine.
        let s = one(b"HTTP/1.1 200 OK\r\nX-Some-Very-Long-Header-Name: \xff\xfe\tv\r\nContent-Length: 1\r\n\r\nz")
            .unwrap();
        assert_eq!(s.body_len, 1);
    }

    #[test]
    fn head_size_bounded() {
        let mut r = [b'a'; 2000];
        r[..17].copy_from_slice(b"HTTP/1.1 200 OK\r\n");
        r[17..20].copy_from_slice(b"X: ");
        assert_eq!(one(&r), Err(HttpError::HeadTooLarge));
        // Exactly at the limit is fine.
        let mut r = [b'a'; MAX_HEAD_LEN];
        r[..20].copy_from_slice(b"HTTP/1.1 204 OK\r\nX: ");
        r[MAX_HEAD_LEN - 4..].copy_from_slice(b"\r\n\r\n");
        assert_eq!(one(&r).unwrap().status, 204);
    }

    #[test]
    fn content_length_rules() {
        let base = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(one(base).unwrap().body_len, 3);
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n",
        ] {
            assert_eq!(one(bad), Err(HttpError::BadContentLength));
        }
        assert_eq!(
            one(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
            Err(HttpError::Truncated)
        );
    }

    #[test]
    fn content_range_forms() {
        use ContentRange::*;
        let p = |s: &[u8]| parse_content_range(s);
        assert_eq!(p(b"bytes 0-9/10"), Ok(Range { first: 0, last: 9, total: Some(10) }));
        assert_eq!(p(b"BYTES 5-5/*"), Ok(Range { first: 5, last: 5, total: None }));
        assert_eq!(p(b"bytes */1000"), Ok(Unsatisfied { total: 1000 }));
        for bad in [
            &b"bytes 9-0/10"[..],
            b"bytes 0-10/10",
            b"bytes */*",
            b"bytes 0-9",
            b"bits 0-9/10",
            b"bytes=0-9/10",
            b"bytes -9/10",
            b"bytes 0-/10",
            b"bytes",
            b"",
            b"bytes 0-99999999999/*",
        ] {
            assert_eq!(p(bad), Err(HttpError::BadContentRange), "{:?}", bad);
        }
        assert_eq!(
            one(b"HTTP/1.1 206 P\r\nContent-Range: bytes 0-1/2\r\nContent-Range: bytes 0-1/2\r\n\r\n"),
            Err(HttpError::BadContentRange)
        );
    }

    #[test]
    fn chunked_refused_after_head() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        let mut p = ResponseParser::new();
        let (n, out) = p.feed(r).unwrap();
        assert_eq!(out, Output::Head);
        assert!(p.head().unwrap().transfer_coded);
        assert_eq!(p.feed(&r[n..]), Err(HttpError::TransferCoding));
        assert_eq!(p.feed(&r[n..]), Err(HttpError::TransferCoding));
        assert_eq!(one(r), Err(HttpError::TransferCoding));
    }

    #[test]
    fn connection_and_versions() {
        let ka = |r: &[u8]| one(r).unwrap().keep_alive;
        assert!(ka(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka(b"HTTP/1.1 200 OK\r\nConnection: Upgrade, Close\r\nContent-Length: 0\r\n\r\n"));
        assert!(!ka(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(ka(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
        // Close-delimited body.
        let s = one(b"HTTP/1.1 200 OK\r\n\r\nabcdef").unwrap();
        assert!(!s.keep_alive);
        assert_eq!(s.body_len, 6);
        // 204 and 304 have no body.
        assert_eq!(one(b"HTTP/1.1 304 NM\r\n\r\nxx").unwrap().trailing, 2);
    }

    #[test]
    fn location() {
        let r = b"HTTP/1.1 302 Found\r\nLocation:  /new/path.bin \r\nContent-Length: 0\r\n\r\n";
        let mut p = ResponseParser::new();
        p.feed(r).unwrap();
        let h = p.head().unwrap();
        assert!(h.is_redirect());
        assert_eq!(h.location(), Some("/new/path.bin"));
        let mut long = [b'x'; 400];
        long[..29].copy_from_slice(b"HTTP/1.1 301 M\r\nLocation: /a/");
        long[396..].copy_from_slice(b"\r\n\r\n");
        let mut p = ResponseParser::new();
        p.feed(&long).unwrap();
        assert_eq!(p.head().unwrap().location(), None);
    }

    #[test]
    fn request_bytes() {
        let mut buf = [0u8; 256];
        let r = Request {
            host: "example.com",
            ipv6: false,
            port: None,
            target: "/fw.bin",
            range: Some((4096, Some(8191))),
            keep_alive: true,
        };
        let n = r.write(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            &b"GET /fw.bin HTTP/1.1\r\nHost: example.com\r\nRange: bytes=4096-8191\r\n\
User-Agent: lwm2m-fota\r\nConnection: keep-alive\r\n\r\n"[..]
        );
        let r = Request {
            host: "::1",
            ipv6: true,
            port: Some(8080),
            target: "?q",
            range: Some((0, None)),
            keep_alive: false,
        };
        let n = r.write(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            &b"GET /?q HTTP/1.1\r\nHost: [::1]:8080\r\nRange: bytes=0-\r\n\
User-Agent: lwm2m-fota\r\nConnection: close\r\n\r\n"[..]
        );
        assert_eq!(r.write(&mut buf[..20]), Err(HttpError::Request));
        let bad = Request { target: "/a\r\nX: y", ..r };
        assert_eq!(bad.write(&mut buf), Err(HttpError::Request));
    }

    #[test]
    fn fuzz_entry_accepts_garbage() {
        for d in [&b""[..], b"\xff", b"HTTP/1.1 206 X\r\n\r\n", OK206] {
            let _ = fuzz_response(d);
        }
    }
}
