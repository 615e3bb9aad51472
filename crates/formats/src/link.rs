//! CoRE link format (RFC 6690, content format 40).
//!
//! [`Writer`] emits Register payloads (`</>;rt="oma.lwm2m";ct=11543,</1/0>,</3/0>`) and Discover
//! responses (`</3/0>,</3/0/1>,</3/0/6>;dim=2,</3/0/9>;pmin=10;gt=50`).
//!
//! [`Parser`] reads link format from peers. It follows the RFC 6690 grammar strictly with one
//! tolerance: optional whitespace (space, tab, CR, LF) after a separating comma, because
//! hand-written server payloads often contain it. It never panics.

use crate::path::Path;
use crate::sink::{Overflow, Sink};
use crate::{text, Float};
use core::fmt;

/// Writes a link-format document link by link; commas are inserted automatically.
#[derive(Debug)]
pub struct Writer<'s, S: Sink> {
    s: &'s mut S,
    first: bool,
}

impl<'s, S: Sink> Writer<'s, S> {
    /// A writer whose first link is not preceded by a comma.
    pub fn new(s: &'s mut S) -> Self {
        Writer { s, first: true }
    }
    /// A writer appending to links already in `s` (its first link gets a comma).
    pub fn continuing(s: &'s mut S) -> Self {
        Writer { s, first: false }
    }
    // Each method forwards to a `&mut dyn Sink` body: one copy of the code for every sink type.
    fn dyn_writer(&mut self) -> DynWriter<'_> {
        DynWriter { s: self.s, first: &mut self.first }
    }
    /// `</3/0>` (`</>` for the root).
    pub fn link(&mut self, p: &Path) -> Result<(), Overflow> {
        self.dyn_writer().link(p)
    }
    /// `<target>`, target written as given.
    pub fn link_str(&mut self, target: &str) -> Result<(), Overflow> {
        self.dyn_writer().link_str(target)
    }
    /// `;name` (a parameter without value).
    pub fn attr(&mut self, name: &str) -> Result<(), Overflow> {
        self.dyn_writer().attr(name)
    }
    /// `;name=10`
    pub fn attr_uint(&mut self, name: &str, v: u64) -> Result<(), Overflow> {
        self.dyn_writer().attr_uint(name, v)
    }
    /// `;name=-10`
    pub fn attr_int(&mut self, name: &str, v: i64) -> Result<(), Overflow> {
        self.dyn_writer().attr_int(name, v)
    }
    /// `;name=1.5` (plain-text float format).
    pub fn attr_float(&mut self, name: &str, v: Float) -> Result<(), Overflow> {
        self.dyn_writer().attr_float(name, v)
    }
    /// `;name="value"`; `"` and `\` in the value are backslash-escaped.
    pub fn attr_str(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        self.dyn_writer().attr_str(name, v)
    }
    /// `;name=value`, value written as given (a token such as `1.0`).
    pub fn attr_raw(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        self.dyn_writer().attr_raw(name, v)
    }
}

/// The body of [`Writer`], over `&mut dyn Sink`.
struct DynWriter<'a> {
    s: &'a mut dyn Sink,
    first: &'a mut bool,
}

impl DynWriter<'_> {
    fn open(&mut self) -> Result<(), Overflow> {
        if !*self.first {
            self.s.put(b",")?;
        }
        *self.first = false;
        self.s.put(b"<")
    }
    fn link(&mut self, p: &Path) -> Result<(), Overflow> {
        self.open()?;
        if p.is_root() {
            self.s.put(b"/")?;
        }
        for &id in p.ids() {
            self.s.put(b"/")?;
            text::put_u64_dyn(self.s, id.into())?;
        }
        self.s.put(b">")
    }
    fn link_str(&mut self, target: &str) -> Result<(), Overflow> {
        self.open()?;
        self.s.put(target.as_bytes())?;
        self.s.put(b">")
    }
    fn attr(&mut self, name: &str) -> Result<(), Overflow> {
        self.s.put(b";")?;
        self.s.put(name.as_bytes())
    }
    fn attr_eq(&mut self, name: &str) -> Result<(), Overflow> {
        self.attr(name)?;
        self.s.put(b"=")
    }
    fn attr_uint(&mut self, name: &str, v: u64) -> Result<(), Overflow> {
        self.attr_eq(name)?;
        text::put_u64_dyn(self.s, v)
    }
    fn attr_int(&mut self, name: &str, v: i64) -> Result<(), Overflow> {
        self.attr_eq(name)?;
        text::write_int_dyn(self.s, v)
    }
    fn attr_float(&mut self, name: &str, v: Float) -> Result<(), Overflow> {
        self.attr_eq(name)?;
        text::write_float_dyn(self.s, v)
    }
    fn attr_str(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        self.attr_eq(name)?;
        self.s.put(b"\"")?;
        for part in v.as_bytes().split_inclusive(|&b| b == b'"' || b == b'\\') {
            match part.split_last() {
                Some((&last, head)) if last == b'"' || last == b'\\' => {
                    self.s.put(head)?;
                    self.s.put(&[b'\\', last])?;
                }
                _ => self.s.put(part)?,
            }
        }
        self.s.put(b"\"")
    }
    fn attr_raw(&mut self, name: &str, v: &str) -> Result<(), Overflow> {
        self.attr_eq(name)?;
        self.s.put(v.as_bytes())
    }
}

/// What is wrong with a link-format document; `at` is the byte offset of the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkError {
    /// Byte offset in the input.
    pub at: usize,
    /// What was wrong there.
    pub kind: LinkErrorKind,
}

/// The kinds of [`LinkError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkErrorKind {
    /// A link does not start with `<` (also: empty link after a comma).
    ExpectedLink,
    /// The target has no closing `>` or contains a character not allowed in a URI.
    BadTarget,
    /// A parameter name or unquoted value is empty or has a forbidden character.
    BadParam,
    /// A quoted value has no closing quote.
    UnterminatedQuote,
    /// After a link or parameter, something other than `;`, `,` or the end.
    ExpectedSeparator,
    /// A quoted value is not UTF-8.
    BadUtf8,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            LinkErrorKind::ExpectedLink => "expected '<'",
            LinkErrorKind::BadTarget => "bad link target",
            LinkErrorKind::BadParam => "bad link parameter",
            LinkErrorKind::UnterminatedQuote => "unterminated quoted string",
            LinkErrorKind::ExpectedSeparator => "expected ';' or ','",
            LinkErrorKind::BadUtf8 => "link parameter is not UTF-8",
        };
        write!(f, "{what} at byte {}", self.at)
    }
}

/// One link: its target and its (already validated) parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    /// The URI reference between `<` and `>`.
    pub target: &'a str,
    /// Raw parameter text, `;a=1;b="x"` (empty when there are none).
    pub params: &'a str,
}

impl<'a> Link<'a> {
    /// The parameters as `(name, value)`; quotes are removed from quoted values but backslash
    /// escapes inside them are left as they are (zero-copy).
    pub fn attrs(&self) -> AttrIter<'a> {
        AttrIter { rest: self.params }
    }
    /// The first parameter called `name`: `None` if absent, `Some(None)` if it has no value.
    pub fn attr(&self, name: &str) -> Option<Option<&'a str>> {
        self.attrs().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Iterator over a link's parameters, see [`Link::attrs`].
#[derive(Debug, Clone)]
pub struct AttrIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        // The text was validated by the parser; any surprise just ends the iteration.
        let s = self.rest.strip_prefix(';')?;
        let b = s.as_bytes();
        let name_end = b.iter().position(|&c| c == b'=' || c == b';').unwrap_or(b.len());
        let name = s.get(..name_end)?;
        if b.get(name_end) != Some(&b'=') {
            self.rest = s.get(name_end..)?;
            return Some((name, None));
        }
        let vstart = name_end + 1;
        let (value, end) = if b.get(vstart) == Some(&b'"') {
            let close = quoted_end(b, vstart)?;
            (s.get(vstart + 1..close)?, close + 1)
        } else {
            let end =
                b.iter().skip(vstart).position(|&c| c == b';').map_or(b.len(), |p| p + vstart);
            (s.get(vstart..end)?, end)
        };
        self.rest = s.get(end..)?;
        Some((name, Some(value)))
    }
}

/// Index of the closing quote of the quoted string whose opening quote is at `open`.
fn quoted_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// A set of ASCII bytes as a 128-bit mask: one table lookup instead of a search of a list.
struct ByteSet([u32; 4]);

impl ByteSet {
    /// The alphanumerics plus `extra`, or every graphic character but `extra` when `invert`.
    const fn new(extra: &[u8], invert: bool) -> ByteSet {
        let mut m = [0u32; 4];
        let mut c = 0u8;
        while c < 128 {
            let listed = {
                let mut k = 0;
                let mut hit = false;
                while k < extra.len() {
                    hit |= extra[k] == c;
                    k += 1;
                }
                hit
            };
            let member = if invert {
                c.is_ascii_graphic() && !listed
            } else {
                c.is_ascii_alphanumeric() || listed
            };
            if member {
                m[(c >> 5) as usize] |= 1 << (c & 31);
            }
            c += 1;
        }
        ByteSet(m)
    }

    fn contains(&self, c: u8) -> bool {
        self.0.get(usize::from(c >> 5)).is_some_and(|w| (w >> (c & 31)) & 1 != 0)
    }
}

/// Printable ASCII minus the RFC 3986 exclusions.
const TARGET_CHARS: ByteSet = ByteSet::new(b"<>\"{}|\\^`", true);
/// RFC 5987 `parmname` characters, plus `*` for RFC 8187 extended names (`title*`).
const NAME_CHARS: ByteSet = ByteSet::new(b"!#$&+-.^_`|~*", false);
/// RFC 6690 `ptokenchar`.
const PTOKEN_CHARS: ByteSet = ByteSet::new(b"!#$%&'()*+-./:<=>?@[]^_`{|}~", false);

/// Characters of an unquoted URI reference (printable ASCII minus the RFC 3986 exclusions).
fn is_target_char(c: u8) -> bool {
    TARGET_CHARS.contains(c)
}
/// RFC 5987 `parmname` characters, plus `*` for RFC 8187 extended names (`title*`).
fn is_name_char(c: u8) -> bool {
    NAME_CHARS.contains(c)
}
/// RFC 6690 `ptokenchar`.
fn is_ptoken_char(c: u8) -> bool {
    PTOKEN_CHARS.contains(c)
}

/// Iterates over the links of a link-format document. Fused after the first error.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Parser<'a> {
    /// Parses `buf`; an empty document has no links.
    pub fn new(buf: &'a [u8]) -> Self {
        Parser { buf, pos: 0, done: buf.is_empty() }
    }

    fn err(&self, at: usize, kind: LinkErrorKind) -> LinkError {
        LinkError { at, kind }
    }

    fn parse_link(&mut self) -> Result<Link<'a>, LinkError> {
        let b = self.buf;
        let mut i = self.pos;
        if b.get(i) != Some(&b'<') {
            return Err(self.err(i, LinkErrorKind::ExpectedLink));
        }
        let tstart = i + 1;
        i = tstart;
        while let Some(&c) = b.get(i) {
            if c == b'>' {
                break;
            }
            if !is_target_char(c) {
                return Err(self.err(i, LinkErrorKind::BadTarget));
            }
            i += 1;
        }
        if b.get(i) != Some(&b'>') {
            return Err(self.err(i, LinkErrorKind::BadTarget));
        }
        let target = as_str(b, tstart, i).ok_or(self.err(tstart, LinkErrorKind::BadTarget))?;
        i += 1;
        let pstart = i;
        while b.get(i) == Some(&b';') {
            i += 1;
            let nstart = i;
            while b.get(i).is_some_and(|&c| is_name_char(c)) {
                i += 1;
            }
            if i == nstart {
                return Err(self.err(i, LinkErrorKind::BadParam));
            }
            if b.get(i) != Some(&b'=') {
                continue;
            }
            i += 1;
            if b.get(i) == Some(&b'"') {
                let close =
                    quoted_end(b, i).ok_or(self.err(i, LinkErrorKind::UnterminatedQuote))?;
                if b.get(i + 1..close).is_some_and(|q| q.iter().any(|&c| c < 0x20 && c != b'\t')) {
                    return Err(self.err(i, LinkErrorKind::BadParam));
                }
                i = close + 1;
            } else {
                let vstart = i;
                while b.get(i).is_some_and(|&c| is_ptoken_char(c)) {
                    i += 1;
                }
                if i == vstart {
                    return Err(self.err(i, LinkErrorKind::BadParam));
                }
            }
        }
        let params = as_str(b, pstart, i).ok_or(self.err(pstart, LinkErrorKind::BadUtf8))?;
        match b.get(i) {
            None => self.done = true,
            Some(b',') => {
                i += 1;
                while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
                    i += 1;
                }
            }
            Some(_) => return Err(self.err(i, LinkErrorKind::ExpectedSeparator)),
        }
        self.pos = i;
        Ok(Link { target, params })
    }
}

fn as_str(b: &[u8], start: usize, end: usize) -> Option<&str> {
    crate::str_from_utf8(b.get(start..end)?)
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Link<'a>, LinkError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.parse_link();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}

impl core::iter::FusedIterator for Parser<'_> {}
