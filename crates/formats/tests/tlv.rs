//! TLV tests. Byte vectors are the examples of OMA-TS-LightweightM2M-V1_0 §6.4.3 (Device object
//! /3/0, Access Control /2, object links), typed in by hand from the specification; the Device
//! vector was cross-checked against independent public decoders' test data.

use lwm2m_formats::tlv::{self, Kind, Reader, Tlv, TlvError};
use lwm2m_formats::{CountSink, Overflow, Sink, SliceSink};

/// Read /3/0 (single object instance, resources at top level).
#[rustfmt::skip]
const DEVICE: &[u8] = &[
    0xC8, 0x00, 0x14, b'O', b'p', b'e', b'n', b' ', b'M', b'o', b'b', b'i', b'l', b'e', b' ',
        b'A', b'l', b'l', b'i', b'a', b'n', b'c', b'e',
    0xC8, 0x01, 0x16, b'L', b'i', b'g', b'h', b't', b'w', b'e', b'i', b'g', b'h', b't', b' ',
        b'M', b'2', b'M', b' ', b'C', b'l', b'i', b'e', b'n', b't',
    0xC8, 0x02, 0x09, b'3', b'4', b'5', b'0', b'0', b'0', b'1', b'2', b'3',
    0xC3, 0x03, b'1', b'.', b'0',
    0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05,
    0x88, 0x07, 0x08, 0x42, 0x00, 0x0E, 0xD8, 0x42, 0x01, 0x13, 0x88,
    0x87, 0x08, 0x41, 0x00, 0x7D, 0x42, 0x01, 0x03, 0x84,
    0xC1, 0x09, 0x64,
    0xC1, 0x0A, 0x0F,
    0x83, 0x0B, 0x41, 0x00, 0x00,
    0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F,
    0xC6, 0x0E, b'+', b'0', b'2', b':', b'0', b'0',
    0xC1, 0x10, b'U',
];

/// Read /3/0/6 (multiple resource: Available Power Sources {1, 5}).
const DEVICE_6: &[u8] = &[0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05];

/// Read /2: two Access Control instances, one resource instance with a 16-bit id (310).
#[rustfmt::skip]
const ACCESS_CONTROL: &[u8] = &[
    0x08, 0x00, 0x0E,
        0xC1, 0x00, 0x01, 0xC1, 0x01, 0x00, 0x83, 0x02, 0x41, 0x7F, 0x07, 0xC1, 0x03, 0x7F,
    0x08, 0x02, 0x12,
        0xC1, 0x00, 0x03, 0xC1, 0x01, 0x00,
        0x87, 0x02, 0x41, 0x7F, 0x07, 0x61, 0x01, 0x36, 0x01,
        0xC1, 0x03, 0x7F,
];

/// Object link example 1: multiple objlnk resource, a string and an integer.
#[rustfmt::skip]
const OBJLNK_1: &[u8] = &[
    0x88, 0x00, 0x0C,
        0x44, 0x00, 0x00, 0x42, 0x00, 0x00,
        0x44, 0x01, 0x00, 0x42, 0x00, 0x01,
    0xC8, 0x01, 0x0D, b'8', b'6', b'1', b'3', b'8', b'0', b'0', b'7', b'5', b'5', b'5', b'0', b'0',
    0xC4, 0x02, 0x12, 0x34, 0x56, 0x78,
];

fn all(buf: &[u8]) -> Vec<Tlv<'_>> {
    Reader::new(buf).collect::<Result<Vec<_>, _>>().unwrap()
}

/// Re-emits a TLV tree with this crate's header writer (values copied raw).
fn reencode<S: Sink>(buf: &[u8], out: &mut S) -> Result<(), Overflow> {
    for t in Reader::new(buf) {
        let t = t.unwrap();
        if t.kind.is_leaf() {
            tlv::write_bytes(out, t.kind, t.id, t.value)?;
        } else {
            let mut c = CountSink::new();
            reencode(t.value, &mut c)?;
            tlv::write_header(out, t.kind, t.id, c.len())?;
            reencode(t.value, out)?;
        }
    }
    Ok(())
}

fn reencoded(buf: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; buf.len() + 16];
    let mut s = SliceSink::new(&mut v);
    reencode(buf, &mut s).unwrap();
    s.written().to_vec()
}

fn ints(t: &Tlv<'_>) -> Vec<(u16, i64)> {
    t.children()
        .map(|c| {
            let c = c.unwrap();
            assert_eq!(c.kind, Kind::ResourceInstance);
            (c.id, tlv::decode_int(c.value).unwrap())
        })
        .collect()
}

#[test]
fn device_object_decodes() {
    tlv::validate(DEVICE).unwrap();
    let r = all(DEVICE);
    assert_eq!(r.len(), 13);
    let s = |i: usize| tlv::decode_str(r[i].value).unwrap();
    assert_eq!((r[0].kind, r[0].id, s(0)), (Kind::Resource, 0, "Open Mobile Alliance"));
    assert_eq!((r[1].id, s(1)), (1, "Lightweight M2M Client"));
    assert_eq!((r[2].id, s(2)), (2, "345000123"));
    assert_eq!((r[3].id, s(3)), (3, "1.0"));
    assert_eq!((r[4].kind, r[4].id), (Kind::MultipleResource, 6));
    assert_eq!(ints(&r[4]), [(0, 1), (1, 5)]);
    assert_eq!(ints(&r[5]), [(0, 3800), (1, 5000)]);
    assert_eq!(ints(&r[6]), [(0, 125), (1, 900)]);
    assert_eq!((r[7].id, tlv::decode_int(r[7].value)), (9, Ok(100)));
    assert_eq!((r[8].id, tlv::decode_int(r[8].value)), (10, Ok(15)));
    assert_eq!((r[9].id, ints(&r[9])), (11, vec![(0, 0)]));
    assert_eq!((r[10].id, tlv::decode_int(r[10].value)), (13, Ok(0x5182_428F)));
    assert_eq!((r[11].id, s(11)), (14, "+02:00"));
    assert_eq!((r[12].id, s(12)), (16, "U"));
}

fn multi_int<S: Sink>(s: &mut S, id: u16, vals: &[i64]) -> Result<(), Overflow> {
    let mut c = CountSink::new();
    for (i, v) in vals.iter().enumerate() {
        tlv::write_int(&mut c, Kind::ResourceInstance, i as u16, *v)?;
    }
    tlv::write_header(s, Kind::MultipleResource, id, c.len())?;
    for (i, v) in vals.iter().enumerate() {
        tlv::write_int(s, Kind::ResourceInstance, i as u16, *v)?;
    }
    Ok(())
}

fn write_device<S: Sink>(s: &mut S) -> Result<(), Overflow> {
    tlv::write_str(s, Kind::Resource, 0, "Open Mobile Alliance")?;
    tlv::write_str(s, Kind::Resource, 1, "Lightweight M2M Client")?;
    tlv::write_str(s, Kind::Resource, 2, "345000123")?;
    tlv::write_str(s, Kind::Resource, 3, "1.0")?;
    multi_int(s, 6, &[1, 5])?;
    multi_int(s, 7, &[3800, 5000])?;
    multi_int(s, 8, &[125, 900])?;
    tlv::write_int(s, Kind::Resource, 9, 100)?;
    tlv::write_int(s, Kind::Resource, 10, 15)?;
    multi_int(s, 11, &[0])?;
    tlv::write_int(s, Kind::Resource, 13, 0x5182_428F)?;
    tlv::write_str(s, Kind::Resource, 14, "+02:00")?;
    tlv::write_str(s, Kind::Resource, 16, "U")
}

#[test]
fn device_object_typed_encode_matches_spec() {
    let mut buf = [0u8; 200];
    let mut s = SliceSink::new(&mut buf);
    write_device(&mut s).unwrap();
    assert_eq!(s.written(), DEVICE);
    // Too small a buffer: Overflow, never a panic.
    for n in 0..DEVICE.len() {
        let mut small = vec![0u8; n];
        assert_eq!(write_device(&mut SliceSink::new(&mut small)), Err(Overflow));
    }
}

#[test]
fn device_object_wrapped_in_instance() {
    // Read /3 answers with an ObjectInstance wrapper: 08 00 79 (121 bytes of resources).
    let mut c = CountSink::new();
    write_device(&mut c).unwrap();
    assert_eq!(c.len(), 0x79);
    let mut buf = [0u8; 200];
    let mut s = SliceSink::new(&mut buf);
    tlv::write_header(&mut s, Kind::ObjectInstance, 0, c.len()).unwrap();
    write_device(&mut s).unwrap();
    let w = s.written();
    assert_eq!(&w[..3], &[0x08, 0x00, 0x79]);
    assert_eq!(&w[3..], DEVICE);
    tlv::validate(w).unwrap();
    let top = all(w);
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].children().count(), 13);
    assert_eq!(reencoded(w), w);
}

#[test]
fn multiple_resource_example() {
    tlv::validate(DEVICE_6).unwrap();
    let r = all(DEVICE_6);
    assert_eq!((r.len(), r[0].kind, r[0].id), (1, Kind::MultipleResource, 6));
    assert_eq!(ints(&r[0]), [(0, 1), (1, 5)]);
    let mut buf = [0u8; 16];
    let mut s = SliceSink::new(&mut buf);
    multi_int(&mut s, 6, &[1, 5]).unwrap();
    assert_eq!(s.written(), DEVICE_6);
}

#[test]
fn spec_vectors_reencode_identically() {
    for v in [DEVICE, DEVICE_6, ACCESS_CONTROL, OBJLNK_1] {
        tlv::validate(v).unwrap();
        assert_eq!(reencoded(v), v);
    }
}

#[test]
fn access_control_example() {
    let top = all(ACCESS_CONTROL);
    assert_eq!(top.len(), 2);
    assert_eq!((top[1].kind, top[1].id), (Kind::ObjectInstance, 2));
    let res: Vec<_> = top[1].children().map(Result::unwrap).collect();
    assert_eq!(res[2].id, 2);
    assert_eq!(ints(&res[2]), [(127, 7), (310, 1)]);
    assert_eq!(tlv::decode_int(res[3].value), Ok(127));
}

#[test]
fn objlnk_example() {
    let top = all(OBJLNK_1);
    let links: Vec<_> =
        top[0].children().map(|c| tlv::decode_objlnk(c.unwrap().value).unwrap()).collect();
    assert_eq!(links, [(0x42, 0), (0x42, 1)]);
    assert_eq!(tlv::decode_str(top[1].value), Ok("8613800755500"));
    assert_eq!(tlv::decode_int(top[2].value), Ok(0x1234_5678));
    let mut buf = [0u8; 8];
    let mut s = SliceSink::new(&mut buf);
    tlv::write_objlnk(&mut s, Kind::ResourceInstance, 1, (0x42, 1)).unwrap();
    assert_eq!(s.written(), &[0x44, 0x01, 0x00, 0x42, 0x00, 0x01]);
}

fn enc(f: impl FnOnce(&mut SliceSink<'_>) -> Result<(), Overflow>) -> Vec<u8> {
    let mut buf = [0u8; 300];
    let mut s = SliceSink::new(&mut buf);
    f(&mut s).unwrap();
    s.written().to_vec()
}

#[test]
fn integers_minimal_and_round_trip() {
    let cases: &[(i64, usize)] = &[
        (0, 1),
        (127, 1),
        (-128, 1),
        (128, 2),
        (-129, 2),
        (32767, 2),
        (-32768, 2),
        (32768, 4),
        (i32::MAX as i64, 4),
        (i32::MIN as i64, 4),
        (i32::MAX as i64 + 1, 8),
        (i64::MAX, 8),
        (i64::MIN, 8),
        (-1, 1),
    ];
    for &(v, n) in cases {
        let b = enc(|s| tlv::write_int(s, Kind::Resource, 5, v));
        let h = tlv::header_len(5, n);
        assert_eq!(b.len(), h + n, "{v}");
        assert_eq!(b[0], if n < 8 { 0xC0 | n as u8 } else { 0xC8 });
        assert_eq!(tlv::decode_int(&b[h..]), Ok(v));
    }
    assert_eq!(tlv::decode_int(&[0xFF, 0xFF]), Ok(-1));
    assert_eq!(tlv::decode_int(&[0x80, 0, 0, 0]), Ok(i32::MIN as i64));
    for bad in [&[][..], &[0; 3], &[0; 5], &[0; 9]] {
        assert_eq!(tlv::decode_int(bad), Err(TlvError::BadLength));
    }
}

#[test]
fn bool_float_objlnk_str() {
    assert_eq!(enc(|s| tlv::write_bool(s, Kind::Resource, 1, true)), [0xC1, 1, 1]);
    assert_eq!(tlv::decode_bool(&[0]), Ok(false));
    assert_eq!(tlv::decode_bool(&[1]), Ok(true));
    assert_eq!(tlv::decode_bool(&[2]), Err(TlvError::BadValue));
    assert_eq!(tlv::decode_bool(&[0, 1]), Err(TlvError::BadLength));

    // Always written as 4 bytes (f32).
    let b = enc(|s| tlv::write_float(s, Kind::Resource, 2, 1.5));
    assert_eq!(b, [0xC4, 2, 0x3F, 0xC0, 0, 0]);
    assert_eq!(tlv::decode_float(&b[2..]), Ok(1.5));
    let b = enc(|s| tlv::write_float(s, Kind::Resource, 2, 0.1));
    assert_eq!(b, [0xC4, 2, 0x3D, 0xCC, 0xCC, 0xCD]);
    assert_eq!(tlv::decode_float(&b[2..]), Ok(0.1));
    let b = enc(|s| tlv::write_float(s, Kind::Resource, 2, f32::NAN));
    assert_eq!(b.len(), 2 + 4);
    assert!(tlv::decode_float(&b[2..]).unwrap().is_nan());
    assert_eq!(tlv::decode_float(&[0; 2]), Err(TlvError::BadLength));
    assert_eq!(tlv::decode_float(&[0; 5]), Err(TlvError::BadLength));

    assert_eq!(tlv::decode_objlnk(&[0xFF, 0xFF, 0xFF, 0xFF]), Ok((65535, 65535)));
    assert_eq!(tlv::decode_objlnk(&[0; 3]), Err(TlvError::BadLength));
    assert_eq!(tlv::decode_str(&[0xC3, 0x28]), Err(TlvError::BadUtf8));
    assert_eq!(tlv::decode_str("héllo".as_bytes()), Ok("héllo"));
}

#[test]
fn header_lengths_and_ids() {
    for (id, len, hl, first) in [
        (1u16, 0usize, 2usize, 0xC0u8),
        (1, 7, 2, 0xC7),
        (1, 8, 3, 0xC8),
        (1, 255, 3, 0xC8),
        (1, 256, 4, 0xD0),
        (1, 65535, 4, 0xD0),
        (1, 65536, 5, 0xD8),
        (300, 3, 3, 0xE3),
        (65534, 70000, 6, 0xF8),
    ] {
        assert_eq!(tlv::header_len(id, len), hl);
        let value = vec![0xAB; len];
        let b = enc_big(|s| tlv::write_bytes(s, Kind::Resource, id, &value));
        assert_eq!(b.len(), hl + len);
        assert_eq!(b[0], first);
        let t = all(&b);
        assert_eq!((t[0].id, t[0].value.len()), (id, len));
    }
    let mut c = CountSink::new();
    assert_eq!(tlv::write_header(&mut c, Kind::Resource, 1, 0x100_0000), Err(Overflow));
    assert!(tlv::write_header(&mut c, Kind::Resource, 1, 0xFF_FFFF).is_ok());
}

fn enc_big(f: impl FnOnce(&mut SliceSink<'_>) -> Result<(), Overflow>) -> Vec<u8> {
    let mut buf = vec![0u8; 80_000];
    let mut s = SliceSink::new(&mut buf);
    f(&mut s).unwrap();
    s.written().to_vec()
}

#[test]
fn truncation_is_reported_and_fuses() {
    for cut in 0..DEVICE.len() {
        let part = &DEVICE[..cut];
        let items: Vec<_> = Reader::new(part).collect();
        // Every item before the last is Ok; an error (if any) is the last item.
        for (i, it) in items.iter().enumerate() {
            if it.is_err() {
                assert_eq!(i, items.len() - 1);
                assert_eq!(*it, Err(TlvError::Truncated));
            }
        }
        let complete = items.iter().filter(|i| i.is_ok()).count();
        if items.last().is_some_and(|i| i.is_err()) {
            assert!(tlv::validate(part).is_err());
            assert!(complete < 13);
        }
    }
    // Headers cut in each field.
    for bad in [&[0xC8u8][..], &[0xE0, 0x01], &[0xD0, 0x01, 0x00], &[0xC8, 0x01, 0x02, 0x00]] {
        let mut r = Reader::new(bad);
        assert_eq!(r.next(), Some(Err(TlvError::Truncated)));
        assert_eq!(r.next(), None);
        assert_eq!(r.next(), None);
    }
}

#[test]
fn nesting_rules() {
    // Instance containing an (empty) instance.
    assert_eq!(tlv::validate(&[0x02, 0x00, 0x00, 0x01]), Err(TlvError::BadNesting));
    assert_eq!(tlv::validate(&[0x03, 0x00, 0x00, 0x01, 0x00]), Err(TlvError::BadNesting));
    // Instance containing a resource instance.
    assert_eq!(tlv::validate(&[0x03, 0x00, 0x41, 0x01, 0x00]), Err(TlvError::BadNesting));
    // Multiple resource containing a resource.
    assert_eq!(tlv::validate(&[0x83, 0x06, 0xC1, 0x00, 0x01]), Err(TlvError::BadNesting));
    // Multiple resource inside an instance containing a resource.
    assert_eq!(
        tlv::validate(&[0x05, 0x00, 0x83, 0x06, 0xC1, 0x00, 0x01]),
        Err(TlvError::BadNesting)
    );
    // Truncated child inside a valid outer length.
    assert_eq!(tlv::validate(&[0x02, 0x00, 0xC1, 0x00]), Err(TlvError::Truncated));
    // Leaves may hold anything; empty containers are fine; empty payload is fine.
    tlv::validate(&[0xC3, 0x00, 0x00, 0x00, 0x00]).unwrap();
    tlv::validate(&[0x00, 0x00, 0x80, 0x01]).unwrap();
    tlv::validate(&[]).unwrap();
    // A lone resource instance at top level (Read of /o/i/r/ri style).
    tlv::validate(&[0x41, 0x00, 0x05]).unwrap();
}

/// 8-byte floats (what other clients and servers may send) are narrowed to f32.
#[test]
fn eight_byte_floats_are_narrowed() {
    let d = |v: f64| tlv::decode_float(&v.to_be_bytes());
    // Exactly representable values are unchanged.
    for v in [0.0, 1.5, -0.25, 12.5, 86400.0, 16777216.0, 1e10, f64::from(f32::MAX)] {
        assert_eq!(d(v), Ok(v as f32), "{v}");
    }
    // Others round to the nearest f32 (precision beyond f32 is lost).
    assert_eq!(d(0.1), Ok(0.1f32));
    assert_eq!(d(-273.15), Ok(-273.15f32));
    assert_eq!(d(std::f64::consts::PI), Ok(std::f32::consts::PI));
    assert_eq!(d(16777217.0), Ok(16777216.0)); // halfway: to even
    assert_eq!(d(1.0 + f64::EPSILON), Ok(1.0));
    // Signs, zeros, infinities, NaN.
    assert_eq!(d(-0.0).map(f32::to_bits), Ok((-0.0f32).to_bits()));
    assert_eq!(d(f64::INFINITY), Ok(f32::INFINITY));
    assert_eq!(d(f64::NEG_INFINITY), Ok(f32::NEG_INFINITY));
    assert!(d(f64::NAN).unwrap().is_nan());
    // Below the f32 range: subnormal or zero.
    assert_eq!(d(1e-40), Ok(1e-40f32));
    assert_eq!(d(1e-300), Ok(0.0));
    assert_eq!(d(f64::MIN_POSITIVE), Ok(0.0));
    // Finite but beyond the f32 range: refused rather than turned into infinity.
    for v in [1e39, -1e39, f64::MAX, f64::MIN, 3.4028236e38] {
        assert_eq!(d(v), Err(TlvError::BadValue), "{v}");
    }
    // In a payload: the value reads as f32, the TLV structure is unaffected.
    let mut p = vec![0xC8, 5, 8];
    p.extend_from_slice(&2.5f64.to_be_bytes());
    let t = Reader::new(&p).next().unwrap().unwrap();
    assert_eq!(tlv::decode_float(t.value), Ok(2.5));
}

#[test]
fn eight_byte_floats_narrow_as_the_cast_does() {
    let mut x: u64 = 0x1234_5678_9ABC_DEF1;
    for i in 0..200_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Every other value with an exponent near the f32 range (normal, subnormal, overflow).
        let bits = if i % 2 == 0 {
            x
        } else {
            (x & 0x800F_FFFF_FFFF_FFFF) | ((((x >> 52) % 340) + 1023 - 170) << 52)
        };
        let wide = f64::from_bits(bits);
        let cast = wide as f32;
        match tlv::decode_float(&bits.to_be_bytes()) {
            Ok(f) => assert_eq!(f.to_bits(), cast.to_bits(), "{bits:#x}"),
            Err(e) => {
                assert_eq!(e, tlv::TlvError::BadValue, "{bits:#x}");
                assert!(cast.is_infinite() && wide.is_finite(), "{bits:#x}");
            }
        }
    }
    for bits in [0, 1 << 63, 1, 0x7FF0_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF0_0000_0000_0001]
    {
        let cast = f64::from_bits(bits) as f32;
        let f = tlv::decode_float(&bits.to_be_bytes()).unwrap();
        assert_eq!(f.to_bits(), cast.to_bits(), "{bits:#x}");
    }
}

/// `decode_int` against the shift formula it had before (value to the top of a u64, then an
/// arithmetic shift back), on every width and a spread of byte patterns.
#[test]
fn decode_int_sign_extends_like_the_shift_formula() {
    fn by_shifts(v: &[u8]) -> i64 {
        let be = v.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        let shift = 64 - 8 * v.len() as u32;
        ((be << shift) as i64) >> shift
    }
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_be_bytes();
        for n in 0..=9usize {
            let v = &bytes[..n.min(8)];
            match n {
                1 | 2 | 4 | 8 => assert_eq!(tlv::decode_int(v), Ok(by_shifts(v)), "{v:02x?}"),
                _ if n <= 8 => assert!(tlv::decode_int(v).is_err(), "{v:02x?}"),
                _ => {}
            }
        }
    }
    for v in [&[0x80][..], &[0x7f], &[0xff, 0xff], &[0x80, 0, 0, 0], &[0x80, 0, 0, 0, 0, 0, 0, 0]] {
        assert_eq!(tlv::decode_int(v), Ok(by_shifts(v)));
    }
}
