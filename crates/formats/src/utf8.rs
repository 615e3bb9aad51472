//! UTF-8 validation without `core::str::from_utf8`.
//!
//! Why: `core::str::from_utf8` validates words at a time for speed and looks up sequence lengths
//! in a 256-byte table; on a Cortex-M33 that costs about 620 B of flash. The strings the client
//! sees (URIs, resource values, record fields) are a few dozen bytes, so a byte-at-a-time
//! check of RFC 3629 is as fast as it needs to be and a fraction of the size.
//!
//! This is the only `unsafe` in the protocol core: turning bytes this module has validated into
//! a `&str`. `tests::same_verdict_as_core` checks every input of up to three bytes and every
//! four-byte sequence shape against `core::str::from_utf8`.
#![allow(unsafe_code)]

/// `bytes` as a string slice when they are well-formed UTF-8 (RFC 3629: shortest form, no
/// surrogates, nothing above U+10FFFF), like `core::str::from_utf8(bytes).ok()`.
pub fn str_from_utf8(bytes: &[u8]) -> Option<&str> {
    if is_utf8(bytes) {
        // SAFETY: `is_utf8` accepted every byte of `bytes` as part of a well-formed UTF-8
        // sequence, which is the precondition of `from_utf8_unchecked`.
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

/// Whether `bytes` is well-formed UTF-8 (RFC 3629): decodes each sequence and refuses stray
/// continuation bytes, truncated sequences, overlong forms, surrogates and code points above
/// U+10FFFF.
fn is_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let [lead, tail @ ..] = rest {
        // The lead byte's leading ones give the sequence length: 0 for ASCII, 2 to 4 for a
        // multi-byte lead; 1 is a continuation byte and 5 or more never appear.
        let more = match lead.leading_ones() {
            0 => 0,
            n @ 2..=4 => n as usize - 1,
            _ => return false,
        };
        let Some((continuation, next)) = tail.split_at_checked(more) else {
            return false;
        };
        // The lead's payload bits (the bit below its leading ones is zero, so one mask per
        // length is enough), then six bits per continuation byte.
        let mut code_point = u32::from(lead & (0x7F >> more));
        for &c in continuation {
            if c & 0xC0 != 0x80 {
                return false;
            }
            code_point = code_point << 6 | u32::from(c & 0x3F);
        }
        let shortest = match more {
            0 => 0,
            1 => 0x80,
            2 => 0x800,
            _ => 0x1_0000,
        };
        let surrogate = (0xD800..=0xDFFF).contains(&code_point);
        if code_point < shortest || code_point > 0x10_FFFF || surrogate {
            return false;
        }
        rest = next;
    }
    true
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn check(b: &[u8]) {
        assert_eq!(str_from_utf8(b), core::str::from_utf8(b).ok(), "{b:02X?}");
    }

    #[test]
    fn same_verdict_as_core() {
        check(&[]);
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
                for c in 0..=255u8 {
                    check(&[a, b, c]);
                }
            }
        }
        // Four-byte sequences: every lead from F0 up, every second and third byte, and the
        // fourth at each edge of the continuation range.
        for a in 0xF0..=0xFFu8 {
            for b in 0..=255u8 {
                for c in 0..=255u8 {
                    for d in [0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF] {
                        check(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn longer_strings() {
        for s in ["", "urn:imei:490154203237518", "Europe/Oslo", "å∑😀 mixed ascii"] {
            assert_eq!(str_from_utf8(s.as_bytes()), Some(s));
            for cut in 0..s.len() {
                check(&s.as_bytes()[..cut]);
                check(&s.as_bytes()[cut..]);
            }
        }
        check(b"ok\xC0\xAFok"); // overlong '/'
        check(b"\xED\xA0\x80"); // surrogate U+D800
        check(b"\xF4\x90\x80\x80"); // above U+10FFFF
    }
}
