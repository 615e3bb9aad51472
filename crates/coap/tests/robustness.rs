//! No panics on hostile input, and anything that parses re-encodes to the same bytes
//! (the CoAP option encoding is unique, so parse ∘ encode must be the identity).

mod common;

use common::{encode_ours, random_spec, reencode};
use lwm2m_coap::{fuzz_parse, Message, Rng};

/// Parses `data` through every accessor; if it is valid, checks the round trip.
fn probe(data: &[u8]) -> bool {
    fuzz_parse(data);
    match Message::parse(data) {
        Ok(m) => {
            assert_eq!(reencode(&m), data, "round trip of {data:02x?}");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn random_byte_strings() {
    let mut rng = Rng::new(0xF022_0001);
    let mut buf = [0u8; 48];
    let mut valid = 0;
    for _ in 0..300_000 {
        let len = rng.below(buf.len() as u32 + 1) as usize;
        let data = &mut buf[..len];
        rng.fill(data);
        // Bias most inputs past the version/TKL/code checks so options get exercised.
        if len > 1 && rng.below(4) != 0 {
            data[0] = 0x40 | (data[0] & 0x30) | (data[0] % 9);
            if rng.below(2) == 0 {
                data[1] &= 0x1F;
            }
        }
        valid += usize::from(probe(data));
    }
    // Sanity: the bias actually reaches the option parser with valid messages.
    assert!(valid > 1000, "only {valid} valid inputs");
}

#[test]
fn mutations_and_truncations_of_valid_messages() {
    let mut rng = Rng::new(0xF022_0002);
    let mut parses = 0u32;
    for _ in 0..200 {
        let s = random_spec(&mut rng, 40);
        let wire = encode_ours(&s);
        assert!(probe(&wire));
        // every truncation
        for cut in 0..wire.len() {
            probe(&wire[..cut]);
            parses += 1;
        }
        // every position, several replacement bytes (incl. the special nibbles 13/14/15)
        let mut m = wire.clone();
        for i in 0..wire.len() {
            let r = rng.next_u32() as u8;
            for v in [r, wire[i] ^ 0x01, wire[i] ^ 0x80, 0xFF, 0xDD, 0xEE, 0x0F, 0xF0] {
                m[i] = v;
                probe(&m);
                parses += 1;
            }
            m[i] = wire[i];
        }
        // appended garbage
        let mut m = wire.clone();
        m.push(rng.next_u32() as u8);
        probe(&m);
    }
    eprintln!("{parses} mutated or truncated inputs");
    assert!(parses > 100_000, "{parses}");
}
