//! Block1/Block2 option values (RFC 7959 §2.2).

use crate::ParseError;

/// A Block option value: block number, more flag and size exponent (size = 16 << szx).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    pub num: u32,
    pub more: bool,
    pub szx: u8,
}

impl Block {
    /// Largest block number a 3-byte option value can carry (20 bits).
    pub const MAX_NUM: u32 = (1 << 20) - 1;

    /// A validated block: `None` for SZX 7 (reserved / BERT) or a number above 20 bits.
    pub const fn new(num: u32, more: bool, szx: u8) -> Option<Block> {
        if szx > 6 || num > Block::MAX_NUM {
            None
        } else {
            Some(Block { num, more, szx })
        }
    }

    /// Decodes an option's uint value; more than 3 bytes or SZX 7 is an error.
    pub fn from_uint(v: u32) -> Result<Block, ParseError> {
        if v > 0xFF_FFFF || v & 7 == 7 {
            return Err(ParseError::BadOptionValue);
        }
        Ok(Block { num: v >> 4, more: v & 8 != 0, szx: (v & 7) as u8 })
    }

    /// The uint to send. `num` is truncated to 20 bits and `szx` to 3 bits; use [`Block::new`]
    /// to validate values that did not come from [`Block::from_uint`].
    pub const fn to_uint(&self) -> u32 {
        ((self.num & Block::MAX_NUM) << 4) | ((self.more as u32) << 3) | (self.szx as u32 & 7)
    }

    /// Block size in bytes.
    pub const fn size(&self) -> usize {
        16 << (self.szx & 7)
    }

    /// Byte offset of this block in the whole body.
    pub const fn offset(&self) -> usize {
        (self.num as usize).saturating_mul(self.size())
    }

    /// The SZX for a block size of 16..=1024 bytes; `None` if not such a power of two.
    pub const fn szx_for_size(size: usize) -> Option<u8> {
        let mut szx = 0;
        while szx <= 6 {
            if 16 << szx == size {
                return Some(szx);
            }
            szx += 1;
        }
        None
    }
}
