//! `lwm2m_carrier_config_t` to `CarrierConfig`, and the small text formats of the C interface.

use core::ffi::{c_char, c_int, CStr};
use core::fmt::Write as _;

use heapless::{String, Vec};
use lwm2m_carrier::CarrierConfig;
use lwm2m_carrier_core::objects::SetError;

use crate::types::lwm2m_carrier_config_t;

/// Why a configuration was refused (logged; the C caller sees -EINVAL).
pub type ConfigError = &'static str;

/// Logs why an argument of `what` was refused and returns -EINVAL.
pub fn einval(what: &str, why: &str) -> c_int {
    log::warn!("{what}: {why}");
    SetError::Invalid.errno()
}

/// Reads a setter's string argument: -EINVAL (logged) for NULL or non-UTF-8.
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string.
pub unsafe fn arg_str<'a>(what: &str, p: *const c_char) -> Result<&'a str, c_int> {
    if p.is_null() {
        return Err(einval(what, "NULL string"));
    }
    // SAFETY: not NULL; NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| einval(what, "string is not UTF-8"))
}

/// Reads an optional C string: NULL and "" are "not set".
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string.
pub unsafe fn opt_str<'a>(p: *const c_char) -> Result<Option<&'a str>, ConfigError> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| "string is not UTF-8")?;
    Ok((!s.is_empty()).then_some(s))
}

/// Decodes a hex PSK (even length, at most 64 bytes).
pub fn parse_psk(hex: &str) -> Result<Vec<u8, 64>, ConfigError> {
    if hex.len() % 2 != 0 {
        return Err("psk: odd number of hex digits");
    }
    let mut out = Vec::new();
    for pair in hex.as_bytes().chunks(2) {
        let digit = |b: u8| (b as char).to_digit(16).ok_or("psk: not a hex digit");
        let byte = digit(pair[0])? * 16 + digit(pair[1])?;
        out.push(byte as u8).map_err(|_| "psk: longer than 64 bytes")?;
    }
    Ok(out)
}

/// Builds the carrier configuration; NULL = operator defaults.
///
/// # Safety
/// `config` is NULL or points at a valid `lwm2m_carrier_config_t` whose strings are NULL or
/// NUL-terminated.
pub unsafe fn from_c(config: *const lwm2m_carrier_config_t) -> Result<CarrierConfig, ConfigError> {
    let mut out = CarrierConfig::default();
    if config.is_null() {
        return Ok(out);
    }
    // SAFETY: not NULL, valid by the caller's contract; copied (it is plain data).
    let c = unsafe { *config };
    // SAFETY: (all three calls) the strings are NULL or NUL-terminated by the caller's contract.
    let (uri, psk, apn) = unsafe { (opt_str(c.bootstrap_uri)?, opt_str(c.psk)?, opt_str(c.apn)?) };
    if let Some(uri) = uri {
        let scheme = |p: &str| uri.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
        if !scheme("coap://") && !scheme("coaps://") {
            return Err("bootstrap_uri: not coap:// or coaps://");
        }
        let mut s = String::new();
        s.push_str(uri).map_err(|_| "bootstrap_uri: longer than 64 characters")?;
        out.bootstrap_uri = Some(s);
    }
    if let Some(psk) = psk {
        out.psk = Some(parse_psk(psk)?);
    }
    if let Some(apn) = apn {
        let mut s = String::new();
        s.push_str(apn).map_err(|_| "apn: longer than 64 characters")?;
        out.apn = Some(s);
    }
    out.certification_mode = c.certification_mode;
    Ok(out)
}

/// Minutes east of UTC as the Device object shows them: `+HH:MM` / `-HH:MM`. `None` beyond
/// ±24 h.
pub fn format_utc_offset(minutes: i32) -> Option<String<6>> {
    if minutes.unsigned_abs() >= 24 * 60 {
        return None;
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    let mut out = String::new();
    write!(out, "{sign}{:02}:{:02}", m / 60, m % 60).ok()?;
    Some(out)
}

/// Parses a UTC offset written by a server: `+02:00`, `-0530`, `+2`, `UTC+01:00`, `UTC`, `Z`.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (prefixed, s) = match s.strip_prefix("UTC").or_else(|| s.strip_prefix("GMT")) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if (prefixed && s.is_empty()) || s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let digits = |t: &str| (1..=2).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_hex() {
        assert_eq!(parse_psk("00ff10").unwrap().as_slice(), &[0, 255, 16]);
        assert_eq!(parse_psk("AbCd").unwrap().as_slice(), &[0xab, 0xcd]);
        assert!(parse_psk("abc").is_err());
        assert!(parse_psk("zz").is_err());
        assert!(parse_psk(&"00".repeat(65)).is_err());
        assert_eq!(parse_psk(&"11".repeat(64)).unwrap().len(), 64);
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(format_utc_offset(120).as_deref(), Some("+02:00"));
        assert_eq!(format_utc_offset(-330).as_deref(), Some("-05:30"));
        assert_eq!(format_utc_offset(0).as_deref(), Some("+00:00"));
        assert_eq!(format_utc_offset(24 * 60), None);
        for (s, m) in [
            ("+02:00", 120),
            ("-0530", -330),
            ("+2", 120),
            ("UTC+01:00", 60),
            ("UTC", 0),
            ("Z", 0),
            ("GMT-3", -180),
        ] {
            assert_eq!(parse_utc_offset(s), Some(m), "{s}");
        }
        for s in ["", "+25:00", "+01:60", "abc", "+1:2:3", "+123"] {
            assert_eq!(parse_utc_offset(s), None, "{s}");
        }
    }
}
