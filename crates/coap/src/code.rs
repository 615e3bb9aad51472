//! Message codes and types (RFC 7252 §3, §12.1).

use core::fmt;

/// A CoAP code: 3-bit class and 5-bit detail, written `c.dd`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u8);

impl Code {
    /// Builds `class.detail`; class is taken modulo 8 and detail modulo 32.
    pub const fn new(class: u8, detail: u8) -> Code {
        Code(((class & 0x07) << 5) | (detail & 0x1F))
    }

    pub const EMPTY: Code = Code::new(0, 0);
    pub const GET: Code = Code::new(0, 1);
    pub const POST: Code = Code::new(0, 2);
    pub const PUT: Code = Code::new(0, 3);
    pub const DELETE: Code = Code::new(0, 4);
    pub const FETCH: Code = Code::new(0, 5);

    pub const CREATED: Code = Code::new(2, 1);
    pub const DELETED: Code = Code::new(2, 2);
    pub const VALID: Code = Code::new(2, 3);
    pub const CHANGED: Code = Code::new(2, 4);
    pub const CONTENT: Code = Code::new(2, 5);
    pub const CONTINUE: Code = Code::new(2, 31);

    pub const BAD_REQUEST: Code = Code::new(4, 0);
    pub const UNAUTHORIZED: Code = Code::new(4, 1);
    pub const BAD_OPTION: Code = Code::new(4, 2);
    pub const FORBIDDEN: Code = Code::new(4, 3);
    pub const NOT_FOUND: Code = Code::new(4, 4);
    pub const METHOD_NOT_ALLOWED: Code = Code::new(4, 5);
    pub const NOT_ACCEPTABLE: Code = Code::new(4, 6);
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code::new(4, 8);
    pub const CONFLICT: Code = Code::new(4, 9);
    pub const PRECONDITION_FAILED: Code = Code::new(4, 12);
    pub const REQUEST_ENTITY_TOO_LARGE: Code = Code::new(4, 13);
    pub const UNSUPPORTED_CONTENT_FORMAT: Code = Code::new(4, 15);

    pub const INTERNAL_SERVER_ERROR: Code = Code::new(5, 0);
    pub const NOT_IMPLEMENTED: Code = Code::new(5, 1);
    pub const BAD_GATEWAY: Code = Code::new(5, 2);
    pub const SERVICE_UNAVAILABLE: Code = Code::new(5, 3);
    pub const GATEWAY_TIMEOUT: Code = Code::new(5, 4);

    /// The class (the `c` of `c.dd`).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }

    /// The detail (the `dd` of `c.dd`).
    pub const fn detail(self) -> u8 {
        self.0 & 0x1F
    }

    /// 0.01..0.31: a method.
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.detail() != 0
    }

    /// Classes 2, 4 and 5.
    pub const fn is_response(self) -> bool {
        matches!(self.class(), 2 | 4 | 5)
    }

    /// 0.00, used by empty ACK/RST and CoAP ping.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Class 2.
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.detail();
        let s = [b'0' + self.class(), b'.', b'0' + d / 10, b'0' + d % 10];
        // Always ASCII digits, so this never takes the error path.
        f.write_str(core::str::from_utf8(&s).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Code({self})")
    }
}

/// Message type (RFC 7252 §4.1-4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// Confirmable: retransmitted until acknowledged.
    Con = 0,
    /// Non-confirmable.
    Non = 1,
    /// Acknowledgement.
    Ack = 2,
    /// Reset.
    Rst = 3,
}

impl MsgType {
    /// The type from its 2-bit wire value (higher bits ignored).
    pub const fn from_bits(bits: u8) -> MsgType {
        match bits & 3 {
            0 => MsgType::Con,
            1 => MsgType::Non,
            2 => MsgType::Ack,
            _ => MsgType::Rst,
        }
    }

    /// The 2-bit wire value.
    pub const fn bits(self) -> u8 {
        self as u8
    }
}
