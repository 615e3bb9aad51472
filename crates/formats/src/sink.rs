//! Byte sinks: where encoders write.

use core::fmt;

/// A sink ran out of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("output buffer full")
    }
}

/// Destination of encoded bytes.
pub trait Sink {
    /// Appends `bytes`, or fails without a partial guarantee (a failed sink is not reused).
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow>;
    /// Logical number of bytes put so far.
    fn len(&self) -> usize;
    /// True when nothing was put yet.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    // Out of line: one forwarding call per sink type instead of a copy at every `put`.
    #[inline(never)]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        (**self).put(bytes)
    }
    fn len(&self) -> usize {
        (**self).len()
    }
}

/// Writes into a slice; [`Overflow`] when it is full (nothing of the failing `put` is written).
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink filling `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, pos: 0 }
    }
    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }
    /// Room left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Overflow)?;
        let dst = self.buf.get_mut(self.pos..end).ok_or(Overflow)?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
    fn len(&self) -> usize {
        self.pos
    }
}

/// Only counts bytes; never fails. Used to measure nested TLVs before writing their header.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountSink {
    n: usize,
}

impl CountSink {
    /// A counter at zero.
    pub const fn new() -> Self {
        CountSink { n: 0 }
    }
}

impl Sink for CountSink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        self.n = self.n.saturating_add(bytes.len());
        Ok(())
    }
    fn len(&self) -> usize {
        self.n
    }
}

/// Keeps only the logical bytes `[skip, skip + out.len())` of everything put, and never fails.
///
/// Block2 transfers render the whole payload once per block into one of these: no second buffer
/// is needed, and [`Sink::len`] afterwards tells the total size (hence whether more blocks follow).
#[derive(Debug)]
pub struct WindowSink<'a> {
    out: &'a mut [u8],
    skip: usize,
    pos: usize,
    copied: usize,
}

impl<'a> WindowSink<'a> {
    /// A window of `out.len()` bytes starting at logical offset `skip`.
    pub fn new(out: &'a mut [u8], skip: usize) -> Self {
        WindowSink { out, skip, pos: 0, copied: 0 }
    }
    /// Bytes placed in `out` so far (they are `out[..copied()]`).
    pub fn copied(&self) -> usize {
        self.copied
    }
    /// The filled part of the window.
    pub fn window(&self) -> &[u8] {
        self.out.get(..self.copied).unwrap_or(&[])
    }
}

impl Sink for WindowSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let start = self.pos;
        let end = start.saturating_add(bytes.len());
        self.pos = end;
        let win_end = self.skip.saturating_add(self.out.len());
        let lo = start.max(self.skip);
        let hi = end.min(win_end);
        if lo < hi {
            if let (Some(src), Some(dst)) = (
                bytes.get(lo - start..hi - start),
                self.out.get_mut(lo - self.skip..hi - self.skip),
            ) {
                dst.copy_from_slice(src);
                self.copied = self.copied.max(hi - self.skip);
            }
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.pos
    }
}
