//! [`RecordStore`] over a directory: one file per record, named from its id in hex
//! (`ca10.rec`). A write goes to `ca10.rec.tmp`, is fsynced, renamed over the record and the
//! directory fsynced, so after a crash the record holds either the old or the new bytes, never
//! a mix (what Zephyr's NVS gives for one entry). A `.tmp` left by a crash is never read and is
//! removed when the store is opened.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use lwm2m_carrier_core::carrier::store::{RecordStore, StoreError};

const RECORD_EXT: &str = "rec";
const TEMP_SUFFIX: &str = ".rec.tmp";

/// Records as files in one directory.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir` and discards torn temp files.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<FileStore> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            let is_temp =
                path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(TEMP_SUFFIX));
            if is_temp {
                log::warn!("file store: removing torn write {}", path.display());
                fs::remove_file(&path)?;
            }
        }
        Ok(FileStore { dir })
    }

    /// The directory holding the records.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of record `id`, e.g. `<dir>/ca10.rec`.
    pub fn record_path(&self, id: u16) -> PathBuf {
        self.dir.join(format!("{id:04x}.{RECORD_EXT}"))
    }

    fn temp_path(&self, id: u16) -> PathBuf {
        self.dir.join(format!("{id:04x}{TEMP_SUFFIX}"))
    }

    fn write_atomically(&self, id: u16, data: &[u8]) -> io::Result<()> {
        let temp = self.temp_path(id);
        let mut file = File::create(&temp)?;
        file.write_all(data)?;
        // Data on disk before the rename makes it visible under the record's name.
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, self.record_path(id))?;
        self.sync_dir()
    }

    /// Makes renames and removals durable.
    fn sync_dir(&self) -> io::Result<()> {
        #[cfg(unix)]
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

fn io_error(op: &str, id: u16, e: &io::Error) -> StoreError {
    log::error!("file store: {op} record {id:#06x}: {e}");
    StoreError::Io
}

impl RecordStore for FileStore {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError> {
        let data = match fs::read(self.record_path(id)) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(io_error("read", id, &e)),
        };
        let out = buf.get_mut(..data.len()).ok_or(StoreError::TooLarge)?;
        out.copy_from_slice(&data);
        Ok(data.len())
    }

    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError> {
        self.write_atomically(id, data).map_err(|e| io_error("write", id, &e))
    }

    fn delete(&mut self, id: u16) -> Result<(), StoreError> {
        match fs::remove_file(self.record_path(id)) {
            Ok(()) => self.sync_dir().map_err(|e| io_error("delete", id, &e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete", id, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the target's temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "lwm2m-host-store-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn round_trip_and_overwrite() {
        let tmp = TempDir::new("rt");
        let mut s = FileStore::open(&tmp.0).unwrap();
        s.write(0xCA10, b"hello").unwrap();
        assert!(tmp.0.join("ca10.rec").is_file());
        let mut buf = [0u8; 16];
        assert_eq!(s.read(0xCA10, &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"hello");
        s.write(0xCA10, b"hi").unwrap();
        assert_eq!(s.read(0xCA10, &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"hi");
        // Empty records are records too.
        s.write(0x0001, b"").unwrap();
        assert_eq!(s.read(0x0001, &mut buf), Ok(0));
        assert!(tmp.0.join("0001.rec").is_file());
        // Survives reopening.
        let mut s = FileStore::open(&tmp.0).unwrap();
        assert_eq!(s.read(0xCA10, &mut buf), Ok(2));
    }

    #[test]
    fn not_found_too_large_delete() {
        let tmp = TempDir::new("nf");
        let mut s = FileStore::open(&tmp.0).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s.read(0xCA00, &mut buf), Err(StoreError::NotFound));
        s.write(0xCA00, b"12345").unwrap();
        assert_eq!(s.read(0xCA00, &mut buf), Err(StoreError::TooLarge));
        s.delete(0xCA00).unwrap();
        assert_eq!(s.read(0xCA00, &mut buf), Err(StoreError::NotFound));
        assert!(!s.record_path(0xCA00).exists());
        // Deleting a missing record is fine.
        s.delete(0xCA00).unwrap();
    }

    #[test]
    fn torn_temp_file_is_ignored_and_cleaned() {
        let tmp = TempDir::new("torn");
        {
            let mut s = FileStore::open(&tmp.0).unwrap();
            s.write(0xCA10, b"old state").unwrap();
        }
        // A crash mid-write: half a new record in the temp file, never renamed; and a torn
        // first write of a record that never existed.
        fs::write(tmp.0.join("ca10.rec.tmp"), b"new st").unwrap();
        fs::write(tmp.0.join("ca11.rec.tmp"), b"x").unwrap();
        let mut s = FileStore::open(&tmp.0).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(s.read(0xCA10, &mut buf), Ok(9));
        assert_eq!(&buf[..9], b"old state");
        assert_eq!(s.read(0xCA11, &mut buf), Err(StoreError::NotFound));
        assert!(!tmp.0.join("ca10.rec.tmp").exists());
        assert!(!tmp.0.join("ca11.rec.tmp").exists());
        // And writing again works over the cleaned directory.
        s.write(0xCA11, b"fresh").unwrap();
        assert_eq!(s.read(0xCA11, &mut buf), Ok(5));
    }

    #[test]
    fn io_error_is_reported() {
        let tmp = TempDir::new("io");
        let mut s = FileStore::open(&tmp.0).unwrap();
        // A directory where the record file should be: reading it fails with an I/O error.
        fs::create_dir(s.record_path(0xCA20)).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s.read(0xCA20, &mut buf), Err(StoreError::Io));
        assert_eq!(s.write(0xCA20, b"x"), Err(StoreError::Io));
    }
}
