//! One function per crate, each calling that crate's public entry points on inputs hidden
//! behind `core::hint::black_box`, so that the optimiser can neither constant-fold the work nor
//! drop the code. Each function returns a value derived from the results for the same reason.
//!
//! Extend these as the crates grow: the report only counts what is reachable from here.
//! The functions are `#[inline(never)]` so that the code the optimiser inlines into them stays
//! attributable: `scripts/size-report` counts `exercise::coap` under `lwm2m_coap`,
//! `exercise::formats` under `lwm2m_formats`, `exercise::objects` under `lwm2m_objects` and
//! `exercise::engine` under `lwm2m_carrier_core`. Keep those names when extending.

use core::hint::black_box;

use lwm2m_coap::{opt, Code, Message, MessageBuilder, MsgType, Token};
use lwm2m_formats::{link, text, tlv, Path, Sink, SliceSink};

/// A CON GET /3/0/0 with a token: exercises header, token and option decoding.
const GET_REQUEST: [u8; 12] =
    [0x42, 0x01, 0x12, 0x34, 0xAB, 0xCD, 0xB1, b'3', 0x01, b'0', 0x01, b'0'];

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

/// The object registry (in a static): a Read of the Device object. Only used without the
/// engine, which owns the registry otherwise.
#[cfg(all(feature = "objects", not(feature = "engine")))]
#[inline(never)]
pub fn objects(registry: &mut lwm2m_objects::Registry) -> usize {
    use lwm2m_coap::Instant;
    use lwm2m_objects::{Caller, Ctx};

    let registry = black_box(registry);
    let ctx = Ctx { caller: Caller::Server { short_id: 1 }, now: Instant::from_millis(0) };
    let mut out = [0u8; 256];
    let mut sink = SliceSink::new(&mut out);
    let path = black_box(Path::instance(3, 0));
    let _ = registry.read(&ctx, &path, None, &mut sink);
    sink.len()
}

/// A fresh engine with factory-default objects.
#[cfg(feature = "engine")]
#[inline(never)]
pub fn new_engine() -> lwm2m_carrier_core::Engine {
    use lwm2m_carrier_core::{Config, Engine};
    use lwm2m_objects::Registry;

    let config = match Config::new(black_box("urn:imei:000000000000000")) {
        Some(c) => c,
        None => panic!(),
    };
    Engine::new(config, Registry::new(), black_box(1))
}

/// The engine (in a static; it owns its transmit buffers): start, connect, one datagram in,
/// timers, and everything it wants to send or do drained. The inputs are opaque, so every state
/// the engine can reach from them stays in the image.
// TODO(lead): extend with the application calls as they land (Device setters, FOTA, ...).
#[cfg(feature = "engine")]
#[inline(never)]
pub fn engine(engine: &mut lwm2m_carrier_core::Engine) -> usize {
    use lwm2m_carrier_core::ConnId;
    use lwm2m_coap::Instant;

    let now = Instant::from_millis(black_box(1_000));
    let conn = ConnId(black_box(0));
    let mut n = 0usize;
    if black_box(true) {
        engine.start(now);
    }
    if black_box(true) {
        engine.handle_connected(now, conn);
    } else {
        engine.handle_connect_failed(now, conn);
    }
    engine.handle_datagram(now, conn, black_box(&GET_REQUEST[..]));
    engine.handle_timeout(now.add_ms(black_box(60_000)));
    while let Some((_, datagram)) = engine.poll_transmit(now) {
        n = n.wrapping_add(black_box(datagram).len());
    }
    while let Some(action) = engine.poll_action(now) {
        black_box(&action);
        n += 1;
    }
    n.wrapping_add(engine.poll_at().map_or(0, |t| t.as_millis() as usize))
}
