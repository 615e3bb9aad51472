//! Plain text (content format 0), LwM2M 1.0 rules.
//!
//! - Integers: decimal ASCII with an optional leading `-`. A leading `+` is rejected (LwM2M
//!   servers do not send one, and strictness keeps Write validation simple).
//! - Booleans: exactly `0` or `1`.
//! - Floats: `[-]digits[.digits][(e|E)[+|-]digits]` on input (at least one digit before or after
//!   the point). On output a fixed format with at most 6 fractional digits, trailing zeros trimmed
//!   (`3.5`, `-0.125`, `42`); magnitudes of 1e13 and above, or below 1e-5, use `d.dddddde±x`.
//!   Non-finite values are written as `nan`, `inf`, `-inf` (never parsed back).
//! - Object links: `3:0`.
//!
//! Formatting is hand-written (no `core::fmt` float code) to keep flash use small.

use crate::sink::{Overflow, Sink};
use core::fmt;

/// Plain-text parsing errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Not of the expected syntax (empty, stray characters, sign where none is allowed, ...).
    Syntax,
    /// Syntactically fine but out of the type's range.
    Range,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextError::Syntax => "malformed plain-text value",
            TextError::Range => "plain-text value out of range",
        })
    }
}

/// Unsigned decimal, no sign, at least one digit.
fn parse_u64(s: &[u8]) -> Result<u64, TextError> {
    if s.is_empty() {
        return Err(TextError::Syntax);
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return Err(TextError::Syntax);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(TextError::Range)?;
    }
    Ok(v)
}

/// Decimal integer with optional leading `-`.
pub fn parse_int(s: &[u8]) -> Result<i64, TextError> {
    match s.strip_prefix(b"-") {
        Some(digits) => {
            let m = parse_u64(digits)?;
            if m > 1u64 << 63 {
                Err(TextError::Range)
            } else {
                Ok((m as i64).wrapping_neg())
            }
        }
        None => i64::try_from(parse_u64(s)?).map_err(|_| TextError::Range),
    }
}

/// `0` or `1`.
pub fn parse_bool(s: &[u8]) -> Result<bool, TextError> {
    match s {
        b"0" => Ok(false),
        b"1" => Ok(true),
        _ => Err(TextError::Syntax),
    }
}

/// `object:instance`, both decimal u16 (65535 allowed: `65535:65535` is the null link).
pub fn parse_objlnk(s: &[u8]) -> Result<(u16, u16), TextError> {
    let colon = s.iter().position(|&b| b == b':').ok_or(TextError::Syntax)?;
    let o = parse_u64(s.get(..colon).unwrap_or(&[]))?;
    let i = parse_u64(s.get(colon + 1..).unwrap_or(&[]))?;
    match (u16::try_from(o), u16::try_from(i)) {
        (Ok(o), Ok(i)) => Ok((o, i)),
        _ => Err(TextError::Range),
    }
}

/// `v * 10^exp` by repeated exact-as-possible scaling (no libm in `no_std`).
fn scale10(mut v: f64, mut exp: i32) -> f64 {
    while exp > 0 && v.is_finite() {
        let e = exp.min(22);
        v *= POW10[e as usize];
        exp -= e;
    }
    while exp < 0 && v != 0.0 {
        let e = (-exp).min(22);
        v /= POW10[e as usize];
        exp += e;
    }
    v
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Decimal float: `[-]digits[.digits][(e|E)[+|-]digits]`. Results are within an ulp or so of the
/// correctly rounded value (exact for up to 15 significant digits and small exponents).
pub fn parse_float(s: &[u8]) -> Result<f64, TextError> {
    let (neg, s) = match s.strip_prefix(b"-") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut mant: u64 = 0;
    let mut exp: i32 = 0; // decimal exponent adjustment from digits
    let mut digits = 0usize;
    let mut seen_point = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if mant < 1_000_000_000_000_000_000 / 10 {
                    mant = mant * 10 + u64::from(b - b'0');
                    if seen_point {
                        exp -= 1;
                    }
                } else if !seen_point {
                    // Digits beyond u64 precision: keep the magnitude only.
                    exp = exp.saturating_add(1);
                }
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' => break,
            _ => return Err(TextError::Syntax),
        }
        i += 1;
    }
    if digits == 0 {
        return Err(TextError::Syntax);
    }
    if let Some(rest) = s.get(i + 1..) {
        // An exponent follows.
        let (eneg, edigits) = match rest.first() {
            Some(b'+') => (false, rest.get(1..).unwrap_or(&[])),
            Some(b'-') => (true, rest.get(1..).unwrap_or(&[])),
            _ => (false, rest),
        };
        // Clamped: anything this large is zero or infinite anyway.
        let e = parse_u64(edigits)?.min(10_000) as i32;
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    let v = scale10(mant as f64, exp);
    if !v.is_finite() {
        return Err(TextError::Range);
    }
    Ok(if neg { -v } else { v })
}

/// Writes `v` in decimal.
pub(crate) fn put_u64<S: Sink>(s: &mut S, mut v: u64) -> Result<(), Overflow> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    s.put(&buf[i..])
}

/// Decimal integer, `-` for negatives.
pub fn write_int<S: Sink>(s: &mut S, v: i64) -> Result<(), Overflow> {
    if v < 0 {
        s.put(b"-")?;
    }
    put_u64(s, v.unsigned_abs())
}

/// `0` or `1`.
pub fn write_bool<S: Sink>(s: &mut S, v: bool) -> Result<(), Overflow> {
    s.put(if v { b"1" } else { b"0" })
}

/// `object:instance`.
pub fn write_objlnk<S: Sink>(s: &mut S, v: (u16, u16)) -> Result<(), Overflow> {
    put_u64(s, v.0.into())?;
    s.put(b":")?;
    put_u64(s, v.1.into())
}

const FRAC: u64 = 1_000_000; // 6 fractional digits

/// Writes `int.frac` where `scaled = value * 10^6`, trimming trailing zeros.
fn put_fixed<S: Sink>(s: &mut S, scaled: u64) -> Result<(), Overflow> {
    put_u64(s, scaled / FRAC)?;
    let mut frac = scaled % FRAC;
    if frac == 0 {
        return Ok(());
    }
    let mut digits = [b'0'; 6];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    let mut n = 6;
    while digits[n - 1] == b'0' {
        n -= 1;
    }
    s.put(b".")?;
    s.put(&digits[..n])
}

/// Decimal float, see the module documentation for the format.
pub fn write_float<S: Sink>(s: &mut S, v: f64) -> Result<(), Overflow> {
    if v.is_nan() {
        return s.put(b"nan");
    }
    if v < 0.0 {
        s.put(b"-")?;
    }
    let a = if v < 0.0 { -v } else { v };
    if a.is_infinite() {
        return s.put(b"inf");
    }
    if a == 0.0 || (1e-5..1e13).contains(&a) {
        return put_fixed(s, (a * FRAC as f64 + 0.5) as u64);
    }
    // Scientific: normalise to [1, 10).
    let mut e: i32 = 0;
    let mut m = a;
    while m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    while m < 1.0 {
        m *= 10.0;
        e -= 1;
    }
    let mut scaled = (m * FRAC as f64 + 0.5) as u64;
    if scaled >= 10 * FRAC {
        scaled /= 10;
        e += 1;
    }
    put_fixed(s, scaled)?;
    s.put(if e < 0 { b"e-" } else { b"e+" })?;
    put_u64(s, u64::from(e.unsigned_abs()))
}
