//! LwM2M Firmware Update object (id 5), single instance /5/0, pull delivery only.
//!
//! The object holds the state machine values; the download engine elsewhere drives it through
//! [`Firmware::set_state`] / [`Firmware::set_result`] and reacts to
//! [`Effect::FirmwareUriWritten`] and [`Effect::FirmwareUpdate`].

use heapless::{String, Vec};
use lwm2m_coap::Code;

use crate::model::{
    set_str, str_fits, Ctx, Effect, Kind, Object, Ops, ResourceDef, SetError, Value,
};

/// Capacity of the Package URI.
pub const FW_URI_LEN: usize = 128;
/// Capacity of the package name and version.
pub const PKG_LEN: usize = 32;

/// /5/0/3 State.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FwState {
    /// 0: idle (before downloading or after a successful update).
    #[default]
    Idle = 0,
    /// 1: downloading.
    Downloading = 1,
    /// 2: downloaded, ready for Update.
    Downloaded = 2,
    /// 3: updating.
    Updating = 3,
}

/// /5/0/5 Update Result values.
pub mod result {
    /// Initial value.
    pub const INITIAL: u8 = 0;
    /// Firmware updated successfully.
    pub const SUCCESS: u8 = 1;
    /// Not enough flash memory for the new package.
    pub const NO_STORAGE: u8 = 2;
    /// Out of RAM during download.
    pub const OUT_OF_MEMORY: u8 = 3;
    /// Connection lost during download.
    pub const CONNECTION_LOST: u8 = 4;
    /// Integrity check failure.
    pub const INTEGRITY_FAILURE: u8 = 5;
    /// Unsupported package type.
    pub const UNSUPPORTED_PACKAGE: u8 = 6;
    /// Invalid URI.
    pub const INVALID_URI: u8 = 7;
    /// Firmware update failed.
    pub const UPDATE_FAILED: u8 = 8;
    /// Unsupported protocol.
    pub const UNSUPPORTED_PROTOCOL: u8 = 9;
}

/// /5/0/8 Firmware Update Protocol Support values.
pub mod protocol {
    /// CoAP.
    pub const COAP: u8 = 0;
    /// CoAPS.
    pub const COAPS: u8 = 1;
    /// HTTP 1.1.
    pub const HTTP: u8 = 2;
    /// HTTPS 1.1.
    pub const HTTPS: u8 = 3;
}

static DEFS: [ResourceDef; 9] = [
    ResourceDef::single(0, Kind::Opaque, Ops::W),
    ResourceDef::single(1, Kind::Str, Ops::RW),
    ResourceDef::exec(2),
    ResourceDef::single(3, Kind::Int, Ops::R),
    ResourceDef::single(5, Kind::Int, Ops::R),
    ResourceDef::single(6, Kind::Str, Ops::R),
    ResourceDef::single(7, Kind::Str, Ops::R),
    ResourceDef::multi(8, Kind::Int, Ops::R),
    ResourceDef::single(9, Kind::Int, Ops::R),
];

/// The Firmware Update object.
#[derive(Clone, Debug)]
pub struct Firmware {
    uri: String<FW_URI_LEN>,
    state: FwState,
    result: u8,
    pkg_name: String<PKG_LEN>,
    pkg_version: String<PKG_LEN>,
    protocols: Vec<u8, 4>,
    dirty: u32,
}

impl Default for Firmware {
    fn default() -> Self {
        Firmware::new()
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.as_bytes().iter().zip(prefix.as_bytes()).all(|(a, b)| a.eq_ignore_ascii_case(b))
}

impl Firmware {
    /// Idle, result 0, HTTP and HTTPS supported.
    pub fn new() -> Self {
        let mut protocols = Vec::new();
        let _ = protocols.extend_from_slice(&[protocol::HTTP, protocol::HTTPS]);
        Firmware {
            uri: String::new(),
            state: FwState::Idle,
            result: result::INITIAL,
            pkg_name: String::new(),
            pkg_version: String::new(),
            protocols,
            dirty: 0,
        }
    }
    /// /5/0/1 Package URI ("" when none).
    pub fn package_uri(&self) -> &str {
        &self.uri
    }
    /// Puts back /5/0/1 as persisted before a reboot (not a server write: no effect).
    // Out of line: the image is smaller with it as a call (scripts/size-report).
    #[inline(never)]
    pub fn restore_package_uri(&mut self, uri: &str) -> Result<(), SetError> {
        set_str(&mut self.uri, uri)?;
        self.dirty |= 1 << 1;
        Ok(())
    }
    /// /5/0/3.
    pub fn state(&self) -> FwState {
        self.state
    }
    /// /5/0/5.
    pub fn result(&self) -> u8 {
        self.result
    }
    /// Sets /5/0/3 (the download engine drives the state machine).
    #[inline(never)]
    pub fn set_state(&mut self, s: FwState) {
        if s != self.state {
            self.state = s;
            self.dirty |= 1 << 3;
        }
    }
    /// Sets /5/0/5, 0..=9 (see [`result`]).
    #[inline(never)]
    pub fn set_result(&mut self, r: u8) -> Result<(), SetError> {
        if r > result::UNSUPPORTED_PROTOCOL {
            return Err(SetError::Invalid);
        }
        if r != self.result {
            self.result = r;
            self.dirty |= 1 << 5;
        }
        Ok(())
    }
    /// /5/0/6 PkgName.
    pub fn pkg_name_set(&mut self, v: &str) -> Result<(), SetError> {
        set_str(&mut self.pkg_name, v)?;
        self.dirty |= 1 << 6;
        Ok(())
    }
    /// /5/0/7 PkgVersion.
    pub fn pkg_version_set(&mut self, v: &str) -> Result<(), SetError> {
        set_str(&mut self.pkg_version, v)?;
        self.dirty |= 1 << 7;
        Ok(())
    }
    /// /5/0/8 Firmware Update Protocol Support (each 0..=3, see [`protocol`]).
    pub fn protocol_support_set(&mut self, p: &[u8]) -> Result<(), SetError> {
        if p.iter().any(|&x| x > protocol::HTTPS) {
            return Err(SetError::Invalid);
        }
        self.protocols = Vec::from_slice(p).map_err(|_| SetError::NoMemory)?;
        self.dirty |= 1 << 8;
        Ok(())
    }
    fn reset(&mut self) {
        self.uri.clear();
        self.set_state(FwState::Idle);
        let _ = self.set_result(result::INITIAL);
    }
}

impl Object for Firmware {
    fn id(&self) -> u16 {
        5
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
    fn value(&self, _ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)> {
        if inst != 0 {
            return None;
        }
        if res == 8 {
            return Some((idx as u16, Value::Int((*self.protocols.get(idx)?).into())));
        }
        if idx != 0 {
            return None;
        }
        let v = match res {
            1 => Value::Str(&self.uri),
            3 => Value::Int(self.state as i64),
            5 => Value::Int(self.result.into()),
            6 => Value::Str(&self.pkg_name),
            7 => Value::Str(&self.pkg_version),
            9 => Value::Int(0), // pull only
            _ => return None,
        };
        Some((0, v))
    }
    /// Package (0): only the empty package (0 bytes or one 0x00 byte), which cancels; push
    /// delivery is not supported (4.05). Package URI (1): "" cancels and resets to Idle; a new
    /// URI is accepted only in Idle (else 4.05). http/https URIs start a download; other
    /// schemes set Update Result 9 (unsupported protocol), strings without "://" result 7.
    fn write(
        &mut self,
        _ctx: &Ctx,
        inst: u16,
        res: u16,
        _ri: Option<u16>,
        v: &Value<'_>,
        dry: bool,
    ) -> Result<Option<Effect>, Code> {
        if inst != 0 {
            return Err(Code::NOT_FOUND);
        }
        let uri = match res {
            0 => {
                let p = v.opaque()?;
                if !(p.is_empty() || p == [0]) {
                    return Err(Code::METHOD_NOT_ALLOWED);
                }
                ""
            }
            1 => str_fits::<FW_URI_LEN>(v)?,
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        };
        if !uri.is_empty() && self.state != FwState::Idle {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if dry {
            return Ok(None);
        }
        if uri.is_empty() {
            self.reset();
            return Ok(Some(Effect::FirmwareUriWritten));
        }
        let _ = set_str(&mut self.uri, uri); // fits: checked above
        let r = if starts_with_ci(uri, "http://") || starts_with_ci(uri, "https://") {
            result::INITIAL
        } else if uri.as_bytes().windows(3).any(|w| w == b"://") {
            result::UNSUPPORTED_PROTOCOL
        } else {
            result::INVALID_URI
        };
        let _ = self.set_result(r);
        Ok((r == result::INITIAL).then_some(Effect::FirmwareUriWritten))
    }
    fn execute(&mut self, _: &Ctx, inst: u16, res: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        if inst != 0 {
            return Err(Code::NOT_FOUND);
        }
        if res != 2 || self.state != FwState::Downloaded {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        self.set_state(FwState::Updating);
        Ok(Some(Effect::FirmwareUpdate))
    }
    fn take_dirty(&mut self) -> u32 {
        core::mem::take(&mut self.dirty)
    }
}
