//! Message encoding into caller memory (RFC 7252 §3).

use crate::{BuildError, Code, MsgType, Token};

/// Writes a message front to back: header and token at `new`, then options in non-decreasing
/// number order, then the payload.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    /// Bytes written so far.
    pos: usize,
    last: u16,
    empty: bool,
}

/// Nibble and extended bytes for a delta or length (§3.1): 0-12 inline, 13 + 1 byte, 14 + 2 bytes.
fn ext(v: u32) -> (u8, [u8; 2], usize) {
    if v < 13 {
        (v as u8, [0; 2], 0)
    } else if v < 269 {
        (13, [(v - 13) as u8, 0], 1)
    } else {
        (14, ((v - 269) as u16).to_be_bytes(), 2)
    }
}

/// Largest value length the 14 form can express.
const MAX_OPTION_LEN: usize = 65535 + 269;

impl<'b> MessageBuilder<'b> {
    /// Writes the header and token.
    pub fn new(
        buf: &'b mut [u8],
        mtype: MsgType,
        code: Code,
        mid: u16,
        token: &Token,
    ) -> Result<Self, BuildError> {
        if code.is_empty() && !token.is_empty() {
            return Err(BuildError::EmptyMessage);
        }
        let t = token.as_slice();
        let pos = 4 + t.len();
        let [m0, m1] = mid.to_be_bytes();
        let hdr = [0x40 | (mtype.bits() << 4) | t.len() as u8, code.0, m0, m1];
        let out = buf.get_mut(..pos).ok_or(BuildError::BufferTooSmall)?;
        let (h, tk) = out.split_at_mut(4);
        h.copy_from_slice(&hdr);
        tk.copy_from_slice(t);
        Ok(MessageBuilder { buf, pos, last: 0, empty: code.is_empty() })
    }

    /// Appends an option; numbers must not decrease.
    pub fn option(&mut self, number: u16, value: &[u8]) -> Result<(), BuildError> {
        if self.empty {
            return Err(BuildError::EmptyMessage);
        }
        if number < self.last {
            return Err(BuildError::OptionOrder);
        }
        if value.len() > MAX_OPTION_LEN {
            return Err(BuildError::OptionTooLong);
        }
        let (dn, de, dl) = ext(u32::from(number - self.last));
        let (ln, le, ll) = ext(value.len() as u32);
        let end = self.pos + 1 + dl + ll + value.len();
        let out = self.buf.get_mut(self.pos..end).ok_or(BuildError::BufferTooSmall)?;
        let (first, rest) = out.split_at_mut(1);
        first.copy_from_slice(&[(dn << 4) | ln]);
        let (d, rest) = rest.split_at_mut(dl);
        d.copy_from_slice(de.get(..dl).unwrap_or(&[]));
        let (l, v) = rest.split_at_mut(ll);
        l.copy_from_slice(le.get(..ll).unwrap_or(&[]));
        v.copy_from_slice(value);
        self.pos = end;
        self.last = number;
        Ok(())
    }

    /// Appends a uint option in the fewest bytes (0 is the empty value, §3.2).
    pub fn option_uint(&mut self, number: u16, value: u32) -> Result<(), BuildError> {
        let be = value.to_be_bytes();
        let skip = (value.leading_zeros() / 8) as usize;
        self.option(number, be.get(skip..).unwrap_or(&[]))
    }

    /// Bytes written so far (header, token, options).
    pub fn len(&self) -> usize {
        self.pos
    }

    /// Always false: the header is written by `new`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Room for the payload, after the space reserved for the 0xFF marker. Write the payload
    /// here, then call [`finish`](Self::finish) with its length.
    // Out of line: several callers; inlined copies cost more than the call.
    #[inline(never)]
    pub fn payload_space(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.pos + 1..).unwrap_or_default()
    }

    /// Completes the message with `payload_len` bytes already in `payload_space()`; returns the
    /// total length. The marker is written only for a non-empty payload.
    pub fn finish(self, payload_len: usize) -> Result<usize, BuildError> {
        if payload_len == 0 {
            return Ok(self.pos);
        }
        if self.empty {
            return Err(BuildError::EmptyMessage);
        }
        let end = self
            .pos
            .checked_add(1 + payload_len)
            .filter(|&e| e <= self.buf.len())
            .ok_or(BuildError::BufferTooSmall)?;
        let marker = self.buf.get_mut(self.pos).ok_or(BuildError::BufferTooSmall)?;
        *marker = 0xFF;
        Ok(end)
    }

    /// Copies `payload` in and completes the message.
    pub fn finish_with(mut self, payload: &[u8]) -> Result<usize, BuildError> {
        let room = self.payload_space();
        room.get_mut(..payload.len()).ok_or(BuildError::BufferTooSmall)?.copy_from_slice(payload);
        self.finish(payload.len())
    }
}
