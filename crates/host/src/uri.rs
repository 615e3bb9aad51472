//! LwM2M server URIs: `coap://host[:port][/path]` and `coaps://host[:port][/path]`.
//!
//! Only what a Security object's Server URI needs: scheme, host, port. The path, query and
//! fragment are accepted and ignored (LwM2M servers live at the root). Host names are resolved
//! with std's resolver when the transport is opened, not at parse time.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// CoAP over UDP without security.
pub const COAP_DEFAULT_PORT: u16 = 5683;
/// CoAP over DTLS.
pub const COAPS_DEFAULT_PORT: u16 = 5684;

/// The URI scheme, which also decides the transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `coap://`: plain UDP.
    Coap,
    /// `coaps://`: DTLS.
    Coaps,
}

impl Scheme {
    /// The port used when the URI has none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Coap => COAP_DEFAULT_PORT,
            Scheme::Coaps => COAPS_DEFAULT_PORT,
        }
    }

    /// True for `coaps`.
    pub fn is_secure(self) -> bool {
        self == Scheme::Coaps
    }
}

/// The host part: an IP literal or a name still to be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// IPv4 dotted quad or bracketed IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (lower-cased).
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(a)) => write!(f, "[{a}]"),
            Host::Ip(IpAddr::V4(a)) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// Why a URI was rejected or could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    /// No `scheme://` prefix.
    MissingScheme,
    /// A scheme other than `coap` / `coaps` (e.g. `coap+tcp`, `http`).
    UnsupportedScheme(String),
    /// `user@` is not meaningful for CoAP.
    UserInfo,
    /// Nothing between `//` and the port/path.
    MissingHost,
    /// A bracketed literal that is not an IPv6 address, or a missing `]`.
    BadIpLiteral,
    /// A host name with characters that cannot appear in a DNS name.
    BadHostName,
    /// The port is not a number in 1..=65535.
    BadPort,
    /// The resolver failed (message from the OS).
    Resolve(String),
    /// The resolver answered with no address.
    NoAddress,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::MissingScheme => f.write_str("missing scheme (expected coap:// or coaps://)"),
            UriError::UnsupportedScheme(s) => write!(f, "unsupported scheme {s:?}"),
            UriError::UserInfo => f.write_str("user info is not allowed in a CoAP URI"),
            UriError::MissingHost => f.write_str("missing host"),
            UriError::BadIpLiteral => f.write_str("invalid IP literal"),
            UriError::BadHostName => f.write_str("invalid host name"),
            UriError::BadPort => f.write_str("invalid port"),
            UriError::Resolve(e) => write!(f, "cannot resolve host: {e}"),
            UriError::NoAddress => f.write_str("host name has no address"),
        }
    }
}

impl std::error::Error for UriError {}

/// A parsed server URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    /// `coap` or `coaps`.
    pub scheme: Scheme,
    /// Where to connect.
    pub host: Host,
    /// Explicit port, or the scheme's default.
    pub port: u16,
}

impl ServerUri {
    /// Parses `coap[s]://host[:port][/path][?query][#fragment]`. Never panics.
    pub fn parse(uri: &str) -> Result<ServerUri, UriError> {
        let (scheme, rest) = uri.split_once("://").ok_or(UriError::MissingScheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("coap") {
            Scheme::Coap
        } else if scheme.eq_ignore_ascii_case("coaps") {
            Scheme::Coaps
        } else {
            return Err(UriError::UnsupportedScheme(scheme.to_owned()));
        };
        // The authority ends at the first '/', '?' or '#'.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or(rest);
        if authority.contains('@') {
            return Err(UriError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            // RFC 3986 allows an empty port ("host:"), meaning the default.
            None | Some("") => scheme.default_port(),
            Some(p) => parse_port(p)?,
        };
        Ok(ServerUri { scheme, host, port })
    }

    /// Resolves to one socket address: the IP literal as is, otherwise the first address the
    /// resolver returns (IPv4 preferred, since the carrier networks this mimics are mostly v4).
    pub fn resolve(&self) -> Result<SocketAddr, UriError> {
        let all = self.resolve_all()?;
        all.iter().find(|a| a.is_ipv4()).or_else(|| all.first()).copied().ok_or(UriError::NoAddress)
    }

    /// Every address the host resolves to.
    pub fn resolve_all(&self) -> Result<Vec<SocketAddr>, UriError> {
        match &self.host {
            Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => {
                let addrs: Vec<SocketAddr> = (name.as_str(), self.port)
                    .to_socket_addrs()
                    .map_err(|e| UriError::Resolve(e.to_string()))?
                    .collect();
                if addrs.is_empty() {
                    Err(UriError::NoAddress)
                } else {
                    Ok(addrs)
                }
            }
        }
    }
}

impl fmt::Display for ServerUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Coap => "coap",
            Scheme::Coaps => "coaps",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// Splits `host[:port]` / `[v6][:port]`; the port string is returned unparsed.
fn split_host_port(authority: &str) -> Result<(Host, Option<&str>), UriError> {
    if let Some(after) = authority.strip_prefix('[') {
        let (literal, tail) = after.split_once(']').ok_or(UriError::BadIpLiteral)?;
        let ip: Ipv6Addr = literal.parse().map_err(|_| UriError::BadIpLiteral)?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':').ok_or(UriError::BadPort)?),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(UriError::MissingHost);
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok((Host::Ip(IpAddr::V4(v4)), port));
    }
    Ok((Host::Name(check_host_name(host)?), port))
}

/// DNS names: letters, digits, '-', '.', and '_' (seen in lab setups); no empty labels.
fn check_host_name(host: &str) -> Result<String, UriError> {
    let name = host.strip_suffix('.').unwrap_or(host);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(UriError::BadHostName);
    }
    Ok(name.to_ascii_lowercase())
}

fn parse_port(p: &str) -> Result<u16, UriError> {
    // u16::from_str accepts a leading '+', which a URI port does not.
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UriError::BadPort);
    }
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(UriError::BadPort),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ServerUri {
        ServerUri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn default_ports() {
        assert_eq!(ok("coap://example.com").port, 5683);
        assert_eq!(ok("coaps://example.com").port, 5684);
        assert_eq!(ok("coaps://example.com:").port, 5684);
        assert!(ok("coaps://x").scheme.is_secure());
        assert!(!ok("coap://x").scheme.is_secure());
    }

    #[test]
    fn explicit_port_path_query() {
        let u = ok("coap://leshan.eclipseprojects.io:5783/rd?ep=x#frag");
        assert_eq!(u.scheme, Scheme::Coap);
        assert_eq!(u.host, Host::Name("leshan.eclipseprojects.io".into()));
        assert_eq!(u.port, 5783);
        assert_eq!(ok("coaps://h?x=1").host, Host::Name("h".into()));
        assert_eq!(ok("coaps://h#f").port, 5684);
    }

    #[test]
    fn scheme_and_host_are_case_insensitive() {
        let u = ok("CoAPs://Bootstrap.Example.COM/");
        assert_eq!(u.scheme, Scheme::Coaps);
        assert_eq!(u.host, Host::Name("bootstrap.example.com".into()));
    }

    #[test]
    fn ipv4_literal() {
        let u = ok("coaps://192.0.2.7:15684");
        assert_eq!(u.host, Host::Ip("192.0.2.7".parse().unwrap()));
        assert_eq!(u.resolve().unwrap(), "192.0.2.7:15684".parse().unwrap());
    }

    #[test]
    fn ipv6_literal() {
        let u = ok("coap://[2001:db8::1]:1234/x");
        assert_eq!(u.host, Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port, 1234);
        let u = ok("coaps://[::1]");
        assert_eq!(u.port, 5684);
        assert_eq!(u.resolve().unwrap(), "[::1]:5684".parse().unwrap());
        assert_eq!(u.to_string(), "coaps://[::1]:5684");
    }

    #[test]
    fn errors() {
        use UriError::*;
        let cases: &[(&str, UriError)] = &[
            ("", MissingScheme),
            ("example.com:5683", MissingScheme),
            ("http://x", UnsupportedScheme("http".into())),
            ("coap+tcp://x", UnsupportedScheme("coap+tcp".into())),
            ("coap://", MissingHost),
            ("coap://:5683", MissingHost),
            ("coap://user@host", UserInfo),
            ("coap://[::1", BadIpLiteral),
            ("coap://[nope]:1", BadIpLiteral),
            ("coap://[1.2.3.4]", BadIpLiteral),
            ("coap://[::1]5683", BadPort),
            ("coap://h:0", BadPort),
            ("coap://h:65536", BadPort),
            ("coap://h:+1", BadPort),
            ("coap://h:abc", BadPort),
            ("coap://h:1:2", BadPort),
            ("coap://ho st", BadHostName),
            ("coap://a..b", BadHostName),
            ("coap://h%41", BadHostName),
            ("coap://\u{e9}.com", BadHostName),
        ];
        for (s, want) in cases {
            assert_eq!(ServerUri::parse(s).as_ref(), Err(want), "{s}");
        }
    }

    #[test]
    fn never_panics_on_junk() {
        for s in ["coap://[", "coap://]", "coaps://[]:", "://", "coap://[::1]:", "coap:///"] {
            let _ = ServerUri::parse(s);
        }
        assert_eq!(ok("coap://[::1]:").port, 5683);
    }

    #[test]
    fn resolves_localhost() {
        let a = ok("coap://localhost:9999").resolve().unwrap();
        assert!(a.ip().is_loopback());
        assert_eq!(a.port(), 9999);
    }

    #[test]
    fn unresolvable_name_is_an_error() {
        // `.invalid` is reserved (RFC 2606) and never resolves.
        let e = ok("coap://no-such-host.invalid").resolve().unwrap_err();
        assert!(matches!(e, UriError::Resolve(_) | UriError::NoAddress), "{e:?}");
    }
}
