//! Package URIs: `http://host[:port][/path][?query]` and `https://...`.
//!
//! Deliberately small: no user info (`user@host` is refused), no percent-decoding of the host,
//! no zone ids in IPv6 literals. Every byte must be visible ASCII (0x21..=0x7e), so nothing the
//! parser accepts can inject a header line into a request. A `#fragment` is dropped.

use lwm2m_formats::str_from_utf8;

/// Longest URI accepted (bytes). The LwM2M Package URI resource holds 128; redirects may be
/// longer, hence the margin.
pub const MAX_URI_LEN: usize = 255;
/// Longest host name accepted (DNS limit).
pub const MAX_HOST_LEN: usize = 253;

/// The transport scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`, default port 80.
    Http,
    /// `https://`, default port 443.
    Https,
}

impl Scheme {
    /// 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
    /// True for HTTPS.
    pub const fn is_tls(self) -> bool {
        matches!(self, Scheme::Https)
    }
    /// `"http"` or `"https"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why a URI was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriError {
    /// The empty string.
    Empty,
    /// Longer than [`MAX_URI_LEN`].
    TooLong,
    /// A byte outside visible ASCII (space, control, non-ASCII), or no `scheme://`.
    Malformed,
    /// A well-formed scheme other than `http`/`https` (LwM2M result 9, unsupported protocol).
    UnsupportedScheme,
    /// `user@host` forms are not supported.
    UserInfo,
    /// Empty or invalid host, or a broken IPv6 literal.
    BadHost,
    /// Port not a number in 1..=65535.
    BadPort,
}

/// A parsed URI borrowing from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// Scheme.
    pub scheme: Scheme,
    /// `host[:port]` exactly as written (brackets kept), used to resolve relative redirects.
    pub authority: &'a str,
    /// Host name or address; an IPv6 literal without its brackets.
    pub host: &'a str,
    /// True when `host` came from a bracketed IPv6 literal.
    pub ipv6: bool,
    /// Port (the scheme's default when none was written).
    pub port: u16,
    /// Path and query as written; may be empty or start with `?` (the request adds the `/`).
    pub path: &'a str,
}

fn is_visible(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

fn is_reg_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Where the first `://` starts: a byte search, which is all a three-byte ASCII needle needs
/// (`str::find` with a `&str` pattern links the general two-way string searcher).
fn find_scheme_separator(s: &str) -> Option<usize> {
    s.as_bytes().windows(3).position(|w| w == b"://")
}

/// `text` split before the first byte `stop` accepts (all of it and nothing when none does).
fn split_before(text: &[u8], stop: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let i = text.iter().position(|&c| stop(c)).unwrap_or(text.len());
    (text.get(..i).unwrap_or(text), text.get(i..).unwrap_or_default())
}

/// A part of a URI as text. The parts are visible ASCII (checked first), so never "".
fn text(part: &[u8]) -> &str {
    str_from_utf8(part).unwrap_or_default()
}

/// The scheme before `://`: http or https (any case), else why not.
fn parse_scheme(text: &[u8]) -> Result<Scheme, UriError> {
    if text.eq_ignore_ascii_case(b"http") {
        Ok(Scheme::Http)
    } else if text.eq_ignore_ascii_case(b"https") {
        Ok(Scheme::Https)
    } else if text.first().is_some_and(u8::is_ascii_alphabetic)
        && text.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        Err(UriError::UnsupportedScheme) // a well-formed scheme, just not ours
    } else {
        Err(UriError::Malformed)
    }
}

/// A bracketed IPv6 literal (the part after `[`): the address and the port text after it.
// `contains` on bytes links the word-at-a-time `memchr`, which these short parts do not need.
#[allow(clippy::manual_contains)]
fn split_ipv6(inner: &[u8]) -> Result<(&[u8], &[u8]), UriError> {
    let (host, tail) = split_before(inner, |c| c == b']');
    let port_text = match tail {
        [b']'] => &[],
        [b']', b':', port @ ..] => port,
        _ => return Err(UriError::BadHost), // no `]`, or something other than `:` after it
    };
    let ok = host.len() >= 2
        && host.iter().all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        && host.iter().any(|&c| c == b':');
    if ok {
        Ok((host, port_text))
    } else {
        Err(UriError::BadHost)
    }
}

/// A registered name (or IPv4 address) and the port text after its last `:`.
fn split_reg_name(authority: &[u8]) -> Result<(&[u8], &[u8]), UriError> {
    let (host, port_text) = match authority.iter().rposition(|&c| c == b':') {
        Some(i) => {
            (authority.get(..i).unwrap_or_default(), authority.get(i + 1..).unwrap_or_default())
        }
        None => (authority, &[][..]),
    };
    let ok = !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host.iter().all(|&c| is_reg_name_char(c))
        && !matches!(host.first(), Some(b'.' | b'-'));
    if ok {
        Ok((host, port_text))
    } else {
        Err(UriError::BadHost)
    }
}

/// The port: `default` when none is written ("host:" too, RFC 3986 3.2.3), else 1..=65535.
fn parse_port(text: &[u8], default: u16) -> Result<u16, UriError> {
    if text.is_empty() {
        return Ok(default);
    }
    if text.len() > 5 || !text.iter().all(u8::is_ascii_digit) {
        return Err(UriError::BadPort);
    }
    let v = text.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'));
    match u16::try_from(v) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(UriError::BadPort),
    }
}

impl<'a> Uri<'a> {
    /// Parses `s`. Never panics.
    #[allow(clippy::manual_contains)] // see `split_ipv6`
    pub fn parse(s: &'a str) -> Result<Uri<'a>, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s.len() > MAX_URI_LEN {
            return Err(UriError::TooLong);
        }
        // Visible ASCII from here: split as bytes, every part is text again.
        let b = s.as_bytes();
        if !b.iter().all(|&c| is_visible(c)) {
            return Err(UriError::Malformed);
        }
        let sep = find_scheme_separator(s).ok_or(UriError::Malformed)?;
        let scheme = parse_scheme(b.get(..sep).unwrap_or_default())?;
        let (rest, _fragment) = split_before(b.get(sep + 3..).unwrap_or_default(), |c| c == b'#');
        let (authority, path) = split_before(rest, |c| c == b'/' || c == b'?');
        if authority.iter().any(|&c| c == b'@') {
            return Err(UriError::UserInfo);
        }
        let (host, port_text, ipv6) = match authority {
            [b'[', inner @ ..] => {
                let (host, port_text) = split_ipv6(inner)?;
                (host, port_text, true)
            }
            _ => {
                let (host, port_text) = split_reg_name(authority)?;
                (host, port_text, false)
            }
        };
        let port = parse_port(port_text, scheme.default_port())?;
        Ok(Uri {
            scheme,
            authority: text(authority),
            host: text(host),
            ipv6,
            port,
            path: text(path),
        })
    }

    /// True when the port differs from the scheme's default (the Host header then names it).
    pub fn explicit_port(&self) -> bool {
        self.port != self.scheme.default_port()
    }
}

/// Resolves a redirect `Location` against `base`, writing the absolute URI into `out`.
/// Supports absolute URIs, network-path (`//host/p`), absolute-path (`/p`) and relative-path
/// (`p`, resolved against the base directory; no `..` normalisation) references.
/// Returns the length written, or `None` when `out` is too small.
pub fn resolve_reference(base: &Uri<'_>, reference: &str, out: &mut [u8]) -> Option<usize> {
    let mut w = Writer { buf: out, len: 0 };
    if find_scheme_separator(reference).is_some() {
        w.put(reference)?;
    } else if let Some(net) = reference.strip_prefix("//") {
        w.put(base.scheme.as_str())?;
        w.put("://")?;
        w.put(net)?;
    } else {
        w.put(base.scheme.as_str())?;
        w.put("://")?;
        w.put(base.authority)?;
        if !reference.starts_with('/') {
            let base_path = match base.path.find('?') {
                Some(i) => base.path.split_at(i).0,
                None => base.path,
            };
            let dir = match base_path.rfind('/') {
                Some(i) => base_path.split_at(i + 1).0,
                None => "/",
            };
            w.put(dir)?;
        }
        w.put(reference)?;
    }
    Some(w.len)
}

struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, s: &str) -> Option<()> {
        let end = self.len.checked_add(s.len())?;
        self.buf.get_mut(self.len..end)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http() {
        let u = Uri::parse("http://example.com/fw/image.bin").unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, 80);
        assert!(!u.explicit_port());
        assert_eq!(u.path, "/fw/image.bin");
        assert_eq!(u.authority, "example.com");
    }

    #[test]
    fn https_port_query_fragment() {
        let u = Uri::parse("HTTPS://fw.example.org:8443/a/b?x=1&y=2#frag").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.host, "fw.example.org");
        assert_eq!(u.port, 8443);
        assert!(u.explicit_port());
        assert_eq!(u.path, "/a/b?x=1&y=2");
    }

    #[test]
    fn ipv6_literal() {
        let u = Uri::parse("http://[2001:db8::1]:8080/img").unwrap();
        assert_eq!(u.host, "2001:db8::1");
        assert!(u.ipv6);
        assert_eq!(u.port, 8080);
        let u = Uri::parse("https://[::1]/img").unwrap();
        assert_eq!((u.host, u.port), ("::1", 443));
        assert_eq!(Uri::parse("http://[::1/img"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("http://[]/img"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("http://[::1]x/img"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("http://[zz::1]/img"), Err(UriError::BadHost));
    }

    #[test]
    fn empty_path_and_default_port() {
        let u = Uri::parse("http://h:").unwrap();
        assert_eq!((u.host, u.port, u.path), ("h", 80, ""));
        let u = Uri::parse("http://h?q").unwrap();
        assert_eq!(u.path, "?q");
    }

    #[test]
    fn errors() {
        assert_eq!(Uri::parse(""), Err(UriError::Empty));
        assert_eq!(Uri::parse("coap://h/x"), Err(UriError::UnsupportedScheme));
        assert_eq!(Uri::parse("ftp://h/x"), Err(UriError::UnsupportedScheme));
        assert_eq!(Uri::parse("://h/x"), Err(UriError::Malformed));
        assert_eq!(Uri::parse("h/x"), Err(UriError::Malformed));
        assert_eq!(Uri::parse("http://h/a b"), Err(UriError::Malformed));
        assert_eq!(Uri::parse("http://h/a\r\nX: y"), Err(UriError::Malformed));
        assert_eq!(Uri::parse("http://u:p@h/x"), Err(UriError::UserInfo));
        assert_eq!(Uri::parse("http:///x"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("http://h_!/x"), Err(UriError::BadHost));
        assert_eq!(Uri::parse("http://h:0/x"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("http://h:65536/x"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("http://h:123456/x"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("http://h:8a/x"), Err(UriError::BadPort));
        assert_eq!(Uri::parse("http://é/x"), Err(UriError::Malformed));
        let mut long = [b'a'; MAX_URI_LEN + 1];
        long[..7].copy_from_slice(b"http://");
        assert_eq!(Uri::parse(core::str::from_utf8(&long).unwrap()), Err(UriError::TooLong));
    }

    #[test]
    fn resolve() {
        let base = Uri::parse("https://h:4443/dir/file.bin?x").unwrap();
        let r = |s: &str| {
            let mut out = [0u8; MAX_URI_LEN];
            let n = resolve_reference(&base, s, &mut out).unwrap();
            std::string::String::from(std_string(&out[..n]))
        };
        assert_eq!(r("http://o/x"), "http://o/x");
        assert_eq!(r("//o:1/x"), "https://o:1/x");
        assert_eq!(r("/abs"), "https://h:4443/abs");
        assert_eq!(r("rel.bin"), "https://h:4443/dir/rel.bin");
        let mut tiny = [0u8; 8];
        assert_eq!(resolve_reference(&base, "/abs", &mut tiny), None);
    }

    fn std_string(b: &[u8]) -> &str {
        core::str::from_utf8(b).unwrap()
    }

    /// The parser as it was before it was split into helpers (issue 7, size pass 3): the
    /// oracle the property test holds the current one to.
    mod oracle {
        use super::super::*;

        fn parse_port(s: &str) -> Result<Option<u16>, UriError> {
            if s.is_empty() {
                return Ok(None); // "host:" means the default port (RFC 3986 3.2.3)
            }
            if s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UriError::BadPort);
            }
            let v = s.bytes().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
            match u16::try_from(v) {
                Ok(p) if p != 0 => Ok(Some(p)),
                _ => Err(UriError::BadPort),
            }
        }

        pub fn parse(s: &str) -> Result<Uri<'_>, UriError> {
            if s.is_empty() {
                return Err(UriError::Empty);
            }
            if s.len() > MAX_URI_LEN {
                return Err(UriError::TooLong);
            }
            let b = s.as_bytes();
            if !b.iter().all(|&c| is_visible(c)) {
                return Err(UriError::Malformed);
            }
            // From here `s` is ASCII: every index is a character boundary, so `sub` never comes
            // back empty by accident, and byte positions stand for the `str` searches.
            let sub = |from: usize, to: usize| s.get(from..to).unwrap_or("");
            let find = |from: usize, to: usize, hit: fn(u8) -> bool| {
                b.get(from..to)?.iter().position(|&c| hit(c)).map(|i| from + i)
            };
            let sep = find_scheme_separator(s).ok_or(UriError::Malformed)?;
            let scheme_text = sub(0, sep);
            let scheme = if scheme_text.eq_ignore_ascii_case("http") {
                Scheme::Http
            } else if scheme_text.eq_ignore_ascii_case("https") {
                Scheme::Https
            } else if b.first().is_some_and(|c| c.is_ascii_alphabetic())
                && sep > 0
                && scheme_text
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
            {
                return Err(UriError::UnsupportedScheme);
            } else {
                return Err(UriError::Malformed);
            };
            let rest = sep + 3;
            let end = find(rest, b.len(), |c| c == b'#').unwrap_or(b.len());
            let auth_end = find(rest, end, |c| c == b'/' || c == b'?').unwrap_or(end);
            let (authority, path) = (sub(rest, auth_end), sub(auth_end, end));
            if find(rest, auth_end, |c| c == b'@').is_some() {
                return Err(UriError::UserInfo);
            }
            let (host, ipv6, port_text) = if b.get(rest) == Some(&b'[') {
                let close = find(rest, auth_end, |c| c == b']').ok_or(UriError::BadHost)?;
                let host = sub(rest + 1, close);
                let port_text = match b.get(close + 1..auth_end) {
                    Some([]) | None => "",
                    Some([b':', ..]) => sub(close + 2, auth_end),
                    Some(_) => return Err(UriError::BadHost),
                };
                let ok = host.len() >= 2
                    && host.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
                    && host.bytes().any(|c| c == b':');
                if !ok {
                    return Err(UriError::BadHost);
                }
                (host, true, port_text)
            } else {
                let colon = authority.bytes().rposition(|c| c == b':').map(|i| rest + i);
                let (host, port_text) = match colon {
                    Some(i) => (sub(rest, i), sub(i + 1, auth_end)),
                    None => (authority, ""),
                };
                if host.is_empty()
                    || host.len() > MAX_HOST_LEN
                    || !host.bytes().all(is_reg_name_char)
                    || host.starts_with('.')
                    || host.starts_with('-')
                {
                    return Err(UriError::BadHost);
                }
                (host, false, port_text)
            };
            let port = parse_port(port_text)?.unwrap_or(scheme.default_port());
            Ok(Uri { scheme, authority, host, ipv6, port, path })
        }
    }

    /// A small xorshift generator: the property test needs no crate for its inputs.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Seeds with every feature the parser looks at; mutations mix their pieces.
    const SEEDS: &[&str] = &[
        "http://example.com/fw/image.bin",
        "HTTPS://fw.example.org:8443/a/b?x=1&y=2#frag",
        "http://[2001:db8::1]:8080/img",
        "https://[::1]/img",
        "http://[::1]x/img",
        "http://h:",
        "http://h?q",
        "coap://h/x",
        "a+b.c-d://h",
        "http://u:p@h/x",
        "http:///x",
        "http://h:65535/x",
        "http://h:00080/x",
        "http://h:000080/x",
        "http://-h.x:1",
        "http://1.2.3.4:5#x/y?z",
        "https://[1.2.3.4]:/",
    ];

    /// Bytes the mutations insert: the parser's delimiters, a few others and non-ASCII.
    const PIECES: &[&str] = &[
        ":", "/", "?", "#", "@", "[", "]", ".", "-", "_", "0", "9", "a", "Z", "://", " ", "é", "%",
    ];

    fn mutate(rng: &mut Rng, s: &str) -> std::string::String {
        let mut chars: std::vec::Vec<std::string::String> =
            s.chars().map(std::string::String::from).collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 if at < chars.len() => chars[at] = PIECES[rng.below(PIECES.len())].into(),
                _ => chars.insert(at, PIECES[rng.below(PIECES.len())].into()),
            }
        }
        chars.concat()
    }

    #[test]
    fn agrees_with_the_previous_parser() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let seed = SEEDS[rng.below(SEEDS.len())];
            let s = mutate(&mut rng, seed);
            assert_eq!(Uri::parse(&s), oracle::parse(&s), "{s:?}");
        }
        // Random strings over the pieces alone, and lengths around the limits.
        for _ in 0..50_000 {
            let n = rng.below(12);
            let s: std::string::String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
            assert_eq!(Uri::parse(&s), oracle::parse(&s), "{s:?}");
        }
        for n in [0, 1, 250, 253, 254, 255, 256, 300] {
            let host = std::string::String::from("a").repeat(n);
            for s in [
                std::format!("http://{host}"),
                std::format!("http://{host}:1"),
                std::format!("h://{host}"),
            ] {
                assert_eq!(Uri::parse(&s), oracle::parse(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "http://",
            "http://[",
            "http://]",
            "http://:",
            "http://[:]:",
            "https://a:/",
            "http://[::1]:",
        ] {
            let _ = Uri::parse(s);
        }
    }
}
