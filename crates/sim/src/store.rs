//! In-memory record storage that can lose power in the middle of any write.

use std::collections::BTreeMap;

use lwm2m_carrier::{RecordStore, StoreError};

/// Records in memory, with a power cut scheduled at the n-th write.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    records: BTreeMap<u16, Vec<u8>>,
    writes: usize,
    /// Cut power during write number `n` (1-based), keeping `keep` bytes of it.
    cut: Option<(usize, usize)>,
    /// Power is off: every operation fails until `restore_power`.
    dead: bool,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Power fails during write number `n` (counting from 1 from now on), after `keep` bytes of
    /// it reached the flash (0 = nothing, `usize::MAX` = all of it but nothing after).
    pub fn cut_power_at_write(&mut self, n: usize, keep: usize) {
        self.cut = Some((self.writes + n, keep));
    }

    /// The device boots again: storage works, with what survived.
    pub fn restore_power(&mut self) {
        self.dead = false;
        self.cut = None;
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Writes since creation.
    pub fn writes(&self) -> usize {
        self.writes
    }

    pub fn record(&self, id: u16) -> Option<&[u8]> {
        self.records.get(&id).map(Vec::as_slice)
    }

    pub fn ids(&self) -> Vec<u16> {
        self.records.keys().copied().collect()
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }
}

impl RecordStore for MemStore {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError> {
        if self.dead {
            return Err(StoreError::Io);
        }
        let rec = self.records.get(&id).ok_or(StoreError::NotFound)?;
        let dst = buf.get_mut(..rec.len()).ok_or(StoreError::TooLarge)?;
        dst.copy_from_slice(rec);
        Ok(rec.len())
    }

    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError> {
        if self.dead {
            return Err(StoreError::Io);
        }
        self.writes += 1;
        if let Some((n, keep)) = self.cut {
            if self.writes == n {
                // A torn write: the record holds a prefix of the new data (flash written
                // page by page), then the power is gone.
                let keep = keep.min(data.len());
                if keep > 0 {
                    self.records.insert(id, data[..keep].to_vec());
                }
                self.dead = true;
                return Err(StoreError::Io);
            }
        }
        self.records.insert(id, data.to_vec());
        Ok(())
    }

    fn delete(&mut self, id: u16) -> Result<(), StoreError> {
        if self.dead {
            return Err(StoreError::Io);
        }
        self.records.remove(&id);
        Ok(())
    }
}
