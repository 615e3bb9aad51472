//! No parser may panic, whatever the input: random byte strings, random strings over each
//! format's alphabet, and mutations of valid payloads. Deterministic seeds.

use lwm2m_formats::{fuzz_all, link, tlv};

/// xorshift64*: small deterministic generator for the tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_strings(seed: u64, count: usize, max_len: usize, alphabet: &[u8]) {
    let mut r = Rng(seed);
    let mut buf = Vec::with_capacity(max_len);
    for _ in 0..count {
        buf.clear();
        let n = r.below(max_len + 1);
        for _ in 0..n {
            buf.push(if alphabet.is_empty() {
                r.next() as u8
            } else {
                alphabet[r.below(alphabet.len())]
            });
        }
        fuzz_all(&buf);
        check_consistency(&buf);
    }
}

/// Cross-checks between the parsers' own answers.
fn check_consistency(buf: &[u8]) {
    if tlv::validate(buf).is_ok() {
        assert!(tlv::Reader::new(buf).all(|t| t.is_ok()));
    }
    let items: Vec<_> = link::Parser::new(buf).collect();
    if let Some(pos) = items.iter().position(Result::is_err) {
        assert_eq!(pos, items.len() - 1, "parser not fused");
    }
}

fn mutate(seed: u64, count: usize, base: &[u8], extra: &[u8]) {
    let mut r = Rng(seed);
    let mut buf = Vec::new();
    for _ in 0..count {
        buf.clear();
        buf.extend_from_slice(base);
        for _ in 0..1 + r.below(4) {
            let len = buf.len().max(1);
            match r.below(6) {
                0 => {
                    let i = r.below(len);
                    if let Some(b) = buf.get_mut(i) {
                        *b ^= 1 << r.below(8);
                    }
                }
                1 => {
                    let i = r.below(len);
                    if let Some(b) = buf.get_mut(i) {
                        *b = r.next() as u8;
                    }
                }
                2 => {
                    let v =
                        if extra.is_empty() { r.next() as u8 } else { extra[r.below(extra.len())] };
                    buf.insert(r.below(buf.len() + 1), v);
                }
                3 if !buf.is_empty() => {
                    buf.remove(r.below(buf.len()));
                }
                4 => buf.truncate(r.below(len)),
                _ => {
                    let i = r.below(len);
                    if let Some(b) = buf.get_mut(i) {
                        *b = extra.get(r.below(extra.len().max(1))).copied().unwrap_or(0);
                    }
                }
            }
        }
        fuzz_all(&buf);
        check_consistency(&buf);
    }
}

#[rustfmt::skip]
const TLV_DEVICE: &[u8] = &[
    0x08, 0x00, 0x79,
    0xC8, 0x00, 0x14, b'O', b'p', b'e', b'n', b' ', b'M', b'o', b'b', b'i', b'l', b'e', b' ',
        b'A', b'l', b'l', b'i', b'a', b'n', b'c', b'e',
    0xC8, 0x01, 0x16, b'L', b'i', b'g', b'h', b't', b'w', b'e', b'i', b'g', b'h', b't', b' ',
        b'M', b'2', b'M', b' ', b'C', b'l', b'i', b'e', b'n', b't',
    0xC8, 0x02, 0x09, b'3', b'4', b'5', b'0', b'0', b'0', b'1', b'2', b'3',
    0xC3, 0x03, b'1', b'.', b'0',
    0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05,
    0x88, 0x07, 0x08, 0x42, 0x00, 0x0E, 0xD8, 0x42, 0x01, 0x13, 0x88,
    0x87, 0x08, 0x41, 0x00, 0x7D, 0x42, 0x01, 0x03, 0x84,
    0xC1, 0x09, 0x64, 0xC1, 0x0A, 0x0F, 0x83, 0x0B, 0x41, 0x00, 0x00,
    0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F,
    0xC6, 0x0E, b'+', b'0', b'2', b':', b'0', b'0',
    0xC1, 0x10, b'U',
];

const TLV_HEADER_BYTES: &[u8] = &[
    0x00, 0x08, 0x10, 0x18, 0x20, 0x41, 0x61, 0x83, 0x86, 0x88, 0x90, 0xC1, 0xC8, 0xD0, 0xE8, 0xF8,
    0xFF,
];
const LINK_ALPHABET: &[u8] = b"<>/;,=\"\\ az09.-*\t\xC3\xA9";

#[test]
fn random_bytes() {
    random_strings(1, 150_000, 48, &[]);
    random_strings(2, 20_000, 300, &[]);
}

#[test]
fn random_over_alphabets() {
    random_strings(3, 60_000, 40, TLV_HEADER_BYTES);
    random_strings(4, 60_000, 40, LINK_ALPHABET);
    random_strings(5, 60_000, 24, b"0123456789-+.eE:");
}

#[test]
fn mutated_tlv() {
    mutate(6, 60_000, TLV_DEVICE, TLV_HEADER_BYTES);
    mutate(7, 30_000, &TLV_DEVICE[3..], &[]);
}

#[test]
fn mutated_links() {
    let reg = br#"</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>,</5/0>"#;
    let disc = br#"</3/0>,</3/0/1>,</3/0/6>;dim=2,</3/0/9>;pmin=10;gt=50;title="a, b; \"c\"""#;
    mutate(8, 50_000, reg, LINK_ALPHABET);
    mutate(9, 50_000, disc, LINK_ALPHABET);
}

#[test]
fn mutated_text() {
    mutate(10, 30_000, b"-6.02214076e23", b"0123456789-+.eE:");
    mutate(11, 30_000, b"65535:65535", b"0123456789-+.eE:");
}
