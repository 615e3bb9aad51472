//! CoAP message layer of the test kit: codes, types, Block values, a parsed record of every
//! received datagram ([`Received`]) and a datagram builder ([`Msg`]).
//!
//! Wire encoding and decoding go through `coap-lite`, never through the client's codec.

use std::fmt;

use coap_lite::{CoapOption, MessageClass, MessageType, Packet};

/// CoAP option numbers used by LwM2M (RFC 7252, 7641, 7959).
pub mod opt {
    /// Observe (RFC 7641).
    pub const OBSERVE: u16 = 6;
    /// Location-Path.
    pub const LOCATION_PATH: u16 = 8;
    /// Uri-Path.
    pub const URI_PATH: u16 = 11;
    /// Content-Format.
    pub const CONTENT_FORMAT: u16 = 12;
    /// Uri-Query.
    pub const URI_QUERY: u16 = 15;
    /// Accept.
    pub const ACCEPT: u16 = 17;
    /// Block2 (RFC 7959).
    pub const BLOCK2: u16 = 23;
    /// Block1 (RFC 7959).
    pub const BLOCK1: u16 = 27;
    /// Size2 (RFC 7959).
    pub const SIZE2: u16 = 28;
    /// Size1.
    pub const SIZE1: u16 = 60;
}

/// Content-Format numbers used by LwM2M 1.0.
pub mod cf {
    /// text/plain.
    pub const TEXT: u16 = 0;
    /// application/link-format.
    pub const LINK_FORMAT: u16 = 40;
    /// application/octet-stream.
    pub const OPAQUE: u16 = 42;
    /// application/vnd.oma.lwm2m+tlv.
    pub const TLV: u16 = 11542;
    /// application/vnd.oma.lwm2m+json.
    pub const JSON: u16 = 11543;
}

/// A CoAP code (`class << 5 | detail`). `Display` and `Debug` print `2.05`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u8);

impl Code {
    /// 0.00 (empty message).
    pub const EMPTY: Code = Code(0x00);
    /// 0.01 GET.
    pub const GET: Code = Code(0x01);
    /// 0.02 POST.
    pub const POST: Code = Code(0x02);
    /// 0.03 PUT.
    pub const PUT: Code = Code(0x03);
    /// 0.04 DELETE.
    pub const DELETE: Code = Code(0x04);
    /// 2.01 Created.
    pub const CREATED: Code = Code(0x41);
    /// 2.02 Deleted.
    pub const DELETED: Code = Code(0x42);
    /// 2.03 Valid.
    pub const VALID: Code = Code(0x43);
    /// 2.04 Changed.
    pub const CHANGED: Code = Code(0x44);
    /// 2.05 Content.
    pub const CONTENT: Code = Code(0x45);
    /// 2.31 Continue.
    pub const CONTINUE: Code = Code(0x5F);
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: Code = Code(0x80);
    /// 4.01 Unauthorized.
    pub const UNAUTHORIZED: Code = Code(0x81);
    /// 4.02 Bad Option.
    pub const BAD_OPTION: Code = Code(0x82);
    /// 4.03 Forbidden.
    pub const FORBIDDEN: Code = Code(0x83);
    /// 4.04 Not Found.
    pub const NOT_FOUND: Code = Code(0x84);
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Code = Code(0x85);
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: Code = Code(0x86);
    /// 4.08 Request Entity Incomplete.
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code(0x88);
    /// 4.12 Precondition Failed.
    pub const PRECONDITION_FAILED: Code = Code(0x8C);
    /// 4.13 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Code = Code(0x8D);
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_CONTENT_FORMAT: Code = Code(0x8F);
    /// 5.00 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Code = Code(0xA0);
    /// 5.01 Not Implemented.
    pub const NOT_IMPLEMENTED: Code = Code(0xA1);
    /// 5.03 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Code = Code(0xA3);

    /// Builds `class.detail`.
    pub const fn new(class: u8, detail: u8) -> Code {
        Code((class << 5) | (detail & 0x1F))
    }
    /// The class (0 request/empty, 2 success, 4 client error, 5 server error).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }
    /// The detail.
    pub const fn detail(self) -> u8 {
        self.0 & 0x1F
    }
    /// 0.00.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// 0.01..=0.31.
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.0 != 0
    }
    /// Class 2..=5.
    pub const fn is_response(self) -> bool {
        self.class() >= 2
    }
    /// Class 2.
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// CoAP message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// Confirmable.
    Con,
    /// Non-confirmable.
    Non,
    /// Acknowledgement.
    Ack,
    /// Reset.
    Rst,
}

impl MsgType {
    fn to_lite(self) -> MessageType {
        match self {
            MsgType::Con => MessageType::Confirmable,
            MsgType::Non => MessageType::NonConfirmable,
            MsgType::Ack => MessageType::Acknowledgement,
            MsgType::Rst => MessageType::Reset,
        }
    }
    fn from_lite(t: MessageType) -> MsgType {
        match t {
            MessageType::Confirmable => MsgType::Con,
            MessageType::NonConfirmable => MsgType::Non,
            MessageType::Acknowledgement => MsgType::Ack,
            MessageType::Reset => MsgType::Rst,
        }
    }
}

/// A Block1/Block2 option value (RFC 7959).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Block number.
    pub num: u32,
    /// More flag.
    pub more: bool,
    /// Size exponent: size = 16 << szx (0..=6).
    pub szx: u8,
}

impl Block {
    /// Decodes the option value (0..=3 bytes).
    pub fn decode(value: &[u8]) -> Result<Block, String> {
        if value.len() > 3 {
            return Err(format!("block option of {} bytes", value.len()));
        }
        let v = decode_uint(value)?;
        let szx = (v & 7) as u8;
        if szx == 7 {
            return Err("block szx 7 is reserved".into());
        }
        Ok(Block { num: v >> 4, more: v & 8 != 0, szx })
    }
    /// Encodes to the minimal option value.
    pub fn encode(&self) -> Vec<u8> {
        encode_uint((self.num << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 7))
    }
    /// Block size in bytes.
    pub fn size(&self) -> usize {
        16usize << self.szx
    }
    /// Byte offset of this block.
    pub fn offset(&self) -> usize {
        self.num as usize * self.size()
    }
}

/// Size exponent for a block size in bytes (16..=1024, power of two).
pub fn szx_for(size: usize) -> Option<u8> {
    (0u8..=6).find(|&s| 16usize << s == size)
}

/// Minimal big-endian encoding of a uint option (0 is the empty string).
pub fn encode_uint(v: u32) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    bytes[skip..].to_vec()
}

/// Decodes a uint option of up to 4 bytes.
pub fn decode_uint(value: &[u8]) -> Result<u32, String> {
    if value.len() > 4 {
        return Err(format!("uint option of {} bytes", value.len()));
    }
    Ok(value.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Everything the test kit parsed out of one received datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Message type.
    pub mtype: MsgType,
    /// Code.
    pub code: Code,
    /// Message id.
    pub mid: u16,
    /// Token bytes.
    pub token: Vec<u8>,
    /// Uri-Path segments.
    pub path: Vec<String>,
    /// Uri-Query values (`ep=name`, `lt=300`, ...), in order.
    pub queries: Vec<String>,
    /// Location-Path segments.
    pub location_path: Vec<String>,
    /// Content-Format.
    pub content_format: Option<u16>,
    /// Accept.
    pub accept: Option<u16>,
    /// Observe.
    pub observe: Option<u32>,
    /// Block1.
    pub block1: Option<Block>,
    /// Block2.
    pub block2: Option<Block>,
    /// Size1.
    pub size1: Option<u32>,
    /// Size2.
    pub size2: Option<u32>,
    /// Every option in wire order (number, raw value).
    pub options: Vec<(u16, Vec<u8>)>,
    /// Payload (without the 0xFF marker).
    pub payload: Vec<u8>,
    /// The datagram exactly as received.
    pub raw: Vec<u8>,
}

impl Received {
    /// Parses one datagram. Errors describe what is malformed (version, token length, options,
    /// payload marker without payload, non-UTF-8 path/query, bad uint/Block values).
    pub fn parse(datagram: &[u8]) -> Result<Received, String> {
        if datagram.len() < 4 {
            return Err(format!("datagram of {} bytes", datagram.len()));
        }
        if datagram[0] >> 6 != 1 {
            return Err(format!("CoAP version {}", datagram[0] >> 6));
        }
        let packet = Packet::from_bytes(datagram).map_err(|e| format!("coap-lite: {e:?}"))?;
        let code = Code(u8::from(packet.header.code));
        if (6..=7).contains(&code.class()) || code.class() == 1 {
            return Err(format!("reserved code class {code}"));
        }
        if code.is_empty() && (datagram.len() != 4) {
            return Err("empty message with token, options or payload".into());
        }
        // coap-lite drops a 0xFF marker followed by nothing; RFC 7252 says that is a format
        // error. Detect it: the re-encoded length differs from what we received.
        let mut rec = Received {
            mtype: MsgType::from_lite(packet.header.get_type()),
            code,
            mid: packet.header.message_id,
            token: packet.get_token().to_vec(),
            path: Vec::new(),
            queries: Vec::new(),
            location_path: Vec::new(),
            content_format: None,
            accept: None,
            observe: None,
            block1: None,
            block2: None,
            size1: None,
            size2: None,
            options: Vec::new(),
            payload: packet.payload.clone(),
            raw: datagram.to_vec(),
        };
        for (&number, values) in packet.options() {
            for value in values {
                rec.options.push((number, value.clone()));
                let text = || {
                    String::from_utf8(value.clone())
                        .map_err(|_| format!("option {number} is not UTF-8"))
                };
                let uint = || decode_uint(value).map_err(|e| format!("option {number}: {e}"));
                match number {
                    opt::URI_PATH => rec.path.push(text()?),
                    opt::URI_QUERY => rec.queries.push(text()?),
                    opt::LOCATION_PATH => rec.location_path.push(text()?),
                    opt::CONTENT_FORMAT => rec.content_format = Some(u16_opt(uint()?, number)?),
                    opt::ACCEPT => rec.accept = Some(u16_opt(uint()?, number)?),
                    opt::OBSERVE => {
                        if value.len() > 3 {
                            return Err("observe option longer than 3 bytes".into());
                        }
                        rec.observe = Some(uint()?)
                    }
                    opt::BLOCK1 => rec.block1 = Some(Block::decode(value)?),
                    opt::BLOCK2 => rec.block2 = Some(Block::decode(value)?),
                    opt::SIZE1 => rec.size1 = Some(uint()?),
                    opt::SIZE2 => rec.size2 = Some(uint()?),
                    _ => {}
                }
            }
        }
        let reencoded = packet.to_bytes_unlimited().map_err(|e| format!("coap-lite: {e:?}"))?;
        if reencoded.len() != datagram.len() {
            return Err("payload marker without payload (or non-canonical option encoding)".into());
        }
        Ok(rec)
    }

    /// The Uri-Path as `/a/b` (`/` when empty).
    pub fn path_str(&self) -> String {
        if self.path.is_empty() {
            "/".into()
        } else {
            self.path.iter().map(|s| format!("/{s}")).collect()
        }
    }

    /// The value of query `key=value` (first occurrence), or `Some("")` for a bare `key`.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.queries.iter().find_map(|q| match q.split_once('=') {
            Some((k, v)) if k == key => Some(v),
            None if q == key => Some(""),
            _ => None,
        })
    }

    /// The payload as UTF-8 (lossy).
    pub fn payload_str(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// The values of every occurrence of an option.
    pub fn option_values(&self, number: u16) -> Vec<&[u8]> {
        self.options.iter().filter(|(n, _)| *n == number).map(|(_, v)| v.as_slice()).collect()
    }

    /// Is this a request (0.01..)?
    pub fn is_request(&self) -> bool {
        self.code.is_request()
    }
}

fn u16_opt(v: u32, number: u16) -> Result<u16, String> {
    u16::try_from(v).map_err(|_| format!("option {number} value {v} exceeds u16"))
}

/// A datagram under construction. Options may be added in any order; the encoder sorts them
/// (stable, so repeated options keep their relative order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    /// Message type.
    pub mtype: MsgType,
    /// Code.
    pub code: Code,
    /// Message id.
    pub mid: u16,
    /// Token (0..=8 bytes).
    pub token: Vec<u8>,
    /// Options (number, raw value).
    pub options: Vec<(u16, Vec<u8>)>,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Msg {
    /// A message without options or payload.
    pub fn new(mtype: MsgType, code: Code, mid: u16, token: &[u8]) -> Msg {
        Msg { mtype, code, mid, token: token.to_vec(), options: Vec::new(), payload: Vec::new() }
    }
    /// An empty ACK for `mid`.
    pub fn empty_ack(mid: u16) -> Msg {
        Msg::new(MsgType::Ack, Code::EMPTY, mid, &[])
    }
    /// An RST for `mid`.
    pub fn rst(mid: u16) -> Msg {
        Msg::new(MsgType::Rst, Code::EMPTY, mid, &[])
    }
    /// Adds a raw option.
    pub fn option(mut self, number: u16, value: &[u8]) -> Msg {
        self.options.push((number, value.to_vec()));
        self
    }
    /// Adds a uint option, minimal length.
    pub fn option_uint(self, number: u16, value: u32) -> Msg {
        self.option(number, &encode_uint(value))
    }
    /// Adds one Uri-Path option per non-empty segment of `/a/b/c`.
    pub fn path(mut self, path: &str) -> Msg {
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            self.options.push((opt::URI_PATH, seg.as_bytes().to_vec()));
        }
        self
    }
    /// Adds one Location-Path option per non-empty segment.
    pub fn location(mut self, path: &str) -> Msg {
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            self.options.push((opt::LOCATION_PATH, seg.as_bytes().to_vec()));
        }
        self
    }
    /// Adds a Uri-Query option (`"ep=node"`).
    pub fn query(self, q: &str) -> Msg {
        self.option(opt::URI_QUERY, q.as_bytes())
    }
    /// Adds Content-Format.
    pub fn content_format(self, cf: u16) -> Msg {
        self.option_uint(opt::CONTENT_FORMAT, u32::from(cf))
    }
    /// Adds Accept.
    pub fn accept(self, cf: u16) -> Msg {
        self.option_uint(opt::ACCEPT, u32::from(cf))
    }
    /// Adds Observe.
    pub fn observe(self, v: u32) -> Msg {
        self.option_uint(opt::OBSERVE, v)
    }
    /// Adds Block1.
    pub fn block1(self, b: Block) -> Msg {
        self.option(opt::BLOCK1, &b.encode())
    }
    /// Adds Block2.
    pub fn block2(self, b: Block) -> Msg {
        self.option(opt::BLOCK2, &b.encode())
    }
    /// Sets the payload.
    pub fn payload(mut self, p: &[u8]) -> Msg {
        self.payload = p.to_vec();
        self
    }
    /// Encodes with coap-lite (no size limit). Panics only on a token longer than 8 bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        assert!(self.token.len() <= 8, "token longer than 8 bytes");
        let mut p = Packet::new();
        p.header.set_version(1);
        p.header.set_type(self.mtype.to_lite());
        p.header.code = MessageClass::from(self.code.0);
        p.header.message_id = self.mid;
        p.set_token(self.token.clone());
        let mut opts = self.options.clone();
        opts.sort_by_key(|(n, _)| *n);
        for (n, v) in opts {
            p.add_option(CoapOption::from(n), v);
        }
        p.payload = self.payload.clone();
        p.to_bytes_unlimited().expect("coap-lite encodes any packet without a size limit")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_display() {
        assert_eq!(Code::CONTENT.to_string(), "2.05");
        assert_eq!(format!("{:?}", Code::FORBIDDEN), "4.03");
        assert_eq!(Code::new(4, 4), Code::NOT_FOUND);
        assert!(Code::GET.is_request() && !Code::EMPTY.is_request());
    }

    #[test]
    fn block_roundtrip() {
        for b in [
            Block { num: 0, more: false, szx: 0 },
            Block { num: 1, more: true, szx: 6 },
            Block { num: 4095, more: true, szx: 2 },
            Block { num: 70000, more: false, szx: 6 },
        ] {
            assert_eq!(Block::decode(&b.encode()).unwrap(), b);
        }
        assert_eq!(Block { num: 0, more: false, szx: 0 }.encode(), Vec::<u8>::new());
        assert_eq!(Block { num: 2, more: true, szx: 6 }.encode(), vec![0x2E]);
        assert!(Block::decode(&[0x07]).is_err());
        assert_eq!(Block { num: 3, more: false, szx: 2 }.offset(), 192);
    }

    #[test]
    fn build_and_parse() {
        let d = Msg::new(MsgType::Con, Code::POST, 0x1234, &[1, 2, 3])
            .query("ep=dev")
            .path("/rd")
            .content_format(cf::LINK_FORMAT)
            .query("lt=300")
            .payload(b"</1/0>")
            .to_bytes();
        // header: ver 1, CON, tkl 3; code 0.02; mid
        assert_eq!(&d[..4], &[0x43, 0x02, 0x12, 0x34]);
        let r = Received::parse(&d).unwrap();
        assert_eq!(r.mtype, MsgType::Con);
        assert_eq!(r.code, Code::POST);
        assert_eq!(r.mid, 0x1234);
        assert_eq!(r.token, vec![1, 2, 3]);
        assert_eq!(r.path, vec!["rd"]);
        assert_eq!(r.path_str(), "/rd");
        assert_eq!(r.queries, vec!["ep=dev", "lt=300"]);
        assert_eq!(r.query("lt"), Some("300"));
        assert_eq!(r.content_format, Some(40));
        assert_eq!(r.payload, b"</1/0>");
        assert_eq!(r.raw, d);
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(Received::parse(&[0x40, 0x01]).is_err());
        assert!(Received::parse(&[0x80, 0x01, 0, 1]).is_err()); // version 2
        assert!(Received::parse(&[0x40, 0x01, 0, 1, 0xFF]).is_err()); // marker, no payload
        assert!(Received::parse(&[0x49, 0x01, 0, 1]).is_err()); // tkl 9
        assert!(Received::parse(&[0x41, 0x00, 0, 1, 7]).is_err()); // empty with token
        let ok = Received::parse(&[0x60, 0x00, 0, 1]).unwrap();
        assert_eq!(ok.mtype, MsgType::Ack);
        assert!(ok.code.is_empty());
    }
}
