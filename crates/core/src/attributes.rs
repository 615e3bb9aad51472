//! Write-Attributes (LwM2M 1.0 §5.4.4): `pmin`, `pmax`, `gt`, `lt`, `st` per server and path,
//! parsed from Uri-Query, inherited from object to instance to resource.

use heapless::Vec;
use lwm2m_formats::{text, Path};

use crate::config::MAX_ATTRIBUTES;

pub use lwm2m_objects::{Attr, Attrs};

/// Why a Write-Attributes query was refused (answered 4.00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrError {
    /// Not one of pmin/pmax/gt/lt/st.
    UnknownAttribute,
    /// Not a number of the right kind.
    BadValue,
    /// gt/lt/st are only meaningful on a single resource.
    NotOnResource,
    /// The result would break `lt < gt` or `lt + 2*st < gt` (LwM2M 1.0 §5.1.2).
    Inconsistent,
    /// Nowhere to keep it.
    Full,
}

/// One change requested by a query: `attr` set to `value` (stored form, see [`Attrs::raw`]) or
/// cleared (`pmin` with no value clears it).
fn parse_query(q: &[u8]) -> Result<(Attr, Option<u32>), AttrError> {
    let (name, value) = match q.iter().position(|&b| b == b'=') {
        Some(i) => (q.get(..i).unwrap_or_default(), q.get(i + 1..)),
        None => (q, None),
    };
    let attr = Attr::from_name(name).ok_or(AttrError::UnknownAttribute)?;
    let Some(v) = value.filter(|v| !v.is_empty()) else { return Ok((attr, None)) };
    let raw = if attr.is_float() {
        let f = text::parse_float(v).map_err(|_| AttrError::BadValue)?;
        if attr == Attr::St && f < 0.0 {
            return Err(AttrError::BadValue);
        }
        f.to_bits()
    } else {
        let n = text::parse_int(v).map_err(|_| AttrError::BadValue)?;
        u32::try_from(n).map_err(|_| AttrError::BadValue)?
    };
    Ok((attr, Some(raw)))
}

/// The attributes one server set on one path.
#[derive(Debug, Clone, Copy)]
struct Entry {
    short_id: u16,
    path: Path,
    attrs: Attrs,
}

/// Attributes set by servers.
#[derive(Debug, Default)]
pub struct AttributeStore {
    entries: Vec<Entry, MAX_ATTRIBUTES>,
}

impl AttributeStore {
    pub const fn new() -> AttributeStore {
        AttributeStore { entries: Vec::new() }
    }

    /// Applies a Write-Attributes request: every query is checked before anything changes.
    pub fn write<'q>(
        &mut self,
        short_id: u16,
        path: &Path,
        queries: impl Iterator<Item = &'q [u8]>,
    ) -> Result<(), AttrError> {
        let mut attrs = self.get_exact(short_id, path).unwrap_or_default();
        for q in queries {
            let (attr, value) = parse_query(q)?;
            attrs.set_raw(attr, value);
        }
        if attrs.has_float() && path.resource_id().is_none() {
            return Err(AttrError::NotOnResource);
        }
        if let (Some(gt), Some(lt)) = (attrs.gt(), attrs.lt()) {
            let step = attrs.st().unwrap_or(0.0);
            if lt + 2.0 * step >= gt {
                return Err(AttrError::Inconsistent);
            }
        }
        let pos = self.entries.iter().position(|e| e.short_id == short_id && e.path == *path);
        match (pos, attrs.is_empty()) {
            (Some(i), true) => {
                lwm2m_objects::vecs::swap_remove(&mut self.entries, i);
            }
            (Some(i), false) => {
                if let Some(e) = self.entries.get_mut(i) {
                    e.attrs = attrs;
                }
            }
            (None, true) => {}
            (None, false) => self
                .entries
                .push(Entry { short_id, path: *path, attrs })
                .map_err(|_| AttrError::Full)?,
        }
        Ok(())
    }

    fn get_exact(&self, short_id: u16, path: &Path) -> Option<Attrs> {
        self.entries.iter().find(|e| e.short_id == short_id && e.path == *path).map(|e| e.attrs)
    }

    /// Attributes set exactly on `path` by `short_id` (for Discover).
    pub fn on_path(&self, short_id: u16, path: &Path) -> Option<Attrs> {
        self.get_exact(short_id, path)
    }

    /// Attributes in effect for `path`: its own, then its instance's, then its object's.
    /// gt/lt/st never inherit from above the resource (they only make sense on it).
    pub fn effective(&self, short_id: u16, path: &Path) -> Attrs {
        let mut attrs = Attrs::default();
        let mut level = Some(*path);
        while let Some(p) = level {
            if p.is_empty() {
                break;
            }
            if let Some(a) = self.get_exact(short_id, &p) {
                let a = if p.len() < 3 { a.periods_only() } else { a };
                attrs = attrs.inherit(&a);
            }
            level = p.parent();
        }
        attrs
    }

    /// Forgets everything a server set (de-registration, re-bootstrap).
    pub fn clear_server(&mut self, short_id: u16) {
        lwm2m_objects::vecs::retain(&mut self.entries, |e| e.short_id != short_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &'static str) -> impl Iterator<Item = &'static [u8]> + Clone {
        s.split('&').filter(|s| !s.is_empty()).map(str::as_bytes)
    }

    #[test]
    fn set_inherit_and_clear() {
        let mut store = AttributeStore::new();
        let obj = Path::object(3);
        let res = Path::resource(3, 0, 9);
        store.write(1, &obj, q("pmin=10&pmax=60")).unwrap();
        store.write(1, &res, q("pmin=5&gt=50")).unwrap();
        let eff = store.effective(1, &res);
        assert_eq!(eff.pmin(), Some(5));
        assert_eq!(eff.pmax(), Some(60));
        assert_eq!(eff.gt(), Some(50.0));
        // Another server sees nothing.
        assert_eq!(store.effective(2, &res), Attrs::default());
        // Clearing with an empty value.
        store.write(1, &res, q("pmin&gt")).unwrap();
        assert_eq!(store.effective(1, &res).pmin(), Some(10));
        assert_eq!(store.on_path(1, &res), None);
    }

    #[test]
    fn refused_queries_change_nothing() {
        let mut store = AttributeStore::new();
        let res = Path::resource(3, 0, 9);
        store.write(1, &res, q("pmin=1")).unwrap();
        assert_eq!(store.write(1, &res, q("pmin=7&foo=1")), Err(AttrError::UnknownAttribute));
        assert_eq!(store.write(1, &res, q("pmin=-1")), Err(AttrError::BadValue));
        assert_eq!(store.write(1, &res, q("pmin=x")), Err(AttrError::BadValue));
        assert_eq!(store.write(1, &res, q("gt=10&lt=20")), Err(AttrError::Inconsistent));
        assert_eq!(store.write(1, &res, q("gt=30&lt=20&st=6")), Err(AttrError::Inconsistent));
        assert_eq!(store.write(1, &res, q("st=-2")), Err(AttrError::BadValue));
        assert_eq!(store.write(1, &Path::instance(3, 0), q("gt=1")), Err(AttrError::NotOnResource));
        assert_eq!(store.effective(1, &res).pmin(), Some(1));
        assert_eq!(store.effective(1, &res).gt(), None);
    }

    #[test]
    fn numeric_attributes_do_not_inherit_from_instance() {
        let mut store = AttributeStore::new();
        // Only via a resource write can gt exist; instance-level entries never carry it.
        store.write(1, &Path::instance(3, 0), q("pmax=30")).unwrap();
        assert_eq!(store.effective(1, &Path::resource(3, 0, 9)).pmax(), Some(30));
    }

    #[test]
    fn full_store_is_an_error_not_a_panic() {
        let mut store = AttributeStore::new();
        for r in 0..MAX_ATTRIBUTES as u16 {
            store.write(1, &Path::resource(3, 0, r), q("pmin=1")).unwrap();
        }
        assert_eq!(store.write(1, &Path::resource(3, 0, 99), q("pmin=1")), Err(AttrError::Full));
    }
}
