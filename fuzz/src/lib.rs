//! Bodies of the fuzz targets, shared by the libFuzzer binaries in `fuzz_targets/` and by the
//! corpus replay (`replay.rs`), which runs on stable without libFuzzer.
//!
//! Every body must accept any input without panicking. Where a parser's documentation promises
//! something checkable (a parsed message re-encodes to one that parses the same, a validated TLV
//! tree walks without error), the body asserts it, so that a broken promise is a crash too.

use lwm2m_coap::{Message, MessageBuilder};
use lwm2m_formats::{link, tlv};

/// A named fuzz target body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target the replay runs, in the order it reports them.
pub const TARGETS: &[Target] = &[
    Target { name: "coap_decode", run: coap_decode },
    Target { name: "tlv_decode", run: tlv_decode },
    Target { name: "link_decode", run: link_decode },
    Target { name: "http_response", run: http_response },
    #[cfg(feature = "engine")]
    Target { name: "engine_datagram", run: engine_datagram },
];

/// HTTP responses from a firmware server: the parser fed the input whole and split two ways
/// must never panic and must reach the same result (`fuzz_response` asserts it).
pub fn http_response(data: &[u8]) {
    let _ = lwm2m_fota::http::fuzz_response(data);
}

/// CoAP: parse, walk every option and typed accessor, then re-encode what was parsed and check
/// that the copy parses to the same message.
pub fn coap_decode(data: &[u8]) {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let mut count = 0usize;
    for o in m.options() {
        count += 1;
        let _ = m.option(o.number);
        let _ = m.options_with(o.number).count();
        let _ = m.uint_option(o.number);
    }
    let _ = (m.content_format(), m.accept(), m.observe());
    if let Ok(Some(b)) = m.block1() {
        let _ = (b.size(), b.offset(), b.to_uint());
    }
    if let Ok(Some(b)) = m.block2() {
        let _ = (b.size(), b.offset(), b.to_uint());
    }
    let _ = m.uri_path().count() + m.uri_query().count() + m.location_path().count();
    let _ = m.unknown_critical_option(&[lwm2m_coap::opt::URI_PATH, lwm2m_coap::opt::URI_QUERY]);

    // Round trip: a message the parser accepted fits in a buffer of the same size.
    let mut buf = vec![0u8; data.len()];
    let mut b = MessageBuilder::new(&mut buf, m.mtype, m.code, m.mid, &m.token)
        .expect("builder rejected the header of a parsed message");
    for o in m.options() {
        b.option(o.number, o.value).expect("builder rejected an option of a parsed message");
    }
    let len = b.finish_with(m.payload).expect("builder rejected the payload of a parsed message");
    let again = Message::parse(&buf[..len]).expect("re-encoded message does not parse");
    assert_eq!(
        (again.mtype, again.code, again.mid, again.token),
        (m.mtype, m.code, m.mid, m.token)
    );
    assert_eq!(again.payload, m.payload);
    assert!(again.options().eq(m.options()), "options differ after a round trip");
    assert_eq!(m.options().count(), count);
}

/// TLV: validate the whole tree, then walk it with the reader, decoding every leaf as every type.
pub fn tlv_decode(data: &[u8]) {
    let valid = tlv::validate(data).is_ok();
    let clean = walk_tlv(tlv::Reader::new(data), 0);
    if valid {
        assert!(clean, "validate() accepted a tree the reader fails on");
    }
}

/// Walks one level and recurses into containers; returns false if the reader reported an error
/// anywhere below.
fn walk_tlv(reader: tlv::Reader<'_>, depth: u8) -> bool {
    let mut clean = true;
    for item in reader {
        let Ok(t) = item else {
            clean = false;
            continue;
        };
        let _ = tlv::header_len(t.id, t.value.len());
        match t.kind {
            tlv::Kind::ObjectInstance | tlv::Kind::MultipleResource => {
                // The format nests at most three levels; stop well beyond that.
                if depth < 4 {
                    clean &= walk_tlv(t.children(), depth + 1);
                }
            }
            tlv::Kind::Resource | tlv::Kind::ResourceInstance => {
                let _ = (tlv::decode_int(t.value), tlv::decode_bool(t.value));
                let _ = (tlv::decode_float(t.value), tlv::decode_objlnk(t.value));
                let _ = tlv::decode_str(t.value);
            }
        }
    }
    clean
}

/// CoRE link format: walk every link and every attribute, and look attributes up by name.
pub fn link_decode(data: &[u8]) {
    for l in link::Parser::new(data).take(1024) {
        let Ok(l) = l else {
            continue;
        };
        let _ = l.target.len();
        for (name, value) in l.attrs() {
            let _ = (name.len(), value.map(str::len));
        }
        let _ = (l.attr("pmin"), l.attr("rt"), l.attr("ct"));
    }
}

/// The whole engine fed one datagram (after registration).
#[cfg(feature = "engine")]
pub fn engine_datagram(data: &[u8]) {
    lwm2m_carrier_core::fuzz_datagram(data);
}
