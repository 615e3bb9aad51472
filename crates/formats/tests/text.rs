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
fn floats_written() {
    for (v, s) in [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (2.71, "2.71"),
        (0.125, "0.125"),
        (50.0, "50"),
        (1234567.000001, "1234567.000001"),
        (0.000015, "0.000015"),
        (0.0000015, "1.5e-6"),
        (0.12345678, "0.123457"),
        (2.5e-7, "2.5e-7"),
        (1e13, "1e+13"),
        (-6.02214076e23, "-6.022141e+23"),
        (9.9999999e15, "1e+16"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (f64::NAN, "nan"),
    ] {
        assert_eq!(out(|o| text::write_float(o, v)), s, "{v}");
    }
}

#[test]
fn floats_parsed() {
    for (s, v) in [
        ("0", 0.0f64),
        ("1", 1.0),
        ("-1.5", -1.5),
        ("2.71", 2.71),
        ("0.1", 0.1),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1E+3", 1000.0),
        ("2.5e-7", 2.5e-7),
        ("-6.02214076e23", -6.02214076e23),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("0.000000000000000000000000000001", 1e-30),
        ("1e-400", 0.0),
    ] {
        let p = text::parse_float(s.as_bytes()).unwrap();
        let tol = v.abs() * 1e-15;
        assert!((p - v).abs() <= tol, "{s}: {p} vs {v}");
    }
    for bad in [&b""[..], b"-", b".", b"e5", b"1e", b"1e+", b"1.2.3", b"+1", b"nan", b"inf", b"1 "]
    {
        assert_eq!(text::parse_float(bad), Err(TextError::Syntax), "{bad:?}");
    }
    assert_eq!(text::parse_float(b"1e400"), Err(TextError::Range));
    assert_eq!(text::parse_float(b"1e99999999999999999999999"), Err(TextError::Range));
}

#[test]
fn floats_round_trip_within_format_precision() {
    let mut x = 0.37f64;
    for _ in 0..2000 {
        x = (x * 7.13 + 0.77) % 1000.0;
        for v in [x, -x, x * 1e9, x * 1e-3, x * 1e20, x * 1e-20] {
            let s = out(|o| text::write_float(o, v));
            let p = text::parse_float(s.as_bytes()).unwrap();
            // Fixed format keeps 6 fractional digits; scientific keeps 7 significant digits.
            let tol = if v.abs() >= 1e13 || v.abs() < 1e-5 {
                v.abs() * 1e-6
            } else {
                5e-7 + v.abs() * 1e-15
            };
            assert!((p - v).abs() <= tol, "{v} -> {s} -> {p}");
        }
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
