//! The [`Registry`]: all objects of the client, the operations the engine dispatches to them,
//! content-format encoding/decoding and the access rules.
//!
//! Decisions (LwM2M 1.0):
//! - Read/Write/Execute/Discover on `/` are 4.05; Write and Execute on a resource instance
//!   (`/o/i/r/ri`) are 4.05 (1.0 has no such operation).
//! - Write without Content-Format: an empty payload to a single resource is taken as the empty
//!   value (text or opaque); anything else is 4.15 (RFC 7252: no format means indeterminate).
//! - Plain text and opaque only for single resources (and single resource instances on Read);
//!   otherwise 4.06 on Read and 4.15 on Write. Opaque resources are not readable as text.
//! - Values the client cannot store (too long, too many instances) are 4.00.
//! - Writes are all-or-nothing: a dry pass validates the whole payload (types, ranges,
//!   lengths, capacities), then the real pass applies it.
//! - Replace (PUT) of an instance clears writable multiple resources absent from the payload
//!   and replaces the ones present; absent single resources keep their value. Partial update
//!   (POST) merges resource instances.
//! - In Bootstrap-Write, resources this client does not implement are ignored (the bootstrap
//!   server provisions whole instances, e.g. the SMS resources of Security); a management
//!   server gets 4.04 for them. Bootstrap-Write may set resources that are read-only for
//!   management servers (Short Server ID, ACL object/instance ids).
//! - Bootstrap-Delete of `/` deletes every Security instance but the Bootstrap-Server account,
//!   every Server and every ACL instance (TS 1.0 §5.2.7.5; Device, Connectivity Monitoring and
//!   Firmware Update are single-instance objects owned by the client and are kept).
//!   Deleting the Bootstrap-Server account itself is 4.00; a missing instance is deleted
//!   already (2.02).
//! - Management servers: 4.01 for any operation on Security; Create/Delete in Server and ACL
//!   are 4.05 (only the Bootstrap-Server provisions them); Device, Connectivity Monitoring and
//!   Firmware Update instances cannot be created or deleted (4.05).
//! - ACLs are enforced only when more than one Server instance exists and the ACL object has
//!   at least one instance: LwM2M 1.0 (§E.1) says a client serving a single server need not
//!   use ACLs, and a bootstrap that provisioned no ACLs at all would otherwise lock every
//!   server out.

use heapless::Vec;
use lwm2m_coap::{content_format as cf, Code};
use lwm2m_formats::{link, str_from_utf8, text, tlv, CountSink, Float, Overflow, Path, Sink};

use crate::acl::{right, Acl};
pub use crate::attrs::{Attr, Attrs};
use crate::conn_mon::ConnMon;
use crate::device::Device;
use crate::firmware::Firmware;
use crate::model::{find_def, Caller, Ctx, Effect, Kind, Object, ResourceDef, Value};
use crate::security::Security;
use crate::server::Server;

/// Where Discover gets the attributes set on a path (the engine's Write-Attributes store).
pub trait AttrSource {
    /// Attributes set at exactly `path` for the asking server, if any.
    fn attrs(&self, path: &Path) -> Option<Attrs>;
}

/// An [`AttrSource`] without attributes.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAttrs;

impl AttrSource for NoAttrs {
    fn attrs(&self, _: &Path) -> Option<Attrs> {
        None
    }
}

/// Effects kept until the engine takes them.
pub const MAX_EFFECTS: usize = 8;
const MAX_WRITE_RIS: usize = 16;
const NO_INSTANCE: u16 = 65535;

/// Every object of the client and the operations on them.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Object 0.
    pub security: Security,
    /// Object 1.
    pub server: Server,
    /// Object 2.
    pub acl: Acl,
    /// Object 3.
    pub device: Device,
    /// Object 4.
    pub conn_mon: ConnMon,
    /// Object 5.
    pub firmware: Firmware,
    /// Oldest first (a `Vec`: it takes less code than a `Deque` for this handful of entries).
    effects: Vec<Effect, MAX_EFFECTS>,
    dirty: [u32; 3],
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

fn ov(_: Overflow) -> Code {
    Code::INTERNAL_SERVER_ERROR
}
fn bad<E>(_: E) -> Code {
    Code::BAD_REQUEST
}

/// One value as a TLV entry.
fn put_tlv(
    mut out: &mut dyn Sink,
    kind: tlv::Kind,
    id: u16,
    v: &Value<'_>,
) -> Result<(), Overflow> {
    let s = &mut out;
    match *v {
        Value::Int(i) => tlv::write_int(s, kind, id, i),
        Value::Bool(b) => tlv::write_bool(s, kind, id, b),
        Value::Str(x) => tlv::write_str(s, kind, id, x),
        Value::Opaque(b) => tlv::write_bytes(s, kind, id, b),
        Value::ObjLnk(o, i) => tlv::write_objlnk(s, kind, id, (o, i)),
        Value::Float(f) => tlv::write_float(s, kind, id, f),
    }
}

/// One value as plain text (opaque values are written raw: callers check the format first).
fn put_text(mut out: &mut dyn Sink, v: &Value<'_>) -> Result<(), Overflow> {
    let s = &mut out;
    match *v {
        Value::Int(i) => text::write_int(s, i),
        Value::Bool(b) => text::write_bool(s, b),
        Value::Str(x) => s.put(x.as_bytes()),
        Value::Opaque(b) => s.put(b),
        Value::ObjLnk(o, i) => text::write_objlnk(s, (o, i)),
        Value::Float(f) => text::write_float(s, f),
    }
}

/// Decodes a value of a resource of type `kind` in format `fmt`: a TLV value, plain text or
/// opaque. One body for both: the types share their checks (range, UTF-8), only the number
/// syntax differs.
fn decode(fmt: u16, kind: Kind, b: &[u8]) -> Result<Value<'_>, Code> {
    let tlv = fmt == cf::LWM2M_TLV;
    if !tlv && (fmt == cf::OCTET_STREAM || kind == Kind::Opaque) {
        return match (fmt == cf::OCTET_STREAM, kind == Kind::Opaque) {
            (true, true) => Ok(Value::Opaque(b)),
            _ => Err(Code::UNSUPPORTED_CONTENT_FORMAT),
        };
    }
    Ok(match kind {
        Kind::Int | Kind::Time | Kind::Uint => {
            let v = if tlv { tlv::decode_int(b).ok() } else { text::parse_int(b).ok() };
            let v = v.ok_or(Code::BAD_REQUEST)?;
            if kind == Kind::Uint && v < 0 {
                return Err(Code::BAD_REQUEST);
            }
            Value::Int(v)
        }
        Kind::Bool => {
            let v = if tlv { tlv::decode_bool(b).ok() } else { text::parse_bool(b).ok() };
            Value::Bool(v.ok_or(Code::BAD_REQUEST)?)
        }
        Kind::Str => Value::Str(str_from_utf8(b).ok_or(Code::BAD_REQUEST)?),
        Kind::Opaque => Value::Opaque(b),
        Kind::ObjLnk => {
            let v = if tlv { tlv::decode_objlnk(b).ok() } else { text::parse_objlnk(b).ok() };
            let (o, i) = v.ok_or(Code::BAD_REQUEST)?;
            Value::ObjLnk(o, i)
        }
        Kind::Float => {
            let v = if tlv { tlv::decode_float(b).ok() } else { text::parse_float(b).ok() };
            Value::Float(v.ok_or(Code::BAD_REQUEST)?)
        }
        Kind::Exec => return Err(Code::METHOD_NOT_ALLOWED),
    })
}

/// `body` if it is not a single TLV of `kind`; else that TLV's value when its id is `id`.
fn unwrap_single(body: &[u8], kind: tlv::Kind, id: u16) -> Result<&[u8], Code> {
    let mut rd = tlv::Reader::new(body);
    match (rd.next(), rd.next()) {
        (Some(Ok(t)), None) if t.kind == kind => {
            if t.id == id {
                Ok(t.value)
            } else {
                Err(Code::BAD_REQUEST)
            }
        }
        _ => Ok(body),
    }
}

/// The resource instances of a multiple resource as TLV entries.
fn multi_children(
    obj: &dyn Object,
    ctx: &Ctx,
    inst: u16,
    res: u16,
    out: &mut dyn Sink,
) -> Result<(), Overflow> {
    let mut idx = 0;
    while let Some((ri, v)) = obj.value(ctx, inst, res, idx) {
        put_tlv(out, tlv::Kind::ResourceInstance, ri, &v)?;
        idx += 1;
    }
    Ok(())
}

/// A multiple resource as one TLV (children measured first).
fn render_multi(
    obj: &dyn Object,
    ctx: &Ctx,
    inst: u16,
    res: u16,
    mut out: &mut dyn Sink,
) -> Result<(), Overflow> {
    let mut c = CountSink::new();
    multi_children(obj, ctx, inst, res, &mut c)?;
    tlv::write_header(&mut out, tlv::Kind::MultipleResource, res, c.len())?;
    multi_children(obj, ctx, inst, res, out)
}

/// Every readable, present resource of an instance as TLV entries.
fn render_resources(
    obj: &dyn Object,
    ctx: &Ctx,
    inst: u16,
    out: &mut dyn Sink,
) -> Result<(), Overflow> {
    for d in obj.defs().iter().filter(|d| d.ops.readable()) {
        if d.multiple {
            render_multi(obj, ctx, inst, d.id, out)?;
        } else if let Some((_, v)) = obj.value(ctx, inst, d.id, 0) {
            put_tlv(out, tlv::Kind::Resource, d.id, &v)?;
        }
    }
    Ok(())
}

/// Whether a resource shows up in Discover.
fn present(obj: &dyn Object, ctx: &Ctx, inst: u16, d: &ResourceDef) -> bool {
    d.multiple || !d.ops.readable() || obj.value(ctx, inst, d.id, 0).is_some()
}

fn count_values(obj: &dyn Object, ctx: &Ctx, inst: u16, res: u16) -> usize {
    let mut n = 0;
    while obj.value(ctx, inst, res, n).is_some() {
        n += 1;
    }
    n
}

type W<'w, 's> = link::Writer<'w, &'s mut dyn Sink>;

fn put_attrs(w: &mut W<'_, '_>, a: Option<Attrs>) -> Result<(), Overflow> {
    let a = a.unwrap_or_default();
    for attr in Attr::ALL {
        match a.raw(attr) {
            Some(v) if attr.is_float() => w.attr_float(attr.name(), Float::from_bits(v))?,
            Some(v) => w.attr_uint(attr.name(), v.into())?,
            None => {}
        }
    }
    Ok(())
}

/// Links of the present resources of an instance, with `dim` and their own attributes.
fn discover_resources(
    w: &mut W<'_, '_>,
    obj: &dyn Object,
    ctx: &Ctx,
    inst: u16,
    attrs: &dyn AttrSource,
) -> Result<(), Overflow> {
    for d in obj.defs() {
        if present(obj, ctx, inst, d) {
            let p = Path::resource(obj.id(), inst, d.id);
            w.link(&p)?;
            if d.multiple {
                w.attr_uint("dim", count_values(obj, ctx, inst, d.id) as u64)?;
            }
            put_attrs(w, attrs.attrs(&p))?;
        }
    }
    Ok(())
}

impl Registry {
    /// Empty Security/Server/ACL, Device defaults of the carrier library, Connectivity
    /// Monitoring on LTE-FDD, Firmware Update idle.
    #[inline(never)]
    pub fn new() -> Registry {
        Registry {
            security: Security::new(),
            server: Server::new(),
            acl: Acl::new(),
            device: Device::new(),
            conn_mon: ConnMon::new(),
            firmware: Firmware::new(),
            effects: Vec::new(),
            dirty: [0; 3],
        }
    }

    fn obj(&self, id: u16) -> Option<&dyn Object> {
        Some(match id {
            0 => &self.security,
            1 => &self.server,
            2 => &self.acl,
            3 => &self.device,
            4 => &self.conn_mon,
            5 => &self.firmware,
            _ => return None,
        })
    }

    fn obj_mut(&mut self, id: u16) -> Option<&mut dyn Object> {
        Some(match id {
            0 => &mut self.security,
            1 => &mut self.server,
            2 => &mut self.acl,
            3 => &mut self.device,
            4 => &mut self.conn_mon,
            5 => &mut self.firmware,
            _ => return None,
        })
    }

    /// Queues `e`, if any (an `Option`: the objects' handlers return one).
    fn push(&mut self, e: Option<Effect>) {
        let Some(e) = e else { return };
        if !self.effects.contains(&e) {
            let _ = self.effects.push(e); // full: dropped (the engine drains after each op)
        }
    }

    /// Whether ACLs are enforced (see the module documentation).
    pub fn acl_enforced(&self) -> bool {
        // A second Server instance and a first ACL instance (no counting loops).
        self.server.instance_at(1).is_some() && self.acl.instance_at(0).is_some()
    }

    /// Access rights (see [`right`]) of the caller on `/oid/inst`.
    pub fn rights(&self, ctx: &Ctx, oid: u16, inst: u16) -> u16 {
        let Caller::Server { short_id } = ctx.caller else {
            return u16::MAX;
        };
        if oid == 0 {
            return 0;
        }
        if !self.acl_enforced() {
            return u16::MAX;
        }
        if oid == 2 {
            // An ACL instance: its owner may change it, everybody may read it.
            return match self.acl.get(inst) {
                Some(a) if a.owner == short_id => right::READ | right::WRITE,
                _ => right::READ,
            };
        }
        self.acl.find(oid, inst).map_or(0, |a| a.rights(short_id))
    }

    /// Object of `path` (not the root), instance existence and the caller's `right` on it.
    fn check(&self, ctx: &Ctx, path: &Path, need: u16) -> Result<&dyn Object, Code> {
        let oid = path.object_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
        if oid == 0 && ctx.caller != Caller::Bootstrap {
            return Err(Code::UNAUTHORIZED);
        }
        let obj = self.obj(oid).ok_or(Code::NOT_FOUND)?;
        if let Some(i) = path.instance_id() {
            if !obj.has_instance(i) {
                return Err(Code::NOT_FOUND);
            }
            if self.rights(ctx, oid, i) & need == 0 {
                return Err(Code::UNAUTHORIZED);
            }
        }
        Ok(obj)
    }

    /// Read. `accept` None: TLV for objects, instances and multiple resources, plain text for
    /// single values, opaque for opaque resources. Returns the content format written.
    /// Rendering is deterministic: render again into a `WindowSink` for each Block2 block.
    pub fn read<S: Sink>(
        &self,
        ctx: &Ctx,
        path: &Path,
        accept: Option<u16>,
        out: &mut S,
    ) -> Result<u16, Code> {
        self.read_dyn(ctx, path, accept, out)
    }

    fn read_dyn(
        &self,
        ctx: &Ctx,
        path: &Path,
        accept: Option<u16>,
        mut out: &mut dyn Sink,
    ) -> Result<u16, Code> {
        if ctx.caller == Caller::Bootstrap && path.object_id() == Some(0) {
            return Err(Code::UNAUTHORIZED); // keys are not read back, by anybody
        }
        let obj = self.check(ctx, path, right::READ)?;
        let ids = path.ids();
        let (oid, inst) = (obj.id(), path.instance_id().unwrap_or(0));
        let tlv_ok = matches!(accept, None | Some(cf::LWM2M_TLV));
        let def = match path.resource_id() {
            None => {
                if !tlv_ok {
                    return Err(Code::NOT_ACCEPTABLE);
                }
                if path.len() == 2 {
                    render_resources(obj, ctx, inst, out).map_err(ov)?;
                } else {
                    let mut idx = 0;
                    while let Some(i) = obj.instance_at(idx) {
                        idx += 1;
                        if self.rights(ctx, oid, i) & right::READ == 0 {
                            continue;
                        }
                        let mut c = CountSink::new();
                        render_resources(obj, ctx, i, &mut c).map_err(ov)?;
                        tlv::write_header(&mut out, tlv::Kind::ObjectInstance, i, c.len())
                            .map_err(ov)?;
                        render_resources(obj, ctx, i, out).map_err(ov)?;
                    }
                }
                return Ok(cf::LWM2M_TLV);
            }
            Some(r) => *find_def(obj.defs(), r).ok_or(Code::NOT_FOUND)?,
        };
        if !def.ops.readable() {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        // The TLV kind and id of the value, and its resource instance id (0 for a single one).
        let (kind, id, want) = match ids {
            [_, _, r] if def.multiple => {
                if !tlv_ok {
                    return Err(Code::NOT_ACCEPTABLE);
                }
                render_multi(obj, ctx, inst, *r, out).map_err(ov)?;
                return Ok(cf::LWM2M_TLV);
            }
            [_, _, r] => (tlv::Kind::Resource, *r, 0),
            [_, _, _, ri] if def.multiple => (tlv::Kind::ResourceInstance, *ri, *ri),
            _ => return Err(Code::NOT_FOUND),
        };
        let mut idx = 0;
        let v = loop {
            match obj.value(ctx, inst, def.id, idx) {
                Some((ri, v)) if ri == want => break v,
                Some(_) => idx += 1,
                None => return Err(Code::NOT_FOUND),
            }
        };
        let opaque = def.kind == Kind::Opaque;
        let fmt = accept.unwrap_or(if opaque { cf::OCTET_STREAM } else { cf::TEXT_PLAIN });
        match fmt {
            cf::LWM2M_TLV => put_tlv(out, kind, id, &v),
            cf::TEXT_PLAIN if !opaque => put_text(out, &v),
            cf::OCTET_STREAM if opaque => put_text(out, &v),
            _ => return Err(Code::NOT_ACCEPTABLE),
        }
        .map_err(ov)?;
        Ok(fmt)
    }

    /// Write (`replace`: PUT, else POST partial update); all-or-nothing. A Bootstrap-Write
    /// creates missing Security/Server/ACL instances and may target the object.
    pub fn write(
        &mut self,
        ctx: &Ctx,
        path: &Path,
        cf: Option<u16>,
        payload: &[u8],
        replace: bool,
    ) -> Result<(), Code> {
        let bs = ctx.caller == Caller::Bootstrap;
        let oid = path.object_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
        if oid == 0 && !bs {
            return Err(Code::UNAUTHORIZED);
        }
        let obj = self.obj(oid).ok_or(Code::NOT_FOUND)?;
        if path.len() > 3 || (path.len() == 1 && !bs) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if let Some(i) = path.instance_id() {
            if !obj.has_instance(i) {
                if !(bs && oid <= 2) {
                    return Err(Code::NOT_FOUND);
                }
                if obj.is_full() {
                    return Err(Code::BAD_REQUEST);
                }
            }
            if self.rights(ctx, oid, i) & right::WRITE == 0 {
                return Err(Code::UNAUTHORIZED);
            }
        }
        let def = match path.resource_id() {
            Some(r) => {
                let d = *find_def(obj.defs(), r).ok_or(Code::NOT_FOUND)?;
                if d.kind == Kind::Exec || !(bs || d.ops.writable()) {
                    return Err(Code::METHOD_NOT_ALLOWED);
                }
                Some(d)
            }
            None => None,
        };
        let single = def.filter(|d| !d.multiple);
        let fmt = match (cf, single) {
            (Some(f), _) => f,
            (None, Some(d)) if payload.is_empty() => {
                if d.kind == Kind::Opaque {
                    cf::OCTET_STREAM
                } else {
                    cf::TEXT_PLAIN
                }
            }
            _ => return Err(Code::UNSUPPORTED_CONTENT_FORMAT),
        };
        match fmt {
            cf::LWM2M_TLV => tlv::validate(payload).map_err(bad)?,
            cf::TEXT_PLAIN | cf::OCTET_STREAM if single.is_some() => {}
            _ => return Err(Code::UNSUPPORTED_CONTENT_FORMAT),
        }
        self.apply(ctx, path, fmt, payload, replace, path)
    }

    /// Both passes of a write to `target` (a dry one that refuses what the real one would, then
    /// the real one), then its effects; `changed` is the path observers hear about.
    fn apply(
        &mut self,
        ctx: &Ctx,
        target: &Path,
        fmt: u16,
        payload: &[u8],
        replace: bool,
        changed: &Path,
    ) -> Result<(), Code> {
        let bs = ctx.caller == Caller::Bootstrap;
        let mut p = Pass { ctx, bs, replace, dry: true, fx: None };
        self.walk(&mut p, target, fmt, payload)?;
        p.dry = false;
        p.fx = None; // effects of the real pass only
        self.walk(&mut p, target, fmt, payload)?;
        self.push(p.fx);
        self.push(Some(Effect::Changed(*changed)));
        Ok(())
    }

    /// One pass of a write (checked by [`Registry::write`] before).
    fn walk(&mut self, p: &mut Pass, path: &Path, fmt: u16, payload: &[u8]) -> Result<(), Code> {
        let obj = self.obj_mut(path.object_id().unwrap_or(u16::MAX)).ok_or(Code::NOT_FOUND)?;
        let (Some(i), Some(r)) = (path.instance_id(), path.resource_id()) else {
            if let Some(i) = path.instance_id() {
                let body = unwrap_single(payload, tlv::Kind::ObjectInstance, i)?;
                return write_inst(obj, p, i, body);
            }
            // Object level (Bootstrap-Write): object instances only.
            let mut new = 0;
            for t in tlv::Reader::new(payload) {
                let t = t.map_err(bad)?;
                if t.kind != tlv::Kind::ObjectInstance {
                    return Err(Code::BAD_REQUEST);
                }
                new += usize::from(!obj.has_instance(t.id));
            }
            if obj.instance_count() + new > obj.max_instances() {
                return Err(Code::BAD_REQUEST);
            }
            for t in tlv::Reader::new(payload).flatten() {
                write_inst(obj, p, t.id, t.value)?;
            }
            return Ok(());
        };
        let def = *find_def(obj.defs(), r).ok_or(Code::NOT_FOUND)?;
        if !p.dry && !obj.has_instance(i) {
            obj.create(i)?;
        }
        // The payload as the TLV an instance write would hold for this resource.
        let t = if fmt != cf::LWM2M_TLV {
            tlv::Tlv { kind: tlv::Kind::Resource, id: r, value: payload }
        } else if def.multiple {
            let value = unwrap_single(payload, tlv::Kind::MultipleResource, r)?;
            tlv::Tlv { kind: tlv::Kind::MultipleResource, id: r, value }
        } else {
            let mut rd = tlv::Reader::new(payload);
            match (rd.next(), rd.next()) {
                (Some(Ok(t)), None) if t.id == r => t,
                _ => return Err(Code::BAD_REQUEST),
            }
        };
        write_resource(obj, p, i, &def, fmt, t)
    }

    /// Execute a resource (management servers only; `args` are not used by objects 0-5).
    pub fn execute(&mut self, ctx: &Ctx, path: &Path, args: &[u8]) -> Result<(), Code> {
        if ctx.caller == Caller::Bootstrap {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        let obj = self.check(ctx, path, right::EXECUTE)?;
        let [oid, i, r] = *path.ids() else {
            return Err(Code::METHOD_NOT_ALLOWED);
        };
        let def = find_def(obj.defs(), r).ok_or(Code::NOT_FOUND)?;
        if def.kind != Kind::Exec {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        let obj = self.obj_mut(oid).ok_or(Code::NOT_FOUND)?;
        let e = obj.execute(ctx, i, r, args)?;
        self.push(e);
        Ok(())
    }

    /// Create an instance in object `path` (`/o`); the payload is TLV: one object instance
    /// (its id is used) or resources (the lowest free id is used). Returns the new id.
    pub fn create(
        &mut self,
        ctx: &Ctx,
        path: &Path,
        cf: Option<u16>,
        payload: &[u8],
    ) -> Result<u16, Code> {
        let bs = ctx.caller == Caller::Bootstrap;
        let oid = path.object_id().ok_or(Code::METHOD_NOT_ALLOWED)?;
        if oid == 0 && !bs {
            return Err(Code::UNAUTHORIZED);
        }
        let obj = self.obj(oid).ok_or(Code::NOT_FOUND)?;
        if path.len() != 1 || (!bs && oid <= 2) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if let Caller::Server { short_id } = ctx.caller {
            let allowed = self.acl.find(oid, NO_INSTANCE).map_or(0, |a| a.rights(short_id));
            if self.acl_enforced() && allowed & right::CREATE == 0 {
                return Err(Code::UNAUTHORIZED);
            }
        }
        if obj.is_full() {
            return Err(if obj.max_instances() == 1 {
                Code::METHOD_NOT_ALLOWED
            } else {
                Code::BAD_REQUEST
            });
        }
        match cf {
            Some(cf::LWM2M_TLV) => tlv::validate(payload).map_err(bad)?,
            None if payload.is_empty() => {}
            _ => return Err(Code::UNSUPPORTED_CONTENT_FORMAT),
        }
        let mut rd = tlv::Reader::new(payload);
        let id = match (rd.next(), rd.next()) {
            (Some(Ok(t)), None) if t.kind == tlv::Kind::ObjectInstance => t.id,
            _ => (0..NO_INSTANCE).find(|i| !obj.has_instance(*i)).unwrap_or(0),
        };
        if obj.has_instance(id) {
            return Err(Code::BAD_REQUEST);
        }
        // An instance write (whose real pass creates the instance): it takes either one object
        // instance TLV with this id or the resources themselves.
        self.apply(ctx, &Path::instance(oid, id), cf::LWM2M_TLV, payload, true, path)?;
        Ok(id)
    }

    /// Delete (management servers: `/o/i`; Bootstrap-Delete: `/`, `/o` or `/o/i`).
    pub fn delete(&mut self, ctx: &Ctx, path: &Path) -> Result<(), Code> {
        match ctx.caller {
            Caller::Server { .. } => {
                self.check(ctx, path, right::DELETE)?;
                let [oid @ 3..=u16::MAX, i] = *path.ids() else {
                    return Err(Code::METHOD_NOT_ALLOWED);
                };
                self.obj_mut(oid).ok_or(Code::NOT_FOUND)?.delete(i)?;
                self.acl.remove_for(oid, i);
            }
            Caller::Bootstrap => match *path.ids() {
                [] => {
                    self.security.remove_all_but_bootstrap();
                    self.server.clear();
                    self.acl.clear();
                }
                [0] => self.security.remove_all_but_bootstrap(),
                [1] => {
                    self.server.clear();
                    self.acl.remove_object(1);
                }
                [2] => self.acl.clear(),
                [3..=5] => {}
                [oid @ 0..=2, i] => {
                    if oid == 0 && self.security.get(i).is_some_and(|s| s.bootstrap) {
                        return Err(Code::BAD_REQUEST);
                    }
                    let obj = self.obj_mut(oid).ok_or(Code::BAD_REQUEST)?;
                    if obj.has_instance(i) {
                        obj.delete(i)?;
                    }
                    self.acl.remove_for(oid, i);
                }
                _ => return Err(Code::BAD_REQUEST),
            },
        }
        self.push(Some(Effect::Changed(*path)));
        Ok(())
    }

    /// Discover. Management servers: `/o` lists the object, its (readable) instances and their
    /// resources; `/o/i` the instance and its resources; `/o/i/r` the resource with the
    /// attributes it inherits. Each link carries the attributes set at its own level, and
    /// multiple resources `dim`. Bootstrap-Discover (`/` or `/o`) lists instances with `ssid`
    /// (and `uri` for Security), `/` starting with `</>;lwm2m="1.0"`.
    pub fn discover<S: Sink>(
        &self,
        ctx: &Ctx,
        path: &Path,
        attrs: &dyn AttrSource,
        out: &mut S,
    ) -> Result<(), Code> {
        let mut out: &mut dyn Sink = out;
        let mut w = link::Writer::new(&mut out);
        if ctx.caller == Caller::Bootstrap {
            return self.bootstrap_discover(path, &mut w);
        }
        let obj = self.check(ctx, path, right::READ)?;
        match *path.ids() {
            // `/o` lists every readable instance with its resources, `/o/i` that one.
            [o, ..] if path.len() <= 2 => {
                w.link(path).map_err(ov)?;
                put_attrs(&mut w, attrs.attrs(path)).map_err(ov)?;
                let mut idx = 0;
                while let Some(i) = obj.instance_at(idx) {
                    idx += 1;
                    match path.instance_id() {
                        Some(only) if only != i => continue,
                        Some(_) => {}
                        None => {
                            if self.rights(ctx, o, i) & right::READ == 0 {
                                continue;
                            }
                            let p = Path::instance(o, i);
                            w.link(&p).map_err(ov)?;
                            put_attrs(&mut w, attrs.attrs(&p)).map_err(ov)?;
                        }
                    }
                    discover_resources(&mut w, obj, ctx, i, attrs).map_err(ov)?;
                }
            }
            [o, i, r] => {
                let d = find_def(obj.defs(), r).ok_or(Code::NOT_FOUND)?;
                if !present(obj, ctx, i, d) {
                    return Err(Code::NOT_FOUND);
                }
                w.link(path).map_err(ov)?;
                if d.multiple {
                    w.attr_uint("dim", count_values(obj, ctx, i, r) as u64).map_err(ov)?;
                }
                let get = |p: Path| attrs.attrs(&p).unwrap_or_default();
                let a =
                    get(*path).inherit(&get(Path::instance(o, i))).inherit(&get(Path::object(o)));
                put_attrs(&mut w, Some(a)).map_err(ov)?;
            }
            _ => return Err(Code::METHOD_NOT_ALLOWED),
        }
        Ok(())
    }

    fn bootstrap_discover(&self, path: &Path, w: &mut W<'_, '_>) -> Result<(), Code> {
        let objs = match *path.ids() {
            [] => {
                w.link(path).map_err(ov)?;
                w.attr_str("lwm2m", "1.0").map_err(ov)?;
                0..=5
            }
            [o] if self.obj(o).is_some() => o..=o,
            [_] => return Err(Code::NOT_FOUND),
            _ => return Err(Code::BAD_REQUEST),
        };
        for o in objs {
            self.object_links(o, w, true).map_err(ov)?;
        }
        Ok(())
    }

    /// `</o/i>` per instance, `</o>` for an object without instances.
    fn object_links(&self, o: u16, w: &mut W<'_, '_>, bootstrap: bool) -> Result<(), Overflow> {
        let Some(obj) = self.obj(o) else { return Ok(()) };
        if obj.instance_at(0).is_none() {
            return w.link(&Path::object(o));
        }
        let mut idx = 0;
        while let Some(i) = obj.instance_at(idx) {
            idx += 1;
            w.link(&Path::instance(o, i))?;
            if !bootstrap {
                continue;
            }
            // Security: `ssid` and `uri` of server accounts; Server: `ssid`.
            let (ssid, uri) = match o {
                0 => match self.security.get(i) {
                    Some(s) if !s.bootstrap => (s.short_server_id, Some(s.uri.as_str())),
                    _ => continue,
                },
                1 => match self.server.get(i) {
                    Some(s) => (s.short_server_id, None),
                    None => continue,
                },
                _ => continue,
            };
            w.attr_uint("ssid", ssid.into())?;
            if let Some(uri) = uri {
                w.attr_str("uri", uri)?;
            }
        }
        Ok(())
    }

    /// The object list of Register/Update: `</1/0>,</2/0>,...,</5/0>`; Security is left out,
    /// objects without instances appear as `</2>`.
    pub fn write_registration_links<S: Sink>(&self, out: &mut S) -> Result<(), Overflow> {
        self.registration_links_dyn(out)
    }

    /// One body for every sink type (the engine hashes the links and also sends them).
    #[inline(never)]
    fn registration_links_dyn(&self, mut out: &mut dyn Sink) -> Result<(), Overflow> {
        let mut w = link::Writer::new(&mut out);
        for o in 1..=5 {
            self.object_links(o, &mut w, false)?;
        }
        Ok(())
    }

    /// Numeric value of a readable single resource (or resource instance), for gt/lt/st.
    pub fn numeric_value(&self, ctx: &Ctx, path: &Path) -> Option<Float> {
        let obj = self.check(ctx, path, right::READ).ok()?;
        let d = find_def(obj.defs(), path.resource_id()?)?;
        if !d.ops.readable() || d.multiple != (path.len() == 4) || obj.id() == 0 {
            return None;
        }
        let (i, r) = (path.instance_id()?, d.id);
        let want = path.resource_instance_id().unwrap_or(0);
        let mut idx = 0;
        while let Some((ri, v)) = obj.value(ctx, i, r, idx) {
            if ri == want {
                return v.as_float();
            }
            idx += 1;
        }
        None
    }

    /// Next effect for the engine: queued effects first, then `Changed` for each resource of
    /// Device, Connectivity Monitoring and Firmware Update changed by a setter.
    pub fn take_effect(&mut self) -> Option<Effect> {
        if let Some(e) = crate::vecs::pop_front(&mut self.effects) {
            return Some(e);
        }
        for (k, o) in (3u16..=5).enumerate() {
            let d = self.obj_mut(o).map_or(0, |obj| obj.take_dirty());
            let slot = self.dirty.get_mut(k)?;
            *slot |= d;
            if *slot != 0 {
                let bit = slot.trailing_zeros();
                *slot &= !(1 << bit);
                return Some(Effect::Changed(Path::resource(o, 0, bit as u16)));
            }
        }
        None
    }

    /// Bootstrap-Finish acceptance: at least one non-bootstrap Security instance with a URI
    /// whose Short Server ID has a Server instance; else 4.06 (TS 1.0 §5.2.7.6).
    pub fn bootstrap_finish_check(&self) -> Result<(), Code> {
        let ok = self.security.iter().any(|s| {
            !s.bootstrap
                && !s.uri.is_empty()
                && self.server.by_short_id(s.short_server_id).is_some()
        });
        if ok {
            Ok(())
        } else {
            Err(Code::NOT_ACCEPTABLE)
        }
    }
}

/// What stays the same through one pass of a write.
struct Pass<'c> {
    ctx: &'c Ctx,
    /// Bootstrap-Write: may set read-only resources, skips unknown ones.
    bs: bool,
    replace: bool,
    dry: bool,
    /// The last effect an object returned (the one the write reports).
    fx: Option<Effect>,
}

impl Pass<'_> {
    /// Keeps `e` when there is one (`e.or(fx)` would select through `memmove`).
    fn note(&mut self, e: Option<Effect>) {
        if e.is_some() {
            self.fx = e;
        }
    }
}

/// Writes the resources in `body` (TLV) to instance `i`, creating it on the real pass.
fn write_inst(obj: &mut dyn Object, p: &mut Pass, i: u16, body: &[u8]) -> Result<(), Code> {
    let (bs, dry) = (p.bs, p.dry);
    if !dry && !obj.has_instance(i) {
        obj.create(i)?;
    }
    if p.replace && !dry {
        for d in obj.defs().iter().filter(|d| d.multiple && (bs || d.ops.writable())) {
            if !tlv::Reader::new(body).flatten().any(|t| t.id == d.id) {
                obj.clear_multi(i, d.id);
            }
        }
    }
    for t in tlv::Reader::new(body) {
        let t = t.map_err(bad)?;
        let def = match find_def(obj.defs(), t.id) {
            Some(d) => *d,
            None if bs => continue,
            None => return Err(Code::NOT_FOUND),
        };
        if def.kind == Kind::Exec || !(bs || def.ops.writable()) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        write_resource(obj, p, i, &def, cf::LWM2M_TLV, t)?;
    }
    Ok(())
}

/// Writes resource `def` from `t`: a Resource TLV (or a value in `fmt`) for a single resource,
/// a Multiple Resource TLV for a multiple one.
fn write_resource(
    obj: &mut dyn Object,
    p: &mut Pass,
    i: u16,
    def: &ResourceDef,
    fmt: u16,
    t: tlv::Tlv<'_>,
) -> Result<(), Code> {
    match (t.kind, def.multiple) {
        (tlv::Kind::Resource, false) => {
            let v = decode(fmt, def.kind, t.value)?;
            let e = obj.write(p.ctx, i, def.id, None, &v, p.dry)?;
            p.note(e);
            Ok(())
        }
        (tlv::Kind::MultipleResource, true) => write_multi(obj, p, i, def, t.value),
        _ => Err(Code::BAD_REQUEST),
    }
}

/// Writes resource instances (TLV in `body`) of multiple resource `def`.
fn write_multi(
    obj: &mut dyn Object,
    p: &mut Pass,
    i: u16,
    def: &ResourceDef,
    body: &[u8],
) -> Result<(), Code> {
    let (replace, dry) = (p.replace, p.dry);
    let mut ris: Vec<u16, MAX_WRITE_RIS> = Vec::new();
    if !dry && replace {
        obj.clear_multi(i, def.id);
    }
    for t in tlv::Reader::new(body) {
        let t = t.map_err(bad)?;
        if t.kind != tlv::Kind::ResourceInstance {
            return Err(Code::BAD_REQUEST);
        }
        let v = decode(cf::LWM2M_TLV, def.kind, t.value)?;
        let e = obj.write(p.ctx, i, def.id, Some(t.id), &v, dry)?;
        p.note(e);
        ris.push(t.id).map_err(bad)?;
    }
    if dry && !obj.multi_fits(i, def.id, &ris, replace) {
        return Err(Code::BAD_REQUEST);
    }
    Ok(())
}
