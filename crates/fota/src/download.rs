//! The sans-IO download state machine.
//!
//! # Driving it
//!
//! ```text
//! let mut d = Download::start(uri, resume_from, now)?;
//! loop {
//!     while let Some(action) = d.poll_action() {
//!         match action {
//!             Action::Connect { host, port, tls } => /* open TCP (+TLS, CA from tag 11) */,
//!             Action::Send(bytes) => /* write all bytes */,
//!             Action::Close => /* drop the connection, whatever its state */,
//!         }
//!     }
//!     match d.status() { Status::Running => {}, Status::Done { total } => break, Status::Failed(e) => break }
//!     // wait for socket events until d.poll_at(), then one of:
//!     d.connected(now) | d.connect_failed(now, kind) | d.received(now, bytes, &mut sink)
//!         | d.closed(now) | d.timeout(now) | d.poll(now)
//!     // persist d.offset() from time to time: after a reboot, start again with it.
//! }
//! ```
//!
//! # Requests: fixed-size fragments (default) or one open-ended range
//!
//! With `fragment_size > 0` (default 4096) every request asks for
//! `Range: bytes=off-(off+fragment_size-1)` on a keep-alive connection, like the nRF modem
//! library's download client: each response is short, its `Content-Range` and length are
//! checked, memory use is constant, and it suits modem TLS offloading (use 2048 there if the
//! modem's TLS buffers require it). With `fragment_size == 0` one request asks for
//! `bytes=off-` and the whole rest streams in one response (fewest round trips).
//! Either way the first request also carries a Range header; a server that answers 200 to a
//! request at offset 0 is accepted (it sends the whole image, which is what was wanted), but
//! a 200 to a request at offset > 0 is [`ProtoError::RangeIgnored`] (FOTA_PROTO): resuming is
//! impossible there.
//!
//! # Resume and retries
//!
//! [`Download::offset`] is the number of image bytes handed to the sink. When the connection is
//! lost mid-download (peer closed, I/O timeout, or a reconnect fails) the machine closes, waits
//! [`Config::retry_delay_ms`], reconnects and asks for `bytes=offset-...`. It does this at most
//! [`Config::max_retries`] times in a row; any body byte received resets the count. When the
//! attempts run out the download fails with [`FotaError::ConnectionLost`] (FOTA_CONN_LOST).
//! A connect failure before any body byte of this `Download` was received (DNS, refused,
//! timeout, TLS) fails at once with [`FotaError::Connect`] (FOTA_CONN). After a reboot, start
//! a new `Download` with `resume_from = sink.offset()` (or the persisted offset).
//!
//! A 416 answering a resume at exactly the image length (`Content-Range: bytes */N` with
//! `N == offset`) completes the download: the image was already whole before the reboot.
//!
//! # Redirects
//!
//! 301/302/303/307/308 with a `Location` (absolute or relative) are followed, at most
//! [`Config::max_redirects`] (default 3) per `Download`; one more is
//! [`ProtoError::TooManyRedirects`] (FOTA_PROTO).
//! The redirect target is kept for reconnects within this `Download` (see [`Download::uri`]).

use lwm2m_coap::Instant;
use lwm2m_formats::str_from_utf8;

use crate::http::{ContentRange, Head, Output, Request, ResponseParser};
use crate::sink::DfuSink;
use crate::uri::{resolve_reference, Uri, UriError, MAX_URI_LEN};
use crate::{FotaError, ProtoError};

/// Size of the request buffer inside a [`Download`]. Host and path come from one URI of at
/// most 255 bytes, so the longest request is 4 + 1 + 255 + 17 + 8 + 2 + 36 + 24 + 26 = 373
/// bytes (request line, Host with brackets and port, Range, User-Agent, Connection).
pub const REQUEST_LEN: usize = 384;

/// Why a connection could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The server refused (or reset) the connection.
    Refused,
    /// Connecting timed out.
    Timeout,
    /// The TLS handshake failed (certificate not trusted, protocol error).
    Tls,
}

/// Download parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Bytes per Range request; 0 asks for the whole rest in one open-ended request.
    pub fragment_size: u32,
    /// Reconnect attempts in a row after a lost connection before FOTA_CONN_LOST.
    pub max_retries: u8,
    /// Wait before each reconnect, ms.
    pub retry_delay_ms: u64,
    /// Connect and receive inactivity timeout, ms.
    pub io_timeout_ms: u64,
    /// Redirects followed per download.
    pub max_redirects: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// 4 KB fragments, 3 retries 10 s apart, 30 s I/O timeout, 3 redirects.
    pub const fn new() -> Config {
        Config {
            fragment_size: 4096,
            max_retries: 3,
            retry_delay_ms: 10_000,
            io_timeout_ms: 30_000,
            max_redirects: 3,
        }
    }
    /// Sets [`Config::fragment_size`] (0: one open-ended range).
    pub const fn with_fragment_size(mut self, bytes: u32) -> Config {
        self.fragment_size = bytes;
        self
    }
    /// Sets [`Config::max_retries`] and [`Config::retry_delay_ms`].
    pub const fn with_retries(mut self, max_retries: u8, retry_delay_ms: u64) -> Config {
        self.max_retries = max_retries;
        self.retry_delay_ms = retry_delay_ms;
        self
    }
    /// Sets [`Config::io_timeout_ms`].
    pub const fn with_io_timeout(mut self, ms: u64) -> Config {
        self.io_timeout_ms = ms;
        self
    }
    /// Sets [`Config::max_redirects`].
    pub const fn with_max_redirects(mut self, n: u8) -> Config {
        self.max_redirects = n;
        self
    }
}

/// What the caller must do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Open a TCP connection (and TLS over it when `tls`, verifying `host`), then report
    /// [`Download::connected`] or [`Download::connect_failed`].
    Connect {
        /// Host name or address (IPv6 without brackets).
        host: &'a str,
        /// TCP port.
        port: u16,
        /// HTTPS.
        tls: bool,
    },
    /// Write these bytes on the connection.
    Send(&'a [u8]),
    /// Drop the connection (also an unfinished connect).
    Close,
}

/// Progress of a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Still working.
    Running,
    /// The whole image was stored and the sink verified it.
    Done {
        /// Image length.
        total: u32,
    },
    /// Gave up.
    Failed(FotaError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting before a reconnect.
    Waiting(Instant),
    /// Connect requested, waiting for `connected`.
    Connecting,
    /// Request sent, reading the response.
    Exchanging,
    /// Done or failed.
    Finished,
}

/// The request being sent and the parser of its response, in one place: a request is handed
/// out (`Action::Send`) before any byte of its response can arrive, and the parser starts only
/// with that first byte, so they never need their memory at the same time.
#[derive(Clone, Debug)]
enum Wire {
    /// The request of the current exchange, until its response starts.
    Request { bytes: [u8; REQUEST_LEN], len: usize },
    /// The response being parsed.
    Response(ResponseParser),
}

/// One firmware download (owns its URI, request buffer and parser: under 0.8 KB of RAM).
#[derive(Clone, Debug)]
pub struct Download {
    cfg: Config,
    uri: [u8; MAX_URI_LEN],
    uri_len: usize,
    phase: Phase,
    status: Status,
    offset: u32,
    total: Option<u32>,
    range_last: Option<u32>,
    resp_end: u32,
    in_body: bool,
    wire: Wire,
    want_close: bool,
    want_connect: bool,
    want_send: bool,
    transport_open: bool,
    deadline: Option<Instant>,
    retries_left: u8,
    redirects_left: u8,
    received_any: bool,
    sink_begun: bool,
    connects: u32,
    requests: u32,
}

fn stored_uri(buf: &[u8], len: usize) -> Result<Uri<'_>, UriError> {
    let text = buf.get(..len).ok_or(UriError::TooLong)?;
    Uri::parse(str_from_utf8(text).ok_or(UriError::Malformed)?)
}

impl Download {
    /// Starts downloading `uri` from byte `resume_from` with the default [`Config`].
    pub fn start(uri: &str, resume_from: u32, now: Instant) -> Result<Download, FotaError> {
        Download::start_with(Config::new(), uri, resume_from, now)
    }

    /// Starts downloading `uri` from byte `resume_from`. Fails at once for an invalid URI
    /// ([`FotaError::InvalidUri`]) or a scheme other than http/https
    /// ([`FotaError::UnsupportedProtocol`]).
    pub fn start_with(
        cfg: Config,
        uri: &str,
        resume_from: u32,
        now: Instant,
    ) -> Result<Download, FotaError> {
        Uri::parse(uri).map_err(FotaError::from_uri)?;
        let mut d = Download {
            cfg,
            uri: [0; MAX_URI_LEN],
            uri_len: uri.len(),
            phase: Phase::Finished,
            status: Status::Running,
            offset: resume_from,
            total: None,
            range_last: None,
            resp_end: 0,
            in_body: false,
            wire: Wire::Response(ResponseParser::new()),
            want_close: false,
            want_connect: false,
            want_send: false,
            transport_open: false,
            deadline: None,
            retries_left: cfg.max_retries,
            redirects_left: cfg.max_redirects,
            received_any: false,
            sink_begun: false,
            connects: 0,
            requests: 0,
        };
        d.uri
            .get_mut(..uri.len())
            .ok_or(FotaError::InvalidUri(UriError::TooLong))?
            .copy_from_slice(uri.as_bytes());
        d.begin_connect(now);
        Ok(d)
    }

    /// Image bytes stored so far (persist this to resume after a reboot).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The image length, once a response told it.
    pub fn total(&self) -> Option<u32> {
        self.total
    }

    /// Running, done or failed.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The URI in use (the last redirect target, if any).
    pub fn uri(&self) -> &str {
        self.uri.get(..self.uri_len).and_then(str_from_utf8).unwrap_or("")
    }

    /// Connections attempted so far (statistics, tests).
    pub fn connects(&self) -> u32 {
        self.connects
    }

    /// Requests sent so far (statistics, tests).
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The next action, in order: Close, Connect, Send. Call until `None` after every input.
    pub fn poll_action(&mut self) -> Option<Action<'_>> {
        if self.want_close {
            self.want_close = false;
            self.transport_open = false;
            return Some(Action::Close);
        }
        if self.want_connect {
            self.want_connect = false;
            self.transport_open = true;
            return Some(match stored_uri(&self.uri, self.uri_len) {
                Ok(u) => Action::Connect { host: u.host, port: u.port, tls: u.scheme.is_tls() },
                // Unreachable: the stored URI was validated. Connecting to "" fails as DNS.
                Err(_) => Action::Connect { host: "", port: 0, tls: false },
            });
        }
        if self.want_send {
            self.want_send = false;
            let bytes = match &self.wire {
                Wire::Request { bytes, len } => bytes.get(..*len).unwrap_or(&[]),
                Wire::Response(_) => &[],
            };
            return Some(Action::Send(bytes));
        }
        None
    }

    /// When [`Download::poll`] must be called next (a reconnect delay or I/O timeout).
    pub fn poll_at(&self) -> Option<Instant> {
        match self.phase {
            Phase::Waiting(until) => Some(until),
            Phase::Connecting | Phase::Exchanging => self.deadline,
            Phase::Finished => None,
        }
    }

    /// Time passed: starts a due reconnect, or handles an expired I/O deadline as a timeout.
    pub fn poll(&mut self, now: Instant) {
        match self.phase {
            Phase::Waiting(until) if now >= until => self.begin_connect(now),
            Phase::Connecting | Phase::Exchanging if self.deadline.is_some_and(|d| now >= d) => {
                self.timeout(now)
            }
            _ => {}
        }
    }

    /// The connection (and TLS handshake) is up.
    pub fn connected(&mut self, now: Instant) {
        if self.phase != Phase::Connecting {
            return;
        }
        self.phase = Phase::Exchanging;
        self.send_request(now);
    }

    /// The connection could not be made.
    pub fn connect_failed(&mut self, now: Instant, kind: ConnectErrorKind) {
        if self.phase != Phase::Connecting {
            return;
        }
        self.transport_open = false;
        self.lost(now, Some(kind));
    }

    /// The peer closed the connection (or it broke).
    pub fn closed(&mut self, now: Instant) {
        match self.phase {
            Phase::Connecting => {
                self.transport_open = false;
                self.lost(now, Some(ConnectErrorKind::Refused));
            }
            Phase::Exchanging => {
                self.transport_open = false;
                self.lost(now, None);
            }
            _ => {}
        }
    }

    /// The caller's own connect or receive timeout expired.
    pub fn timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Connecting => self.lost(now, Some(ConnectErrorKind::Timeout)),
            Phase::Exchanging => self.lost(now, None),
            _ => {}
        }
    }

    /// Bytes arrived on the connection; body bytes go to `sink`.
    pub fn received<S: DfuSink + ?Sized>(&mut self, now: Instant, data: &[u8], sink: &mut S) {
        if self.phase != Phase::Exchanging {
            return;
        }
        self.deadline = Some(now.add_ms(self.cfg.io_timeout_ms));
        if let Wire::Request { .. } = self.wire {
            // The response begins: the request was sent (or never will be, once answered).
            self.wire = Wire::Response(ResponseParser::new());
            self.want_send = false;
        }
        let mut data = data;
        while self.phase == Phase::Exchanging {
            let Wire::Response(parser) = &mut self.wire else { break };
            let (n, out) = match parser.feed(data) {
                Ok(r) => r,
                Err(e) => return self.fail(FotaError::Protocol(ProtoError::Http(e))),
            };
            let rest = data.get(n..).unwrap_or(&[]);
            match out {
                Output::NeedMore => break,
                Output::Head => {
                    data = rest;
                    self.on_head(now, sink, data);
                }
                Output::Body(b) => {
                    data = rest;
                    self.on_body(now, sink, b, data);
                }
                Output::Done => {
                    // The message ended before the range it announced: impossible for
                    // 200/206 (lengths are checked), so this is a short body.
                    return self.fail(FotaError::Protocol(ProtoError::LengthMismatch));
                }
            }
        }
    }

    /// The head of the response being parsed, once complete.
    fn head(&self) -> Option<&Head> {
        match &self.wire {
            Wire::Response(p) => p.head(),
            Wire::Request { .. } => None,
        }
    }

    fn begin_connect(&mut self, now: Instant) {
        if self.transport_open {
            self.want_close = true;
        }
        self.phase = Phase::Connecting;
        self.want_connect = true;
        self.want_send = false;
        self.deadline = Some(now.add_ms(self.cfg.io_timeout_ms));
        self.connects = self.connects.saturating_add(1);
    }

    fn send_request(&mut self, now: Instant) {
        let frag = self.cfg.fragment_size;
        let last = if frag > 0 {
            let mut l = self.offset.saturating_add(frag - 1);
            if let Some(t) = self.total {
                l = l.min(t.saturating_sub(1));
            }
            Some(l)
        } else {
            None
        };
        self.range_last = last;
        let mut bytes = [0; REQUEST_LEN];
        let written = match stored_uri(&self.uri, self.uri_len) {
            Ok(u) => Request {
                host: u.host,
                ipv6: u.ipv6,
                port: u.explicit_port().then_some(u.port),
                target: u.path,
                range: Some((self.offset, last)),
                keep_alive: true,
            }
            .write(&mut bytes)
            .map_err(|_| UriError::TooLong),
            Err(e) => Err(e),
        };
        match written {
            Ok(len) => self.wire = Wire::Request { bytes, len },
            Err(e) => return self.fail(FotaError::InvalidUri(e)),
        }
        self.in_body = false;
        self.want_send = true;
        self.requests = self.requests.saturating_add(1);
        self.deadline = Some(now.add_ms(self.cfg.io_timeout_ms));
    }

    fn lost(&mut self, now: Instant, connect_error: Option<ConnectErrorKind>) {
        if self.transport_open {
            self.want_close = true;
        }
        self.want_send = false;
        self.want_connect = false;
        if let Some(kind) = connect_error {
            if !self.received_any {
                return self.fail(FotaError::Connect(kind));
            }
        }
        if self.retries_left == 0 {
            return self.fail(FotaError::ConnectionLost);
        }
        self.retries_left -= 1;
        self.deadline = None;
        self.phase = Phase::Waiting(now.add_ms(self.cfg.retry_delay_ms));
    }

    fn fail(&mut self, e: FotaError) {
        self.finish_with(Status::Failed(e));
    }

    fn finish_with(&mut self, status: Status) {
        self.status = status;
        self.phase = Phase::Finished;
        self.deadline = None;
        self.want_send = false;
        self.want_connect = false;
        if self.transport_open {
            self.want_close = true;
        }
    }

    fn on_head<S: DfuSink + ?Sized>(&mut self, now: Instant, sink: &mut S, rest: &[u8]) {
        let Some(h) = self.head() else {
            return self.fail(FotaError::Protocol(ProtoError::UnexpectedData));
        };
        let (status, cl, cr) = (h.status, h.content_length, h.content_range);
        if h.is_redirect() {
            return self.redirect(now);
        }
        let proto = FotaError::Protocol;
        match status {
            200 => {
                if self.offset != 0 {
                    return self.fail(proto(ProtoError::RangeIgnored));
                }
                let Some(len) = cl else {
                    return self.fail(proto(ProtoError::LengthMismatch));
                };
                self.total = Some(len);
                self.resp_end = len;
            }
            206 => {
                let Some(ContentRange::Range { first, last, total: Some(total) }) = cr else {
                    return self.fail(proto(ProtoError::MissingContentRange));
                };
                if first != self.offset
                    || self.range_last.is_some_and(|l| last > l)
                    || self.total.is_some_and(|t| t != total)
                {
                    return self.fail(proto(ProtoError::RangeMismatch));
                }
                if cl.is_some_and(|n| n != last - first + 1) {
                    return self.fail(proto(ProtoError::LengthMismatch));
                }
                self.total = Some(total);
                self.resp_end = last + 1; // last < total <= u32::MAX
            }
            416 => {
                let complete = matches!(cr, Some(ContentRange::Unsatisfied { total })
                    if total == self.offset && self.offset > 0
                        && self.total.map_or(true, |t| t == total));
                if !complete {
                    return self.fail(proto(ProtoError::RangeNotSatisfiable));
                }
                self.total = Some(self.offset);
                self.resp_end = self.offset;
            }
            404 | 410 => return self.fail(FotaError::NotFound(status)),
            _ => return self.fail(proto(ProtoError::Status(status))),
        }
        if !self.sink_begun {
            if let Err(e) = sink.begin(self.total, self.offset) {
                return self.fail(FotaError::Package(e));
            }
            self.sink_begun = true;
        }
        self.in_body = true;
        if self.offset == self.resp_end {
            self.response_complete(now, sink, !rest.is_empty());
        }
    }

    fn on_body<S: DfuSink + ?Sized>(&mut self, now: Instant, sink: &mut S, b: &[u8], rest: &[u8]) {
        if !self.in_body {
            return self.fail(FotaError::Protocol(ProtoError::UnexpectedData));
        }
        let room = self.resp_end.saturating_sub(self.offset) as usize;
        let take = b.len().min(room);
        let (part, extra) = b.split_at(take);
        if !part.is_empty() {
            if let Err(e) = sink.write(self.offset, part) {
                return self.fail(FotaError::Package(e));
            }
            self.offset += take as u32; // take <= resp_end - offset
            self.received_any = true;
            self.retries_left = self.cfg.max_retries;
        }
        if self.offset == self.resp_end {
            self.response_complete(now, sink, !extra.is_empty() || !rest.is_empty());
        } else if !extra.is_empty() {
            self.fail(FotaError::Protocol(ProtoError::UnexpectedData));
        }
    }

    fn response_complete<S: DfuSink + ?Sized>(
        &mut self,
        now: Instant,
        sink: &mut S,
        trailing: bool,
    ) {
        self.in_body = false;
        // Bytes after the last response are ignored (the connection is closed anyway); after
        // any other response they would be taken for the answer to the next request.
        if self.total == Some(self.offset) {
            let status = match sink.finish() {
                Ok(()) => Status::Done { total: self.offset },
                Err(e) => Status::Failed(FotaError::Package(e)),
            };
            return self.finish_with(status);
        }
        if trailing {
            return self.fail(FotaError::Protocol(ProtoError::UnexpectedData));
        }
        let reusable = match &mut self.wire {
            Wire::Response(p) => {
                p.head().is_some_and(|h| h.keep_alive)
                    && matches!(p.feed(&[]), Ok((_, Output::Done)))
            }
            Wire::Request { .. } => false,
        };
        if reusable {
            self.send_request(now);
        } else {
            self.begin_connect(now);
        }
    }

    fn redirect(&mut self, now: Instant) {
        if self.redirects_left == 0 {
            return self.fail(FotaError::Protocol(ProtoError::TooManyRedirects));
        }
        let mut next = [0u8; MAX_URI_LEN];
        let resolved =
            match (self.head().and_then(|h| h.location()), stored_uri(&self.uri, self.uri_len)) {
                (Some(loc), Ok(base)) => resolve_reference(&base, loc, &mut next),
                _ => return self.fail(FotaError::Protocol(ProtoError::BadRedirect)),
            };
        let Some(n) = resolved else {
            return self.fail(FotaError::InvalidUri(UriError::TooLong));
        };
        if let Err(e) = stored_uri(&next, n) {
            return self.fail(FotaError::from_uri(e));
        }
        self.uri = next;
        self.uri_len = n;
        self.redirects_left -= 1;
        self.begin_connect(now);
    }
}

#[cfg(test)]
mod tests;
