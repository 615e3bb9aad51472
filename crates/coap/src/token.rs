//! Tokens (RFC 7252 §5.3.1): 0 to 8 opaque bytes matching responses to requests.

/// A token of up to 8 bytes, stored inline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Token {
    // Invariant: len <= 8 and bytes[len..] are zero, so the derived Eq/Hash are exact.
    len: u8,
    bytes: [u8; 8],
}

impl Token {
    /// The zero-length token.
    pub const EMPTY: Token = Token { len: 0, bytes: [0; 8] };

    /// Copies `s`; `None` if it is longer than 8 bytes.
    pub fn from_slice(s: &[u8]) -> Option<Token> {
        let mut t = Token::EMPTY;
        t.bytes.get_mut(..s.len())?.copy_from_slice(s);
        t.len = s.len() as u8;
        Some(t)
    }

    /// The low `len` bytes of `v`, big-endian; `len` is capped at 8.
    pub fn from_u64(v: u64, len: usize) -> Token {
        let len = len.min(8);
        let be = v.to_be_bytes();
        Token::from_slice(be.get(8 - len..).unwrap_or(&[])).unwrap_or(Token::EMPTY)
    }

    /// The token bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or(&[])
    }

    /// Length in bytes (0..=8).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True for the zero-length token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
