//! LwM2M Security object (id 0): one instance per server account, bootstrap server included.
//!
//! Only the Bootstrap-Server may write it; management servers get 4.01 for every operation
//! (enforced by the registry). The Secret Key is never readable and never printed.

use core::fmt;
use heapless::{String, Vec};
use lwm2m_coap::Code;

use crate::model::{
    bytes_fit, pos, put_sorted, set_bytes, set_str, str_fits, Ctx, Effect, Kind, Object, Ops,
    ResourceDef, SetError, Value,
};

/// Security instances that fit (bootstrap, management, diagnostics, repository).
pub const MAX_SECURITY: usize = 4;
/// Capacity of the server URI.
pub const URI_LEN: usize = 64;
/// Capacity of identity and keys.
pub const KEY_LEN: usize = 64;

/// Security Mode values.
pub mod mode {
    /// Pre-shared key.
    pub const PSK: u8 = 0;
    /// Raw public key.
    pub const RPK: u8 = 1;
    /// Certificate.
    pub const CERTIFICATE: u8 = 2;
    /// No security.
    pub const NO_SEC: u8 = 3;
}

const RW: Ops = Ops::RW;
static DEFS: [ResourceDef; 9] = [
    ResourceDef::single(0, Kind::Str, RW),
    ResourceDef::single(1, Kind::Bool, RW),
    ResourceDef::single(2, Kind::Int, RW),
    ResourceDef::single(3, Kind::Opaque, RW),
    ResourceDef::single(4, Kind::Opaque, RW),
    ResourceDef::single(5, Kind::Opaque, Ops::W),
    ResourceDef::single(10, Kind::Int, RW),
    ResourceDef::single(11, Kind::Int, RW),
    ResourceDef::single(12, Kind::Int, RW),
];

/// One server account.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecurityInstance {
    /// Instance id.
    pub id: u16,
    /// /0/x/0 LwM2M Server URI.
    pub uri: String<URI_LEN>,
    /// /0/x/1 this account is the Bootstrap-Server's.
    pub bootstrap: bool,
    /// /0/x/2 Security Mode (see [`mode`]).
    pub mode: u8,
    /// /0/x/3 Public Key or Identity (the PSK identity in PSK mode).
    pub identity: Vec<u8, KEY_LEN>,
    /// /0/x/4 Server Public Key.
    pub server_public_key: Vec<u8, KEY_LEN>,
    secret_key: Vec<u8, KEY_LEN>,
    /// /0/x/10 Short Server ID.
    pub short_server_id: u16,
    /// /0/x/11 Client Hold Off Time, seconds.
    pub hold_off_s: u32,
    /// /0/x/12 Bootstrap-Server Account Timeout, seconds (0 = never).
    pub bs_account_timeout_s: u32,
}

impl SecurityInstance {
    /// An instance with default values (NoSec, no keys).
    // Out of line: several callers; inlined copies cost more than the call.
    #[inline(never)]
    pub fn new(id: u16) -> Self {
        SecurityInstance { id, mode: mode::NO_SEC, ..Default::default() }
    }
    /// /0/x/5 Secret Key (the PSK in PSK mode). For provisioning the modem; never log it.
    pub fn secret_key(&self) -> &[u8] {
        &self.secret_key
    }
    /// Sets the Secret Key; [`SetError::NoMemory`] when longer than [`KEY_LEN`].
    pub fn set_secret_key(&mut self, key: &[u8]) -> Result<(), SetError> {
        set_bytes(&mut self.secret_key, key)
    }
    /// Sets the URI; [`SetError::NoMemory`] when longer than [`URI_LEN`].
    pub fn set_uri(&mut self, uri: &str) -> Result<(), SetError> {
        set_str(&mut self.uri, uri)
    }
    /// Sets the identity; [`SetError::NoMemory`] when longer than [`KEY_LEN`].
    pub fn set_identity(&mut self, id: &[u8]) -> Result<(), SetError> {
        set_bytes(&mut self.identity, id)
    }
}

// Keys stay out of logs: only lengths are printed.
impl fmt::Debug for SecurityInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityInstance")
            .field("id", &self.id)
            .field("uri", &self.uri)
            .field("bootstrap", &self.bootstrap)
            .field("mode", &self.mode)
            .field("identity_len", &self.identity.len())
            .field("server_public_key_len", &self.server_public_key.len())
            .field("secret_key", &"<redacted>")
            .field("short_server_id", &self.short_server_id)
            .field("hold_off_s", &self.hold_off_s)
            .field("bs_account_timeout_s", &self.bs_account_timeout_s)
            .finish()
    }
}

/// The Security object.
#[derive(Clone, Debug, Default)]
pub struct Security {
    insts: Vec<SecurityInstance, MAX_SECURITY>,
}

impl Security {
    /// No instances.
    pub const fn new() -> Self {
        Security { insts: Vec::new() }
    }
    /// Adds or replaces an instance (by id), e.g. the factory bootstrap account.
    pub fn put(&mut self, inst: SecurityInstance) -> Result<(), SetError> {
        self.store(inst, true).map_err(|_| SetError::NoMemory)
    }
    /// Adds `inst`, or replaces the instance with its id when `replace` (else 4.00).
    fn store(&mut self, inst: SecurityInstance, replace: bool) -> Result<(), Code> {
        put_sorted(&mut self.insts, inst, |s| s.id, replace)
    }
    /// Instance by id.
    pub fn get(&self, id: u16) -> Option<&SecurityInstance> {
        self.insts.iter().find(|s| s.id == id)
    }
    /// Instance by id, mutable.
    pub fn get_mut(&mut self, id: u16) -> Option<&mut SecurityInstance> {
        self.insts.iter_mut().find(|s| s.id == id)
    }
    /// All instances, ascending ids.
    // Out of line: several callers; inlined copies cost more than the call.
    #[inline(never)]
    pub fn iter(&self) -> impl Iterator<Item = &SecurityInstance> {
        self.insts.iter()
    }
    /// The Bootstrap-Server account.
    pub fn bootstrap_account(&self) -> Option<&SecurityInstance> {
        self.insts.iter().find(|s| s.bootstrap)
    }
    /// The (non-bootstrap) account of a server.
    pub fn by_short_id(&self, short_id: u16) -> Option<&SecurityInstance> {
        self.insts.iter().find(|s| !s.bootstrap && s.short_server_id == short_id)
    }
    /// Removes every instance except the Bootstrap-Server account.
    pub fn remove_all_but_bootstrap(&mut self) {
        crate::vecs::retain(&mut self.insts, |s| s.bootstrap);
    }
}

impl Object for Security {
    fn id(&self) -> u16 {
        0
    }
    fn defs(&self) -> &'static [ResourceDef] {
        &DEFS
    }
    fn max_instances(&self) -> usize {
        MAX_SECURITY
    }
    fn instance_at(&self, idx: usize) -> Option<u16> {
        self.insts.get(idx).map(|s| s.id)
    }
    fn value(&self, _ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)> {
        let s = self.get(inst)?;
        if idx != 0 {
            return None;
        }
        let v = match res {
            0 => Value::Str(&s.uri),
            1 => Value::Bool(s.bootstrap),
            2 => Value::Int(s.mode.into()),
            3 => Value::Opaque(&s.identity),
            4 => Value::Opaque(&s.server_public_key),
            10 => Value::Int(s.short_server_id.into()),
            11 => Value::Int(s.hold_off_s.into()),
            12 => Value::Int(s.bs_account_timeout_s.into()),
            _ => return None, // 5 (secret) is never read
        };
        Some((0, v))
    }
    fn write(
        &mut self,
        _ctx: &Ctx,
        inst: u16,
        res: u16,
        _ri: Option<u16>,
        v: &Value<'_>,
        dry: bool,
    ) -> Result<Option<Effect>, Code> {
        enum W<'a> {
            Uri(&'a str),
            Bs(bool),
            Mode(u8),
            Key(u16, &'a [u8]),
            Ssid(u16),
            Secs(u16, u32),
        }
        let w = match res {
            0 => W::Uri(str_fits::<URI_LEN>(v)?),
            1 => W::Bs(v.bool()?),
            2 => W::Mode(v.int_in(0, 4)? as u8),
            3..=5 => W::Key(res, bytes_fit::<KEY_LEN>(v)?),
            10 => W::Ssid(v.u16()?),
            11 | 12 => W::Secs(res, v.u32()?),
            _ => return Err(Code::NOT_FOUND),
        };
        if dry {
            return Ok(None);
        }
        let s = self.get_mut(inst).ok_or(Code::NOT_FOUND)?;
        let r = match w {
            W::Uri(u) => s.set_uri(u),
            W::Bs(b) => {
                s.bootstrap = b;
                Ok(())
            }
            W::Mode(m) => {
                s.mode = m;
                Ok(())
            }
            W::Key(3, k) => set_bytes(&mut s.identity, k),
            W::Key(4, k) => set_bytes(&mut s.server_public_key, k),
            W::Key(_, k) => set_bytes(&mut s.secret_key, k),
            W::Ssid(id) => {
                s.short_server_id = id;
                Ok(())
            }
            W::Secs(11, t) => {
                s.hold_off_s = t;
                Ok(())
            }
            W::Secs(_, t) => {
                s.bs_account_timeout_s = t;
                Ok(())
            }
        };
        r.map(|_| None).map_err(|_| Code::BAD_REQUEST)
    }
    fn execute(&mut self, _: &Ctx, _: u16, _: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn create(&mut self, inst: u16) -> Result<(), Code> {
        self.store(SecurityInstance::new(inst), false)
    }
    fn delete(&mut self, inst: u16) -> Result<(), Code> {
        let i = pos(&self.insts, inst, |s| s.id).ok_or(Code::NOT_FOUND)?;
        crate::vecs::remove(&mut self.insts, i);
        Ok(())
    }
}
