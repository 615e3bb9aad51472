//! Zero-copy message parsing (RFC 7252 §3) and option access.
//!
//! `Message::parse` walks every option once, so iterating options afterwards cannot fail;
//! the typed accessors only add value-format checks.

use crate::{opt, Block, Code, MsgType, ParseError, Token};

/// One option as it appears on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoapOption<'a> {
    pub number: u16,
    pub value: &'a [u8],
}

/// A parsed message borrowing the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub mtype: MsgType,
    pub code: Code,
    pub mid: u16,
    pub token: Token,
    pub payload: &'a [u8],
    /// The validated option bytes (between token and payload marker).
    options: &'a [u8],
}

/// Decodes an extended delta/length field for `nibble` at the start of `buf`.
fn ext(nibble: u8, buf: &[u8]) -> Result<(u32, &[u8]), ParseError> {
    match nibble {
        13 => match buf {
            [b, rest @ ..] => Ok((13 + u32::from(*b), rest)),
            _ => Err(ParseError::Truncated),
        },
        14 => match buf {
            [a, b, rest @ ..] => Ok((269 + u32::from(u16::from_be_bytes([*a, *b])), rest)),
            _ => Err(ParseError::Truncated),
        },
        15 => Err(ParseError::ReservedNibble),
        n => Ok((u32::from(n), buf)),
    }
}

/// Decodes the option at the start of `buf` (which must not start with the payload marker).
/// Returns the option and the bytes after it.
fn decode_option(buf: &[u8], prev: u16) -> Result<(CoapOption<'_>, &[u8]), ParseError> {
    let (&first, rest) = buf.split_first().ok_or(ParseError::Truncated)?;
    let (delta, rest) = ext(first >> 4, rest)?;
    let (len, rest) = ext(first & 0x0F, rest)?;
    let number = u32::from(prev) + delta;
    let number = u16::try_from(number).map_err(|_| ParseError::OptionNumberOverflow)?;
    let len = len as usize;
    let value = rest.get(..len).ok_or(ParseError::Truncated)?;
    let rest = rest.get(len..).ok_or(ParseError::Truncated)?;
    Ok((CoapOption { number, value }, rest))
}

impl<'a> Message<'a> {
    /// Parses and fully validates a datagram.
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let (hdr, rest) = match buf {
            [a, b, c, d, rest @ ..] => ([*a, *b, *c, *d], rest),
            _ => return Err(ParseError::TooShort),
        };
        if hdr[0] >> 6 != 1 {
            return Err(ParseError::BadVersion);
        }
        let tkl = usize::from(hdr[0] & 0x0F);
        if tkl > 8 {
            return Err(ParseError::BadTokenLength);
        }
        let code = Code(hdr[1]);
        if matches!(code.class(), 1 | 6 | 7) {
            return Err(ParseError::ReservedCode);
        }
        // §4.1: an Empty message has TKL 0 and nothing after the Message ID.
        if code.is_empty() && (tkl != 0 || !rest.is_empty()) {
            return Err(ParseError::BadEmptyMessage);
        }
        let token = rest.get(..tkl).ok_or(ParseError::Truncated)?;
        let token = Token::from_slice(token).ok_or(ParseError::BadTokenLength)?;
        let opts_start = rest.get(tkl..).ok_or(ParseError::Truncated)?;

        let mut cur = opts_start;
        let mut number = 0u16;
        let payload = loop {
            match cur.split_first() {
                None => break cur,
                Some((0xFF, p)) => {
                    if p.is_empty() {
                        return Err(ParseError::EmptyPayload);
                    }
                    break p;
                }
                Some(_) => {
                    let (o, r) = decode_option(cur, number)?;
                    number = o.number;
                    cur = r;
                }
            }
        };
        let opts_len = opts_start.len() - cur.len();
        Ok(Message {
            mtype: MsgType::from_bits(hdr[0] >> 4),
            code,
            mid: u16::from_be_bytes([hdr[2], hdr[3]]),
            token,
            payload,
            options: opts_start.get(..opts_len).unwrap_or(&[]),
        })
    }

    /// All options in wire order (non-decreasing numbers).
    pub fn options(&self) -> OptionIter<'a> {
        OptionIter { rest: self.options, number: 0 }
    }

    /// The value of the first occurrence of option `number`.
    pub fn option(&self, number: u16) -> Option<&'a [u8]> {
        self.options_with(number).next()
    }

    /// The values of every occurrence of option `number`, in order.
    // Out of line: several callers; inlined copies cost more than the call.
    #[inline(never)]
    pub fn options_with(&self, number: u16) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.options()
            .skip_while(move |o| o.number < number)
            .take_while(move |o| o.number == number)
            .map(|o| o.value)
    }

    /// The first occurrence of a uint option (RFC 7252 §3.2); more than 4 bytes is an error.
    pub fn uint_option(&self, number: u16) -> Result<Option<u32>, ParseError> {
        self.option(number).map(decode_uint).transpose()
    }

    /// A uint option whose registered length is 0..=`max_len` bytes (RFC 7252 §5.4.3: other
    /// lengths are malformed).
    fn uint_len(&self, number: u16, max_len: usize) -> Result<Option<u32>, ParseError> {
        match self.option(number) {
            Some(v) if v.len() > max_len => Err(ParseError::BadOptionValue),
            v => v.map(decode_uint).transpose(),
        }
    }

    /// Content-Format (0-2 byte uint).
    pub fn content_format(&self) -> Result<Option<u16>, ParseError> {
        Ok(self.uint_len(opt::CONTENT_FORMAT, 2)?.map(|v| v as u16))
    }

    /// Accept (0-2 byte uint).
    pub fn accept(&self) -> Result<Option<u16>, ParseError> {
        Ok(self.uint_len(opt::ACCEPT, 2)?.map(|v| v as u16))
    }

    /// Observe (RFC 7641 §2: 0-3 byte uint; 0 = register, 1 = deregister in requests).
    pub fn observe(&self) -> Result<Option<u32>, ParseError> {
        self.uint_len(opt::OBSERVE, 3)
    }

    /// Block1 (RFC 7959 §2.2: 0-3 byte uint, SZX 7 invalid).
    pub fn block1(&self) -> Result<Option<Block>, ParseError> {
        self.uint_len(opt::BLOCK1, 3)?.map(Block::from_uint).transpose()
    }

    /// Block2 (RFC 7959 §2.2: 0-3 byte uint, SZX 7 invalid).
    pub fn block2(&self) -> Result<Option<Block>, ParseError> {
        self.uint_len(opt::BLOCK2, 3)?.map(Block::from_uint).transpose()
    }

    /// Uri-Path segments.
    pub fn uri_path(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.options_with(opt::URI_PATH)
    }

    /// Uri-Query items.
    pub fn uri_query(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.options_with(opt::URI_QUERY)
    }

    /// Location-Path segments.
    pub fn location_path(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.options_with(opt::LOCATION_PATH)
    }

    /// The first critical option not listed in `known`: a request carrying one must be
    /// answered 4.02 Bad Option (RFC 7252 §5.4.1).
    pub fn unknown_critical_option(&self, known: &[u16]) -> Option<u16> {
        self.options().map(|o| o.number).find(|&n| opt::is_critical(n) && !known.contains(&n))
    }
}

/// Big-endian uint of 0 to 4 bytes (RFC 7252 §3.2).
fn decode_uint(v: &[u8]) -> Result<u32, ParseError> {
    if v.len() > 4 {
        return Err(ParseError::BadOptionValue);
    }
    Ok(v.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
}

/// Iterator over the options of a parsed [`Message`].
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    number: u16,
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = CoapOption<'a>;

    fn next(&mut self) -> Option<CoapOption<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // Already validated by `parse`; the error arm only guards against misuse.
        match decode_option(self.rest, self.number) {
            Ok((o, rest)) => {
                self.rest = rest;
                self.number = o.number;
                Some(o)
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

impl core::iter::FusedIterator for OptionIter<'_> {}

/// Fuzz entry point: parses `data` and exercises every accessor. Returns a value derived from
/// the result so the work cannot be optimised away.
pub fn fuzz_parse(data: &[u8]) -> usize {
    let Ok(m) = Message::parse(data) else {
        return 0;
    };
    let mut n = m.payload.len() + m.token.len();
    for o in m.options() {
        n = n.wrapping_add(usize::from(o.number) + o.value.len());
    }
    n = n.wrapping_add(m.uri_path().count() + m.uri_query().count() + m.location_path().count());
    n += usize::from(m.content_format().is_ok()) + usize::from(m.accept().is_ok());
    n += usize::from(m.observe().is_ok());
    n += usize::from(matches!(m.block1(), Ok(Some(_))));
    n += usize::from(matches!(m.block2(), Ok(Some(_))));
    n += usize::from(m.unknown_critical_option(&[opt::URI_PATH]).is_some());
    n
}
