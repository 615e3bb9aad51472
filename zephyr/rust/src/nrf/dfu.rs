//! The modem's DFU area as the carrier's `DfuSink`: libmodem's delta DFU interface
//! (`nrf_modem_delta_dfu_*`). The modem checks its own signed delta images, so nothing is
//! verified here; the modem's refusals become `DfuError`s, and the downloader reports a refusal
//! while receiving as `FOTA_PKG`.
//!
//! Functional modes (assumed from libmodem's documentation; verified only on hardware):
//! - writes (`_write_init`, `_write`, `_write_done`) and `_erase` run in whatever mode the modem
//!   is in while the download runs, i.e. with the LTE link up (`AT+CFUN=1`);
//! - `_update` runs after the carrier took the link down (`AT+CFUN=4`, before `FirmwareApply`);
//!   the modem then goes to `AT+CFUN=0`, as `nrf_modem_shutdown` requires, and libmodem is
//!   started again, which runs the update (see `super::restart_modem`).

use core::ffi::c_int;

use lwm2m_carrier::core_engine::carrier::fota::{DfuError, DfuSink};
use nrf_modem::nrfxlib_sys as sys;

/// Bytes per `nrf_modem_delta_dfu_write` (each call copies through the shared transmit area).
const WRITE_CHUNK: usize = 2048;
/// How long `begin` waits for the modem to erase its DFU area, and how often it looks.
const ERASE_LIMIT_MS: u32 = 120_000;
const ERASE_POLL_MS: u32 = 500;

/// A libmodem delta DFU result as a sink error. Negative values are libmodem errnos, positive
/// ones the modem's `NRF_MODEM_DELTA_DFU_*` codes.
pub fn dfu_error(r: c_int) -> DfuError {
    if r < 0 {
        return if r == -(sys::NRF_ENOMEM as c_int) { DfuError::OutOfMemory } else { DfuError::Io };
    }
    match r as u32 {
        sys::NRF_MODEM_DELTA_DFU_RECEIVER_OUT_OF_MEMORY => DfuError::OutOfMemory,
        // Not a delta for this modem (another base firmware, another device): result 6.
        sys::NRF_MODEM_DELTA_DFU_INVALID_HEADER_DATA | sys::NRF_MODEM_DELTA_DFU_INVALID_UUID => {
            DfuError::Unsupported
        }
        // Damaged or incomplete image: result 5.
        sys::NRF_MODEM_DELTA_DFU_INVALID_DATA | sys::NRF_MODEM_DELTA_DFU_INCOMPLETE_DATA => {
            DfuError::Integrity
        }
        // The modem and the download disagree on where the image stands.
        sys::NRF_MODEM_DELTA_DFU_INVALID_FILE_OFFSET
        | sys::NRF_MODEM_DELTA_DFU_INVALID_RESUME_ATTEMPT
        | sys::NRF_MODEM_DELTA_DFU_AREA_NOT_BLANK
        | sys::NRF_MODEM_DELTA_DFU_ERASE_PENDING
        | sys::NRF_MODEM_DELTA_DFU_INTERRUPTED_WRITE
        | sys::NRF_MODEM_DELTA_DFU_PROGRESS_LOG_INVALID => DfuError::BadOffset,
        _ => DfuError::Io,
    }
}

fn check(what: &str, r: c_int) -> Result<(), DfuError> {
    if r == 0 {
        Ok(())
    } else {
        log::warn!("modem DFU {}: {}", what, r);
        Err(dfu_error(r))
    }
}

/// `nrf_modem_delta_dfu_offset`: `Ok(None)` when the area is dirty (needs an erase).
fn area_offset() -> Result<Option<u32>, c_int> {
    let mut off: usize = 0;
    // SAFETY: `off` is valid for a write of its type.
    let r = unsafe { sys::nrf_modem_delta_dfu_offset(&mut off) };
    if r != 0 {
        return Err(r);
    }
    if off == sys::NRF_MODEM_DELTA_DFU_OFFSET_DIRTY as usize {
        Ok(None)
    } else {
        Ok(Some(u32::try_from(off).unwrap_or(u32::MAX)))
    }
}

/// The modem's DFU area.
#[derive(Debug)]
pub struct NrfDfu {
    /// libmodem runs (else every call fails with `Io`).
    ready: bool,
    /// Image bytes the modem holds (its offset when last asked, plus what was written since).
    offset: u32,
    /// Between `_write_init` and `_write_done`.
    writing: bool,
}

impl NrfDfu {
    pub const fn new() -> NrfDfu {
        NrfDfu { ready: false, offset: 0, writing: false }
    }

    /// Reads the area's state after libmodem started; a dirty area (which holds nothing to
    /// resume) starts erasing now, so that a later download does not wait for it.
    pub fn start(&mut self, ready: bool) {
        self.ready = ready;
        self.writing = false;
        self.offset = 0;
        if !ready {
            return;
        }
        match area_offset() {
            Ok(Some(off)) => {
                self.offset = off;
                if off > 0 {
                    log::info!("modem DFU area holds {} bytes", off);
                }
            }
            Ok(None) => {
                log::info!("modem DFU area dirty: erasing");
                // SAFETY: plain call; libmodem is initialised.
                let r = unsafe { sys::nrf_modem_delta_dfu_erase() };
                if r != 0 {
                    log::warn!("modem DFU erase: {}", r);
                }
            }
            Err(e) => log::warn!("modem DFU offset: {}", e),
        }
    }

    fn write_done(&mut self) -> Result<(), DfuError> {
        if !self.writing {
            return Ok(());
        }
        self.writing = false;
        // SAFETY: plain call; a write session is open.
        check("write_done", unsafe { sys::nrf_modem_delta_dfu_write_done() })
    }

    fn write_init(&mut self) -> Result<(), DfuError> {
        if self.writing {
            return Ok(());
        }
        // SAFETY: plain call; libmodem is initialised.
        check("write_init", unsafe { sys::nrf_modem_delta_dfu_write_init() })?;
        self.writing = true;
        Ok(())
    }

    /// Erases the area unless it is empty, and waits (blocking the carrier thread) until the
    /// modem reports an offset of zero.
    fn erase() -> Result<(), DfuError> {
        let pending = sys::NRF_MODEM_DELTA_DFU_ERASE_PENDING as c_int;
        match area_offset() {
            Ok(Some(0)) => return Ok(()),
            // SAFETY: plain call; libmodem is initialised and no write session is open.
            Ok(_) => check("erase", unsafe { sys::nrf_modem_delta_dfu_erase() })?,
            // An erase started earlier (at start-up) still runs.
            Err(r) if r == pending => {}
            Err(r) => return check("offset", r),
        }
        let mut waited = 0;
        while waited < ERASE_LIMIT_MS {
            zephyr::time::sleep(zephyr::time::Duration::millis(u64::from(ERASE_POLL_MS)));
            waited += ERASE_POLL_MS;
            match area_offset() {
                Ok(Some(0)) => return Ok(()),
                Err(r) if r != pending => return check("offset", r),
                _ => {}
            }
        }
        log::warn!("modem DFU erase: not done after {} ms", ERASE_LIMIT_MS);
        Err(DfuError::Io)
    }

    /// Schedules the update (`nrf_modem_delta_dfu_update`); the modem runs it when libmodem
    /// starts again.
    pub fn schedule_update(&mut self) -> Result<(), c_int> {
        if !self.ready {
            return Err(-(sys::NRF_EPERM as c_int));
        }
        if self.write_done().is_err() {
            log::warn!("modem DFU: write_done before update failed");
        }
        // SAFETY: plain call; libmodem is initialised.
        match unsafe { sys::nrf_modem_delta_dfu_update() } {
            0 => Ok(()),
            r => {
                log::warn!("modem DFU update: {}", r);
                Err(r)
            }
        }
    }
}

impl NrfDfu {
    /// Schedules the update and restarts libmodem, which runs it (`super::restart_modem`).
    /// Returns whether libmodem runs afterwards, and the update's result (a negative errno, or
    /// the modem's positive delta DFU code when it refused to schedule the update).
    pub fn update(&mut self) -> (bool, Result<(), c_int>) {
        if let Err(r) = self.schedule_update() {
            return (self.ready, Err(r));
        }
        let restarted = super::restart_modem();
        self.start(restarted.modem_running);
        (restarted.modem_running, restarted.update)
    }
}

impl DfuSink for NrfDfu {
    /// `offset == 0`: a fresh image; the area is erased first if it holds anything (which can
    /// take many seconds, during which the carrier thread waits here). `total`, when known, is
    /// checked against the area's size. `offset > 0` resumes the image the modem holds.
    fn begin(&mut self, total: Option<u32>, offset: u32) -> Result<(), DfuError> {
        if !self.ready {
            return Err(DfuError::Io);
        }
        if offset > 0 {
            if offset != self.offset {
                return Err(DfuError::BadOffset);
            }
            return self.write_init();
        }
        self.write_done()?;
        Self::erase()?;
        self.offset = 0;
        if let Some(total) = total {
            let mut size: usize = 0;
            // SAFETY: `size` is valid for a write of its type.
            check("area", unsafe { sys::nrf_modem_delta_dfu_area(&mut size) })?;
            if total as usize > size {
                log::warn!("image of {} bytes, modem DFU area {}", total, size);
                return Err(DfuError::NoSpace);
            }
        }
        self.write_init()
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), DfuError> {
        if !self.writing {
            return Err(DfuError::NotReady);
        }
        if offset != self.offset {
            return Err(DfuError::BadOffset);
        }
        for chunk in data.chunks(WRITE_CHUNK) {
            // SAFETY: `chunk` is readable for its length, which is the length given.
            let r = unsafe { sys::nrf_modem_delta_dfu_write(chunk.as_ptr().cast(), chunk.len()) };
            check("write", r)?;
            self.offset += chunk.len() as u32; // at most WRITE_CHUNK
        }
        Ok(())
    }

    /// Closes the write session. The modem checks the image when it applies it.
    fn finish(&mut self) -> Result<(), DfuError> {
        self.write_done()
    }

    /// Schedules the update and restarts libmodem, which runs it.
    fn apply(&mut self) -> Result<(), DfuError> {
        self.update().1.map_err(dfu_error)
    }

    fn offset(&self) -> u32 {
        self.offset
    }
}
