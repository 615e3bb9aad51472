//! Differential tests against `coap-lite`: thousands of deterministic pseudo-random messages
//! encoded by one side and decoded by the other, every field compared.

use coap_lite::{MessageClass, MessageType, Packet};
mod common;

use common::{encode_ours, random_spec, Spec};
use lwm2m_coap::{Code, Message, MsgType, Rng};

fn lite_type(t: MsgType) -> MessageType {
    match t {
        MsgType::Con => MessageType::Confirmable,
        MsgType::Non => MessageType::NonConfirmable,
        MsgType::Ack => MessageType::Acknowledgement,
        MsgType::Rst => MessageType::Reset,
    }
}

fn encode_lite(s: &Spec) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_version(1);
    p.header.set_type(lite_type(s.mtype));
    p.header.code = MessageClass::from(s.code);
    p.header.message_id = s.mid;
    p.set_token(s.token.clone());
    for (n, v) in &s.opts {
        p.add_option((*n).into(), v.clone());
    }
    p.payload = s.payload.clone();
    p.to_bytes_unlimited().unwrap()
}

fn check_ours_decoded(s: &Spec, wire: &[u8]) {
    let m = Message::parse(wire).unwrap_or_else(|e| panic!("{e}: {s:?}"));
    assert_eq!(m.mtype, s.mtype);
    assert_eq!(m.code, Code(s.code));
    assert_eq!(m.mid, s.mid);
    assert_eq!(m.token.as_slice(), &s.token[..]);
    let got: Vec<(u16, Vec<u8>)> = m.options().map(|o| (o.number, o.value.to_vec())).collect();
    assert_eq!(got, s.opts);
    assert_eq!(m.payload, &s.payload[..]);
    for (n, _) in &s.opts {
        let want: Vec<&[u8]> = s.opts.iter().filter(|(m, _)| m == n).map(|(_, v)| &v[..]).collect();
        assert_eq!(m.options_with(*n).collect::<Vec<_>>(), want);
        assert_eq!(m.option(*n), Some(want[0]));
    }
}

fn check_lite_decoded(s: &Spec, wire: &[u8]) {
    let p = Packet::from_bytes(wire).unwrap();
    assert_eq!(p.header.get_version(), 1);
    assert_eq!(p.header.get_type(), lite_type(s.mtype));
    assert_eq!(u8::from(p.header.code), s.code);
    assert_eq!(p.header.message_id, s.mid);
    assert_eq!(p.get_token(), &s.token[..]);
    // coap-lite groups options by number, keeping the order of repeats.
    let got: Vec<(u16, Vec<u8>)> =
        p.options().flat_map(|(n, vs)| vs.iter().map(move |v| (*n, v.clone()))).collect();
    assert_eq!(got, s.opts);
    assert_eq!(p.payload, s.payload);
}

const CASES: u64 = 4000;

#[test]
fn ours_encode_coap_lite_decodes() {
    let mut rng = Rng::new(0x0C0A_9001);
    for _ in 0..CASES {
        let s = random_spec(&mut rng, 100_000);
        let wire = encode_ours(&s);
        check_lite_decoded(&s, &wire);
    }
}

#[test]
fn coap_lite_encodes_ours_decodes() {
    let mut rng = Rng::new(0x0C0A_9002);
    for _ in 0..CASES {
        let s = random_spec(&mut rng, 100_000);
        let wire = encode_lite(&s);
        check_ours_decoded(&s, &wire);
    }
}

#[test]
fn both_encoders_agree_byte_for_byte() {
    // The CoAP option encoding is unique (each delta/length has exactly one form), so two
    // correct encoders must produce identical bytes.
    let mut rng = Rng::new(0x0C0A_9003);
    for _ in 0..CASES {
        let s = random_spec(&mut rng, 100_000);
        assert_eq!(encode_ours(&s), encode_lite(&s), "{s:?}");
    }
}
