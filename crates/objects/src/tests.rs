//! Unit tests of the registry and the objects. TLV payloads are built by a small encoder here,
//! independent of `lwm2m-formats`.

extern crate std;

use std::format;
use std::vec;
use std::vec::Vec;

use crate::acl::AclInstance;
use crate::firmware::{result, FwState};
use crate::*;
use lwm2m_coap::{content_format as cf, Code, Instant};
use lwm2m_formats::{Path, SliceSink, WindowSink};

const OI: u8 = 0;
const RI: u8 = 1;
const MR: u8 = 2;
const RES: u8 = 3;

fn tlv(kind: u8, id: u16, v: &[u8]) -> Vec<u8> {
    let mut t = kind << 6;
    if id > 255 {
        t |= 0x20;
    }
    let len = v.len();
    if len < 8 {
        t |= len as u8;
    } else if len < 256 {
        t |= 0x08;
    } else {
        t |= 0x10;
    }
    let mut out = vec![t];
    if id > 255 {
        out.extend(id.to_be_bytes());
    } else {
        out.push(id as u8);
    }
    if (8..256).contains(&len) {
        out.push(len as u8);
    } else if len >= 256 {
        out.extend((len as u16).to_be_bytes());
    }
    out.extend(v);
    out
}

fn int_bytes(v: i64) -> Vec<u8> {
    if i8::try_from(v).is_ok() {
        vec![v as u8]
    } else if i16::try_from(v).is_ok() {
        (v as i16).to_be_bytes().to_vec()
    } else if i32::try_from(v).is_ok() {
        (v as i32).to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    }
}

fn r_int(id: u16, v: i64) -> Vec<u8> {
    tlv(RES, id, &int_bytes(v))
}
fn r_str(id: u16, v: &str) -> Vec<u8> {
    tlv(RES, id, v.as_bytes())
}
fn ri_int(id: u16, v: i64) -> Vec<u8> {
    tlv(RI, id, &int_bytes(v))
}
fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

fn at(caller: Caller, ms: u64) -> Ctx {
    Ctx { caller, now: Instant(ms) }
}
fn srv(id: u16) -> Ctx {
    at(Caller::Server { short_id: id }, 0)
}
fn bs() -> Ctx {
    at(Caller::Bootstrap, 0)
}
fn p(s: &str) -> Path {
    Path::from_str(s).unwrap()
}

fn read(
    reg: &Registry,
    ctx: &Ctx,
    path: &str,
    accept: Option<u16>,
) -> Result<(u16, Vec<u8>), Code> {
    let mut buf = [0u8; 1024];
    let mut s = SliceSink::new(&mut buf);
    let f = reg.read(ctx, &p(path), accept, &mut s)?;
    Ok((f, s.written().to_vec()))
}
fn read_text(reg: &Registry, path: &str) -> Vec<u8> {
    read(reg, &srv(101), path, Some(cf::TEXT_PLAIN)).unwrap().1
}
fn effects(reg: &mut Registry) -> Vec<Effect> {
    core::iter::from_fn(|| reg.take_effect()).collect()
}
fn discover(
    reg: &Registry,
    ctx: &Ctx,
    path: &str,
    attrs: &dyn AttrSource,
) -> Result<std::string::String, Code> {
    let mut buf = [0u8; 1024];
    let mut s = SliceSink::new(&mut buf);
    reg.discover(ctx, &p(path), attrs, &mut s)?;
    Ok(std::string::String::from_utf8(s.written().to_vec()).unwrap())
}

fn security_tlv(uri: &str, bootstrap: bool, ssid: u16) -> Vec<u8> {
    cat(&[
        r_str(0, uri),
        tlv(RES, 1, &[bootstrap as u8]),
        r_int(2, 0),
        tlv(RES, 3, b"urn:imei:1234"),
        tlv(RES, 5, &[0xAA, 0xBB, 0xCC]),
        r_int(10, ssid.into()),
        // SMS resources this client does not implement: ignored in Bootstrap-Write.
        r_int(6, 3),
        r_str(9, ""),
    ])
}

fn server_tlv(ssid: u16, lifetime: i64) -> Vec<u8> {
    cat(&[r_int(0, ssid.into()), r_int(1, lifetime), tlv(RES, 6, &[1]), r_str(7, "UQS")])
}

/// A registry as after a bootstrap: bootstrap account /0/0, server 101 at /0/1 and /1/0.
fn provisioned() -> Registry {
    let mut reg = Registry::new();
    let mut b = SecurityInstance::new(0);
    b.bootstrap = true;
    b.set_uri("coaps://boot.example.com:5684").unwrap();
    reg.security.put(b).unwrap();
    let body = security_tlv("coaps://dm.example.com:5684", false, 101);
    reg.write(&bs(), &p("/0/1"), Some(cf::LWM2M_TLV), &body, true).unwrap();
    reg.write(&bs(), &p("/1/0"), Some(cf::LWM2M_TLV), &server_tlv(101, 3600), true).unwrap();
    effects(&mut reg);
    reg
}

/// Device values of the OMA TS 1.0 TLV example (§6.4.3.1).
fn oma_device(reg: &mut Registry) {
    let d = &mut reg.device;
    d.manufacturer_set("Open Mobile Alliance").unwrap();
    d.model_number_set("Lightweight M2M Client").unwrap();
    d.serial_number_set("345000123").unwrap();
    d.firmware_version_set("1.0").unwrap();
    d.avail_power_sources_set(&[1, 5]).unwrap();
    d.power_source_voltage_set(1, 3800).unwrap();
    d.power_source_voltage_set(5, 5000).unwrap();
    d.power_source_current_set(1, 125).unwrap();
    d.power_source_current_set(5, 900).unwrap();
    d.battery_level_set(100).unwrap();
    d.memory_free_set(15).unwrap();
    d.current_time_set(1367491215, Instant(0));
    d.utc_offset_set("+02:00").unwrap();
}

/// The TS example payload up to /3/0/14 (the example then has /3/0/16 "U").
const OMA_DEVICE_TLV: &[u8] = &[
    0xC8, 0x00, 0x14, b'O', b'p', b'e', b'n', b' ', b'M', b'o', b'b', b'i', b'l', b'e', b' ', b'A',
    b'l', b'l', b'i', b'a', b'n', b'c', b'e', //
    0xC8, 0x01, 0x16, b'L', b'i', b'g', b'h', b't', b'w', b'e', b'i', b'g', b'h', b't', b' ', b'M',
    b'2', b'M', b' ', b'C', b'l', b'i', b'e', b'n', b't', //
    0xC8, 0x02, 0x09, b'3', b'4', b'5', b'0', b'0', b'0', b'1', b'2', b'3', //
    0xC3, 0x03, b'1', b'.', b'0', //
    0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, //
    0x88, 0x07, 0x08, 0x42, 0x00, 0x0E, 0xD8, 0x42, 0x01, 0x13, 0x88, //
    0x87, 0x08, 0x41, 0x00, 0x7D, 0x42, 0x01, 0x03, 0x84, //
    0xC1, 0x09, 0x64, //
    0xC1, 0x0A, 0x0F, //
    0x83, 0x0B, 0x41, 0x00, 0x00, //
    0xC4, 0x0D, 0x51, 0x82, 0x42, 0x8F, //
    0xC6, 0x0E, b'+', b'0', b'2', b':', b'0', b'0',
];

// ---------------------------------------------------------------- Read

#[test]
fn device_instance_tlv_matches_oma_example() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    let (f, got) = read(&reg, &srv(101), "/3/0", None).unwrap();
    assert_eq!(f, cf::LWM2M_TLV);
    assert_eq!(&got[..OMA_DEVICE_TLV.len()], OMA_DEVICE_TLV);
    let rest = cat(&[
        r_str(15, ""),
        r_str(16, "UQS"),
        r_str(17, "Smart Device"),
        r_str(18, "1.0"),
        r_str(19, concat!("LwM2M ", env!("CARGO_PKG_VERSION"))),
        r_int(20, 6),
        r_int(21, 0),
    ]);
    assert_eq!(&got[OMA_DEVICE_TLV.len()..], &rest[..]);
    // Accept TLV explicitly gives the same.
    assert_eq!(read(&reg, &srv(101), "/3/0", Some(cf::LWM2M_TLV)).unwrap().1, got);
}

#[test]
fn object_read_wraps_instances() {
    let mut reg = provisioned();
    reg.write(&bs(), &p("/1/1"), Some(cf::LWM2M_TLV), &server_tlv(102, 60), true).unwrap();
    let (_, got) = read(&reg, &bs(), "/1", None).unwrap();
    let i0 = server_tlv(101, 3600);
    let i1 = server_tlv(102, 60);
    // Rendered in table order: 0, 1, 6, 7 (no optional resources set).
    assert_eq!(got, cat(&[tlv(OI, 0, &i0), tlv(OI, 1, &i1)]));
}

#[test]
fn read_single_resource_as_text_and_tlv() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    assert_eq!(read(&reg, &srv(101), "/3/0/9", None).unwrap(), (cf::TEXT_PLAIN, b"100".to_vec()));
    assert_eq!(read_text(&reg, "/3/0/0"), b"Open Mobile Alliance");
    assert_eq!(read_text(&reg, "/1/0/6"), b"1");
    assert_eq!(
        read(&reg, &srv(101), "/3/0/9", Some(cf::LWM2M_TLV)).unwrap(),
        (cf::LWM2M_TLV, vec![0xC1, 0x09, 0x64])
    );
    assert_eq!(read_text(&reg, "/3/0/13"), b"1367491215");
    // Current time advances with uptime.
    let later = at(Caller::Server { short_id: 101 }, 10_500);
    assert_eq!(read(&reg, &later, "/3/0/13", None).unwrap().1, b"1367491225");
}

#[test]
fn read_multiple_resource_and_instances() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    let (f, got) = read(&reg, &srv(101), "/3/0/7", None).unwrap();
    assert_eq!(f, cf::LWM2M_TLV);
    assert_eq!(got, tlv(MR, 7, &cat(&[ri_int(0, 3800), ri_int(1, 5000)])));
    assert_eq!(read_text(&reg, "/3/0/6/1"), b"5");
    assert_eq!(read(&reg, &srv(101), "/3/0/7/1", Some(cf::LWM2M_TLV)).unwrap().1, ri_int(1, 5000));
    assert_eq!(read(&reg, &srv(101), "/3/0/6/7", None), Err(Code::NOT_FOUND));
    assert_eq!(read(&reg, &srv(101), "/3/0/9/0", None), Err(Code::NOT_FOUND));
    assert_eq!(read(&reg, &srv(101), "/3/0/7", Some(cf::TEXT_PLAIN)), Err(Code::NOT_ACCEPTABLE));
    // Error Code always has an instance: 0 = no error.
    assert_eq!(read(&reg, &srv(101), "/3/0/11", None).unwrap().1, tlv(MR, 11, &ri_int(0, 0)));
    reg.device.error_code_add(3).unwrap();
    reg.device.error_code_add(5).unwrap();
    assert_eq!(
        read(&reg, &srv(101), "/3/0/11", None).unwrap().1,
        tlv(MR, 11, &cat(&[ri_int(0, 3), ri_int(1, 5)]))
    );
}

#[test]
fn read_is_deterministic_for_block2() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    let (_, full) = read(&reg, &srv(101), "/3/0", None).unwrap();
    let mut joined = Vec::new();
    for block in 0.. {
        let mut buf = [0u8; 16];
        let mut w = WindowSink::new(&mut buf, block * 16);
        reg.read(&srv(101), &p("/3/0"), None, &mut w).unwrap();
        assert_eq!(lwm2m_formats::Sink::len(&w), full.len());
        joined.extend_from_slice(w.window());
        if (block + 1) * 16 >= full.len() {
            break;
        }
    }
    assert_eq!(joined, full);
}

#[test]
fn read_errors() {
    let reg = provisioned();
    let s = srv(101);
    let e = |path: &str, accept| read(&reg, &s, path, accept).unwrap_err();
    assert_eq!(e("/", None), Code::METHOD_NOT_ALLOWED);
    assert_eq!(e("/9", None), Code::NOT_FOUND);
    assert_eq!(e("/3/1", None), Code::NOT_FOUND);
    assert_eq!(e("/3/0/99", None), Code::NOT_FOUND);
    assert_eq!(e("/1/0/2", None), Code::NOT_FOUND); // optional resource not set
    assert_eq!(e("/3/0/4", None), Code::METHOD_NOT_ALLOWED); // executable
    assert_eq!(e("/5/0/0", None), Code::METHOD_NOT_ALLOWED); // write-only
    assert_eq!(e("/0", None), Code::UNAUTHORIZED);
    assert_eq!(e("/0/1", None), Code::UNAUTHORIZED);
    assert_eq!(e("/0/1/0", None), Code::UNAUTHORIZED);
    assert_eq!(read(&reg, &bs(), "/0/1/5", None).unwrap_err(), Code::UNAUTHORIZED);
    assert_eq!(e("/3/0/9", Some(cf::OCTET_STREAM)), Code::NOT_ACCEPTABLE);
    assert_eq!(e("/3/0/9", Some(cf::LINK_FORMAT)), Code::NOT_ACCEPTABLE);
    assert_eq!(e("/3/0", Some(cf::TEXT_PLAIN)), Code::NOT_ACCEPTABLE);
    assert_eq!(e("/3", Some(cf::LWM2M_JSON)), Code::NOT_ACCEPTABLE);
}

#[test]
fn read_overflow_is_an_error_not_a_panic() {
    let reg = provisioned();
    let mut buf = [0u8; 10];
    let mut s = SliceSink::new(&mut buf);
    assert_eq!(reg.read(&srv(101), &p("/3/0"), None, &mut s), Err(Code::INTERNAL_SERVER_ERROR));
}

// ---------------------------------------------------------------- Write

#[test]
fn write_text_and_tlv_resource() {
    let mut reg = provisioned();
    reg.write(&srv(101), &p("/1/0/1"), Some(cf::TEXT_PLAIN), b"7200", false).unwrap();
    assert_eq!(reg.server.get(0).unwrap().lifetime_s, 7200);
    assert_eq!(effects(&mut reg), vec![Effect::Changed(p("/1/0/1"))]);
    reg.write(&srv(101), &p("/1/0/1"), Some(cf::LWM2M_TLV), &r_int(1, 300), true).unwrap();
    assert_eq!(reg.server.get(0).unwrap().lifetime_s, 300);
    reg.write(&srv(101), &p("/3/0/14"), Some(cf::TEXT_PLAIN), b"+05:30", true).unwrap();
    assert_eq!(reg.device.utc_offset(), "+05:30");
    reg.write(&srv(101), &p("/3/0/13"), Some(cf::TEXT_PLAIN), b"1000", true).unwrap();
    assert_eq!(reg.device.current_time(Instant(5000)), 1005);
    // Empty payload without Content-Format to a single resource: the empty value.
    reg.write(&srv(101), &p("/3/0/15"), None, b"", true).unwrap();
    assert_eq!(reg.device.timezone(), "");
}

#[test]
fn write_instance_partial_and_replace() {
    let mut reg = provisioned();
    let body = cat(&[r_int(1, 120), r_int(2, 5)]);
    reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false).unwrap();
    let s = reg.server.get(0).unwrap();
    assert_eq!((s.lifetime_s, s.default_pmin_s, s.binding.as_str()), (120, Some(5), "UQS"));
    // Wrapped in an object-instance TLV with the right id is accepted too.
    let body = tlv(OI, 0, &cat(&[r_str(7, "U"), r_int(3, 60)]));
    reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, true).unwrap();
    let s = reg.server.get(0).unwrap();
    assert_eq!((s.lifetime_s, s.default_pmax_s, s.binding.as_str()), (120, Some(60), "U"));
    assert_eq!(effects(&mut reg), vec![Effect::Changed(p("/1/0"))]);
    // Wrong instance id in the wrapper.
    let body = tlv(OI, 1, &r_int(1, 1));
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, true),
        Err(Code::BAD_REQUEST)
    );
}

fn acl_setup(reg: &mut Registry) {
    let acl = tlv(
        OI,
        0,
        &cat(&[
            r_int(0, 3),
            r_int(1, 0),
            tlv(MR, 2, &cat(&[ri_int(0, 1), ri_int(101, 7)])),
            r_int(3, 101),
        ]),
    );
    reg.write(&bs(), &p("/2"), Some(cf::LWM2M_TLV), &acl, true).unwrap();
}

#[test]
fn write_multiple_resource_replace_and_partial() {
    let mut reg = provisioned();
    acl_setup(&mut reg);
    let entries = |reg: &Registry| reg.acl.get(0).unwrap().entries.to_vec();
    assert_eq!(entries(&reg), vec![(0, 1), (101, 7)]);
    // Partial update (POST) of the resource: merge.
    let body = tlv(MR, 2, &cat(&[ri_int(102, 1), ri_int(0, 3)]));
    reg.write(&srv(101), &p("/2/0/2"), Some(cf::LWM2M_TLV), &body, false).unwrap();
    assert_eq!(entries(&reg), vec![(0, 3), (101, 7), (102, 1)]);
    // Replace (PUT) with bare resource instances.
    let body = ri_int(103, 15);
    reg.write(&srv(101), &p("/2/0/2"), Some(cf::LWM2M_TLV), &body, true).unwrap();
    assert_eq!(entries(&reg), vec![(103, 15)]);
    // Replace of the instance without resource 2: it is cleared; partial keeps it.
    reg.write(&srv(101), &p("/2/0"), Some(cf::LWM2M_TLV), &r_int(3, 101), false).unwrap();
    assert_eq!(entries(&reg), vec![(103, 15)]);
    reg.write(&srv(101), &p("/2/0"), Some(cf::LWM2M_TLV), &r_int(3, 101), true).unwrap();
    assert_eq!(entries(&reg), vec![]);
    // Too many entries for the capacity: 4.00, nothing changed.
    let five = cat(&[ri_int(1, 1), ri_int(2, 1), ri_int(3, 1), ri_int(4, 1), ri_int(5, 1)]);
    let r = reg.write(&srv(101), &p("/2/0/2"), Some(cf::LWM2M_TLV), &five, true);
    assert_eq!(r, Err(Code::BAD_REQUEST));
    assert_eq!(entries(&reg), vec![]);
    // Text to a multiple resource is 4.15.
    let r = reg.write(&srv(101), &p("/2/0/2"), Some(cf::TEXT_PLAIN), b"1", true);
    assert_eq!(r, Err(Code::UNSUPPORTED_CONTENT_FORMAT));
}

#[test]
fn write_is_all_or_nothing() {
    let mut reg = provisioned();
    let before = reg.server.get(0).unwrap().clone();
    // Valid lifetime, invalid binding.
    let body = cat(&[r_int(1, 10), r_str(7, "X")]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::BAD_REQUEST)
    );
    // Valid lifetime, then a truncated TLV.
    let mut body = cat(&[r_int(1, 10), r_int(2, 1)]);
    body.pop();
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::BAD_REQUEST)
    );
    // Valid lifetime, then an unknown resource (management server: 4.04).
    let body = cat(&[r_int(1, 10), r_int(42, 1)]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::NOT_FOUND)
    );
    // Valid lifetime, then a read-only resource (4.05).
    let body = cat(&[r_int(1, 10), r_int(0, 5)]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::METHOD_NOT_ALLOWED)
    );
    // Valid lifetime, then an executable resource (4.05).
    let body = cat(&[r_int(1, 10), r_int(8, 0)]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::METHOD_NOT_ALLOWED)
    );
    // Valid lifetime, then a multiple-resource TLV for a single resource.
    let body = cat(&[r_int(1, 10), tlv(MR, 2, &ri_int(0, 1))]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::BAD_REQUEST)
    );
    // Valid lifetime, then a bad boolean.
    let body = cat(&[r_int(1, 10), tlv(RES, 6, &[2])]);
    assert_eq!(
        reg.write(&srv(101), &p("/1/0"), Some(cf::LWM2M_TLV), &body, false),
        Err(Code::BAD_REQUEST)
    );
    assert_eq!(reg.server.get(0).unwrap(), &before);
    assert_eq!(effects(&mut reg), vec![]);
}

#[test]
fn write_errors_leave_state_unchanged() {
    let mut reg = provisioned();
    let s = srv(101);
    let before_srv = reg.server.get(0).unwrap().clone();
    let before_sec = reg.security.get(1).unwrap().clone();
    let mut w = |path: &str, f: Option<u16>, body: &[u8]| {
        reg.write(&s, &p(path), f, body, true).unwrap_err()
    };
    // 4.00 malformed / out of range
    assert_eq!(w("/1/0/1", Some(cf::TEXT_PLAIN), b"abc"), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/1", Some(cf::TEXT_PLAIN), b"-1"), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/1", Some(cf::TEXT_PLAIN), b"+5"), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/1", Some(cf::LWM2M_TLV), &tlv(RES, 1, &[0, 0, 1])), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/1", Some(cf::LWM2M_TLV), &r_int(2, 5)), Code::BAD_REQUEST); // other id
    assert_eq!(w("/1/0/7", Some(cf::TEXT_PLAIN), b"UQSX"), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/7", Some(cf::TEXT_PLAIN), &[0xFF]), Code::BAD_REQUEST);
    assert_eq!(w("/1/0/6", Some(cf::TEXT_PLAIN), b"true"), Code::BAD_REQUEST);
    assert_eq!(w("/3/0/15", Some(cf::TEXT_PLAIN), &[b'x'; 40]), Code::BAD_REQUEST); // too long
                                                                                    // 4.01 Security by a management server
    assert_eq!(w("/0/1/0", Some(cf::TEXT_PLAIN), b"coap://evil"), Code::UNAUTHORIZED);
    assert_eq!(w("/0/1", Some(cf::LWM2M_TLV), &r_str(0, "coap://evil")), Code::UNAUTHORIZED);
    // 4.04
    assert_eq!(w("/9/0/0", Some(cf::TEXT_PLAIN), b"1"), Code::NOT_FOUND);
    assert_eq!(w("/1/5/1", Some(cf::TEXT_PLAIN), b"1"), Code::NOT_FOUND);
    assert_eq!(w("/1/0/99", Some(cf::TEXT_PLAIN), b"1"), Code::NOT_FOUND);
    // 4.05
    assert_eq!(w("/3/0/0", Some(cf::TEXT_PLAIN), b"x"), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/1/0/0", Some(cf::TEXT_PLAIN), b"5"), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/3/0/4", Some(cf::TEXT_PLAIN), b"1"), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/2/0/2/1", Some(cf::TEXT_PLAIN), b"1"), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/1", Some(cf::LWM2M_TLV), &tlv(OI, 0, &r_int(1, 5))), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/", Some(cf::LWM2M_TLV), b""), Code::METHOD_NOT_ALLOWED);
    assert_eq!(w("/5/0/0", Some(cf::OCTET_STREAM), b"\x01\x02"), Code::METHOD_NOT_ALLOWED); // push
                                                                                            // 4.15
    assert_eq!(w("/1/0/1", None, b"60"), Code::UNSUPPORTED_CONTENT_FORMAT);
    assert_eq!(w("/1/0/1", Some(cf::LWM2M_JSON), b"{}"), Code::UNSUPPORTED_CONTENT_FORMAT);
    assert_eq!(w("/1/0/1", Some(cf::OCTET_STREAM), b"60"), Code::UNSUPPORTED_CONTENT_FORMAT);
    assert_eq!(w("/1/0", Some(cf::TEXT_PLAIN), b"60"), Code::UNSUPPORTED_CONTENT_FORMAT);
    assert_eq!(w("/1/0", None, b""), Code::UNSUPPORTED_CONTENT_FORMAT);
    assert_eq!(reg.server.get(0).unwrap(), &before_srv);
    assert_eq!(reg.security.get(1).unwrap(), &before_sec);
    assert_eq!(reg.device.timezone(), "");
    assert_eq!(effects(&mut reg), vec![]);
}

// ---------------------------------------------------------------- Bootstrap

#[test]
fn bootstrap_sequence_and_finish_check() {
    let mut reg = Registry::new();
    let mut b = SecurityInstance::new(0);
    b.bootstrap = true;
    b.set_uri("coaps://boot.example.com:5684").unwrap();
    b.set_secret_key(&[1, 2, 3]).unwrap();
    reg.security.put(b).unwrap();
    assert_eq!(reg.bootstrap_finish_check(), Err(Code::NOT_ACCEPTABLE));
    // Delete "/" keeps the bootstrap account.
    reg.delete(&bs(), &Path::ROOT).unwrap();
    assert_eq!(reg.security.iter().count(), 1);
    // Object-level write of two Security instances.
    let body = cat(&[
        tlv(OI, 1, &security_tlv("coaps://dm.example.com:5684", false, 102)),
        tlv(OI, 2, &security_tlv("coaps://diag.example.com:5684", false, 101)),
    ]);
    reg.write(&bs(), &p("/0"), Some(cf::LWM2M_TLV), &body, true).unwrap();
    let s1 = reg.security.get(1).unwrap();
    assert_eq!(
        (s1.uri.as_str(), s1.short_server_id, s1.mode),
        ("coaps://dm.example.com:5684", 102, 0)
    );
    assert_eq!(s1.identity.as_slice(), b"urn:imei:1234");
    assert_eq!(s1.secret_key(), &[0xAA, 0xBB, 0xCC]);
    // Security written, no Server yet: not acceptable.
    assert_eq!(reg.bootstrap_finish_check(), Err(Code::NOT_ACCEPTABLE));
    // Server with a different short id: still not acceptable.
    reg.write(&bs(), &p("/1/0"), Some(cf::LWM2M_TLV), &server_tlv(999, 60), true).unwrap();
    assert_eq!(reg.bootstrap_finish_check(), Err(Code::NOT_ACCEPTABLE));
    // Resource-level write creating /1/1, then setting its short id.
    reg.write(&bs(), &p("/1/1/0"), Some(cf::TEXT_PLAIN), b"102", true).unwrap();
    assert_eq!(reg.bootstrap_finish_check(), Ok(()));
    assert_eq!(reg.server.get(1).unwrap().lifetime_s, crate::server::DEFAULT_LIFETIME_S);
    // Bootstrap-Write may target a resource the management server may only read.
    reg.write(&bs(), &p("/1/1/0"), Some(cf::TEXT_PLAIN), b"103", true).unwrap();
    assert_eq!(reg.bootstrap_finish_check(), Err(Code::NOT_ACCEPTABLE));
    // The bootstrap account cannot be deleted; a missing instance is fine.
    assert_eq!(reg.delete(&bs(), &p("/0/0")), Err(Code::BAD_REQUEST));
    reg.delete(&bs(), &p("/0/3")).unwrap();
    assert_eq!(reg.delete(&bs(), &p("/3/0")), Err(Code::BAD_REQUEST));
    assert_eq!(reg.delete(&bs(), &p("/1/0/1")), Err(Code::BAD_REQUEST));
    reg.delete(&bs(), &p("/0/1")).unwrap();
    assert!(reg.security.get(1).is_none());
    reg.delete(&bs(), &p("/1")).unwrap();
    assert_eq!(reg.server.iter().count(), 0);
    reg.delete(&bs(), &p("/0")).unwrap();
    assert_eq!(reg.security.iter().map(|s| s.id).collect::<Vec<_>>(), vec![0]);
    assert_eq!(reg.security.get(0).unwrap().secret_key(), &[1, 2, 3]);
    // Bootstrap-Server account capacity: 4 instances.
    let body: Vec<u8> =
        (1..=4).flat_map(|i| tlv(OI, i, &security_tlv("coap://x", false, i))).collect();
    assert_eq!(
        reg.write(&bs(), &p("/0"), Some(cf::LWM2M_TLV), &body, true),
        Err(Code::BAD_REQUEST)
    );
    assert_eq!(reg.security.iter().count(), 1);
    // Object-level write must hold object instances.
    assert_eq!(
        reg.write(&bs(), &p("/1"), Some(cf::LWM2M_TLV), &r_int(1, 5), true),
        Err(Code::BAD_REQUEST)
    );
}

#[test]
fn bootstrap_write_is_all_or_nothing() {
    let mut reg = provisioned();
    // Second instance has a bad security mode: nothing is created.
    let mut bad = security_tlv("coaps://x", false, 7);
    bad.extend(r_int(2, 9));
    let body = cat(&[tlv(OI, 2, &security_tlv("coaps://y", false, 8)), tlv(OI, 3, &bad)]);
    assert_eq!(
        reg.write(&bs(), &p("/0"), Some(cf::LWM2M_TLV), &body, true),
        Err(Code::BAD_REQUEST)
    );
    assert_eq!(reg.security.iter().count(), 2);
    // Key too long for the capacity.
    let body = tlv(RES, 5, &[0u8; 65]);
    assert_eq!(
        reg.write(&bs(), &p("/0/1/5"), Some(cf::LWM2M_TLV), &body, true),
        Err(Code::BAD_REQUEST)
    );
    assert_eq!(reg.security.get(1).unwrap().secret_key(), &[0xAA, 0xBB, 0xCC]);
}

#[test]
fn bootstrap_discover_lists_accounts() {
    let reg = provisioned();
    let got = discover(&reg, &bs(), "/", &NoAttrs).unwrap();
    assert_eq!(
        got,
        "</>;lwm2m=\"1.0\",</0/0>,</0/1>;ssid=101;uri=\"coaps://dm.example.com:5684\",\
         </1/0>;ssid=101,</2>,</3/0>,</4/0>,</5/0>"
    );
    assert_eq!(discover(&reg, &bs(), "/1", &NoAttrs).unwrap(), "</1/0>;ssid=101");
    assert_eq!(discover(&reg, &bs(), "/1/0", &NoAttrs), Err(Code::BAD_REQUEST));
}

// ---------------------------------------------------------------- Create / Delete / Execute

#[test]
fn create_and_delete() {
    let mut reg = provisioned();
    // Management servers may not create in Security/Server/ACL, nor in single-instance objects.
    let body = cat(&[r_int(0, 3), r_int(1, 0)]);
    assert_eq!(
        reg.create(&srv(101), &p("/0"), Some(cf::LWM2M_TLV), &body),
        Err(Code::UNAUTHORIZED)
    );
    assert_eq!(
        reg.create(&srv(101), &p("/1"), Some(cf::LWM2M_TLV), &body),
        Err(Code::METHOD_NOT_ALLOWED)
    );
    assert_eq!(
        reg.create(&srv(101), &p("/2"), Some(cf::LWM2M_TLV), &body),
        Err(Code::METHOD_NOT_ALLOWED)
    );
    assert_eq!(
        reg.create(&srv(101), &p("/3"), Some(cf::LWM2M_TLV), &[]),
        Err(Code::METHOD_NOT_ALLOWED)
    );
    assert_eq!(reg.create(&srv(101), &p("/9"), Some(cf::LWM2M_TLV), &[]), Err(Code::NOT_FOUND));
    // The client side (Caller::Bootstrap) may: lowest free id, or the id given.
    assert_eq!(reg.create(&bs(), &p("/2"), Some(cf::LWM2M_TLV), &body), Ok(0));
    let wrapped = tlv(OI, 7, &cat(&[r_int(0, 1), r_int(1, 0), r_int(3, 101)]));
    assert_eq!(reg.create(&bs(), &p("/2"), Some(cf::LWM2M_TLV), &wrapped), Ok(7));
    assert_eq!(reg.create(&bs(), &p("/2"), Some(cf::LWM2M_TLV), &wrapped), Err(Code::BAD_REQUEST));
    assert_eq!(
        reg.create(&bs(), &p("/2"), Some(cf::TEXT_PLAIN), b"1"),
        Err(Code::UNSUPPORTED_CONTENT_FORMAT)
    );
    let bad = cat(&[r_int(0, 1), r_int(1, -5)]);
    assert_eq!(reg.create(&bs(), &p("/2"), Some(cf::LWM2M_TLV), &bad), Err(Code::BAD_REQUEST));
    assert_eq!(reg.acl.iter().map(|a| a.id).collect::<Vec<_>>(), vec![0, 7]);
    assert_eq!(reg.acl.get(7).unwrap().owner, 101);
    assert_eq!(effects(&mut reg), vec![Effect::Changed(p("/2"))]);
    // Deletes by a management server.
    assert_eq!(reg.delete(&srv(101), &p("/0/1")), Err(Code::UNAUTHORIZED));
    assert_eq!(reg.delete(&srv(101), &p("/1/0")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/2/0")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/3/0")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/4/0")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/5/0")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/3")), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.delete(&srv(101), &p("/3/1")), Err(Code::NOT_FOUND));
    assert_eq!(reg.delete(&srv(101), &p("/9/0")), Err(Code::NOT_FOUND));
    // Bootstrap-Delete of an instance removes it and the ACLs guarding it.
    reg.delete(&bs(), &p("/2/7")).unwrap();
    reg.delete(&bs(), &p("/1/0")).unwrap();
    assert_eq!(reg.acl.iter().map(|a| a.id).collect::<Vec<_>>(), vec![0]); // guards /3/0
    reg.write(&bs(), &p("/2/0/0"), Some(cf::TEXT_PLAIN), b"1", true).unwrap();
    reg.write(&bs(), &p("/1/0"), Some(cf::LWM2M_TLV), &server_tlv(101, 60), true).unwrap();
    reg.delete(&bs(), &p("/1/0")).unwrap();
    assert_eq!(reg.acl.iter().count(), 0);
    assert!(reg.server.get(0).is_none());
    assert_eq!(
        effects(&mut reg),
        vec![Effect::Changed(p("/2/7")), Effect::Changed(p("/1/0")), Effect::Changed(p("/2/0/0"))]
    );
}

#[test]
fn execute_effects_and_errors() {
    let mut reg = provisioned();
    let s = srv(101);
    reg.execute(&s, &p("/3/0/4"), b"").unwrap();
    reg.execute(&s, &p("/3/0/5"), b"").unwrap();
    reg.execute(&s, &p("/1/0/8"), b"").unwrap();
    reg.execute(&s, &p("/1/0/9"), b"").unwrap();
    reg.execute(&s, &p("/1/0/4"), b"").unwrap();
    assert_eq!(
        effects(&mut reg),
        vec![
            Effect::Reboot,
            Effect::FactoryReset,
            Effect::RegistrationUpdateTrigger { short_id: 101 },
            Effect::BootstrapRequestTrigger { short_id: 101 },
            Effect::Disable { short_id: 101 },
        ]
    );
    reg.device.error_code_add(2).unwrap();
    effects(&mut reg);
    reg.execute(&s, &p("/3/0/12"), b"").unwrap();
    assert_eq!(reg.device.error_codes(), &[] as &[u8]);
    assert_eq!(effects(&mut reg), vec![Effect::Changed(p("/3/0/11"))]);
    assert_eq!(reg.execute(&s, &p("/3/0/9"), b""), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.execute(&s, &p("/3/0"), b""), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(reg.execute(&s, &p("/3/0/99"), b""), Err(Code::NOT_FOUND));
    assert_eq!(reg.execute(&s, &p("/1/3/8"), b""), Err(Code::NOT_FOUND));
    assert_eq!(reg.execute(&s, &p("/0/1/0"), b""), Err(Code::UNAUTHORIZED));
    assert_eq!(reg.execute(&bs(), &p("/3/0/4"), b""), Err(Code::METHOD_NOT_ALLOWED));
    assert_eq!(effects(&mut reg), vec![]);
}

#[test]
fn firmware_update_flow() {
    let mut reg = provisioned();
    let s = srv(101);
    assert_eq!(reg.execute(&s, &p("/5/0/2"), b""), Err(Code::METHOD_NOT_ALLOWED));
    reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"https://fw.example.com/img.bin", true)
        .unwrap();
    assert_eq!(reg.firmware.package_uri(), "https://fw.example.com/img.bin");
    assert_eq!(effects(&mut reg), vec![Effect::FirmwareUriWritten, Effect::Changed(p("/5/0/1"))]);
    reg.firmware.set_state(FwState::Downloading);
    assert_eq!(read_text(&reg, "/5/0/3"), b"1");
    // A new URI while downloading is refused; "" cancels.
    let r = reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"https://other", true);
    assert_eq!(r, Err(Code::METHOD_NOT_ALLOWED));
    reg.firmware.set_state(FwState::Downloaded);
    reg.firmware.set_result(result::INITIAL).unwrap();
    effects(&mut reg);
    reg.execute(&s, &p("/5/0/2"), b"").unwrap();
    assert_eq!(reg.firmware.state(), FwState::Updating);
    assert_eq!(effects(&mut reg), vec![Effect::FirmwareUpdate, Effect::Changed(p("/5/0/3"))]);
    reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"", true).unwrap();
    assert_eq!((reg.firmware.state(), reg.firmware.package_uri()), (FwState::Idle, ""));
    effects(&mut reg);
    // Unsupported protocol and invalid URI set the Update Result, no download.
    reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"coaps://fw.example.com/x", true).unwrap();
    assert_eq!(reg.firmware.result(), result::UNSUPPORTED_PROTOCOL);
    assert_eq!(effects(&mut reg), vec![Effect::Changed(p("/5/0/1")), Effect::Changed(p("/5/0/5"))]);
    reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"", true).unwrap();
    reg.write(&s, &p("/5/0/1"), Some(cf::TEXT_PLAIN), b"garbage", true).unwrap();
    assert_eq!(reg.firmware.result(), result::INVALID_URI);
    // Empty package (push) cancels too.
    reg.write(&s, &p("/5/0/0"), Some(cf::OCTET_STREAM), b"\0", true).unwrap();
    assert_eq!((reg.firmware.result(), reg.firmware.package_uri()), (0, ""));
    assert_eq!(reg.firmware.set_result(10), Err(SetError::Invalid));
    assert_eq!(
        read(&reg, &s, "/5/0/8", None).unwrap().1,
        tlv(MR, 8, &cat(&[ri_int(0, 2), ri_int(1, 3)]))
    );
}

// ---------------------------------------------------------------- Discover / links / numbers

struct TestAttrs;
impl AttrSource for TestAttrs {
    fn attrs(&self, path: &Path) -> Option<Attrs> {
        match path.ids() {
            [3] => Some(Attrs::default().with_secs(Attr::Pmin, Some(10))),
            [3, 0] => Some(Attrs::default().with_secs(Attr::Pmax, Some(60))),
            [3, 0, 7] => Some(
                Attrs::default().with_float(Attr::Gt, Some(50.0)).with_float(Attr::Lt, Some(42.5)),
            ),
            _ => None,
        }
    }
}

#[test]
fn discover_output() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    let s = srv(101);
    assert_eq!(
        discover(&reg, &s, "/3/0/7", &TestAttrs).unwrap(),
        "</3/0/7>;dim=2;pmin=10;pmax=60;gt=50;lt=42.5"
    );
    assert_eq!(discover(&reg, &s, "/3/0/9", &TestAttrs).unwrap(), "</3/0/9>;pmin=10;pmax=60");
    assert_eq!(
        discover(&reg, &s, "/1/0", &NoAttrs).unwrap(),
        "</1/0>,</1/0/0>,</1/0/1>,</1/0/4>,</1/0/6>,</1/0/7>,</1/0/8>,</1/0/9>"
    );
    let dev = discover(&reg, &s, "/3", &TestAttrs).unwrap();
    assert!(dev.starts_with("</3>;pmin=10,</3/0>;pmax=60,</3/0/0>,</3/0/1>,"), "{dev}");
    assert!(dev.contains(",</3/0/6>;dim=2,</3/0/7>;dim=2;gt=50;lt=42.5,</3/0/8>;dim=2,"), "{dev}");
    assert!(dev.contains(",</3/0/11>;dim=1,</3/0/12>,"), "{dev}");
    assert!(dev.ends_with(",</3/0/21>"), "{dev}");
    assert_eq!(discover(&reg, &s, "/2", &NoAttrs).unwrap(), "</2>");
    assert_eq!(discover(&reg, &s, "/0", &NoAttrs), Err(Code::UNAUTHORIZED));
    assert_eq!(discover(&reg, &s, "/3/1", &NoAttrs), Err(Code::NOT_FOUND));
    assert_eq!(discover(&reg, &s, "/1/0/2", &NoAttrs), Err(Code::NOT_FOUND));
    assert_eq!(discover(&reg, &s, "/", &NoAttrs), Err(Code::METHOD_NOT_ALLOWED));
}

#[test]
fn registration_links() {
    let mut reg = provisioned();
    let mut buf = [0u8; 128];
    let mut s = SliceSink::new(&mut buf);
    reg.write_registration_links(&mut s).unwrap();
    assert_eq!(s.written(), b"</1/0>,</2>,</3/0>,</4/0>,</5/0>");
    acl_setup(&mut reg);
    reg.write(&bs(), &p("/1/4"), Some(cf::LWM2M_TLV), &server_tlv(102, 60), true).unwrap();
    let mut s = SliceSink::new(&mut buf);
    reg.write_registration_links(&mut s).unwrap();
    assert_eq!(s.written(), b"</1/0>,</1/4>,</2/0>,</3/0>,</4/0>,</5/0>");
    let mut small = [0u8; 8];
    assert!(reg.write_registration_links(&mut SliceSink::new(&mut small)).is_err());
}

#[test]
fn numeric_values() {
    let mut reg = provisioned();
    oma_device(&mut reg);
    let s = srv(101);
    assert_eq!(reg.numeric_value(&s, &p("/3/0/9")), Some(100.0));
    assert_eq!(reg.numeric_value(&s, &p("/3/0/7/1")), Some(5000.0));
    assert_eq!(reg.numeric_value(&s, &p("/1/0/6")), Some(1.0));
    assert_eq!(reg.numeric_value(&s, &p("/3/0/7")), None);
    assert_eq!(reg.numeric_value(&s, &p("/3/0/0")), None);
    assert_eq!(reg.numeric_value(&s, &p("/3/0")), None);
    assert_eq!(reg.numeric_value(&s, &p("/0/1/10")), None);
}

// ---------------------------------------------------------------- Access control

#[test]
fn acl_enforced_only_with_several_servers() {
    let mut reg = provisioned();
    acl_setup(&mut reg); // /2/0 guards /3/0: default 1 (read), 101: 7 (R/W/E), owner 101
                         // One server: no enforcement, 102 could do anything (there is no 102 anyway).
    assert!(!reg.acl_enforced());
    reg.write(&bs(), &p("/1/1"), Some(cf::LWM2M_TLV), &server_tlv(102, 60), true).unwrap();
    assert!(reg.acl_enforced());
    let (a, b) = (srv(101), srv(102));
    assert!(read(&reg, &b, "/3/0/9", None).is_ok()); // default entry: read
    assert_eq!(reg.execute(&b, &p("/3/0/4"), b""), Err(Code::UNAUTHORIZED));
    assert_eq!(
        reg.write(&b, &p("/3/0/14"), Some(cf::TEXT_PLAIN), b"+01:00", true),
        Err(Code::UNAUTHORIZED)
    );
    reg.write(&a, &p("/3/0/14"), Some(cf::TEXT_PLAIN), b"+01:00", true).unwrap();
    reg.execute(&a, &p("/3/0/4"), b"").unwrap();
    // No ACL instance for /4/0 or /1/x: no rights.
    assert_eq!(read(&reg, &a, "/4/0", None), Err(Code::UNAUTHORIZED));
    assert_eq!(read(&reg, &a, "/1/0/1", None), Err(Code::UNAUTHORIZED));
    // Object-level read and discover leave out instances without read right.
    assert_eq!(read(&reg, &a, "/1", None).unwrap().1, vec![]);
    assert_eq!(discover(&reg, &a, "/1", &NoAttrs).unwrap(), "</1>");
    // ACL instances: owner may write them, others only read.
    reg.write(&a, &p("/2/0/2"), Some(cf::LWM2M_TLV), &ri_int(102, 1), false).unwrap();
    assert_eq!(
        reg.write(&b, &p("/2/0/2"), Some(cf::LWM2M_TLV), &ri_int(102, 7), false),
        Err(Code::UNAUTHORIZED)
    );
    assert!(read(&reg, &b, "/2/0", None).is_ok());
    assert_eq!(reg.acl.get(0).unwrap().rights(102), 1);
    // Owner without an entry gets full rights but Create; stranger falls back to default.
    let mut acl = AclInstance::new(5);
    acl.owner = 7;
    assert_eq!(acl.rights(7), 0x0F);
    assert_eq!(acl.rights(8), 0);
    let _ = acl.entries.push((0, 1));
    assert_eq!(acl.rights(8), 1);
}

// ---------------------------------------------------------------- Setters and effects

#[test]
fn device_setters_validate() {
    let mut d = Device::new();
    assert_eq!(d.avail_power_sources_set(&[0, 3]).unwrap_err().errno(), -22);
    assert_eq!(d.avail_power_sources_set(&[8]).unwrap_err().errno(), -22);
    assert_eq!(d.avail_power_sources_set(&[1, 1]).unwrap_err().errno(), -22);
    assert_eq!(d.avail_power_sources_set(&[0, 1, 2, 4, 5, 6, 7, 0, 1]).unwrap_err().errno(), -22);
    d.avail_power_sources_set(&[0, 1, 2, 4, 5, 6, 7]).unwrap();
    assert_eq!(d.power_source_voltage_set(9, 1).unwrap_err().errno(), -22);
    d.avail_power_sources_set(&[1, 5]).unwrap();
    assert_eq!(d.power_source_voltage_set(0, 5000).unwrap_err().errno(), -19);
    assert_eq!(d.power_source_current_set(7, 1).unwrap_err().errno(), -19);
    d.power_source_voltage_set(1, 3800).unwrap();
    d.power_source_voltage_set(5, 5000).unwrap();
    d.power_source_current_set(5, 900).unwrap();
    // Removing a source drops its values, kept sources keep theirs, new ones start at 0.
    d.avail_power_sources_set(&[5, 0]).unwrap();
    let ps: Vec<_> =
        d.power_sources().iter().map(|p| (p.source, p.voltage_mv, p.current_ma)).collect();
    assert_eq!(ps, vec![(5, 5000, 900), (0, 0, 0)]);
    d.avail_power_sources_set(&[1, 5]).unwrap();
    assert_eq!(d.power_sources()[0].voltage_mv, 0);
    assert_eq!(d.battery_level_set(101).unwrap_err().errno(), -22);
    d.battery_level_set(100).unwrap();
    assert_eq!(d.battery_status_set(7).unwrap_err().errno(), -22);
    assert_eq!(d.battery_status_set(-1).unwrap_err().errno(), -22);
    d.battery_status_set(4).unwrap();
    assert_eq!(d.device_type_set("").unwrap_err().errno(), -22);
    assert_eq!(d.device_type_set(&"x".repeat(33)).unwrap_err().errno(), -12);
    d.device_type_set(&"x".repeat(32)).unwrap();
    assert_eq!(d.hardware_version_set("").unwrap_err(), SetError::Invalid);
    assert_eq!(d.software_version_set(&"v".repeat(40)).unwrap_err(), SetError::NoMemory);
    d.hardware_version_set("2.1").unwrap();
    d.software_version_set("app 1.2.3").unwrap();
    assert_eq!((d.hardware_version(), d.software_version()), ("2.1", "app 1.2.3"));
    assert_eq!(d.error_code_add(9).unwrap_err().errno(), -22);
    assert_eq!(d.error_code_add(-1).unwrap_err().errno(), -22);
    assert_eq!(d.error_code_remove(9).unwrap_err().errno(), -22);
    d.error_code_add(8).unwrap();
    d.error_code_add(8).unwrap();
    d.error_code_add(0).unwrap();
    assert_eq!(d.error_codes(), &[8]);
    d.error_code_remove(8).unwrap();
    d.error_code_remove(4).unwrap();
    assert_eq!(d.error_codes(), &[] as &[u8]);
    d.memory_total_set(1024).unwrap();
    assert_eq!(d.utc_offset_set("+123456789:00").unwrap_err().errno(), -12);
}

#[test]
fn defaults() {
    let d = Device::new();
    assert_eq!(d.device_type(), "Smart Device");
    assert_eq!(d.hardware_version(), "1.0");
    assert_eq!(d.software_version(), "LwM2M 0.1.0");
    let reg = Registry::new();
    let s = srv(1);
    assert_eq!(read_text(&reg, "/3/0/16"), b"UQS");
    assert_eq!(read(&reg, &s, "/3/0/6", None).unwrap().1, tlv(MR, 6, &[]));
    assert_eq!(read_text(&reg, "/4/0/0"), b"6");
    assert_eq!(read_text(&reg, "/5/0/9"), b"0");
}

#[test]
fn setters_emit_changed() {
    let mut reg = Registry::new();
    assert_eq!(effects(&mut reg), vec![]);
    reg.device.battery_level_set(50).unwrap();
    reg.device.avail_power_sources_set(&[1]).unwrap();
    reg.conn_mon.signal_strength_set(-90).unwrap();
    reg.conn_mon.ip_addresses_set(&["10.0.0.1", "2001:db8::1"]).unwrap();
    reg.firmware.set_state(FwState::Downloading);
    let c = |s: &str| Effect::Changed(p(s));
    assert_eq!(
        effects(&mut reg),
        vec![
            c("/3/0/6"),
            c("/3/0/7"),
            c("/3/0/8"),
            c("/3/0/9"),
            c("/4/0/2"),
            c("/4/0/4"),
            c("/5/0/3")
        ]
    );
    // Unchanged values and failed setters emit nothing.
    reg.firmware.set_state(FwState::Downloading);
    let _ = reg.device.battery_level_set(200);
    assert_eq!(effects(&mut reg), vec![]);
    assert_eq!(read_text(&reg, "/4/0/4/1"), b"2001:db8::1");
    assert_eq!(reg.conn_mon.ip_addresses_set(&["a", "b", "c"]).unwrap_err().errno(), -12);
    assert_eq!(reg.conn_mon.network_bearer_set(51).unwrap_err().errno(), -22);
}

#[test]
fn secret_key_is_never_printed_or_read() {
    let mut s = SecurityInstance::new(1);
    s.set_secret_key(b"TOPSECRETKEY").unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("TOPSECRET") && !dbg.contains("84, 79, 80"), "{dbg}");
    let mut reg = Registry::new();
    reg.security.put(s).unwrap();
    assert!(!format!("{reg:?}").contains("84, 79, 80"));
    assert_eq!(format!("{:?}", Value::Opaque(b"TOPSECRET")), "Opaque(9 bytes)");
    assert_eq!(read(&reg, &bs(), "/0/1", None), Err(Code::UNAUTHORIZED));
    assert_eq!(reg.numeric_value(&bs(), &p("/0/1/5")), None);
}

#[test]
fn registry_fits_the_ram_budget() {
    let size = core::mem::size_of::<Registry>();
    std::println!("size_of::<Registry>() = {size}");
    assert!(size < 3 * 1024, "{size}");
}

#[test]
fn fuzz_entry_point_smoke() {
    // A few hand-picked inputs plus a deterministic pseudo-random sweep.
    let sec = security_tlv("coaps://x", false, 5);
    let inputs: Vec<Vec<u8>> = vec![
        cat(&[vec![0, 4, 1], tlv(OI, 0, &server_tlv(1, 30))]),
        cat(&[vec![0, 1, 1], tlv(OI, 2, &sec), tlv(OI, 3, &cat(&[sec.clone(), r_int(2, 9)]))]),
        cat(&[vec![1, 8, 2], b"-5".to_vec()]),
        cat(&[vec![0x10, 9, 1], ri_int(1, 1)]),
        vec![12, 0, 0],
        vec![4, 3, 1, 0x08, 0x00, 0x03, 0xC1, 0x00, 0x03],
    ];
    for i in &inputs {
        fuzz_operation(i);
    }
    let mut x: u32 = 0x1234_5678;
    for _ in 0..3000 {
        let mut v = Vec::new();
        let n = (x % 40) as usize;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            v.push(x as u8);
        }
        fuzz_operation(&v);
        x = x.wrapping_add(1);
    }
}

/// Structured random payloads (well-formed TLV trees with plausible ids and values) through
/// every operation: failures must leave the state unchanged (checked inside fuzz_operation).
#[test]
fn structured_random_operations_are_all_or_nothing() {
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) as u32
        }
        fn below(&mut self, n: u32) -> u32 {
            self.next() % n
        }
    }
    fn value(r: &mut Rng) -> Vec<u8> {
        match r.below(6) {
            0 => int_bytes(i64::from(r.below(200)) - 20),
            1 => vec![r.below(3) as u8],
            2 => b"UQS".to_vec(),
            3 => b"coaps://h:5684".to_vec(),
            4 => (0..r.below(70)).map(|i| i as u8).collect(),
            _ => b"https://fw/x".to_vec(),
        }
    }
    fn id(r: &mut Rng) -> u16 {
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 101, 102][r.below(17) as usize]
    }
    fn resources(r: &mut Rng) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..r.below(5) {
            if r.below(4) == 0 {
                let kids: Vec<u8> =
                    (0..r.below(6)).flat_map(|_| tlv(RI, id(r), &value(r))).collect();
                out.extend(tlv(MR, id(r), &kids));
            } else {
                out.extend(tlv(RES, id(r), &value(r)));
            }
        }
        out
    }
    let mut r = Rng(7);
    for _ in 0..20_000 {
        let payload = match r.below(4) {
            0 => (0..r.below(5))
                .flat_map(|_| tlv(OI, r.below(6) as u16, &resources(&mut r)))
                .collect(),
            1 => resources(&mut r),
            2 => value(&mut r),
            _ => (0..r.below(6)).flat_map(|_| tlv(RI, id(&mut r), &value(&mut r))).collect(),
        };
        let head = [r.next() as u8, r.next() as u8, r.next() as u8];
        fuzz_operation(&cat(&[head.to_vec(), payload]));
    }
}
