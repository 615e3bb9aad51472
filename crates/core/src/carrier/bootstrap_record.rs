//! The persisted bootstrap result: every Security and Server instance, as tagged fields
//! (see `records`). Unknown tags are skipped and missing ones take defaults, so a newer library
//! reads what an older one wrote.

use lwm2m_formats::str_from_utf8;
use lwm2m_objects::security::{SecurityInstance, KEY_LEN, MAX_SECURITY, URI_LEN};
use lwm2m_objects::server::{ServerInstance, BINDING_LEN, MAX_SERVERS};
use lwm2m_objects::{Registry, Security, Server};

use super::records::{field_u32, FieldWriter, Fields, RecordError};

/// Bytes of one field holding `value_len` bytes: tag, 16-bit length, value.
const fn field_len(value_len: usize) -> usize {
    3 + value_len
}
const U32_FIELD: usize = field_len(4);
/// The largest Security instance: six numbers, the URI and three keys, in one field.
const MAX_SECURITY_FIELD: usize =
    field_len(6 * U32_FIELD + field_len(URI_LEN) + 3 * field_len(KEY_LEN));
/// The largest Server instance: seven numbers (the optional ones set) and the binding.
const MAX_SERVER_FIELD: usize = field_len(7 * U32_FIELD + field_len(BINDING_LEN));
/// Largest encoded bootstrap state: every Security and Server instance the objects can hold, at
/// its largest, and the re-bootstrap flag (`full_registry_fills_max_body` checks the sum).
pub const MAX_BODY: usize =
    MAX_SECURITY * MAX_SECURITY_FIELD + MAX_SERVERS * MAX_SERVER_FIELD + U32_FIELD;

// Top-level tags.
const T_SECURITY: u8 = 1;
const T_SERVER: u8 = 2;
/// The server asked for a new bootstrap, which has not completed yet.
const T_NEEDS_BOOTSTRAP: u8 = 100;

// Security instance tags.
const S_ID: u8 = 1;
const S_URI: u8 = 2;
const S_BOOTSTRAP: u8 = 3;
const S_MODE: u8 = 4;
const S_IDENTITY: u8 = 5;
const S_SERVER_KEY: u8 = 6;
const S_SECRET: u8 = 7;
const S_SSID: u8 = 8;
const S_HOLD_OFF: u8 = 9;
const S_BS_TIMEOUT: u8 = 10;

// Server instance tags.
const V_ID: u8 = 1;
const V_SSID: u8 = 2;
const V_LIFETIME: u8 = 3;
const V_PMIN: u8 = 4;
const V_PMAX: u8 = 5;
const V_DISABLE_TIMEOUT: u8 = 6;
const V_STORING: u8 = 7;
const V_BINDING: u8 = 8;

fn security_fields(s: &SecurityInstance, w: &mut FieldWriter<'_>) {
    w.u32(S_ID, u32::from(s.id));
    w.field(S_URI, s.uri.as_bytes());
    w.u32(S_BOOTSTRAP, u32::from(s.bootstrap));
    w.u32(S_MODE, u32::from(s.mode));
    w.field(S_IDENTITY, &s.identity);
    w.field(S_SERVER_KEY, &s.server_public_key);
    w.field(S_SECRET, s.secret_key());
    w.u32(S_SSID, u32::from(s.short_server_id));
    w.u32(S_HOLD_OFF, s.hold_off_s);
    w.u32(S_BS_TIMEOUT, s.bs_account_timeout_s);
}

fn server_fields(s: &ServerInstance, w: &mut FieldWriter<'_>) {
    w.u32(V_ID, u32::from(s.id));
    w.u32(V_SSID, u32::from(s.short_server_id));
    w.u32(V_LIFETIME, s.lifetime_s);
    // Absent optional values are simply not written.
    if let Some(v) = s.default_pmin_s {
        w.u32(V_PMIN, v);
    }
    if let Some(v) = s.default_pmax_s {
        w.u32(V_PMAX, v);
    }
    if let Some(v) = s.disable_timeout_s {
        w.u32(V_DISABLE_TIMEOUT, v);
    }
    w.u32(V_STORING, u32::from(s.notification_storing));
    w.field(V_BINDING, s.binding.as_bytes());
}

/// Encodes the Security and Server objects of `registry`, and whether a new bootstrap is
/// pending, into `out`; returns the body length. Each instance is one field whose value is the
/// instance's own fields, written in place.
pub fn encode(
    registry: &Registry,
    needs_bootstrap: bool,
    out: &mut [u8],
) -> Result<usize, RecordError> {
    let mut w = FieldWriter::new(out);
    for s in registry.security.iter() {
        let group = w.begin_group(T_SECURITY);
        security_fields(s, &mut w);
        w.end_group(group);
    }
    for s in registry.server.iter() {
        let group = w.begin_group(T_SERVER);
        server_fields(s, &mut w);
        w.end_group(group);
    }
    if needs_bootstrap {
        w.u32(T_NEEDS_BOOTSTRAP, 1);
    }
    w.finish()
}

fn u16_of(v: &[u8]) -> Result<u16, RecordError> {
    field_u32(v).and_then(|x| u16::try_from(x).ok()).ok_or(RecordError::BadHeader)
}

fn u32_of(v: &[u8]) -> Result<u32, RecordError> {
    field_u32(v).ok_or(RecordError::BadHeader)
}

/// Decodes one Security instance and adds it to `security` (there, not returned: no copy of
/// the instance through a `Result`).
#[inline(never)]
fn decode_security(body: &[u8], security: &mut Security) -> Result<(), RecordError> {
    let mut s = SecurityInstance::new(0);
    let bad = |_| RecordError::BadHeader;
    for f in Fields::new(body) {
        let (tag, v) = f?;
        match tag {
            S_ID => s.id = u16_of(v)?,
            S_URI => s.set_uri(str_from_utf8(v).ok_or(RecordError::BadHeader)?).map_err(bad)?,
            S_BOOTSTRAP => s.bootstrap = u32_of(v)? != 0,
            S_MODE => s.mode = u8::try_from(u32_of(v)?).map_err(|_| RecordError::BadHeader)?,
            S_IDENTITY => s.set_identity(v).map_err(bad)?,
            S_SERVER_KEY => {
                s.server_public_key.clear();
                s.server_public_key.extend_from_slice(v).map_err(|_| RecordError::Overflow)?;
            }
            S_SECRET => s.set_secret_key(v).map_err(bad)?,
            S_SSID => s.short_server_id = u16_of(v)?,
            S_HOLD_OFF => s.hold_off_s = u32_of(v)?,
            S_BS_TIMEOUT => s.bs_account_timeout_s = u32_of(v)?,
            _ => {} // written by a newer library
        }
    }
    security.put(s).map_err(|_| RecordError::Overflow)
}

/// Decodes one Server instance and adds it to `server`.
#[inline(never)]
fn decode_server(body: &[u8], server: &mut Server) -> Result<(), RecordError> {
    let mut s = ServerInstance::new(0);
    for f in Fields::new(body) {
        let (tag, v) = f?;
        match tag {
            V_ID => s.id = u16_of(v)?,
            V_SSID => s.short_server_id = u16_of(v)?,
            V_LIFETIME => s.lifetime_s = u32_of(v)?,
            V_PMIN => s.default_pmin_s = Some(u32_of(v)?),
            V_PMAX => s.default_pmax_s = Some(u32_of(v)?),
            V_DISABLE_TIMEOUT => s.disable_timeout_s = Some(u32_of(v)?),
            V_STORING => s.notification_storing = u32_of(v)? != 0,
            V_BINDING => {
                s.binding.clear();
                let b = str_from_utf8(v).ok_or(RecordError::BadHeader)?;
                s.binding.push_str(b).map_err(|_| RecordError::Overflow)?;
            }
            _ => {}
        }
    }
    server.put(s).map_err(|_| RecordError::Overflow)
}

/// Replaces the Security and Server objects of `registry` with those in `body`. Nothing changes
/// unless the whole body decodes. Returns whether the body holds [`T_NEEDS_BOOTSTRAP`].
#[inline(never)]
pub fn decode_into(body: &[u8], registry: &mut Registry) -> Result<bool, RecordError> {
    let mut security = Security::new();
    let mut server = Server::new();
    let mut needs_bootstrap = false;
    for f in Fields::new(body) {
        let (tag, v) = f?;
        match tag {
            T_SECURITY => decode_security(v, &mut security)?,
            T_SERVER => decode_server(v, &mut server)?,
            T_NEEDS_BOOTSTRAP => needs_bootstrap = true,
            _ => {}
        }
    }
    registry.security = security;
    registry.server = server;
    Ok(needs_bootstrap)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

    fn sample() -> Registry {
        let mut r = Registry::new();
        let mut bs = SecurityInstance::new(0);
        bs.set_uri("coaps://bootstrap.example:5684").unwrap();
        bs.bootstrap = true;
        bs.set_identity(b"urn:imei:490154203237518").unwrap();
        bs.set_secret_key(&[0xA5; 16]).unwrap();
        r.security.put(bs).unwrap();
        let mut dm = SecurityInstance::new(1);
        dm.set_uri("coaps://dm.example:5684").unwrap();
        dm.short_server_id = 102;
        dm.set_secret_key(&[0x5A; 32]).unwrap();
        r.security.put(dm).unwrap();
        let mut srv = ServerInstance::new(0);
        srv.short_server_id = 102;
        srv.lifetime_s = 3600;
        srv.default_pmax_s = Some(600);
        srv.binding.clear();
        srv.binding.push_str("UQS").unwrap();
        r.server.put(srv).unwrap();
        r
    }

    #[test]
    fn round_trip() {
        let r = sample();
        let mut buf = [0u8; MAX_BODY];
        let n = encode(&r, false, &mut buf).unwrap();
        let mut back = Registry::new();
        decode_into(&buf[..n], &mut back).unwrap();
        let dm = back.security.get(1).unwrap();
        assert_eq!(dm.uri.as_str(), "coaps://dm.example:5684");
        assert_eq!(dm.secret_key(), &[0x5A; 32]);
        assert_eq!(dm.short_server_id, 102);
        assert!(back.security.get(0).unwrap().bootstrap);
        let srv = back.server.by_short_id(102).unwrap();
        assert_eq!(
            (srv.lifetime_s, srv.default_pmax_s, srv.default_pmin_s),
            (3600, Some(600), None)
        );
        assert_eq!(srv.binding.as_str(), "UQS");
    }

    /// The stored format, spelled out field by field: `tag u8, len u16 BE, value`, one Security
    /// or Server field per instance whose value is that instance's fields.
    #[test]
    fn encoding_is_the_stored_format() {
        fn tlv(tag: u8, value: &[u8]) -> std::vec::Vec<u8> {
            let mut v = std::vec![tag, (value.len() >> 8) as u8, value.len() as u8];
            v.extend_from_slice(value);
            v
        }
        let num = |tag: u8, v: u32| tlv(tag, &v.to_be_bytes());
        let mut r = Registry::new();
        let mut s = SecurityInstance::new(1);
        s.set_uri("coaps://dm.example:5684").unwrap();
        s.short_server_id = 102;
        s.set_identity(b"id").unwrap();
        s.set_secret_key(&[0x5A; 3]).unwrap();
        r.security.put(s.clone()).unwrap();
        let mut v = ServerInstance::new(0);
        v.short_server_id = 102;
        v.lifetime_s = 3600;
        v.default_pmax_s = Some(600);
        r.server.put(v.clone()).unwrap();

        let security = [
            num(S_ID, 1),
            tlv(S_URI, b"coaps://dm.example:5684"),
            num(S_BOOTSTRAP, 0),
            num(S_MODE, u32::from(s.mode)),
            tlv(S_IDENTITY, b"id"),
            tlv(S_SERVER_KEY, b""),
            tlv(S_SECRET, &[0x5A; 3]),
            num(S_SSID, 102),
            num(S_HOLD_OFF, s.hold_off_s),
            num(S_BS_TIMEOUT, s.bs_account_timeout_s),
        ]
        .concat();
        let server = [
            num(V_ID, 0),
            num(V_SSID, 102),
            num(V_LIFETIME, 3600),
            num(V_PMAX, 600),
            num(V_STORING, u32::from(v.notification_storing)),
            tlv(V_BINDING, v.binding.as_bytes()),
        ]
        .concat();
        let expected = [tlv(T_SECURITY, &security), tlv(T_SERVER, &server)].concat();
        let mut buf = [0u8; MAX_BODY];
        let n = encode(&r, false, &mut buf).unwrap();
        assert_eq!(&buf[..n], &expected[..]);
        // Too small a buffer is an error, not a cut body.
        assert_eq!(encode(&r, false, &mut buf[..n - 1]), Err(RecordError::Overflow));
    }

    /// Every instance the objects can hold, every value at its longest, optional ones set, and
    /// a pending bootstrap: exactly `MAX_BODY` bytes, so the bound is neither short nor loose.
    #[test]
    fn full_registry_fills_max_body() {
        let mut r = Registry::new();
        for id in 0..MAX_SECURITY as u16 {
            let mut s = SecurityInstance::new(id);
            s.set_uri(&"u".repeat(URI_LEN)).unwrap();
            s.set_identity(&[1; KEY_LEN]).unwrap();
            s.set_secret_key(&[2; KEY_LEN]).unwrap();
            s.server_public_key.extend_from_slice(&[3; KEY_LEN]).unwrap();
            r.security.put(s).unwrap();
        }
        assert!(r.security.put(SecurityInstance::new(99)).is_err(), "Security holds more");
        for id in 0..MAX_SERVERS as u16 {
            let mut s = ServerInstance::new(id);
            s.short_server_id = id + 1;
            (s.default_pmin_s, s.default_pmax_s, s.disable_timeout_s) = (Some(1), Some(2), Some(3));
            s.binding.clear();
            s.binding.push_str("UQS").unwrap();
            r.server.put(s).unwrap();
        }
        assert!(r.server.put(ServerInstance::new(99)).is_err(), "Server holds more");
        let mut buf = [0u8; MAX_BODY + 1];
        assert_eq!(encode(&r, true, &mut buf), Ok(MAX_BODY));
        let mut back = Registry::new();
        assert_eq!(decode_into(&buf[..MAX_BODY], &mut back), Ok(true));
        assert_eq!(format!("{back:?}"), format!("{r:?}"));
        for (a, b) in back.security.iter().zip(r.security.iter()) {
            assert_eq!(a.secret_key(), b.secret_key()); // Debug does not show it
        }
    }

    #[test]
    fn pending_bootstrap_round_trips() {
        let r = sample();
        let mut buf = [0u8; MAX_BODY];
        for needs in [false, true] {
            let n = encode(&r, needs, &mut buf).unwrap();
            assert_eq!(decode_into(&buf[..n], &mut Registry::new()), Ok(needs));
        }
    }

    #[test]
    fn damaged_bodies_change_nothing() {
        let r = sample();
        let mut buf = [0u8; MAX_BODY];
        let n = encode(&r, false, &mut buf).unwrap();
        for cut in 1..n {
            let mut target = sample();
            target.server.clear();
            let before = format!("{:?}", target);
            if decode_into(&buf[..cut], &mut target).is_err() {
                assert_eq!(format!("{:?}", target), before, "partial decode at {cut}");
            }
        }
    }

    #[test]
    fn unknown_tags_are_skipped() {
        let r = sample();
        let mut buf = [0u8; MAX_BODY];
        let n = encode(&r, false, &mut buf).unwrap();
        let mut body = buf[..n].to_vec();
        body.extend_from_slice(&[99, 0, 2, 0xde, 0xad]);
        let mut back = Registry::new();
        decode_into(&body, &mut back).unwrap();
        assert_eq!(back.security.iter().count(), 2);
    }
}
