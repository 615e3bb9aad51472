//! The CoAP and format crates called directly (feature `codec-api`): their public API, including
//! parts the client itself never calls (the link-format parser, for one). Without this feature
//! the image holds only what the carrier reaches, as a Zephyr image would. Same conventions as
//! `exercise`.

use core::hint::black_box;

use lwm2m_coap::{opt, Code, Message, MessageBuilder, MsgType, Token};
use lwm2m_formats::{link, text, tlv, Path, Sink, SliceSink};

use crate::exercise::GET_REQUEST;

/// Parses a request, walks its options and accessors, then builds a response with options and
/// a payload.
#[inline(never)]
pub fn coap() -> usize {
    let datagram = black_box(&GET_REQUEST[..]);
    let mut n = 0usize;
    if let Ok(m) = Message::parse(datagram) {
        for o in m.options() {
            n = n.wrapping_add(usize::from(o.number) + o.value.len());
        }
        n = n.wrapping_add(m.uri_path().count() + m.uri_query().count());
        n += usize::from(matches!(m.observe(), Ok(Some(_))));
        n += usize::from(matches!(m.block1(), Ok(Some(_))));
        n += usize::from(matches!(m.block2(), Ok(Some(_))));
        n += usize::from(matches!(m.content_format(), Ok(Some(_))));
        n += usize::from(m.unknown_critical_option(&[opt::URI_PATH]).is_some());

        let mut buf = [0u8; 64];
        let code = black_box(Code::CONTENT);
        if let Ok(mut b) = MessageBuilder::new(&mut buf, MsgType::Ack, code, m.mid, &m.token) {
            let ok = b.option_uint(opt::OBSERVE, black_box(7)).is_ok()
                && b.option_uint(opt::CONTENT_FORMAT, black_box(0)).is_ok();
            if ok {
                n = n.wrapping_add(b.finish_with(black_box(b"42")).unwrap_or(0));
            }
        }
    }
    let token = Token::from_u64(black_box(0x0102_0304), 4);
    n.wrapping_add(token.len())
}

/// A TLV object instance 0 holding resource 0 = "Nordic" and resource 9 = 100.
const TLV_INSTANCE: [u8; 14] =
    [0x08, 0x00, 0x0B, 0xC6, 0x00, b'N', b'o', b'r', b'd', b'i', b'c', 0xC1, 0x09, 0x64];

/// A registration link list.
const LINKS: &[u8] = b"</>;rt=\"oma.lwm2m\",</1/0>,</3/0>;pmin=10,</5/0>";

/// Walks TLV, plain text and link format in both directions, and parses paths.
#[inline(never)]
pub fn formats() -> usize {
    let mut n = 0usize;

    let payload = black_box(&TLV_INSTANCE[..]);
    n += usize::from(tlv::validate(payload).is_ok());
    for t in tlv::Reader::new(payload).flatten() {
        for r in t.children().flatten() {
            n = n.wrapping_add(tlv::decode_int(r.value).unwrap_or(0) as usize);
            n = n.wrapping_add(tlv::decode_str(r.value).map_or(0, str::len));
        }
    }

    for l in link::Parser::new(black_box(LINKS)).flatten() {
        n = n.wrapping_add(l.target.len() + l.attrs().count());
    }

    let value = text::parse_int(black_box(b"-1234")).unwrap_or(0);
    let path = Path::from_str(black_box("/3/0/9")).unwrap_or(Path::ROOT);

    let mut out = [0u8; 96];
    let mut sink = SliceSink::new(&mut out);
    let _ = tlv::write_int(&mut sink, tlv::Kind::Resource, 9, value);
    let _ = tlv::write_str(&mut sink, tlv::Kind::Resource, 0, black_box("Nordic"));
    let _ = text::write_int(&mut sink, value);
    {
        let mut w = link::Writer::new(&mut sink);
        let _ = w.link(&path);
        let _ = w.attr_uint("pmin", black_box(10));
    }
    n.wrapping_add(sink.len() + path.len())
}
