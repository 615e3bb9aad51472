//! LwM2M paths, byte sinks and the LwM2M 1.0 content formats: TLV (11542), plain text (0) and
//! CoRE link format (40), both directions.
//!
//! Everything here is `no_std`, heap-free and panic-free on peer input: parsers take `&[u8]` and
//! return small error enums, encoders write through a [`Sink`] and report [`Overflow`] instead of
//! panicking.
#![no_std]
// `deny`, not `forbid`: the one exception is `utf8`, which says why.
#![deny(unsafe_code)]

pub mod link;
mod path;
mod sink;
pub mod text;
pub mod tlv;
mod utf8;

pub use path::{Path, PathError};
pub use sink::{CountSink, Overflow, Sink, SliceSink, WindowSink};
pub use utf8::str_from_utf8;

/// The float type of LwM2M float values throughout the core: single precision.
///
/// Why: the nRF9160's Cortex-M33 has a single-precision FPU, so `f32` arithmetic is a few
/// instructions while every `f64` operation links soft-float routines (about 3.5 KB of flash).
/// The float resources of the LwM2M 1.0 objects 0-5 (and the `gt`/`lt`/`st` attributes) need no
/// more than `f32`. Peers may still send 8-byte floats: [`tlv::decode_float`] narrows them.
pub type Float = f32;

/// Fuzzing entry point: runs every parser of this crate over `data` (TLV reader and validation,
/// value decoders, plain-text parsers, link-format parser and attribute iteration, paths).
/// Must never panic, whatever the input.
pub fn fuzz_all(data: &[u8]) {
    let _ = tlv::validate(data);
    for t in tlv::Reader::new(data).flatten() {
        let _ = (tlv::decode_int(t.value), tlv::decode_bool(t.value));
        let _ = (tlv::decode_float(t.value), tlv::decode_objlnk(t.value));
        let _ = tlv::decode_str(t.value);
        for c in t.children().flatten() {
            let _ = c.children().count();
        }
    }
    let _ = (text::parse_int(data), text::parse_bool(data));
    let _ = (text::parse_float(data), text::parse_objlnk(data));
    for l in link::Parser::new(data).flatten() {
        let _ = l.attrs().count();
    }
    if let Some(s) = str_from_utf8(data) {
        let _ = Path::from_str(s);
    }
    let _ = Path::from_uri_path(data.split(|&b| b == b'/'));
}
