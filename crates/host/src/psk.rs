//! Pre-shared key credentials. The key never appears in `Debug` output or logs.

use std::fmt;
use std::sync::Arc;

/// Longest identity accepted; OpenSSL's limit is 128 bytes (PSK_MAX_IDENTITY_LEN).
pub const MAX_IDENTITY_LEN: usize = 128;
/// Longest key accepted; OpenSSL's limit is 256 bytes (PSK_MAX_PSK_LEN).
pub const MAX_KEY_LEN: usize = 256;

/// Why a PSK was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PskError {
    /// Identity empty, longer than [`MAX_IDENTITY_LEN`], or containing a NUL byte (OpenSSL
    /// passes identities as C strings).
    BadIdentity,
    /// Key empty or longer than [`MAX_KEY_LEN`].
    BadKey,
}

impl fmt::Display for PskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PskError::BadIdentity => f.write_str("PSK identity must be 1..=128 bytes without NUL"),
            PskError::BadKey => f.write_str("PSK key must be 1..=256 bytes"),
        }
    }
}

impl std::error::Error for PskError {}

/// A PSK identity and key.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk {
    identity: Vec<u8>,
    key: Vec<u8>,
}

impl Psk {
    /// Checks the lengths OpenSSL can carry.
    pub fn new(identity: &[u8], key: &[u8]) -> Result<Psk, PskError> {
        if identity.is_empty() || identity.len() > MAX_IDENTITY_LEN || identity.contains(&0) {
            return Err(PskError::BadIdentity);
        }
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(PskError::BadKey);
        }
        Ok(Psk { identity: identity.to_vec(), key: key.to_vec() })
    }

    /// The identity (not secret).
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The key (secret: do not log).
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Psk")
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("key", &format_args!("<redacted, {} bytes>", self.key.len()))
            .finish()
    }
}

impl Drop for Psk {
    fn drop(&mut self) {
        // Best effort: clear the key before the allocation is freed. Not guaranteed against
        // the optimiser (no volatile writes without unsafe), but it usually survives.
        self.key.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&self.key);
    }
}

/// Server-side key lookup: identity -> key, `None` for an unknown identity (the handshake then
/// fails with an `unknown_psk_identity` alert).
#[derive(Clone)]
pub struct PskLookup(Arc<LookupFn>);

type LookupFn = dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync;

impl PskLookup {
    /// Wraps a lookup function.
    pub fn new(f: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static) -> PskLookup {
        PskLookup(Arc::new(f))
    }

    /// A lookup that knows exactly one identity.
    pub fn single(psk: Psk) -> PskLookup {
        PskLookup::new(move |id| (id == psk.identity()).then(|| psk.key().to_vec()))
    }

    /// Looks `identity` up.
    pub fn key_for(&self, identity: &[u8]) -> Option<Vec<u8>> {
        (self.0)(identity)
    }
}

impl fmt::Debug for PskLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PskLookup(<callback>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_key() {
        let p = Psk::new(b"urn:imei:3519", b"\x01\x02secretkey").unwrap();
        let s = format!("{p:?}");
        assert!(s.contains("urn:imei:3519"), "{s}");
        assert!(!s.contains("secret"), "{s}");
        assert!(!s.contains("[1, 2"), "{s}");
        assert!(s.contains("redacted, 11 bytes"), "{s}");
    }

    #[test]
    fn validates_lengths() {
        assert_eq!(Psk::new(b"", b"k"), Err(PskError::BadIdentity));
        assert_eq!(Psk::new(b"a\0b", b"k"), Err(PskError::BadIdentity));
        assert_eq!(Psk::new(&[b'a'; 129], b"k"), Err(PskError::BadIdentity));
        assert_eq!(Psk::new(b"id", b""), Err(PskError::BadKey));
        assert_eq!(Psk::new(b"id", &[1; 257]), Err(PskError::BadKey));
        assert!(Psk::new(&[b'a'; 128], &[1; 256]).is_ok());
    }

    #[test]
    fn single_lookup() {
        let l = PskLookup::single(Psk::new(b"id", b"key").unwrap());
        assert_eq!(l.key_for(b"id").as_deref(), Some(&b"key"[..]));
        assert_eq!(l.key_for(b"other"), None);
        assert_eq!(format!("{l:?}"), "PskLookup(<callback>)");
    }
}
