//! Change detection for observations: a Sink that hashes what a read renders, so the engine can
//! tell whether a value changed without keeping a copy of it.

use lwm2m_formats::{Overflow, Sink};

/// FNV-1a (32 bit) over every byte put. Collisions only delay a notification to pmax.
#[derive(Debug, Clone, Copy)]
pub struct HashSink {
    hash: u32,
    len: usize,
}

impl HashSink {
    pub const fn new() -> HashSink {
        HashSink { hash: 0x811c_9dc5, len: 0 }
    }

    pub fn finish(&self) -> u32 {
        self.hash
    }
}

impl Default for HashSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for HashSink {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        for &b in bytes {
            self.hash = (self.hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        self.len += bytes.len();
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }
}
