//! LwM2M 1.0 paths: `/`, `/o`, `/o/i`, `/o/i/r`, `/o/i/r/ri`.

use core::fmt;

/// Why a path could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// A segment is empty (`/3//1`, trailing `/`).
    EmptySegment,
    /// A segment contains something other than decimal digits.
    NotANumber,
    /// A segment is above 65534 (65535 is reserved by LwM2M as "no id").
    OutOfRange,
    /// More than four segments.
    TooLong,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::EmptySegment => "empty path segment",
            PathError::NotANumber => "path segment is not a decimal number",
            PathError::OutOfRange => "path id out of range (0..=65534)",
            PathError::TooLong => "path has more than 4 segments",
        })
    }
}

/// An LwM2M 1.0 path of 0 to 4 ids.
///
/// Constructors are `Path::object(o)`, `Path::instance(o, i)`, ...; the matching getters are
/// `object_id()`, `instance_id()`, ... (Rust cannot overload one name for both).
///
/// Unused ids are kept at zero so that the derived ordering is the natural one
/// (`/3` < `/3/0` < `/3/0/1` < `/3/1`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Path {
    ids: [u16; 4],
    len: u8,
}

impl Path {
    /// The root path `/`.
    pub const ROOT: Path = Path { ids: [0; 4], len: 0 };

    /// `/o`
    pub const fn object(o: u16) -> Path {
        Path { ids: [o, 0, 0, 0], len: 1 }
    }
    /// `/o/i`
    pub const fn instance(o: u16, i: u16) -> Path {
        Path { ids: [o, i, 0, 0], len: 2 }
    }
    /// `/o/i/r`
    pub const fn resource(o: u16, i: u16, r: u16) -> Path {
        Path { ids: [o, i, r, 0], len: 3 }
    }
    /// `/o/i/r/ri`
    pub const fn resource_instance(o: u16, i: u16, r: u16, ri: u16) -> Path {
        Path { ids: [o, i, r, ri], len: 4 }
    }

    /// Builds a path from up to 4 ids (65535 is rejected).
    pub fn from_ids(ids: &[u16]) -> Result<Path, PathError> {
        if ids.len() > 4 {
            return Err(PathError::TooLong);
        }
        let mut p = Path::ROOT;
        for &id in ids {
            p = p.child(id)?;
        }
        Ok(p)
    }

    /// This path with one more id appended.
    pub fn child(&self, id: u16) -> Result<Path, PathError> {
        if id == u16::MAX {
            return Err(PathError::OutOfRange);
        }
        let mut p = *self;
        let slot = p.ids.get_mut(p.len as usize).ok_or(PathError::TooLong)?;
        *slot = id;
        p.len += 1;
        Ok(p)
    }

    /// Builds a path from CoAP Uri-Path option values. No segment, or a single empty segment,
    /// is the root.
    pub fn from_uri_path<'a>(segments: impl Iterator<Item = &'a [u8]>) -> Result<Path, PathError> {
        let mut segments = segments;
        Path::from_segments(&mut segments)
    }

    /// One body for every kind of segment iterator (Uri-Path options, `/`-separated text).
    fn from_segments(segments: &mut dyn Iterator<Item = &[u8]>) -> Result<Path, PathError> {
        let mut p = Path::ROOT;
        let mut count = 0usize;
        let mut saw_empty = false;
        for seg in segments {
            count += 1;
            if seg.is_empty() {
                saw_empty = true;
                continue;
            }
            p = p.child(parse_id(seg)?)?;
        }
        if saw_empty && !(count == 1 && p.len == 0) {
            return Err(PathError::EmptySegment);
        }
        Ok(p)
    }

    /// Parses `"/3/0/1"`. `"/"` and `""` are the root; the leading `/` is optional; a trailing
    /// `/` or an empty segment is an error.
    #[allow(clippy::should_implement_trait)] // also implemented; inherent so no import is needed
    pub fn from_str(s: &str) -> Result<Path, PathError> {
        let s = s.strip_prefix('/').unwrap_or(s);
        if s.is_empty() {
            return Ok(Path::ROOT);
        }
        Path::from_uri_path(s.as_bytes().split(|&c| c == b'/')).and_then(|p| {
            if p.len == 0 {
                Err(PathError::EmptySegment)
            } else {
                Ok(p)
            }
        })
    }

    /// Number of ids (0 for the root).
    pub const fn len(&self) -> usize {
        self.len as usize
    }
    /// True for the root path.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// True for the root path (same as [`Path::is_empty`]).
    pub const fn is_root(&self) -> bool {
        self.len == 0
    }
    fn get(&self, n: u8) -> Option<u16> {
        if n < self.len {
            Some(self.ids[n as usize])
        } else {
            None
        }
    }
    /// Object id, if any.
    pub fn object_id(&self) -> Option<u16> {
        self.get(0)
    }
    /// Object instance id, if any.
    pub fn instance_id(&self) -> Option<u16> {
        self.get(1)
    }
    /// Resource id, if any.
    pub fn resource_id(&self) -> Option<u16> {
        self.get(2)
    }
    /// Resource instance id, if any.
    pub fn resource_instance_id(&self) -> Option<u16> {
        self.get(3)
    }
    /// The ids, outermost first.
    pub fn ids(&self) -> &[u16] {
        &self.ids[..self.len as usize]
    }
    /// True if `prefix` is this path or one of its ancestors (the root prefixes everything).
    pub fn starts_with(&self, prefix: &Path) -> bool {
        // Id by id (`==` on slices links `memcmp`); `zip` stops at the end of `prefix`.
        prefix.len <= self.len && self.ids().iter().zip(prefix.ids()).all(|(a, b)| a == b)
    }
    /// The path with the last id removed; `None` for the root.
    pub fn parent(&self) -> Option<Path> {
        if self.len == 0 {
            return None;
        }
        let mut p = *self;
        p.len -= 1;
        p.ids[p.len as usize] = 0;
        Some(p)
    }
}

/// Decimal, 0..=65534. Leading zeros are accepted (`"007"` is 7); signs are not.
fn parse_id(seg: &[u8]) -> Result<u16, PathError> {
    if seg.is_empty() {
        return Err(PathError::EmptySegment);
    }
    let mut v: u32 = 0;
    for &b in seg {
        if !b.is_ascii_digit() {
            return Err(PathError::NotANumber);
        }
        v = v * 10 + u32::from(b - b'0');
        if v >= u32::from(u16::MAX) {
            return Err(PathError::OutOfRange);
        }
    }
    Ok(v as u16)
}

impl core::str::FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Path, PathError> {
        Path::from_str(s)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("/");
        }
        for id in self.ids() {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}
