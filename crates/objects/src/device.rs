//! LwM2M Device object (id 3), single instance /3/0, with the application setters of the
//! carrier library API (`lwm2m_carrier_*_set`).

use heapless::{String, Vec};
use lwm2m_coap::{Code, Instant};

use crate::model::{
    set_str, str_fits, Ctx, Effect, Kind, Object, Ops, ResourceDef, SetError, Value,
};

/// Capacity of the Device strings.
pub const STR_LEN: usize = 32;
/// Capacity of the UTC offset string (e.g. `+05:30`, `UTC+05:30`).
pub const OFFSET_LEN: usize = 12;
/// Power sources that fit.
pub const MAX_POWER_SOURCES: usize = 8;

/// Supported Binding and Modes reported in /3/0/16.
pub const SUPPORTED_BINDING: &str = "UQS";

/// Power source values (/3/0/6).
pub mod power {
    /// DC power.
    pub const DC: u8 = 0;
    /// Internal battery.
    pub const INTERNAL_BATTERY: u8 = 1;
    /// External battery.
    pub const EXTERNAL_BATTERY: u8 = 2;
    /// Power over Ethernet.
    pub const ETHERNET: u8 = 4;
    /// USB.
    pub const USB: u8 = 5;
    /// AC (mains) power.
    pub const AC: u8 = 6;
    /// Solar.
    pub const SOLAR: u8 = 7;
}

/// Battery status values (/3/0/20).
pub mod battery {
    /// Normal.
    pub const NORMAL: u8 = 0;
    /// Charging.
    pub const CHARGING: u8 = 1;
    /// Charge complete.
    pub const CHARGE_COMPLETE: u8 = 2;
    /// Damaged.
    pub const DAMAGED: u8 = 3;
    /// Low battery.
    pub const LOW_BATTERY: u8 = 4;
    /// Not installed.
    pub const NOT_INSTALLED: u8 = 5;
    /// Unknown.
    pub const UNKNOWN: u8 = 6;
}

/// Highest Device error code (8 = peripheral malfunction).
pub const MAX_ERROR_CODE: i32 = 8;

const R: Ops = Ops::R;
static DEFS: [ResourceDef; 22] = [
    ResourceDef::single(0, Kind::Str, R),
    ResourceDef::single(1, Kind::Str, R),
    ResourceDef::single(2, Kind::Str, R),
    ResourceDef::single(3, Kind::Str, R),
    ResourceDef::exec(4),
    ResourceDef::exec(5),
    ResourceDef::multi(6, Kind::Int, R),
    ResourceDef::multi(7, Kind::Int, R),
    ResourceDef::multi(8, Kind::Int, R),
    ResourceDef::single(9, Kind::Int, R),
    ResourceDef::single(10, Kind::Int, R),
    ResourceDef::multi(11, Kind::Int, R),
    ResourceDef::exec(12),
    ResourceDef::single(13, Kind::Time, Ops::RW),
    ResourceDef::single(14, Kind::Str, Ops::RW),
    ResourceDef::single(15, Kind::Str, Ops::RW),
    ResourceDef::single(16, Kind::Str, R),
    ResourceDef::single(17, Kind::Str, R),
    ResourceDef::single(18, Kind::Str, R),
    ResourceDef::single(19, Kind::Str, R),
    ResourceDef::single(20, Kind::Int, R),
    ResourceDef::single(21, Kind::Int, R),
];

/// One available power source with its measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerSource {
    /// Source type (see [`power`]).
    pub source: u8,
    /// Voltage, mV.
    pub voltage_mv: i32,
    /// Current, mA.
    pub current_ma: i32,
}

/// The Device object.
#[derive(Clone, Debug)]
pub struct Device {
    manufacturer: String<STR_LEN>,
    model_number: String<STR_LEN>,
    serial_number: String<STR_LEN>,
    firmware_version: String<STR_LEN>,
    power: Vec<PowerSource, MAX_POWER_SOURCES>,
    battery_level: u8,
    memory_free_kb: u32,
    errors: Vec<u8, 8>,
    time_base_s: i64,
    utc_offset: String<OFFSET_LEN>,
    timezone: String<STR_LEN>,
    device_type: String<STR_LEN>,
    hardware_version: String<STR_LEN>,
    software_version: String<STR_LEN>,
    battery_status: u8,
    memory_total_kb: u32,
    dirty: u32,
}

fn string<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    let _ = set_str(&mut out, s);
    out
}

impl Default for Device {
    fn default() -> Self {
        Device::new()
    }
}

impl Device {
    /// Carrier-library defaults: Device Type "Smart Device", Hardware Version "1.0", Software
    /// Version `"LwM2M <crate version>"`, no power sources, error code 0, battery status Unknown.
    pub fn new() -> Self {
        Device {
            manufacturer: String::new(),
            model_number: String::new(),
            serial_number: String::new(),
            firmware_version: String::new(),
            power: Vec::new(),
            battery_level: 0,
            memory_free_kb: 0,
            errors: Vec::new(),
            time_base_s: 0,
            utc_offset: String::new(),
            timezone: String::new(),
            device_type: string("Smart Device"),
            hardware_version: string("1.0"),
            software_version: string(concat!("LwM2M ", env!("CARGO_PKG_VERSION"))),
            battery_status: battery::UNKNOWN,
            memory_total_kb: 0,
            dirty: 0,
        }
    }

    // Out of line: called by every setter; inlined copies cost more than the call.
    #[inline(never)]
    fn mark(&mut self, res: u16) {
        self.dirty |= 1 << res;
    }

    fn set_string<const N: usize>(
        res: u16,
        dirty: &mut u32,
        dst: &mut String<N>,
        v: &str,
        allow_empty: bool,
    ) -> Result<(), SetError> {
        if v.is_empty() && !allow_empty {
            return Err(SetError::Invalid);
        }
        set_str(dst, v)?;
        *dirty |= 1 << res;
        Ok(())
    }

    /// /3/0/0 Manufacturer (set by the port from the modem).
    pub fn manufacturer_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(0, &mut self.dirty, &mut self.manufacturer, v, true)
    }
    /// /3/0/1 Model Number.
    pub fn model_number_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(1, &mut self.dirty, &mut self.model_number, v, true)
    }
    /// /3/0/2 Serial Number (the IMEI).
    pub fn serial_number_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(2, &mut self.dirty, &mut self.serial_number, v, true)
    }
    /// /3/0/3 Firmware Version (the modem firmware).
    pub fn firmware_version_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(3, &mut self.dirty, &mut self.firmware_version, v, true)
    }
    /// /3/0/17 Device Type: non-empty, at most [`STR_LEN`] bytes.
    pub fn device_type_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(17, &mut self.dirty, &mut self.device_type, v, false)
    }
    /// /3/0/18 Hardware Version: non-empty, at most [`STR_LEN`] bytes.
    pub fn hardware_version_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(18, &mut self.dirty, &mut self.hardware_version, v, false)
    }
    /// /3/0/19 Software Version: non-empty, at most [`STR_LEN`] bytes.
    pub fn software_version_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(19, &mut self.dirty, &mut self.software_version, v, false)
    }

    /// /3/0/6 Available Power Sources. Valid values: see [`power`] (3 is not a power source);
    /// at most 8, no duplicates. Sources kept keep their voltage and current, new ones start
    /// at 0, removed ones lose theirs.
    // `contains` on bytes links the word-at-a-time `memchr`, which these few entries do not need.
    #[allow(clippy::manual_contains)]
    pub fn avail_power_sources_set(&mut self, sources: &[u8]) -> Result<(), SetError> {
        if sources.len() > MAX_POWER_SOURCES {
            return Err(SetError::Invalid);
        }
        // From the last: each source valid and not listed before it.
        let mut rest = sources;
        while let [earlier @ .., s] = rest {
            if *s == 3 || *s > power::SOLAR || earlier.iter().any(|x| x == s) {
                return Err(SetError::Invalid);
            }
            rest = earlier;
        }
        let mut new = Vec::new();
        for &s in sources {
            let old = self.power.iter().find(|p| p.source == s);
            let p = old.copied().unwrap_or(PowerSource { source: s, voltage_mv: 0, current_ma: 0 });
            let _ = new.push(p); // at most MAX_POWER_SOURCES: checked above
        }
        self.power = new;
        self.dirty |= (1 << 6) | (1 << 7) | (1 << 8);
        Ok(())
    }

    fn source_mut(&mut self, source: u8) -> Result<&mut PowerSource, SetError> {
        if source == 3 || source > power::SOLAR {
            return Err(SetError::Invalid);
        }
        self.power.iter_mut().find(|p| p.source == source).ok_or(SetError::NoDevice)
    }
    /// /3/0/7 Power Source Voltage (mV) of an available source; -ENODEV if not available.
    pub fn power_source_voltage_set(&mut self, source: u8, mv: i32) -> Result<(), SetError> {
        self.source_mut(source)?.voltage_mv = mv;
        self.mark(7);
        Ok(())
    }
    /// /3/0/8 Power Source Current (mA) of an available source; -ENODEV if not available.
    pub fn power_source_current_set(&mut self, source: u8, ma: i32) -> Result<(), SetError> {
        self.source_mut(source)?.current_ma = ma;
        self.mark(8);
        Ok(())
    }
    /// /3/0/9 Battery Level, 0..=100 %.
    pub fn battery_level_set(&mut self, level: u8) -> Result<(), SetError> {
        if level > 100 {
            return Err(SetError::Invalid);
        }
        self.battery_level = level;
        self.mark(9);
        Ok(())
    }
    /// /3/0/20 Battery Status, 0..=6 (see [`battery`]).
    pub fn battery_status_set(&mut self, status: i32) -> Result<(), SetError> {
        if !(0..=6).contains(&status) {
            return Err(SetError::Invalid);
        }
        self.battery_status = status as u8;
        self.mark(20);
        Ok(())
    }
    /// /3/0/10 Memory Free, kB (the port refreshes it from `lwm2m_carrier_memory_free_read`).
    pub fn memory_free_set(&mut self, kb: u32) -> Result<(), SetError> {
        self.memory_free_kb = kb;
        self.mark(10);
        Ok(())
    }
    /// /3/0/21 Memory Total, kB.
    pub fn memory_total_set(&mut self, kb: u32) -> Result<(), SetError> {
        self.memory_total_kb = kb;
        self.mark(21);
        Ok(())
    }
    /// Adds an error code 0..=8 to /3/0/11 (0 = no error: nothing to add).
    // `contains` on bytes links the word-at-a-time `memchr`, which these few entries do not need.
    #[allow(clippy::manual_contains)]
    pub fn error_code_add(&mut self, code: i32) -> Result<(), SetError> {
        if !(0..=MAX_ERROR_CODE).contains(&code) {
            return Err(SetError::Invalid);
        }
        let c = code as u8;
        if c != 0 && !self.errors.iter().any(|&x| x == c) {
            self.errors.push(c).map_err(|_| SetError::NoMemory)?;
            self.mark(11);
        }
        Ok(())
    }
    /// Removes an error code 0..=8 from /3/0/11 (absent codes are fine).
    pub fn error_code_remove(&mut self, code: i32) -> Result<(), SetError> {
        if !(0..=MAX_ERROR_CODE).contains(&code) {
            return Err(SetError::Invalid);
        }
        if let Some(i) = self.errors.iter().position(|&e| i32::from(e) == code) {
            crate::vecs::remove(&mut self.errors, i);
            self.mark(11);
        }
        Ok(())
    }
    /// /3/0/13 Current Time: `unix_s` now; later reads advance with `now`.
    pub fn current_time_set(&mut self, unix_s: i64, now: Instant) {
        self.time_base_s =
            unix_s.saturating_sub(lwm2m_coap::div_rem_u64(now.as_millis(), 1000).0 as i64);
        self.mark(13);
    }
    /// /3/0/14 UTC Offset (e.g. `+02:00`).
    pub fn utc_offset_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(14, &mut self.dirty, &mut self.utc_offset, v, true)
    }
    /// /3/0/15 Timezone (IANA name).
    pub fn timezone_set(&mut self, v: &str) -> Result<(), SetError> {
        Self::set_string(15, &mut self.dirty, &mut self.timezone, v, true)
    }

    /// Current Time at `now`, unix seconds.
    pub fn current_time(&self, now: Instant) -> i64 {
        self.time_base_s.saturating_add(lwm2m_coap::div_rem_u64(now.as_millis(), 1000).0 as i64)
    }
    /// /3/0/14.
    pub fn utc_offset(&self) -> &str {
        &self.utc_offset
    }
    /// /3/0/15.
    pub fn timezone(&self) -> &str {
        &self.timezone
    }
    /// /3/0/6-8.
    pub fn power_sources(&self) -> &[PowerSource] {
        &self.power
    }
    /// Active error codes (empty = /3/0/11 reads 0).
    pub fn error_codes(&self) -> &[u8] {
        &self.errors
    }
    /// /3/0/9.
    pub fn battery_level(&self) -> u8 {
        self.battery_level
    }
    /// /3/0/17.
    pub fn device_type(&self) -> &str {
        &self.device_type
    }
    /// /3/0/18.
    pub fn hardware_version(&self) -> &str {
        &self.hardware_version
    }
    /// /3/0/19.
    pub fn software_version(&self) -> &str {
        &self.software_version
    }
}

impl Object for Device {
    fn id(&self) -> u16 {
        3
    }
    fn defs(&self) -> &'static [ResourceDef] {
        &DEFS
    }
    fn max_instances(&self) -> usize {
        1
    }
    fn instance_at(&self, idx: usize) -> Option<u16> {
        (idx == 0).then_some(0)
    }
    fn value(&self, ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)> {
        if inst != 0 {
            return None;
        }
        let p = self.power.get(idx);
        let multi = match res {
            6 => Some(p?.source.into()),
            7 => Some(p?.voltage_mv.into()),
            8 => Some(p?.current_ma.into()),
            11 if self.errors.is_empty() && idx == 0 => Some(0),
            11 => Some((*self.errors.get(idx)?).into()),
            _ => None,
        };
        if let Some(v) = multi {
            return Some((idx as u16, Value::Int(v)));
        }
        if idx != 0 {
            return None;
        }
        // The strings of one type first: their arms only pick a field (one shared `Value`).
        let s: &String<STR_LEN> = match res {
            0 => &self.manufacturer,
            1 => &self.model_number,
            2 => &self.serial_number,
            3 => &self.firmware_version,
            15 => &self.timezone,
            17 => &self.device_type,
            18 => &self.hardware_version,
            19 => &self.software_version,
            _ => {
                let v = match res {
                    9 => Value::Int(self.battery_level.into()),
                    10 => Value::Int(self.memory_free_kb.into()),
                    13 => Value::Int(self.current_time(ctx.now)),
                    14 => Value::Str(&self.utc_offset),
                    16 => Value::Str(SUPPORTED_BINDING),
                    20 => Value::Int(self.battery_status.into()),
                    21 => Value::Int(self.memory_total_kb.into()),
                    _ => return None,
                };
                return Some((0, v));
            }
        };
        Some((0, Value::Str(s)))
    }
    fn write(
        &mut self,
        ctx: &Ctx,
        inst: u16,
        res: u16,
        _ri: Option<u16>,
        v: &Value<'_>,
        dry: bool,
    ) -> Result<Option<Effect>, Code> {
        if inst != 0 {
            return Err(Code::NOT_FOUND);
        }
        match res {
            13 => {
                let t = match *v {
                    Value::Int(t) => t,
                    _ => return Err(Code::BAD_REQUEST),
                };
                if !dry {
                    self.current_time_set(t, ctx.now);
                }
            }
            14 => {
                let s = str_fits::<OFFSET_LEN>(v)?;
                if !dry {
                    let _ = self.utc_offset_set(s); // fits: checked above
                }
            }
            15 => {
                let s = str_fits::<STR_LEN>(v)?;
                if !dry {
                    let _ = self.timezone_set(s);
                }
            }
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        // Writes are reported by the registry (Changed(request path)), not as dirty bits.
        if !dry {
            self.dirty &= !((1 << 13) | (1 << 14) | (1 << 15));
        }
        Ok(None)
    }
    fn execute(&mut self, _: &Ctx, inst: u16, res: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        if inst != 0 {
            return Err(Code::NOT_FOUND);
        }
        match res {
            4 => Ok(Some(Effect::Reboot)),
            5 => Ok(Some(Effect::FactoryReset)),
            12 => {
                if !self.errors.is_empty() {
                    self.errors.clear();
                    self.mark(11);
                }
                Ok(None)
            }
            _ => Err(Code::METHOD_NOT_ALLOWED),
        }
    }
    fn take_dirty(&mut self) -> u32 {
        core::mem::take(&mut self.dirty)
    }
}
