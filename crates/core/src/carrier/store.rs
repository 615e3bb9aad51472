//! Where persisted records go: the port's non-volatile storage (NVS on Zephyr, files on the
//! host, memory in the simulator), seen as numbered records like Zephyr's NVS.

/// Why the store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The record does not exist.
    NotFound,
    /// The buffer is too small for the record.
    TooLarge,
    /// The storage itself failed (flash error, I/O error, power cut).
    Io,
}

/// Numbered records, NVS-style. A `write` replaces the whole record. Whether a single write is
/// atomic does not matter for correctness: `records` keeps every state in two slots and checks
/// a CRC, so a torn write is detected and the other slot used.
pub trait RecordStore {
    /// Reads record `id` into `buf`; returns its length.
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError>;
    /// Writes record `id`.
    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError>;
    /// Deletes record `id` (deleting a missing record is not an error).
    fn delete(&mut self, id: u16) -> Result<(), StoreError>;
}
