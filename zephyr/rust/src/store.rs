//! The carrier's records in NVS: ids 0xCA00-0xCAFF, in the partition of
//! CONFIG_LWM2M_CARRIER_STORAGE_PARTITION (mounted by the C glue).

use lwm2m_carrier::{RecordStore, StoreError};

use crate::glue;

const ENOENT: i32 = 2;

/// NVS, through the C glue. One per image: the file system state lives in the glue.
#[derive(Debug)]
pub struct NvsStore {
    _private: (),
}

impl NvsStore {
    /// Mounts the partition (again: a simulated reboot mounts the same flash afresh).
    pub fn mount() -> Result<NvsStore, i32> {
        // SAFETY: no arguments; the glue owns the static nvs_fs.
        let err = unsafe { glue::lwm2m_carrier_zephyr_nvs_mount() };
        if err == 0 {
            Ok(NvsStore { _private: () })
        } else {
            Err(err)
        }
    }

    /// Erases the partition (factory reset); the store must be mounted again.
    pub fn clear(self) -> Result<(), i32> {
        // SAFETY: no arguments; the glue owns the static nvs_fs.
        let err = unsafe { glue::lwm2m_carrier_zephyr_nvs_clear() };
        if err == 0 {
            Ok(())
        } else {
            Err(err)
        }
    }
}

impl RecordStore for NvsStore {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
        let n = unsafe { glue::lwm2m_carrier_zephyr_nvs_read(id, buf.as_mut_ptr(), buf.len()) };
        match n {
            n if n == -ENOENT => Err(StoreError::NotFound),
            n if n < 0 => Err(StoreError::Io),
            n if n as usize > buf.len() => Err(StoreError::TooLarge),
            n => Ok(n as usize),
        }
    }

    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError> {
        // SAFETY: `data` is valid for reads of `data.len()` bytes for the whole call.
        let err = unsafe { glue::lwm2m_carrier_zephyr_nvs_write(id, data.as_ptr(), data.len()) };
        if err == 0 {
            Ok(())
        } else {
            Err(StoreError::Io)
        }
    }

    fn delete(&mut self, id: u16) -> Result<(), StoreError> {
        // SAFETY: plain integer argument.
        let err = unsafe { glue::lwm2m_carrier_zephyr_nvs_delete(id) };
        if err == 0 {
            Ok(())
        } else {
            Err(StoreError::Io)
        }
    }
}
