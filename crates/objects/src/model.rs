//! The object model: resource tables, values, callers and effects, and the [`Object`] trait
//! every object implements. Objects are tables of [`ResourceDef`]s plus a handful of handlers
//! that return CoAP codes; the [`crate::Registry`] does the content formats and access rules.

use core::fmt;
use lwm2m_coap::{Code, Instant};
use lwm2m_formats::{Float, Path};

/// Data type of a resource (LwM2M 1.0 Appendix C), or `Exec` for executable resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Signed integer.
    Int,
    /// Integer that must not be negative (encoded as Integer in 1.0).
    Uint,
    /// Boolean.
    Bool,
    /// UTF-8 string.
    Str,
    /// Bytes.
    Opaque,
    /// Unix time in seconds (encoded as Integer).
    Time,
    /// Object link `object:instance`.
    ObjLnk,
    /// Float.
    Float,
    /// No value: the resource can only be executed.
    Exec,
}

/// Operations a management server may perform on a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ops {
    /// Read only.
    R,
    /// Write only.
    W,
    /// Read and write.
    RW,
    /// Execute.
    E,
}

impl Ops {
    /// Read (and Observe, Discover) allowed.
    pub const fn readable(self) -> bool {
        matches!(self, Ops::R | Ops::RW)
    }
    /// Write allowed.
    pub const fn writable(self) -> bool {
        matches!(self, Ops::W | Ops::RW)
    }
}

/// One row of an object's resource table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceDef {
    /// Resource id.
    pub id: u16,
    /// Data type.
    pub kind: Kind,
    /// Allowed operations.
    pub ops: Ops,
    /// Multiple-instance resource.
    pub multiple: bool,
}

impl ResourceDef {
    /// Single-instance resource.
    pub const fn single(id: u16, kind: Kind, ops: Ops) -> Self {
        ResourceDef { id, kind, ops, multiple: false }
    }
    /// Multiple-instance resource.
    pub const fn multi(id: u16, kind: Kind, ops: Ops) -> Self {
        ResourceDef { id, kind, ops, multiple: true }
    }
    /// Executable resource.
    pub const fn exec(id: u16) -> Self {
        ResourceDef { id, kind: Kind::Exec, ops: Ops::E, multiple: false }
    }
}

/// Looks a resource up in a table.
pub fn find_def(defs: &[ResourceDef], id: u16) -> Option<&ResourceDef> {
    defs.iter().find(|d| d.id == id)
}

/// A resource value, borrowed from the object (reads) or from the request payload (writes).
#[derive(Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Integer, unsigned integer and time.
    Int(i64),
    /// Boolean.
    Bool(bool),
    /// String.
    Str(&'a str),
    /// Opaque bytes.
    Opaque(&'a [u8]),
    /// Object link.
    ObjLnk(u16, u16),
    /// Float.
    Float(Float),
}

// Hand-written so that opaque values (keys) are never printed.
impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "Int({v})"),
            Value::Bool(v) => write!(f, "Bool({v})"),
            Value::Str(v) => write!(f, "Str({v:?})"),
            Value::Opaque(v) => write!(f, "Opaque({} bytes)", v.len()),
            Value::ObjLnk(o, i) => write!(f, "ObjLnk({o}:{i})"),
            Value::Float(v) => write!(f, "Float({v})"),
        }
    }
}

/// `v as f32` (nearest, ties to even) without the soft-float `__aeabi_l2f`: in the `i32` range
/// the FPU converts; beyond it, the top 31 bits with a sticky bit for the rest convert (one
/// rounding, at the same place) and a power of two scales back exactly.
fn int_to_float(v: i64) -> Float {
    if let Ok(x) = i32::try_from(v) {
        return x as Float;
    }
    let m = v.unsigned_abs();
    let k = 33 - m.leading_zeros();
    // `m >> k` with the sticky bit, from `m` moved up to bit 63 (then `k` = 33 - its shift):
    // fixed 64-bit shifts, where variable ones would link __aeabi_llsr/__aeabi_llsl.
    let mut n = m;
    while n >> 63 == 0 {
        n <<= 1;
    }
    let s = (n >> 33) as u32 | u32::from(n & ((1 << 33) - 1) != 0);
    let f = s as Float * Float::from_bits((127 + k) << 23);
    if v < 0 {
        -f
    } else {
        f
    }
}

impl<'a> Value<'a> {
    /// Numeric view (for gt/lt/st): integers, floats and booleans. Integers beyond 2^24 are
    /// rounded to the nearest `f32`.
    pub fn as_float(&self) -> Option<Float> {
        match *self {
            Value::Int(v) => Some(int_to_float(v)),
            Value::Float(v) => Some(v),
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
    /// The integer if it lies in `lo..=hi`, else 4.00.
    pub fn int_in(&self, lo: i64, hi: i64) -> Result<i64, Code> {
        match *self {
            Value::Int(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(Code::BAD_REQUEST),
        }
    }
    /// A `u32` (seconds, periods), else 4.00.
    pub fn u32(&self) -> Result<u32, Code> {
        self.int_in(0, u32::MAX.into()).map(|v| v as u32)
    }
    /// A short server id 0..=65534, else 4.00.
    pub fn u16(&self) -> Result<u16, Code> {
        self.int_in(0, 65534).map(|v| v as u16)
    }
    /// The boolean, else 4.00.
    pub fn bool(&self) -> Result<bool, Code> {
        match *self {
            Value::Bool(b) => Ok(b),
            _ => Err(Code::BAD_REQUEST),
        }
    }
    /// The string, else 4.00.
    pub fn str(&self) -> Result<&'a str, Code> {
        match *self {
            Value::Str(s) => Ok(s),
            _ => Err(Code::BAD_REQUEST),
        }
    }
    /// The bytes, else 4.00.
    pub fn opaque(&self) -> Result<&'a [u8], Code> {
        match *self {
            Value::Opaque(b) => Ok(b),
            _ => Err(Code::BAD_REQUEST),
        }
    }
}

/// Who performs an operation: drives the access rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The LwM2M Bootstrap-Server (Bootstrap interface).
    Bootstrap,
    /// A management server (Device Management interface), by Short Server ID.
    Server {
        /// Short Server ID of the server.
        short_id: u16,
    },
}

/// Context of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    /// Who asks.
    pub caller: Caller,
    /// Current time (uptime in ms); Device Current Time is derived from it.
    pub now: Instant,
}

/// Something the engine has to act on after an operation (see [`crate::Registry::take_effect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// /3/0/4 executed.
    Reboot,
    /// /3/0/5 executed.
    FactoryReset,
    /// /1/x/8 executed: send an Update to that server.
    RegistrationUpdateTrigger {
        /// Server to update.
        short_id: u16,
    },
    /// /1/x/9 executed: start a client-initiated bootstrap.
    BootstrapRequestTrigger {
        /// Server whose instance was executed.
        short_id: u16,
    },
    /// /5/0/1 written: start (or, when the URI is empty, cancel) the download.
    FirmwareUriWritten,
    /// /5/0/2 executed in state Downloaded: apply the image.
    FirmwareUpdate,
    /// Something at or below this path changed (a write, create, delete or a setter). Writes
    /// report the request path, setters the resource path. Writes below /1 may have changed the
    /// Lifetime or Binding: the engine should send an Update when the path overlaps /1/x/1 or
    /// /1/x/7.
    Changed(Path),
    /// /1/x/4 executed: deregister and stay away for the Disable Timeout.
    Disable {
        /// Server to disable.
        short_id: u16,
    },
}

/// An LwM2M object as seen by the registry.
///
/// Resource values are pulled one at a time with [`Object::value`], so rendering is
/// deterministic and can be repeated (Block2 renders the payload once per block).
pub trait Object {
    /// Object id.
    fn id(&self) -> u16;
    /// Resource table, in ascending id order.
    fn defs(&self) -> &'static [ResourceDef];
    /// How many instances fit.
    fn max_instances(&self) -> usize;
    /// Id of the `idx`-th instance in ascending id order.
    fn instance_at(&self, idx: usize) -> Option<u16>;
    /// The `idx`-th value of resource `res` of instance `inst`, with its resource instance id
    /// (0 for single resources). `None` at `idx` 0 of a single resource: the resource is absent;
    /// `None` at `idx` 0 of a multiple resource: it has no instances.
    fn value(&self, ctx: &Ctx, inst: u16, res: u16, idx: usize) -> Option<(u16, Value<'_>)>;
    /// Validates `v` for `/inst/res[/ri]` and, unless `dry`, stores it. With `dry` the instance
    /// may not exist yet (it is created before the real pass) and nothing may change; a value
    /// that passes the dry run must be stored without error. May return an effect.
    fn write(
        &mut self,
        ctx: &Ctx,
        inst: u16,
        res: u16,
        ri: Option<u16>,
        v: &Value<'_>,
        dry: bool,
    ) -> Result<Option<Effect>, Code>;
    /// Removes every instance of multiple resource `res` (before a replace).
    fn clear_multi(&mut self, _inst: u16, _res: u16) {}
    /// Whether resource instances `ris` fit into multiple resource `res` (after clearing it
    /// when `replace`).
    fn multi_fits(&self, _inst: u16, _res: u16, _ris: &[u16], _replace: bool) -> bool {
        true
    }
    /// Executes resource `res`.
    fn execute(
        &mut self,
        ctx: &Ctx,
        inst: u16,
        res: u16,
        args: &[u8],
    ) -> Result<Option<Effect>, Code>;
    /// Creates instance `inst` with default values.
    fn create(&mut self, _inst: u16) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    /// Deletes instance `inst`.
    fn delete(&mut self, _inst: u16) -> Result<(), Code> {
        Err(Code::METHOD_NOT_ALLOWED)
    }
    /// Resources changed by application setters since the last call, as a bit mask of resource
    /// ids 0..=31 of instance 0.
    fn take_dirty(&mut self) -> u32 {
        0
    }
}

// Written once for every object (as trait default methods, each object had its own copy).
impl dyn Object + '_ {
    /// Number of instances.
    pub fn instance_count(&self) -> usize {
        let mut n = 0;
        while self.instance_at(n).is_some() {
            n += 1;
        }
        n
    }

    /// Whether no instance fits any more (the last slot is taken; no counting loop).
    pub fn is_full(&self) -> bool {
        match self.max_instances().checked_sub(1) {
            Some(last) => self.instance_at(last).is_some(),
            None => true,
        }
    }

    /// Whether instance `inst` exists.
    pub fn has_instance(&self, inst: u16) -> bool {
        let mut n = 0;
        while let Some(i) = self.instance_at(n) {
            if i == inst {
                return true;
            }
            n += 1;
        }
        false
    }
}

/// Why an application setter refused a value; [`SetError::errno`] gives the C return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetError {
    /// Value out of range (-EINVAL).
    Invalid,
    /// The resource (instance) does not exist (-ENODEV).
    NoDevice,
    /// The value does not fit (-ENOMEM).
    NoMemory,
}

impl SetError {
    /// The negative errno of the C API: -22, -19 or -12.
    pub const fn errno(self) -> i32 {
        match self {
            SetError::Invalid => -22,
            SetError::NoDevice => -19,
            SetError::NoMemory => -12,
        }
    }
}

/// Stores `v` into `dst` if it fits.
pub(crate) fn set_str<const N: usize>(
    dst: &mut heapless::String<N>,
    v: &str,
) -> Result<(), SetError> {
    if v.len() > N {
        return Err(SetError::NoMemory);
    }
    dst.clear();
    dst.push_str(v).map_err(|_| SetError::NoMemory)
}

/// Stores `v` into `dst` if it fits.
pub(crate) fn set_bytes<const N: usize>(
    dst: &mut heapless::Vec<u8, N>,
    v: &[u8],
) -> Result<(), SetError> {
    dst.clear();
    dst.extend_from_slice(v).map_err(|_| SetError::NoMemory)
}

/// A string write: 4.00 when it does not fit in `N` bytes.
pub(crate) fn str_fits<'a, const N: usize>(v: &Value<'a>) -> Result<&'a str, Code> {
    let s = v.str()?;
    if s.len() > N {
        return Err(Code::BAD_REQUEST);
    }
    Ok(s)
}

/// An opaque write: 4.00 when it does not fit in `N` bytes.
pub(crate) fn bytes_fit<'a, const N: usize>(v: &Value<'a>) -> Result<&'a [u8], Code> {
    let b = v.opaque()?;
    if b.len() > N {
        return Err(Code::BAD_REQUEST);
    }
    Ok(b)
}

/// Index of the item with `id` in an id-sorted vector.
pub(crate) fn pos<T, const N: usize>(
    v: &heapless::Vec<T, N>,
    id: u16,
    key: impl Fn(&T) -> u16,
) -> Option<usize> {
    v.iter().position(|x| key(x) == id)
}

/// Puts `item` into an id-sorted vector: an item with the same id is replaced when `replace`,
/// else refused; 4.00 when refused or full. (One body for Create and for the setters.)
pub(crate) fn put_sorted<T, const N: usize>(
    v: &mut heapless::Vec<T, N>,
    item: T,
    key: impl Fn(&T) -> u16,
    replace: bool,
) -> Result<(), Code> {
    let id = key(&item);
    if let Some(slot) = v.iter_mut().find(|x| key(x) == id) {
        if !replace {
            return Err(Code::BAD_REQUEST);
        }
        *slot = item;
        return Ok(());
    }
    let at = v.iter().position(|x| key(x) > id).unwrap_or(v.len());
    crate::vecs::insert(v, at, item).map_err(|_| Code::BAD_REQUEST)
}

#[cfg(test)]
mod float_tests {
    use super::Value;

    #[test]
    fn numeric_view_is_f32() {
        assert_eq!(Value::Int(-42).as_float(), Some(-42.0));
        assert_eq!(Value::Int(1 << 24).as_float(), Some(16_777_216.0));
        // Beyond 2^24: the nearest f32.
        assert_eq!(Value::Int((1 << 24) + 1).as_float(), Some(16_777_216.0));
        assert_eq!(Value::Int(i64::MIN).as_float(), Some(-9.223_372e18));
        assert_eq!(Value::Float(2.5).as_float(), Some(2.5));
        assert_eq!(Value::Bool(true).as_float(), Some(1.0));
        assert_eq!(Value::Str("1").as_float(), None);
    }

    #[test]
    fn int_to_float_is_the_cast() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x as i64) >> (x % 63);
            assert_eq!(super::int_to_float(v).to_bits(), (v as f32).to_bits(), "{v}");
        }
        for v in [
            i64::MIN,
            i64::MAX,
            1 << 31,
            -(1 << 31) - 1,
            (1 << 40) + (1 << 16),
            (1 << 40) + (1 << 16) + 1,
        ] {
            assert_eq!(super::int_to_float(v).to_bits(), (v as f32).to_bits(), "{v}");
        }
    }
}
