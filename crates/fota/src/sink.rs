//! Where the downloaded image goes: the [`DfuSink`] trait, the CRC-32 test image format,
//! [`MemSink`] (caller memory) and, with the `std` feature, `FileSink`.
//!
//! # Test image format
//!
//! The host and test sinks accept an image whose last 4 bytes are the CRC-32 (IEEE 802.3,
//! reflected, init and final XOR `0xFFFF_FFFF`, as in zlib/PNG) of everything before them,
//! little-endian. [`seal`] appends such a trailer. The nRF91 modem sink does not use this: the
//! modem validates its own signed update images.

/// Why the sink refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DfuError {
    /// The image does not fit the storage (LwM2M result 2).
    NoSpace,
    /// Out of RAM (LwM2M result 3).
    OutOfMemory,
    /// The integrity check failed (LwM2M result 5).
    Integrity,
    /// Not an image this device can use (LwM2M result 6).
    Unsupported,
    /// A write or begin at an offset the sink is not at.
    BadOffset,
    /// Storage I/O failed.
    Io,
    /// `apply` without a finished, verified image.
    NotReady,
}

/// A firmware image receiver (the modem DFU area on target, a file on the host).
///
/// Call order for one download: `begin`, `write`* (sequential offsets), `finish`; later, on the
/// LwM2M Update execute, `apply`. After a reboot the download resumes from [`DfuSink::offset`]
/// with another `begin(total, offset)`.
pub trait DfuSink {
    /// Prepares to receive an image of `total` bytes (when known) starting at `offset`.
    /// `offset == 0` starts over (erase); `offset > 0` continues a stored partial image and
    /// must not exceed [`DfuSink::offset`].
    fn begin(&mut self, total: Option<u32>, offset: u32) -> Result<(), DfuError>;
    /// Stores `data` at `offset` (always the current end of the stored image).
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError>;
    /// The whole image was written: verify it.
    fn finish(&mut self) -> Result<(), DfuError>;
    /// Installs the verified image (the update itself; a reboot follows).
    fn apply(&mut self) -> Result<(), DfuError>;
    /// Bytes of the image stored so far (the resume point after a reboot).
    fn offset(&self) -> u32;
}

impl<T: DfuSink + ?Sized> DfuSink for &mut T {
    fn begin(&mut self, total: Option<u32>, offset: u32) -> Result<(), DfuError> {
        (**self).begin(total, offset)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError> {
        (**self).write(offset, data)
    }
    fn finish(&mut self) -> Result<(), DfuError> {
        (**self).finish()
    }
    fn apply(&mut self) -> Result<(), DfuError> {
        (**self).apply()
    }
    fn offset(&self) -> u32 {
        (**self).offset()
    }
}

/// Incremental CRC-32 (IEEE, reflected polynomial 0xEDB88320), nibble table: 64 bytes of flash.
#[derive(Clone, Copy, Debug)]
pub struct Crc32(u32);

const CRC_NIBBLE: [u32; 16] = [
    0x0000_0000,
    0x1DB7_1064,
    0x3B6E_20C8,
    0x26D9_30AC,
    0x76DC_4190,
    0x6B6B_51F4,
    0x4DB2_6158,
    0x5005_713C,
    0xEDB8_8320,
    0xF00F_9344,
    0xD6D6_A3E8,
    0xCB61_B38C,
    0x9B64_C2B0,
    0x86D3_D2D4,
    0xA00A_E278,
    0xBDBD_F21C,
];

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

impl Crc32 {
    /// Initial state.
    pub const fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }
    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        let mut c = self.0;
        for &b in data {
            c ^= u32::from(b);
            c = (c >> 4) ^ CRC_NIBBLE[(c & 0xF) as usize];
            c = (c >> 4) ^ CRC_NIBBLE[(c & 0xF) as usize];
        }
        self.0 = c;
    }
    /// The CRC of everything added.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

/// CRC-32 of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// Length of the integrity trailer of the test image format.
pub const TRAILER_LEN: usize = 4;

/// The trailer to append to `payload` to make a valid test image.
pub fn seal(payload: &[u8]) -> [u8; TRAILER_LEN] {
    crc32(payload).to_le_bytes()
}

/// Checks a complete test image (payload followed by its CRC-32 trailer).
pub fn check_image(image: &[u8]) -> Result<(), DfuError> {
    let split = image.len().checked_sub(TRAILER_LEN).ok_or(DfuError::Integrity)?;
    let (payload, trailer) = image.split_at(split);
    if trailer == seal(payload) {
        Ok(())
    } else {
        Err(DfuError::Integrity)
    }
}

/// A sink over caller memory, verifying the test image format. For tests and small images.
#[derive(Debug)]
pub struct MemSink<'a> {
    buf: &'a mut [u8],
    len: usize,
    total: Option<u32>,
    verified: bool,
    applied: bool,
}

impl<'a> MemSink<'a> {
    /// An empty sink over `buf` (its capacity is the largest image).
    pub fn new(buf: &'a mut [u8]) -> MemSink<'a> {
        MemSink { buf, len: 0, total: None, verified: false, applied: false }
    }
    /// The bytes stored so far.
    pub fn data(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
    /// True after a successful [`DfuSink::apply`].
    pub fn is_applied(&self) -> bool {
        self.applied
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl DfuSink for MemSink<'_> {
    fn begin(&mut self, total: Option<u32>, offset: u32) -> Result<(), DfuError> {
        if total.is_some_and(|t| t > to_u32(self.buf.len())) {
            return Err(DfuError::NoSpace);
        }
        if offset > to_u32(self.len) {
            return Err(DfuError::BadOffset);
        }
        self.len = offset as usize;
        self.total = total;
        self.verified = false;
        self.applied = false;
        Ok(())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError> {
        if offset != to_u32(self.len) {
            return Err(DfuError::BadOffset);
        }
        let end = self.len.checked_add(data.len()).ok_or(DfuError::NoSpace)?;
        self.buf.get_mut(self.len..end).ok_or(DfuError::NoSpace)?.copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), DfuError> {
        if self.total.is_some_and(|t| t != to_u32(self.len)) {
            return Err(DfuError::Integrity);
        }
        check_image(self.data())?;
        self.verified = true;
        Ok(())
    }

    fn apply(&mut self) -> Result<(), DfuError> {
        if !self.verified {
            return Err(DfuError::NotReady);
        }
        self.applied = true;
        Ok(())
    }

    fn offset(&self) -> u32 {
        to_u32(self.len)
    }
}

#[cfg(feature = "std")]
pub use file::FileSink;

#[cfg(feature = "std")]
mod file {
    use super::{to_u32, Crc32, DfuError, DfuSink, TRAILER_LEN};
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::path::{Path, PathBuf};

    /// A sink writing the image to a file (host port, tests). Survives restarts: a new
    /// `FileSink` on the same path resumes from the file's length. Verifies the test image
    /// format on `finish`; `apply` only records that the image was installed.
    #[derive(Debug)]
    pub struct FileSink {
        path: PathBuf,
        file: File,
        len: u32,
        total: Option<u32>,
        verified: bool,
        applied: bool,
    }

    impl FileSink {
        /// Opens (creating if needed) the image file; its length is the resume offset.
        pub fn open(path: impl AsRef<Path>) -> std::io::Result<FileSink> {
            let path = path.as_ref().to_path_buf();
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            let len = u32::try_from(file.metadata()?.len()).unwrap_or(u32::MAX);
            Ok(FileSink { path, file, len, total: None, verified: false, applied: false })
        }
        /// The file's path.
        pub fn path(&self) -> &Path {
            &self.path
        }
        /// True after a successful [`DfuSink::apply`].
        pub fn is_applied(&self) -> bool {
            self.applied
        }
        fn verify(&mut self) -> std::io::Result<Result<(), DfuError>> {
            self.file.flush()?;
            self.file.sync_data()?;
            let len = self.len as usize;
            let Some(payload_len) = len.checked_sub(TRAILER_LEN) else {
                return Ok(Err(DfuError::Integrity));
            };
            self.file.seek(SeekFrom::Start(0))?;
            let mut crc = Crc32::new();
            let mut left = payload_len;
            let mut buf = [0u8; 4096];
            while left > 0 {
                let n = left.min(buf.len());
                self.file.read_exact(&mut buf[..n])?;
                crc.update(&buf[..n]);
                left -= n;
            }
            let mut trailer = [0u8; TRAILER_LEN];
            self.file.read_exact(&mut trailer)?;
            Ok(if trailer == crc.finish().to_le_bytes() {
                Ok(())
            } else {
                Err(DfuError::Integrity)
            })
        }
    }

    impl DfuSink for FileSink {
        fn begin(&mut self, total: Option<u32>, offset: u32) -> Result<(), DfuError> {
            if offset > self.len {
                return Err(DfuError::BadOffset);
            }
            self.file.set_len(u64::from(offset)).map_err(|_| DfuError::Io)?;
            self.len = offset;
            self.total = total;
            self.verified = false;
            self.applied = false;
            Ok(())
        }

        fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError> {
            if offset != self.len {
                return Err(DfuError::BadOffset);
            }
            let end = self.len.checked_add(to_u32(data.len())).ok_or(DfuError::NoSpace)?;
            self.file.seek(SeekFrom::Start(u64::from(offset))).map_err(|_| DfuError::Io)?;
            self.file.write_all(data).map_err(|_| DfuError::Io)?;
            self.len = end;
            Ok(())
        }

        fn finish(&mut self) -> Result<(), DfuError> {
            if self.total.is_some_and(|t| t != self.len) {
                return Err(DfuError::Integrity);
            }
            self.verify().map_err(|_| DfuError::Io)??;
            self.verified = true;
            Ok(())
        }

        fn apply(&mut self) -> Result<(), DfuError> {
            if !self.verified {
                return Err(DfuError::NotReady);
            }
            self.applied = true;
            Ok(())
        }

        fn offset(&self) -> u32 {
            self.len
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_reference_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
        let mut c = Crc32::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), 0xCBF4_3926);
    }

    #[test]
    fn mem_sink_flow() {
        let mut img = [0u8; 64];
        for (i, b) in img.iter_mut().enumerate().take(60) {
            *b = i as u8;
        }
        let t = seal(&img[..60]);
        img[60..].copy_from_slice(&t);
        let mut buf = [0u8; 100];
        let mut s = MemSink::new(&mut buf);
        assert_eq!(s.apply(), Err(DfuError::NotReady));
        s.begin(Some(64), 0).unwrap();
        s.write(0, &img[..10]).unwrap();
        assert_eq!(s.write(5, &img[..10]), Err(DfuError::BadOffset));
        // Resume (reboot): begin again at the stored offset.
        assert_eq!(s.begin(Some(64), 11), Err(DfuError::BadOffset));
        s.begin(Some(64), 10).unwrap();
        s.write(10, &img[10..]).unwrap();
        s.finish().unwrap();
        s.apply().unwrap();
        assert!(s.is_applied());
        assert_eq!(s.data(), &img[..]);
    }

    #[test]
    fn mem_sink_rejects() {
        let mut buf = [0u8; 8];
        let mut s = MemSink::new(&mut buf);
        assert_eq!(s.begin(Some(9), 0), Err(DfuError::NoSpace));
        s.begin(None, 0).unwrap();
        assert_eq!(s.write(0, &[0; 9]), Err(DfuError::NoSpace));
        s.write(0, &[1, 2, 3, 4, 0, 0, 0, 0]).unwrap();
        assert_eq!(s.finish(), Err(DfuError::Integrity));
        assert_eq!(check_image(&[1, 2, 3]), Err(DfuError::Integrity));
        assert_eq!(check_image(&seal(&[])), Ok(()));
    }
}
