//! Plain text (content format 0), LwM2M 1.0 rules.
//!
//! - Integers: decimal ASCII with an optional leading `-`. A leading `+` is rejected (LwM2M
//!   servers do not send one, and strictness keeps Write validation simple).
//! - Booleans: exactly `0` or `1`.
//! - Floats ([`Float`], `f32`): `[-]digits[.digits][(e|E)[+|-]digits]` on input (at least one
//!   digit before or after the point). On output at most 7 significant digits (what an `f32`
//!   holds), trailing zeros trimmed (`3.5`, `-0.125`, `42`, `100.7`); fixed notation for
//!   magnitudes from 1e-5 up to 1e13, `d.dddddde±x` outside. Non-finite values are written as
//!   `nan`, `inf`, `-inf` (never parsed back).
//! - Object links: `3:0`.
//!
//! Formatting is hand-written (no `core::fmt` float code) to keep flash use small: floats use
//! only `f32` arithmetic (hardware on the Cortex-M33) and integers only 32-bit divisions (no
//! 64-bit division routine is linked).

use crate::sink::{Overflow, Sink};
use crate::Float;
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

/// Powers of ten exactly representable in an `f32` (5^10 < 2^24 < 5^11).
const POW10: [Float; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// `v * 10^exp` by steps of at most 10^10 (no libm in `no_std`). One correctly rounded operation
/// when `|exp| <= 10`.
fn scale10(mut v: Float, mut exp: i32) -> Float {
    while exp > 0 && v.is_finite() {
        let e = exp.min(10);
        v *= POW10[e as usize];
        exp -= e;
    }
    while exp < 0 && v != 0.0 {
        let e = (-exp).min(10);
        v /= POW10[e as usize];
        exp += e;
    }
    v
}

/// Decimal float: `[-]digits[.digits][(e|E)[+|-]digits]`.
///
/// Correctly rounded when the digits, without the point, form a number up to 2^24 (any 7 digits)
/// and the decimal exponent it needs is within ±10: `12.5`, `-0.25`, `1e3`, `3.14159`. Otherwise
/// within a few ulps (9 significant digits are kept, the rest only count for the magnitude).
/// Out-of-range magnitudes are [`TextError::Range`]; values too small become zero.
pub fn parse_float(s: &[u8]) -> Result<Float, TextError> {
    let (neg, s) = match s.strip_prefix(b"-") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut mant: u32 = 0;
    let mut exp: i32 = 0; // decimal exponent adjustment from digits
    let mut digits = 0usize;
    let mut seen_point = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if mant < 100_000_000 {
                    // At most 999_999_999: fits a u32.
                    mant = mant * 10 + u32::from(b - b'0');
                    if seen_point {
                        exp = exp.saturating_sub(1);
                    }
                } else if !seen_point {
                    // Digits beyond 9 significant ones: keep the magnitude only.
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
    let v = scale10(mant as Float, exp.clamp(-10_000, 10_000));
    if !v.is_finite() {
        return Err(TextError::Range);
    }
    Ok(if neg { -v } else { v })
}

/// `v / 10` and `v % 10` with 32-bit divisions only (a `u64` division would link
/// `__aeabi_uldivmod`): long division in a 32-bit and two 16-bit steps. Each partial dividend is
/// below `10 << 16`, so each partial quotient fits its 16 bits.
fn div10(v: u64) -> (u64, u32) {
    let hi = (v >> 32) as u32;
    let lo = v as u32;
    let mid = ((hi % 10) << 16) | (lo >> 16);
    let low = ((mid % 10) << 16) | (lo & 0xFFFF);
    let q_lo = ((mid / 10) << 16) | (low / 10);
    ((u64::from(hi / 10) << 32) | u64::from(q_lo), low % 10)
}

// The `Sink`-generic writers of this crate forward to one `&mut dyn Sink` body each, so that
// every sink type shares the same code (a few indirect calls cost less than a copy per type).

/// Writes `v` in decimal.
pub(crate) fn put_u64_dyn(s: &mut dyn Sink, mut v: u64) -> Result<(), Overflow> {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    // Digits of values above u32::MAX one at a time, then a plain u32 loop.
    while v > u64::from(u32::MAX) {
        let (q, r) = div10(v);
        i -= 1;
        buf[i] = b'0' + r as u8;
        v = q;
    }
    let mut v = v as u32;
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
    write_int_dyn(s, v)
}

pub(crate) fn write_int_dyn(s: &mut dyn Sink, v: i64) -> Result<(), Overflow> {
    if v < 0 {
        s.put(b"-")?;
    }
    put_u64_dyn(s, v.unsigned_abs())
}

/// `0` or `1`.
pub fn write_bool<S: Sink>(s: &mut S, v: bool) -> Result<(), Overflow> {
    s.put(if v { b"1" } else { b"0" })
}

/// `object:instance`.
pub fn write_objlnk<S: Sink>(s: &mut S, v: (u16, u16)) -> Result<(), Overflow> {
    write_objlnk_dyn(s, v)
}

fn write_objlnk_dyn(s: &mut dyn Sink, v: (u16, u16)) -> Result<(), Overflow> {
    put_u64_dyn(s, v.0.into())?;
    s.put(b":")?;
    put_u64_dyn(s, v.1.into())
}

/// Significant digits written for a float: enough for what an `f32` holds.
const SIG_DIGITS: i32 = 7;
const SIG_MIN: Float = 1e6; // 10^(SIG_DIGITS - 1)

/// `floor(log10(a))` for a finite `a > 0`, up to one too small (from the binary exponent).
fn log10_estimate(a: Float) -> i32 {
    let bits = a.to_bits();
    let biased = (bits >> 23) as i32;
    let e2 = if biased == 0 {
        // Subnormal: the position of the highest set bit.
        (31 - bits.leading_zeros() as i32) - 149
    } else {
        biased - 127
    };
    // 1233 / 4096 is log10(2) to 5 digits; `>>` rounds toward minus infinity.
    (e2 * 1233) >> 12
}

/// `a` (finite, > 0) rounded to `SIG_DIGITS` significant digits: `(digits, e10)` with
/// `10^6 <= digits < 10^7` and `a ~= digits * 10^(e10 - 6)`. Correctly rounded when that takes
/// one scaling step (`1e-4 <= a < 1e17`); beyond, the last digit may be one off.
fn significant(a: Float) -> (u32, i32) {
    let mut e10 = log10_estimate(a);
    let mut n = 0;
    // The estimate is exact or one too small; a third round only absorbs rounding at 10^7.
    for _ in 0..3 {
        let p = scale10(a, SIG_DIGITS - 1 - e10);
        n = p as u32;
        // `p - n` is exact; round half up.
        if p - n as Float >= 0.5 {
            n += 1;
        }
        if n >= 10 * SIG_MIN as u32 {
            e10 += 1;
        } else if n < SIG_MIN as u32 && e10 > -50 {
            e10 -= 1;
        } else {
            break;
        }
    }
    if e10 == 38 {
        // Never round above f32::MAX (3.4028235e38): the text must parse back.
        n = n.min(3_402_823);
    }
    (n, e10)
}

/// Decimal float, see the module documentation for the format.
pub fn write_float<S: Sink>(s: &mut S, v: Float) -> Result<(), Overflow> {
    write_float_dyn(s, v)
}

pub(crate) fn write_float_dyn(s: &mut dyn Sink, v: Float) -> Result<(), Overflow> {
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
    if a == 0.0 {
        return s.put(b"0");
    }
    let (n, e10) = significant(a);
    let mut digits = [b'0'; SIG_DIGITS as usize];
    let mut rest = n;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let mut len = digits.len();
    while len > 1 && digits[len - 1] == b'0' {
        len -= 1;
    }
    let sig = digits.get(..len).unwrap_or_default();
    let fixed = (-5..13).contains(&e10);
    // Digits before the point.
    let int_len = if fixed { e10 + 1 } else { 1 };
    if int_len <= 0 {
        // 0.000ddd
        s.put(b"0.")?;
        s.put(b"0000".get(..(-int_len) as usize).unwrap_or_default())?;
        s.put(sig)?;
    } else {
        let int_len = int_len as usize;
        let (int, frac) = sig.split_at(int_len.min(len));
        s.put(int)?;
        for _ in len..int_len {
            s.put(b"0")?;
        }
        if !frac.is_empty() {
            s.put(b".")?;
            s.put(frac)?;
        }
    }
    if !fixed {
        s.put(if e10 < 0 { b"e-" } else { b"e+" })?;
        put_u64_dyn(s, u64::from(e10.unsigned_abs()))?;
    }
    Ok(())
}
