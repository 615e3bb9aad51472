//! `log` records of the carrier crates go to Zephyr logging, under the module's own source
//! (`lwm2m_carrier`, level CONFIG_LWM2M_CARRIER_LOG_LEVEL).

use core::ffi::c_int;
use core::fmt::Write;

use heapless::String;
use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::glue;

/// Longest log line; longer ones are cut.
const LINE: usize = 160;

struct ZephyrLog;

static LOGGER: ZephyrLog = ZephyrLog;

fn zephyr_level(level: Level) -> c_int {
    match level {
        Level::Error => 1,
        Level::Warn => 2,
        Level::Info => 3,
        Level::Debug | Level::Trace => 4,
    }
}

/// The filter matching CONFIG_LWM2M_CARRIER_LOG_LEVEL (0 off ... 4 debug).
pub fn level_filter(zephyr_level: isize) -> LevelFilter {
    match zephyr_level {
        i if i <= 0 => LevelFilter::Off,
        1 => LevelFilter::Error,
        2 => LevelFilter::Warn,
        3 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    }
}

impl Log for ZephyrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line: String<LINE> = String::new();
        // A line that does not fit is cut; the tail is lost, never the NUL.
        let _ = write!(line, "{}", record.args());
        let mut bytes = [0u8; LINE + 1];
        let n = line.len();
        bytes[..n].copy_from_slice(line.as_bytes());
        // SAFETY: `bytes` is NUL-terminated (n <= LINE) and outlives the call; the glue copies
        // the string into the log message before returning.
        unsafe {
            glue::lwm2m_carrier_zephyr_log(zephyr_level(record.level()), bytes.as_ptr().cast())
        }
    }

    fn flush(&self) {}
}

/// Installs the logger unless the application installed one already.
pub fn init() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level_filter(zephyr::kconfig::CONFIG_LWM2M_CARRIER_LOG_LEVEL));
    }
}
