//! The exchange of Current Time, UTC Offset, Timezone and Memory Free between the Device object
//! and the application's hooks (`lwm2m_carrier_utc_time_read` ...), shared by every port's C
//! interface. A port calls [`Synced::written`] (what servers wrote since the last exchange),
//! hands that to [`call_write_hooks`], reads the hooks with [`crate::ffi::read_hooks`] and
//! applies them with [`Synced::apply`]. The hooks are application code: a port calls them
//! without holding any lock of its own.

use heapless::String;
use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::objects::device::STR_LEN;
use lwm2m_carrier_core::objects::Device;

use crate::config::{format_utc_offset, parse_utc_offset};
use crate::ffi::{self, HookValues};

/// The Device time values last agreed with the application's hooks.
#[derive(Debug, Default)]
pub struct Synced {
    time_base_s: i64,
    utc_offset: String<STR_LEN>,
    timezone: String<STR_LEN>,
    memory_free_kb: Option<u32>,
}

/// What servers wrote since the last exchange, for the application's write hooks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub time: Option<i64>,
    pub offset: Option<String<STR_LEN>>,
    pub timezone: Option<String<STR_LEN>>,
}

/// Current Time minus uptime: changes only when someone sets the time.
fn time_base(d: &Device, now: Instant) -> i64 {
    d.current_time(now).saturating_sub((now.as_millis() / 1000) as i64)
}

/// A copy of a Device string (they share the Device's capacity, so it always fits).
fn copy(s: &str) -> String<STR_LEN> {
    String::try_from(s).unwrap_or_default()
}

impl Synced {
    /// What changed in `d` since the last [`Synced::apply`]: written by a server.
    pub fn written(&self, d: &Device, now: Instant) -> Written {
        Written {
            time: (time_base(d, now) != self.time_base_s).then(|| d.current_time(now)),
            offset: (d.utc_offset() != self.utc_offset).then(|| copy(d.utc_offset())),
            timezone: (d.timezone() != self.timezone).then(|| copy(d.timezone())),
        }
    }

    /// Puts the hooks' values into `d` and remembers them as agreed.
    pub fn apply(&mut self, d: &mut Device, now: Instant, hooks: &HookValues) {
        if d.current_time(now).abs_diff(hooks.utc_time_s) > 1 {
            d.current_time_set(hooks.utc_time_s, now);
        }
        match format_utc_offset(hooks.utc_offset_min) {
            Some(o) if o != d.utc_offset() => {
                let _ = d.utc_offset_set(&o); // "+HH:MM" always fits
            }
            Some(_) => {}
            None => log::warn!(
                "lwm2m_carrier_utc_offset_read: {} min is out of range",
                hooks.utc_offset_min
            ),
        }
        let tz = hooks.timezone.as_deref().unwrap_or("");
        if tz != d.timezone() && d.timezone_set(tz).is_err() {
            log::warn!("lwm2m_carrier_timezone_read: {:?} is too long", tz);
        }
        if self.memory_free_kb != Some(hooks.memory_free_kb) {
            let _ = d.memory_free_set(hooks.memory_free_kb);
            self.memory_free_kb = Some(hooks.memory_free_kb);
        }
        self.time_base_s = time_base(d, now);
        self.utc_offset = copy(d.utc_offset());
        self.timezone = copy(d.timezone());
    }
}

/// Passes what servers wrote to the application's write hooks.
pub fn call_write_hooks(written: &Written) {
    if let Some(t) = written.time {
        ffi::write_utc_time(t);
    }
    if let Some(offset) = &written.offset {
        match parse_utc_offset(offset) {
            Some(minutes) => ffi::write_utc_offset(minutes),
            None => log::warn!("UTC offset {:?} written by a server is not understood", offset),
        }
    }
    if let Some(tz) = &written.timezone {
        ffi::write_timezone(tz);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(utc_time_s: i64, utc_offset_min: i32, tz: &str, memory_free_kb: u32) -> HookValues {
        let timezone = (!tz.is_empty()).then(|| String::try_from(tz).unwrap());
        HookValues { utc_time_s, utc_offset_min, timezone, memory_free_kb }
    }

    #[test]
    fn hook_values_reach_the_device_and_server_writes_reach_the_hooks() {
        let mut d = Device::new();
        let mut synced = Synced::default();
        let t0 = Instant::from_millis(5_000);
        synced.apply(&mut d, t0, &hooks(1_700_000_000, 120, "Europe/Oslo", 64));
        assert_eq!(d.current_time(t0), 1_700_000_000);
        assert_eq!(d.utc_offset(), "+02:00");
        assert_eq!(d.timezone(), "Europe/Oslo");
        // Nothing written since: nothing for the write hooks, even as time passes.
        let t1 = Instant::from_millis(65_000);
        assert_eq!(synced.written(&d, t1), Written::default());

        // A server writes the time and the offset.
        d.current_time_set(1_800_000_000, t1);
        d.utc_offset_set("-05:30").unwrap();
        let w = synced.written(&d, t1);
        assert_eq!(w.time, Some(1_800_000_000));
        assert_eq!(w.offset.as_deref(), Some("-05:30"));
        assert_eq!(w.timezone, None);
    }

    #[test]
    fn an_offset_out_of_range_is_not_applied() {
        let mut d = Device::new();
        let mut synced = Synced::default();
        let before = String::<STR_LEN>::try_from(d.utc_offset()).unwrap();
        synced.apply(&mut d, Instant::from_millis(0), &hooks(0, 24 * 60, "", 0));
        assert_eq!(d.utc_offset(), before.as_str());
    }
}
