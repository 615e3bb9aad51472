//! Plain-text content format.

use lwm2m_formats::text::{self, TextError};
use lwm2m_formats::{Overflow, Sink, SliceSink};

fn out(f: impl FnOnce(&mut SliceSink<'_>) -> Result<(), Overflow>) -> String {
    let mut buf = [0u8; 64];
    let mut s = SliceSink::new(&mut buf);
    f(&mut s).unwrap();
    String::from_utf8(s.written().to_vec()).unwrap()
}

#[test]
fn integers() {
    for v in [0i64, 1, -1, 42, -42, 86400, i64::MAX, i64::MIN, 1 << 40] {
        let s = out(|s| text::write_int(s, v));
        assert_eq!(s, v.to_string());
        assert_eq!(text::parse_int(s.as_bytes()), Ok(v));
    }
    assert_eq!(text::parse_int(b"007"), Ok(7));
    assert_eq!(text::parse_int(b"-0"), Ok(0));
    for bad in [&b""[..], b"-", b"+5", b" 5", b"5 ", b"1.0", b"0x10", b"--1", b"1e3"] {
        assert_eq!(text::parse_int(bad), Err(TextError::Syntax), "{bad:?}");
    }
    assert_eq!(text::parse_int(b"9223372036854775808"), Err(TextError::Range));
    assert_eq!(text::parse_int(b"-9223372036854775809"), Err(TextError::Range));
    assert_eq!(text::parse_int(b"99999999999999999999999"), Err(TextError::Range));
}

#[test]
fn booleans_and_objlnk() {
    assert_eq!(text::parse_bool(b"0"), Ok(false));
    assert_eq!(text::parse_bool(b"1"), Ok(true));
    for bad in [&b""[..], b"true", b"2", b"01", b"1 "] {
        assert!(text::parse_bool(bad).is_err());
    }
    assert_eq!(out(|s| text::write_bool(s, true)), "1");
    assert_eq!(out(|s| text::write_bool(s, false)), "0");
    assert_eq!(text::parse_objlnk(b"3:0"), Ok((3, 0)));
    assert_eq!(text::parse_objlnk(b"65535:65535"), Ok((65535, 65535)));
    assert_eq!(text::parse_objlnk(b"65536:0"), Err(TextError::Range));
    for bad in [&b""[..], b":", b"3:", b":0", b"3", b"3:0:1", b"-3:0", b"a:b"] {
        assert!(text::parse_objlnk(bad).is_err(), "{bad:?}");
    }
    assert_eq!(out(|s| text::write_objlnk(s, (66, 1))), "66:1");
}

#[test]
#[allow(clippy::excessive_precision)] // literals beyond f32 precision are the point
fn floats_written() {
    for (v, s) in [
        (0.0f32, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (2.71, "2.71"),
        (0.125, "0.125"),
        (50.0, "50"),
        (12.5, "12.5"),
        (-0.25, "-0.25"),
        (100.7, "100.7"),
        (3.3, "3.3"),
        (86400.0, "86400"),
        (1234567.0, "1234567"),
        // 7 significant digits: what an f32 holds.
        (16777216.0, "16777220"),
        (1e10, "10000000000"),
        (9.999999e12, "9999999000000"),
        (0.000015, "0.000015"),
        (0.0000123456, "0.0000123456"),
        (0.0000015, "1.5e-6"),
        (0.12345678, "0.1234568"),
        (2.5e-7, "2.5e-7"),
        (1e13, "1e+13"),
        (-6.02214076e23, "-6.022141e+23"),
        (9.9999999e15, "1e+16"),
        (f32::MAX, "3.402823e+38"),
        (f32::MIN_POSITIVE, "1.175494e-38"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
        (f32::NAN, "nan"),
    ] {
        assert_eq!(out(|o| text::write_float(o, v)), s, "{v}");
    }
    // The extremes parse back to about themselves: the largest (rounding never goes beyond
    // f32::MAX, which would not parse), the smallest normal and the smallest subnormal.
    for v in [f32::MAX, -f32::MAX, f32::MIN_POSITIVE, f32::from_bits(1)] {
        let s = out(|o| text::write_float(o, v));
        let p = text::parse_float(s.as_bytes()).unwrap();
        assert!((p - v).abs() <= v.abs() * 1e-6, "{v} -> {s} -> {p}");
    }
}

#[test]
fn floats_parsed() {
    // Typical inputs are exact: the nearest f32, as the standard library parses it.
    for s in [
        "0", "1", "-1.5", "2.71", "0.1", ".5", "5.", "1e3", "1E+3", "12.5", "-0.25", "100.7",
        "3.14159", "-273.15", "86400", "0.001", "1234567", "16777216", "2.5e-7", "1e-10", "1e10",
        "4.2e+5",
    ] {
        let want: f32 = s.parse().unwrap();
        assert_eq!(text::parse_float(s.as_bytes()), Ok(want), "{s}");
    }
    // Long or extreme inputs: within a few ulps.
    for (s, v) in [
        ("-6.02214076e23", -6.02214076e23f64),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("0.000000000000000000000000000001", 1e-30),
        ("3.4028234e38", 3.4028234e38),
        ("1.17549435e-38", 1.17549435e-38),
        ("0.333333333333333333333333", 1.0 / 3.0),
    ] {
        let p = f64::from(text::parse_float(s.as_bytes()).unwrap());
        assert!((p - v).abs() <= v.abs() * 3e-7, "{s}: {p} vs {v}");
    }
    assert_eq!(text::parse_float(b"-0"), Ok(-0.0));
    assert_eq!(text::parse_float(b"1e-400"), Ok(0.0));
    assert_eq!(text::parse_float(b"0e99999"), Ok(0.0));
    for bad in [&b""[..], b"-", b".", b"e5", b"1e", b"1e+", b"1.2.3", b"+1", b"nan", b"inf", b"1 "]
    {
        assert_eq!(text::parse_float(bad), Err(TextError::Syntax), "{bad:?}");
    }
    // Beyond the f32 range (fine as an f64).
    assert_eq!(text::parse_float(b"1e39"), Err(TextError::Range));
    assert_eq!(text::parse_float(b"-3.5e38"), Err(TextError::Range));
    assert_eq!(text::parse_float(b"1e400"), Err(TextError::Range));
    assert_eq!(text::parse_float(b"1e99999999999999999999999"), Err(TextError::Range));
}

#[test]
fn typical_values_round_trip_as_text() {
    // Text -> f32 -> text gives the text back for values of up to 7 significant digits.
    for s in [
        "0",
        "1",
        "-1",
        "12.5",
        "-0.25",
        "100.7",
        "3.3",
        "2.71",
        "0.1",
        "-273.15",
        "3.14159",
        "86400",
        "1234567",
        "0.000015",
        "99.99",
        "-40",
        "1013.25",
        "0.5",
        "1e+13",
        "1.5e-6",
        "-6.022141e+23",
        "9999999",
        "0.1234567",
    ] {
        let v = text::parse_float(s.as_bytes()).unwrap();
        assert_eq!(out(|o| text::write_float(o, v)), s, "{s}");
    }
}

#[test]
fn floats_round_trip_within_format_precision() {
    let mut x = 0.37f32;
    for _ in 0..2000 {
        x = (x * 7.13 + 0.77) % 1000.0;
        for v in [x, -x, x * 1e9, x * 1e-3, x * 1e20, x * 1e-20, x * 1e-40] {
            let s = out(|o| text::write_float(o, v));
            let p = text::parse_float(s.as_bytes()).unwrap();
            // 7 significant digits: half a unit of the 7th digit (5e-7 relative at worst) and an
            // ulp. Outside 1e-4..1e17 scaling takes several steps: the 7th digit may be one off.
            let rel = if (1e-4..1e17).contains(&v.abs()) { 5.6e-7 } else { 1.6e-6 };
            let tol = (v.abs() * rel).max(f32::from_bits(1));
            assert!((p - v).abs() <= tol, "{v} -> {s} -> {p}");
        }
    }
}

#[test]
fn integers_use_32_bit_digit_loops_correctly() {
    // Values around every power of ten and the u32/i64 limits (the u64 digit path).
    let mut vals = vec![u32::MAX as i64, u32::MAX as i64 + 1, -(u32::MAX as i64) - 1, i64::MIN + 1];
    let mut p = 1i64;
    while let Some(q) = p.checked_mul(10) {
        vals.extend([p - 1, p, p + 1, -p, q / 3, -(q / 7)]);
        p = q;
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals.push(x as i64);
        vals.push((x >> 20) as i64);
    }
    for v in vals {
        assert_eq!(out(|s| text::write_int(s, v)), v.to_string());
    }
}

#[test]
fn overflow_not_panic() {
    let mut buf = [0u8; 3];
    assert_eq!(text::write_int(&mut SliceSink::new(&mut buf), -12345), Err(Overflow));
    assert_eq!(text::write_float(&mut SliceSink::new(&mut buf), 1.2345), Err(Overflow));
    let mut s = SliceSink::new(&mut buf);
    text::write_int(&mut s, -12).unwrap();
    assert_eq!(s.len(), 3);
}
