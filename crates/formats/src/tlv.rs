//! OMA LwM2M 1.0 TLV (TS §6.4.3, content format 11542).
//!
//! Type byte: bits 7-6 kind, bit 5 identifier length (0 = 8 bits, 1 = 16 bits), bits 4-3 length
//! type (0 = length in bits 2-0, 1/2/3 = 8/16/24-bit length field), then identifier, length and
//! value. Multi-byte fields are big-endian.

use crate::sink::{Overflow, Sink};
use crate::Float;
use core::fmt;

/// The four TLV kinds (type byte bits 7-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `00`: an object instance, containing resources.
    ObjectInstance,
    /// `01`: one instance of a multiple resource.
    ResourceInstance,
    /// `10`: a multiple resource, containing resource instances.
    MultipleResource,
    /// `11`: a single resource with its value.
    Resource,
}

impl Kind {
    const fn bits(self) -> u8 {
        match self {
            Kind::ObjectInstance => 0x00,
            Kind::ResourceInstance => 0x40,
            Kind::MultipleResource => 0x80,
            Kind::Resource => 0xC0,
        }
    }
    const fn from_bits(b: u8) -> Kind {
        match b >> 6 {
            0 => Kind::ObjectInstance,
            1 => Kind::ResourceInstance,
            2 => Kind::MultipleResource,
            _ => Kind::Resource,
        }
    }
    /// True for the kinds that carry a value rather than children.
    pub const fn is_leaf(self) -> bool {
        matches!(self, Kind::ResourceInstance | Kind::Resource)
    }
}

/// TLV decoding errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvError {
    /// The header or the value runs past the end of the buffer.
    Truncated,
    /// A child kind not allowed inside its parent (see [`validate`]).
    BadNesting,
    /// A value has a length its data type does not allow (e.g. a 3-byte integer).
    BadLength,
    /// A value is out of its domain (a boolean other than 0/1, an 8-byte float beyond the `f32`
    /// range).
    BadValue,
    /// A string is not UTF-8.
    BadUtf8,
}

impl fmt::Display for TlvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlvError::Truncated => "truncated TLV",
            TlvError::BadNesting => "TLV kind not allowed here",
            TlvError::BadLength => "bad TLV value length",
            TlvError::BadValue => "bad TLV value",
            TlvError::BadUtf8 => "TLV string is not UTF-8",
        })
    }
}

/// One decoded TLV; `value` borrows the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Kind from the type byte.
    pub kind: Kind,
    /// Identifier (object instance, resource or resource instance id).
    pub id: u16,
    /// The raw value: children for `ObjectInstance`/`MultipleResource`, data otherwise.
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Reader over the nested TLVs (meaningful for `ObjectInstance` / `MultipleResource`).
    pub fn children(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

/// Zero-copy iterator over a sequence of sibling TLVs. After the first error it yields `None`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads the TLVs in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { rest: buf }
    }
    fn parse(&self) -> Result<(Tlv<'a>, &'a [u8]), TlvError> {
        let buf = self.rest;
        let t = *buf.first().ok_or(TlvError::Truncated)?;
        let id_len = if t & 0x20 != 0 { 2 } else { 1 };
        let len_len = usize::from((t >> 3) & 3);
        let id = be(buf.get(1..1 + id_len).ok_or(TlvError::Truncated)?) as u16;
        let vstart = 1 + id_len + len_len;
        let len = if len_len == 0 {
            usize::from(t & 7)
        } else {
            be(buf.get(1 + id_len..vstart).ok_or(TlvError::Truncated)?) as usize
        };
        let value = buf.get(vstart..vstart + len).ok_or(TlvError::Truncated)?;
        let rest = buf.get(vstart + len..).unwrap_or(&[]);
        Ok((Tlv { kind: Kind::from_bits(t), id, value }, rest))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Tlv<'a>, TlvError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match self.parse() {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for Reader<'_> {}

/// Big-endian unsigned value of up to 8 bytes.
fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Checks a whole TLV payload: every header and value is in bounds, and nesting follows the
/// LwM2M rules: an `ObjectInstance` contains only `Resource`/`MultipleResource`, a
/// `MultipleResource` only `ResourceInstance`, and `Resource`/`ResourceInstance` are leaves.
/// Any kind is accepted at the top level (what a payload may hold depends on the request path,
/// which is the caller's business).
pub fn validate(buf: &[u8]) -> Result<(), TlvError> {
    for t in Reader::new(buf) {
        let t = t?;
        match t.kind {
            Kind::ObjectInstance => {
                for r in t.children() {
                    let r = r?;
                    match r.kind {
                        Kind::Resource => {}
                        Kind::MultipleResource => validate_multiple(r.value)?,
                        _ => return Err(TlvError::BadNesting),
                    }
                }
            }
            Kind::MultipleResource => validate_multiple(t.value)?,
            Kind::Resource | Kind::ResourceInstance => {}
        }
    }
    Ok(())
}

fn validate_multiple(buf: &[u8]) -> Result<(), TlvError> {
    for ri in Reader::new(buf) {
        if ri?.kind != Kind::ResourceInstance {
            return Err(TlvError::BadNesting);
        }
    }
    Ok(())
}

/// Signed big-endian integer of 1, 2, 4 or 8 bytes.
pub fn decode_int(v: &[u8]) -> Result<i64, TlvError> {
    // Each width read as its own signed type, which sign-extends: no shifts of a u64 by a
    // variable amount (those link `__aeabi_llsl` and `__aeabi_lasr`).
    Ok(match *v {
        [a] => i8::from_be_bytes([a]).into(),
        [a, b] => i16::from_be_bytes([a, b]).into(),
        [a, b, c, d] => i32::from_be_bytes([a, b, c, d]).into(),
        [a, b, c, d, e, f, g, h] => i64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => return Err(TlvError::BadLength),
    })
}

/// Boolean: one byte, 0 or 1.
pub fn decode_bool(v: &[u8]) -> Result<bool, TlvError> {
    match v {
        [0] => Ok(false),
        [1] => Ok(true),
        [_] => Err(TlvError::BadValue),
        _ => Err(TlvError::BadLength),
    }
}

/// The `f32` nearest to the `f64` with bits `bits` (ties to even), exactly what `as f32` gives,
/// computed on the bits: the cast would link the soft-float `__aeabi_d2f` (the nRF9160's FPU
/// is single precision). Too large: infinity; too small: a subnormal or zero; NaN stays a quiet
/// NaN with the top of its payload.
fn narrow(bits: u64) -> f32 {
    let sign = (bits >> 32) as u32 & 0x8000_0000;
    let exp = (bits >> 52) as i32 & 0x7FF;
    let mant = bits & ((1 << 52) - 1);
    let mag = if exp == 0x7FF {
        if mant == 0 {
            0x7F80_0000
        } else {
            0x7FC0_0000 | (mant >> 29) as u32
        }
    } else {
        // The biased f32 exponent.
        let e = exp - (1023 - 127);
        if e >= 255 {
            0x7F80_0000
        } else {
            // Significand bits dropped: 29 for a normal result, more for a subnormal one.
            let shift = if e >= 1 { 29 } else { 30 - e };
            if exp == 0 || shift > 53 {
                0
            } else {
                let sig = mant | 1 << 52;
                // The top 26 bits and a sticky bit for the rest (shift >= 29, so the sticky bit
                // stays below the rounding bit): the variable shifts are then 32-bit ones, not
                // calls to __aeabi_llsr/__aeabi_llsl.
                let x = (sig >> 27) as u32 | u32::from(sig & ((1 << 27) - 1) != 0);
                let shift = shift - 27;
                let q = x >> shift;
                let rem = x & ((1 << shift) - 1);
                let half = 1u32 << (shift - 1);
                let q = q + u32::from(rem > half || (rem == half && q & 1 == 1));
                // A carry out of the significand moves into the exponent, as it should.
                if e >= 1 {
                    ((e as u32 - 1) << 23) + q
                } else {
                    q
                }
            }
        }
    };
    f32::from_bits(sign | mag)
}

/// IEEE 754 float of 4 or 8 bytes, big-endian, as a [`Float`] (`f32`).
///
/// An 8-byte value is narrowed to the nearest `f32`: precision beyond `f32` (about 7 significant
/// digits) is lost, values too small for `f32` become zero (or a subnormal), NaN stays NaN and
/// infinities stay infinite. A finite value too large for `f32` is [`TlvError::BadValue`] rather
/// than silently becoming infinite.
pub fn decode_float(v: &[u8]) -> Result<Float, TlvError> {
    match v.len() {
        4 => Ok(f32::from_bits(be(v) as u32)),
        8 => {
            let bits = be(v);
            let f = narrow(bits);
            // Exponent field all ones: infinity or NaN, which narrow as such. Any other value
            // that narrows to infinity was finite and out of range. (Bit tests: an `f64`
            // comparison would link soft-float code.)
            if f.is_infinite() && (bits >> 52) & 0x7FF != 0x7FF {
                Err(TlvError::BadValue)
            } else {
                Ok(f)
            }
        }
        _ => Err(TlvError::BadLength),
    }
}

/// Object link: object id then instance id, 2 bytes each.
pub fn decode_objlnk(v: &[u8]) -> Result<(u16, u16), TlvError> {
    match v {
        [a, b, c, d] => Ok((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
        _ => Err(TlvError::BadLength),
    }
}

/// UTF-8 string.
pub fn decode_str(v: &[u8]) -> Result<&str, TlvError> {
    crate::str_from_utf8(v).ok_or(TlvError::BadUtf8)
}

/// Bytes needed for the length field of a value this long (0 when it fits in the type byte).
const fn len_field(value_len: usize) -> usize {
    if value_len < 8 {
        0
    } else if value_len <= 0xFF {
        1
    } else if value_len <= 0xFFFF {
        2
    } else {
        3
    }
}

/// Size of the header [`write_header`] writes for this id and value length.
pub const fn header_len(id: u16, value_len: usize) -> usize {
    1 + if id > 0xFF { 2 } else { 1 } + len_field(value_len)
}

/// Writes a TLV header. Values longer than 2^24 - 1 bytes cannot be encoded and report
/// [`Overflow`].
pub fn write_header<S: Sink>(
    s: &mut S,
    kind: Kind,
    id: u16,
    value_len: usize,
) -> Result<(), Overflow> {
    write_header_dyn(s, kind, id, value_len)
}

// The `Sink`-generic writers forward to `&mut dyn Sink` bodies: one copy for every sink type.
fn write_header_dyn(
    s: &mut dyn Sink,
    kind: Kind,
    id: u16,
    value_len: usize,
) -> Result<(), Overflow> {
    if value_len > 0xFF_FFFF {
        return Err(Overflow);
    }
    let ll = len_field(value_len);
    let mut h = [0u8; 6];
    h[0] = kind.bits() | ((ll as u8) << 3) | if ll == 0 { value_len as u8 } else { 0 };
    let n = if id > 0xFF {
        h[0] |= 0x20;
        h[1..3].copy_from_slice(&id.to_be_bytes());
        3
    } else {
        h[1] = id as u8;
        2
    };
    h[n..n + ll].copy_from_slice(&(value_len as u32).to_be_bytes()[4 - ll..]);
    s.put(&h[..n + ll])
}

/// Writes a TLV with a raw (opaque) value.
pub fn write_bytes<S: Sink>(s: &mut S, kind: Kind, id: u16, v: &[u8]) -> Result<(), Overflow> {
    write_bytes_dyn(s, kind, id, v)
}

fn write_bytes_dyn(s: &mut dyn Sink, kind: Kind, id: u16, v: &[u8]) -> Result<(), Overflow> {
    write_header_dyn(s, kind, id, v.len())?;
    s.put(v)
}

/// Writes a string TLV (UTF-8, no terminator).
pub fn write_str<S: Sink>(s: &mut S, kind: Kind, id: u16, v: &str) -> Result<(), Overflow> {
    write_bytes(s, kind, id, v.as_bytes())
}

/// Writes an integer TLV using the shortest of 1, 2, 4 or 8 bytes.
pub fn write_int<S: Sink>(s: &mut S, kind: Kind, id: u16, v: i64) -> Result<(), Overflow> {
    write_int_dyn(s, kind, id, v)
}

fn write_int_dyn(s: &mut dyn Sink, kind: Kind, id: u16, v: i64) -> Result<(), Overflow> {
    let n = if i64::from(v as i8) == v {
        1
    } else if i64::from(v as i16) == v {
        2
    } else if i64::from(v as i32) == v {
        4
    } else {
        8
    };
    write_bytes_dyn(s, kind, id, &v.to_be_bytes()[8 - n..])
}

/// Writes a boolean TLV (one byte, 0 or 1).
pub fn write_bool<S: Sink>(s: &mut S, kind: Kind, id: u16, v: bool) -> Result<(), Overflow> {
    write_bytes(s, kind, id, &[u8::from(v)])
}

/// Writes an object link TLV (object id, instance id; 2 bytes each).
pub fn write_objlnk<S: Sink>(
    s: &mut S,
    kind: Kind,
    id: u16,
    v: (u16, u16),
) -> Result<(), Overflow> {
    let [a, b] = v.0.to_be_bytes();
    let [c, d] = v.1.to_be_bytes();
    write_bytes(s, kind, id, &[a, b, c, d])
}

/// Writes a float TLV, always 4 bytes (an `f32`; a valid LwM2M 1.0 encoding).
pub fn write_float<S: Sink>(s: &mut S, kind: Kind, id: u16, v: Float) -> Result<(), Overflow> {
    write_bytes(s, kind, id, &v.to_be_bytes())
}
