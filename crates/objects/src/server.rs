//! LwM2M Server object (id 1): registration parameters of each management server.

use heapless::{String, Vec};
use lwm2m_coap::Code;

use crate::model::{pos, put_sorted, Ctx, Effect, Kind, Object, Ops, ResourceDef, Value};

/// Server instances that fit (management, diagnostics, repository).
pub const MAX_SERVERS: usize = 3;
/// Longest Binding value ("UQS").
pub const BINDING_LEN: usize = 3;

/// Default Lifetime of a new instance, seconds.
pub const DEFAULT_LIFETIME_S: u32 = 86400;

static DEFS: [ResourceDef; 10] = [
    ResourceDef::single(0, Kind::Int, Ops::R),
    ResourceDef::single(1, Kind::Int, Ops::RW),
    ResourceDef::single(2, Kind::Int, Ops::RW),
    ResourceDef::single(3, Kind::Int, Ops::RW),
    ResourceDef::exec(4),
    ResourceDef::single(5, Kind::Int, Ops::RW),
    ResourceDef::single(6, Kind::Bool, Ops::RW),
    ResourceDef::single(7, Kind::Str, Ops::RW),
    ResourceDef::exec(8),
    ResourceDef::exec(9),
];

/// Binding modes of LwM2M 1.0.
const BINDINGS: [&str; 6] = ["U", "UQ", "S", "SQ", "US", "UQS"];

/// One management server account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInstance {
    /// Instance id.
    pub id: u16,
    /// /1/x/0 Short Server ID.
    pub short_server_id: u16,
    /// /1/x/1 Lifetime, seconds.
    pub lifetime_s: u32,
    /// /1/x/2 Default Minimum Period, seconds (optional resource).
    pub default_pmin_s: Option<u32>,
    /// /1/x/3 Default Maximum Period, seconds (optional resource).
    pub default_pmax_s: Option<u32>,
    /// /1/x/5 Disable Timeout, seconds (optional resource; 86400 when absent).
    pub disable_timeout_s: Option<u32>,
    /// /1/x/6 Notification Storing When Disabled or Offline.
    pub notification_storing: bool,
    /// /1/x/7 Binding ("U", "UQ", "S", "SQ", "US", "UQS").
    pub binding: String<BINDING_LEN>,
}

impl ServerInstance {
    /// Defaults: Lifetime one day, binding "U", storing on.
    // Out of line: several callers; inlined copies cost more than the call.
    #[inline(never)]
    pub fn new(id: u16) -> Self {
        let mut binding = String::new();
        let _ = binding.push('U');
        ServerInstance {
            id,
            short_server_id: 0,
            lifetime_s: DEFAULT_LIFETIME_S,
            default_pmin_s: None,
            default_pmax_s: None,
            disable_timeout_s: None,
            notification_storing: true,
            binding,
        }
    }
    /// Disable Timeout in effect, seconds.
    pub fn disable_timeout(&self) -> u32 {
        self.disable_timeout_s.unwrap_or(86400)
    }
}

/// The Server object.
#[derive(Clone, Debug, Default)]
pub struct Server {
    insts: Vec<ServerInstance, MAX_SERVERS>,
}

impl Server {
    /// No instances.
    pub const fn new() -> Self {
        Server { insts: Vec::new() }
    }
    /// Adds or replaces an instance (by id); `Err` when full.
    pub fn put(&mut self, inst: ServerInstance) -> Result<(), crate::SetError> {
        self.store(inst, true).map_err(|_| crate::SetError::NoMemory)
    }
    /// Adds `inst`, or replaces the instance with its id when `replace` (else 4.00).
    fn store(&mut self, inst: ServerInstance, replace: bool) -> Result<(), Code> {
        put_sorted(&mut self.insts, inst, |s| s.id, replace)
    }
    /// Instance by id.
    pub fn get(&self, id: u16) -> Option<&ServerInstance> {
        self.insts.iter().find(|s| s.id == id)
    }
    /// Instance by id, mutable.
    pub fn get_mut(&mut self, id: u16) -> Option<&mut ServerInstance> {
        self.insts.iter_mut().find(|s| s.id == id)
    }
    /// Instance by Short Server ID.
    pub fn by_short_id(&self, short_id: u16) -> Option<&ServerInstance> {
        self.insts.iter().find(|s| s.short_server_id == short_id)
    }
    /// All instances, ascending ids.
    pub fn iter(&self) -> impl Iterator<Item = &ServerInstance> {
        self.insts.iter()
    }
    /// Removes every instance.
    pub fn clear(&mut self) {
        self.insts.clear();
    }
}

impl Object for Server {
    fn id(&self) -> u16 {
        1
    }
    fn defs(&self) -> &'static [ResourceDef] {
        &DEFS
    }
    fn max_instances(&self) -> usize {
        MAX_SERVERS
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
            0 => Value::Int(s.short_server_id.into()),
            1 => Value::Int(s.lifetime_s.into()),
            2 => Value::Int(s.default_pmin_s?.into()),
            3 => Value::Int(s.default_pmax_s?.into()),
            5 => Value::Int(s.disable_timeout_s?.into()),
            6 => Value::Bool(s.notification_storing),
            7 => Value::Str(&s.binding),
            _ => return None,
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
        let (mut n, mut b, mut bind) = (0u32, false, "");
        match res {
            0 => n = v.int_in(1, 65534)? as u32,
            1..=3 | 5 => n = v.u32()?,
            6 => b = v.bool()?,
            7 => {
                bind = v.str()?;
                // Byte by byte: `contains` on strings links `memcmp`.
                if !BINDINGS.iter().any(|b| b.bytes().eq(bind.bytes())) {
                    return Err(Code::BAD_REQUEST);
                }
            }
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        if dry {
            return Ok(None);
        }
        let s = self.get_mut(inst).ok_or(Code::NOT_FOUND)?;
        match res {
            0 => s.short_server_id = n as u16,
            1 => s.lifetime_s = n,
            2 => s.default_pmin_s = Some(n),
            3 => s.default_pmax_s = Some(n),
            5 => s.disable_timeout_s = Some(n),
            6 => s.notification_storing = b,
            _ => {
                s.binding.clear();
                let _ = s.binding.push_str(bind); // at most 3 bytes: checked above
            }
        }
        Ok(None)
    }
    fn execute(&mut self, _: &Ctx, inst: u16, res: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        let short_id = self.get(inst).ok_or(Code::NOT_FOUND)?.short_server_id;
        Ok(Some(match res {
            4 => Effect::Disable { short_id },
            8 => Effect::RegistrationUpdateTrigger { short_id },
            9 => Effect::BootstrapRequestTrigger { short_id },
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }))
    }
    fn create(&mut self, inst: u16) -> Result<(), Code> {
        self.store(ServerInstance::new(inst), false)
    }
    fn delete(&mut self, inst: u16) -> Result<(), Code> {
        let i = pos(&self.insts, inst, |s| s.id).ok_or(Code::NOT_FOUND)?;
        crate::vecs::remove(&mut self.insts, i);
        Ok(())
    }
}
