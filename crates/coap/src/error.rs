//! Error types of the codec.

use core::fmt;

/// Why a datagram is not a well-formed CoAP message, or an option value is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseError {
    /// Fewer than the 4 header bytes.
    TooShort,
    /// Version field is not 1.
    BadVersion,
    /// Token length 9..=15 (reserved).
    BadTokenLength,
    /// Code class 1, 6 or 7 (reserved).
    ReservedCode,
    /// Code 0.00 with a token or bytes after the header.
    BadEmptyMessage,
    /// Token, option header or option value runs past the end.
    Truncated,
    /// Option delta or length nibble 15 outside the payload marker.
    ReservedNibble,
    /// Option number above 65535.
    OptionNumberOverflow,
    /// Payload marker followed by zero bytes.
    EmptyPayload,
    /// An option value does not fit its format (uint too long, Block SZX 7, ...).
    BadOptionValue,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::TooShort => "message shorter than header",
            ParseError::BadVersion => "unsupported CoAP version",
            ParseError::BadTokenLength => "reserved token length",
            ParseError::ReservedCode => "reserved code class",
            ParseError::BadEmptyMessage => "empty message with content",
            ParseError::Truncated => "truncated token or option",
            ParseError::ReservedNibble => "reserved option nibble 15",
            ParseError::OptionNumberOverflow => "option number overflow",
            ParseError::EmptyPayload => "payload marker without payload",
            ParseError::BadOptionValue => "malformed option value",
        })
    }
}

/// Why a message could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildError {
    /// The caller's buffer has no room for the next part.
    BufferTooSmall,
    /// Option numbers must be added in non-decreasing order (delta encoding).
    OptionOrder,
    /// Option value longer than 65804 bytes, the most the length field can express.
    OptionTooLong,
    /// Code 0.00 carries no token, options or payload.
    EmptyMessage,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildError::BufferTooSmall => "buffer too small",
            BuildError::OptionOrder => "option numbers out of order",
            BuildError::OptionTooLong => "option value too long",
            BuildError::EmptyMessage => "empty message with content",
        })
    }
}
