//! LwM2M Access Control object (id 2) and the access-right lookup.
//!
//! Each instance guards one object instance (`/object_id/instance_id`; instance id 65535 means
//! the object itself, for Create). Resource 2 holds the rights per Short Server ID (resource
//! instance id = short id, 0 = default for servers without an entry), resource 3 the owner.

use heapless::Vec;
use lwm2m_coap::Code;

use crate::model::{pos, put_sorted, Ctx, Effect, Kind, Object, Ops, ResourceDef, Value};

/// ACL instances that fit.
pub const MAX_ACL: usize = 8;
/// Entries per ACL resource.
pub const MAX_ACL_ENTRIES: usize = 4;

/// Access right bits (resource 2 values).
pub mod right {
    /// Read, Observe, Discover, Write-Attributes.
    pub const READ: u16 = 1;
    /// Write.
    pub const WRITE: u16 = 2;
    /// Execute.
    pub const EXECUTE: u16 = 4;
    /// Delete.
    pub const DELETE: u16 = 8;
    /// Create (on ACL instances for the object, instance id 65535).
    pub const CREATE: u16 = 16;
}

static DEFS: [ResourceDef; 4] = [
    ResourceDef::single(0, Kind::Int, Ops::R),
    ResourceDef::single(1, Kind::Int, Ops::R),
    ResourceDef::multi(2, Kind::Int, Ops::RW),
    ResourceDef::single(3, Kind::Int, Ops::RW),
];

/// One ACL instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclInstance {
    /// Instance id.
    pub id: u16,
    /// /2/x/0 Object ID guarded.
    pub object_id: u16,
    /// /2/x/1 Object Instance ID guarded (65535: the object, for Create).
    pub instance_id: u16,
    /// /2/x/2 rights: (short server id, right bits), ascending short ids.
    pub entries: Vec<(u16, u16), MAX_ACL_ENTRIES>,
    /// /2/x/3 Access Control Owner (short server id).
    pub owner: u16,
}

impl AclInstance {
    /// Empty ACL.
    pub fn new(id: u16) -> Self {
        AclInstance { id, object_id: 0, instance_id: 0, entries: Vec::new(), owner: 0 }
    }
    /// Rights of `short_id`: its own entry, else full rights (but Create) for the owner, else
    /// the default entry (id 0), else none.
    pub fn rights(&self, short_id: u16) -> u16 {
        let entry = |id| self.entries.iter().find(|e| e.0 == id).map(|e| e.1);
        entry(short_id)
            .or(if self.owner == short_id { Some(0x0F) } else { None })
            .or_else(|| entry(0))
            .unwrap_or(0)
    }
}

/// The Access Control object.
#[derive(Clone, Debug, Default)]
pub struct Acl {
    insts: Vec<AclInstance, MAX_ACL>,
}

impl Acl {
    /// No instances.
    pub const fn new() -> Self {
        Acl { insts: Vec::new() }
    }
    /// Instance by id.
    pub fn get(&self, id: u16) -> Option<&AclInstance> {
        self.insts.iter().find(|s| s.id == id)
    }
    /// All instances, ascending ids.
    pub fn iter(&self) -> impl Iterator<Item = &AclInstance> {
        self.insts.iter()
    }
    /// Adds or replaces an instance (by id).
    pub fn put(&mut self, inst: AclInstance) -> Result<(), crate::SetError> {
        self.store(inst, true).map_err(|_| crate::SetError::NoMemory)
    }
    /// Adds `inst`, or replaces the instance with its id when `replace` (else 4.00).
    fn store(&mut self, inst: AclInstance, replace: bool) -> Result<(), Code> {
        put_sorted(&mut self.insts, inst, |s| s.id, replace)
    }
    /// The instance guarding `/object_id/instance_id`.
    pub fn find(&self, object_id: u16, instance_id: u16) -> Option<&AclInstance> {
        self.insts.iter().find(|a| a.object_id == object_id && a.instance_id == instance_id)
    }
    /// Removes the instances guarding `/object_id/instance_id`.
    pub fn remove_for(&mut self, object_id: u16, instance_id: u16) {
        crate::vecs::retain(&mut self.insts, |a| {
            !(a.object_id == object_id && a.instance_id == instance_id)
        });
    }
    /// Removes the instances guarding any instance of `object_id`.
    pub fn remove_object(&mut self, object_id: u16) {
        crate::vecs::retain(&mut self.insts, |a| a.object_id != object_id);
    }
    /// Removes every instance.
    pub fn clear(&mut self) {
        self.insts.clear();
    }
    fn get_mut(&mut self, id: u16) -> Option<&mut AclInstance> {
        self.insts.iter_mut().find(|s| s.id == id)
    }
}

impl Object for Acl {
    fn id(&self) -> u16 {
        2
    }
    fn defs(&self) -> &'static [ResourceDef] {
        &DEFS
    }
    fn max_instances(&self) -> usize {
        MAX_ACL
    }
    fn instance_at(&self, idx: usize) -> Option<u16> {
        self.insts.get(idx).map(|s| s.id)
    }
    fn value(&self, _ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)> {
        let a = self.get(inst)?;
        if res == 2 {
            let e = a.entries.get(idx)?;
            return Some((e.0, Value::Int(e.1.into())));
        }
        if idx != 0 {
            return None;
        }
        let v = match res {
            0 => a.object_id,
            1 => a.instance_id,
            3 => a.owner,
            _ => return None,
        };
        Some((0, Value::Int(v.into())))
    }
    fn write(
        &mut self,
        _ctx: &Ctx,
        inst: u16,
        res: u16,
        ri: Option<u16>,
        v: &Value<'_>,
        dry: bool,
    ) -> Result<Option<Effect>, Code> {
        let n = match res {
            0 | 3 => v.u16()?,
            1 => v.int_in(0, 65535)? as u16,
            2 => {
                if ri.is_none() {
                    return Err(Code::BAD_REQUEST);
                }
                v.int_in(0, 31)? as u16
            }
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        };
        if dry {
            return Ok(None);
        }
        let a = self.get_mut(inst).ok_or(Code::NOT_FOUND)?;
        match (res, ri) {
            (0, _) => a.object_id = n,
            (1, _) => a.instance_id = n,
            (3, _) => a.owner = n,
            (_, Some(id)) => match a.entries.iter().position(|e| e.0 >= id) {
                Some(i) if a.entries[i].0 == id => a.entries[i].1 = n,
                at => {
                    let at = at.unwrap_or(a.entries.len());
                    crate::vecs::insert(&mut a.entries, at, (id, n))
                        .map_err(|_| Code::BAD_REQUEST)?;
                }
            },
            _ => return Err(Code::BAD_REQUEST),
        }
        Ok(None)
    }
    fn clear_multi(&mut self, inst: u16, res: u16) {
        if let (Some(a), 2) = (self.get_mut(inst), res) {
            a.entries.clear();
        }
    }
    // `contains` on `u16` slices is unrolled: about 70 B more than this short loop.
    #[allow(clippy::manual_contains)]
    fn multi_fits(&self, inst: u16, _res: u16, ris: &[u16], replace: bool) -> bool {
        let kept = match self.get(inst) {
            Some(a) if !replace => &a.entries[..],
            _ => &[],
        };
        let mut n = kept.len();
        // Each new id once (duplicates in the payload count once): from the last, the ids
        // that neither the instance nor an earlier payload entry has.
        let mut rest = ris;
        while let [earlier @ .., id] = rest {
            if !kept.iter().any(|e| e.0 == *id) && !earlier.iter().any(|x| x == id) {
                n += 1;
            }
            rest = earlier;
        }
        n <= MAX_ACL_ENTRIES
    }
    fn execute(&mut self, _: &Ctx, _: u16, _: u16, _: &[u8]) -> Result<Option<Effect>, Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    fn create(&mut self, inst: u16) -> Result<(), Code> {
        self.store(AclInstance::new(inst), false)
    }
    fn delete(&mut self, inst: u16) -> Result<(), Code> {
        let i = pos(&self.insts, inst, |s| s.id).ok_or(Code::NOT_FOUND)?;
        crate::vecs::remove(&mut self.insts, i);
        Ok(())
    }
}
