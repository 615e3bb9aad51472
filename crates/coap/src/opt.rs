//! Option numbers (RFC 7252 §5.10, §12.2; RFC 7641; RFC 7959) and content formats.

pub const IF_MATCH: u16 = 1;
pub const URI_HOST: u16 = 3;
pub const ETAG: u16 = 4;
pub const IF_NONE_MATCH: u16 = 5;
pub const OBSERVE: u16 = 6;
pub const URI_PORT: u16 = 7;
pub const LOCATION_PATH: u16 = 8;
pub const URI_PATH: u16 = 11;
pub const CONTENT_FORMAT: u16 = 12;
pub const MAX_AGE: u16 = 14;
pub const URI_QUERY: u16 = 15;
pub const ACCEPT: u16 = 17;
pub const LOCATION_QUERY: u16 = 20;
pub const BLOCK2: u16 = 23;
pub const BLOCK1: u16 = 27;
pub const SIZE2: u16 = 28;
pub const PROXY_URI: u16 = 35;
pub const PROXY_SCHEME: u16 = 39;
pub const SIZE1: u16 = 60;

/// Odd option numbers are critical (RFC 7252 §5.4.6): an endpoint that does not understand one
/// in a request must answer 4.02 Bad Option rather than ignore it.
pub const fn is_critical(n: u16) -> bool {
    n & 1 == 1
}

/// Content-Format numbers used by LwM2M 1.0.
pub mod content_format {
    pub const TEXT_PLAIN: u16 = 0;
    pub const LINK_FORMAT: u16 = 40;
    pub const OCTET_STREAM: u16 = 42;
    pub const LWM2M_TLV: u16 = 11542;
    pub const LWM2M_JSON: u16 = 11543;
}
