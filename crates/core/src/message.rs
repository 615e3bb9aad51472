//! Building the messages the client sends: replies, client-initiated requests, notifications.
//! Payloads are rendered straight into the datagram buffer: no intermediate copy.

use lwm2m_coap::{content_format, opt, Block, BuildError, Code, MessageBuilder, MsgType, Token};
use lwm2m_formats::{CountSink, Path, SliceSink, WindowSink};
use lwm2m_objects::{Ctx, Registry};

use crate::session::Location;

/// Room kept for header, token and options when sizing a block of payload.
const HEADROOM: usize = 64;

/// Fixed part of every message we build. The token is borrowed: copying one costs a `memcpy`.
#[derive(Debug, Clone, Copy)]
pub struct Head<'t> {
    pub mtype: MsgType,
    pub code: Code,
    pub mid: u16,
    pub token: &'t Token,
}

impl Head<'_> {
    pub(crate) fn builder<'b>(&self, buf: &'b mut [u8]) -> Result<MessageBuilder<'b>, BuildError> {
        MessageBuilder::new(buf, self.mtype, self.code, self.mid, self.token)
    }
}

/// A message with a code and no payload. Returns 0 when even that does not fit.
pub fn code_only(buf: &mut [u8], head: &Head<'_>) -> usize {
    head.builder(buf).and_then(|b| b.finish(0)).unwrap_or(0)
}

/// A reply without payload: `location` (object, instance) as Location-Path (Create), `block1`
/// echoed (Block1 transfers).
pub fn code_reply(
    buf: &mut [u8],
    head: &Head<'_>,
    location: Option<(u16, u16)>,
    block1: Option<Block>,
) -> Result<usize, BuildError> {
    // Used in place through a reference: moving the builder out of its Result copies it.
    let mut built = head.builder(buf);
    let b = built.as_mut().map_err(|e| *e)?;
    if let Some((object, instance)) = location {
        for id in [object, instance] {
            b.option(opt::LOCATION_PATH, Query::new().push_u32(u32::from(id)).as_bytes())?;
        }
    }
    if let Some(block) = block1 {
        b.option_uint(opt::BLOCK1, block.to_uint())?;
    }
    built.and_then(|b| b.finish(0))
}

/// An empty ACK or RST (RFC 7252 §4.2, §4.3): the 4-byte header alone (version 1, no token,
/// code 0.00), written directly rather than through a builder.
pub fn empty(buf: &mut [u8; 4], mtype: MsgType, mid: u16) -> usize {
    let [hi, lo] = mid.to_be_bytes();
    *buf = [0x40 | (mtype.bits() << 4), Code::EMPTY.0, hi, lo];
    buf.len()
}

/// Largest block exponent whose blocks fit `buf` next to the headers, at most `preferred`.
pub fn fitting_szx(buf_len: usize, preferred: u8) -> u8 {
    let mut szx = preferred.min(6);
    while szx > 0 && (16usize << szx) + HEADROOM > buf_len {
        szx -= 1;
    }
    szx
}

/// Renders a read of `path` as the payload of a 2.05 (or notification) in `buf`.
///
/// The whole representation is rendered once to learn its size and format, then again into a
/// window of the block asked for: a payload larger than one block goes out with Block2 (RFC
/// 7959) without any buffer beyond the datagram. A payload that fits goes out whole unless the
/// peer asked for a specific block.
#[allow(clippy::too_many_arguments)]
pub fn content(
    buf: &mut [u8],
    head: &Head<'_>,
    registry: &Registry,
    ctx: &Ctx,
    path: &Path,
    accept: Option<u16>,
    observe: Option<u32>,
    block: Option<Block>,
    preferred_szx: u8,
) -> Result<usize, Code> {
    let mut count = CountSink::new();
    let cf = registry.read(ctx, path, accept, &mut count)?;
    let total = lwm2m_formats::Sink::len(&count);

    let our_szx = fitting_szx(buf.len(), preferred_szx);
    let (szx, offset) = match block {
        // The peer may ask for smaller blocks than ours (RFC 7959 §2.4); never larger.
        Some(b) => {
            let szx = b.szx.min(our_szx);
            (szx, b.offset())
        }
        None => (our_szx, 0),
    };
    let size = 16usize << szx;
    if offset % size != 0 || (offset >= total && offset != 0) {
        return Err(Code::BAD_OPTION);
    }
    let blockwise = block.is_some() || total > size;

    let overflow = |_| Code::INTERNAL_SERVER_ERROR;
    // In place through a reference, as in `code_reply`.
    let mut built = head.builder(buf);
    let b = built.as_mut().map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
    if let Some(seq) = observe {
        b.option_uint(opt::OBSERVE, seq).map_err(overflow)?;
    }
    b.option_uint(opt::CONTENT_FORMAT, u32::from(cf)).map_err(overflow)?;
    if blockwise {
        let num = u32::try_from(offset / size).map_err(|_| Code::BAD_OPTION)?;
        let more = offset + size < total;
        b.option_uint(opt::BLOCK2, Block { num, more, szx }.to_uint()).map_err(overflow)?;
        if num == 0 {
            // Size2 lets the server see the whole length up front (RFC 7959 §4).
            let size2 = u32::try_from(total).unwrap_or(u32::MAX);
            b.option_uint(opt::SIZE2, size2).map_err(overflow)?;
        }
    }
    let space = b.payload_space();
    let window_len = size.min(space.len());
    let Some(window) = space.get_mut(..window_len) else {
        return Err(Code::INTERNAL_SERVER_ERROR);
    };
    let mut w = WindowSink::new(window, offset);
    registry.read(ctx, path, accept, &mut w)?;
    let copied = w.copied();
    built.and_then(|b| b.finish(copied)).map_err(overflow)
}

/// Small fixed buffer to build one Uri-Query value in (`ep=...`, `lt=...`).
pub struct Query {
    buf: [u8; 80],
    len: usize,
}

impl Query {
    /// Empty; callers push the prefix (returning a filled Query by value costs a copy).
    pub const fn new() -> Query {
        Query { buf: [0; 80], len: 0 }
    }

    /// Appends what fits; the builder refuses nothing here because sizes are bounded by config.
    pub fn push(&mut self, bytes: &[u8]) -> &mut Query {
        for &b in bytes {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        self
    }

    /// Appends `v` in decimal (the plain-text formatter, so there is one digit loop).
    pub fn push_u32(&mut self, v: u32) -> &mut Query {
        // A Query never refuses a write (see `push`).
        let _ = lwm2m_formats::text::write_int(self, i64::from(v));
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl lwm2m_formats::Sink for Query {
    fn put(&mut self, bytes: &[u8]) -> Result<(), lwm2m_formats::Overflow> {
        self.push(bytes);
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// What goes into a Register or Update.
#[derive(Debug, Clone, Copy)]
pub struct Registration<'a> {
    pub endpoint: &'a str,
    pub lifetime_s: Option<u32>,
    pub binding: Option<&'a str>,
    pub links: bool,
}

fn links_payload(b: &mut MessageBuilder<'_>, registry: &Registry) -> Result<usize, BuildError> {
    let space = b.payload_space();
    let mut sink = SliceSink::new(space);
    registry.write_registration_links(&mut sink).map_err(|_| BuildError::BufferTooSmall)?;
    Ok(sink.written().len())
}

/// Register parameters the server assumes when they are absent: LwM2M 1.0 §5.3.1, the table of
/// Register operation parameters, gives Lifetime (`lt`) "Required: No, Default: 86400" and
/// Binding Mode (`b`) "Required: No, Default: U". Register leaves them out when they hold these
/// values: 9 and 4 bytes fewer on every Register. (Update never omits a changed value: there an
/// absent parameter means "unchanged", §5.3.2.)
pub const DEFAULT_LIFETIME_S: u32 = 86_400;
/// See [`DEFAULT_LIFETIME_S`].
pub const DEFAULT_BINDING: &str = "U";

/// Where a client request goes.
#[derive(Debug, Clone, Copy)]
pub enum To<'a> {
    /// Bootstrap-Request: `POST /bs?ep=..` (LwM2M 1.0 §5.2.7.1).
    Bootstrap,
    /// Register: `POST /rd?ep=..&lt=..&lwm2m=1.0&b=..` with the object links (§5.3.1).
    Register,
    /// Update (`POST`, §5.3.2) or De-register (`DELETE`, §5.3.3) at the registration's
    /// location (`/rd/...`), with only what changed.
    Location(&'a Location),
}

/// A client request (Bootstrap-Request, Register, Update, De-register): one builder for all,
/// each carrying the parts of `reg` that are present. Register leaves `lt` and `b` out when
/// they equal the defaults of §5.3.1 ([`DEFAULT_LIFETIME_S`], [`DEFAULT_BINDING`]); it keeps
/// `lwm2m=1.0` (optional too, "Default: 1.0", but the scenario tests require it; dropping it
/// would save 10 bytes per Register).
pub fn client_request(
    buf: &mut [u8],
    head: &Head<'_>,
    to: To<'_>,
    reg: &Registration<'_>,
    registry: &Registry,
) -> Result<usize, BuildError> {
    // In place through a reference, as in `code_reply`.
    let mut built = head.builder(buf);
    let b = built.as_mut().map_err(|e| *e)?;
    let (mut lifetime_s, mut binding) = (reg.lifetime_s, reg.binding);
    match to {
        To::Bootstrap => b.option(opt::URI_PATH, b"bs")?,
        To::Register => {
            b.option(opt::URI_PATH, b"rd")?;
            lifetime_s = lifetime_s.filter(|&lt| lt != DEFAULT_LIFETIME_S);
            binding = binding.filter(|&b| b != DEFAULT_BINDING);
        }
        To::Location(location) => {
            for segment in location.segments() {
                b.option(opt::URI_PATH, segment)?;
            }
        }
    }
    if reg.links {
        b.option_uint(opt::CONTENT_FORMAT, u32::from(content_format::LINK_FORMAT))?;
    }
    if !matches!(to, To::Location(_)) {
        query(b, "ep=", reg.endpoint)?;
    }
    if let Some(lt) = lifetime_s {
        b.option(opt::URI_QUERY, Query::new().push(b"lt=").push_u32(lt).as_bytes())?;
    }
    if let To::Register = to {
        b.option(opt::URI_QUERY, b"lwm2m=1.0")?;
    }
    if let Some(binding) = binding {
        query(b, "b=", binding)?;
    }
    let n = if reg.links { links_payload(b, registry)? } else { 0 };
    built.and_then(|b| b.finish(n))
}

/// One Uri-Query option, `prefix` then `value` (one helper for every query: less code).
#[inline(never)]
fn query(b: &mut MessageBuilder<'_>, prefix: &str, value: &str) -> Result<(), BuildError> {
    b.option(opt::URI_QUERY, Query::new().push(prefix.as_bytes()).push(value.as_bytes()).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_digits() {
        assert_eq!(Query::new().push(b"lt=").push_u32(0).as_bytes(), b"lt=0");
        assert_eq!(Query::new().push(b"lt=").push_u32(86400).as_bytes(), b"lt=86400");
        assert_eq!(Query::new().push_u32(u32::MAX).as_bytes(), b"4294967295");
    }

    fn register_queries(lifetime_s: u32, binding: &str) -> ([u8; 256], usize) {
        let mut buf = [0u8; 256];
        let head = Head {
            mtype: MsgType::Con,
            code: Code::POST,
            mid: 1,
            token: &Token::from_slice(&[1, 2, 3, 4]).unwrap(),
        };
        let reg = Registration {
            endpoint: "urn:imei:490154203237518",
            lifetime_s: Some(lifetime_s),
            binding: Some(binding),
            links: true,
        };
        let n = client_request(&mut buf, &head, To::Register, &reg, &Registry::new()).unwrap();
        (buf, n)
    }

    fn queries(buf: &[u8]) -> ([u8; 128], usize) {
        let m = lwm2m_coap::Message::parse(buf).unwrap();
        let mut out = [0u8; 128];
        let mut sink = SliceSink::new(&mut out);
        for q in m.uri_query() {
            lwm2m_formats::Sink::put(&mut sink, q).unwrap();
            lwm2m_formats::Sink::put(&mut sink, b"&").unwrap();
        }
        let n = sink.written().len();
        (out, n)
    }

    /// LwM2M 1.0 §5.3.1: `lt` and `b` at their defaults are left out of Register, and sent
    /// otherwise; `lwm2m=1.0` always goes.
    #[test]
    fn register_omits_default_lifetime_and_binding() {
        let (buf, n) = register_queries(86_400, "U");
        let (q, len) = queries(&buf[..n]);
        assert_eq!(&q[..len], b"ep=urn:imei:490154203237518&lwm2m=1.0&");
        let (buf, n) = register_queries(3600, "UQS");
        let (q, len) = queries(&buf[..n]);
        assert_eq!(&q[..len], b"ep=urn:imei:490154203237518&lt=3600&lwm2m=1.0&b=UQS&");
    }

    /// The hand-written empty message is what the builder makes of an empty head.
    #[test]
    fn empty_matches_the_builder() {
        for mtype in [MsgType::Ack, MsgType::Rst] {
            let mut built = [0u8; 8];
            let head = Head { mtype, code: Code::EMPTY, mid: 0xbeef, token: &Token::EMPTY };
            let n = code_only(&mut built, &head);
            let mut direct = [0u8; 4];
            assert_eq!(empty(&mut direct, mtype, 0xbeef), n);
            assert_eq!(&direct[..], &built[..n]);
        }
    }

    #[test]
    fn szx_fits_the_buffer() {
        assert_eq!(fitting_szx(576, 5), 5);
        assert_eq!(fitting_szx(576, 6), 5);
        assert_eq!(fitting_szx(300, 6), 3);
        assert_eq!(fitting_szx(10, 6), 0);
    }
}
