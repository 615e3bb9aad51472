//! Shared helpers: deterministic random message specs and our encoder.
#![allow(dead_code)]

use lwm2m_coap::{Code, Message, MessageBuilder, MsgType, Rng, Token};

#[derive(Debug, Clone)]
pub struct Spec {
    pub mtype: MsgType,
    pub code: u8,
    pub mid: u16,
    pub token: Vec<u8>,
    pub opts: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

pub fn bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

pub fn random_spec(rng: &mut Rng, max_len: u32) -> Spec {
    let mtype = MsgType::from_bits(rng.below(4) as u8);
    if rng.below(10) == 0 {
        return Spec {
            mtype,
            code: 0,
            mid: rng.next_u32() as u16,
            token: vec![],
            opts: vec![],
            payload: vec![],
        };
    }
    let code = match rng.below(4) {
        0 => Code::new(0, 1 + rng.below(31) as u8).0,
        1 => Code::new(2, rng.below(32) as u8).0,
        2 => Code::new(4, rng.below(32) as u8).0,
        _ => Code::new(5, rng.below(32) as u8).0,
    };
    let tkl = rng.below(9) as usize;
    let token = bytes(rng, tkl);
    let nopts = rng.below(9);
    let mut number = 0u16;
    let mut opts = Vec::new();
    for _ in 0..nopts {
        // Mostly small steps (repeats included), some 13/14 extended deltas.
        let step = match rng.below(10) {
            0..=2 => 0,
            3..=6 => rng.below(13),
            7 | 8 => 13 + rng.below(256),
            _ => 269 + rng.below(3000),
        } as u16;
        number = match number.checked_add(step) {
            Some(n) => n,
            None => break,
        };
        let len = match rng.below(10) {
            0..=6 => rng.below(13),
            7 | 8 => (13 + rng.below(256)).min(max_len),
            _ => (269 + rng.below(400)).min(max_len),
        } as usize;
        opts.push((number, bytes(rng, len)));
    }
    if rng.below(50) == 0 {
        opts.push((65535, bytes(rng, 2)));
    }
    let payload = if rng.below(3) == 0 {
        vec![]
    } else {
        let len = 1 + rng.below(200).min(max_len) as usize;
        bytes(rng, len)
    };
    Spec { mtype, code, mid: rng.next_u32() as u16, token, opts, payload }
}

pub fn encode_ours(s: &Spec) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let tok = Token::from_slice(&s.token).unwrap();
    let mut b = MessageBuilder::new(&mut buf, s.mtype, Code(s.code), s.mid, &tok).unwrap();
    for (n, v) in &s.opts {
        b.option(*n, v).unwrap();
    }
    let n = b.finish_with(&s.payload).unwrap();
    buf.truncate(n);
    buf
}

/// Re-encodes a parsed message with our builder.
pub fn reencode(m: &Message<'_>) -> Vec<u8> {
    let mut buf =
        vec![
            0u8;
            4 + 8 + m.payload.len() + 1 + m.options().map(|o| 5 + o.value.len()).sum::<usize>()
        ];
    let mut b = MessageBuilder::new(&mut buf, m.mtype, m.code, m.mid, &m.token).unwrap();
    for o in m.options() {
        b.option(o.number, o.value).unwrap();
    }
    let n = b.finish_with(m.payload).unwrap();
    buf.truncate(n);
    buf
}
