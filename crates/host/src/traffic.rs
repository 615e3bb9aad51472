//! A readable one-line summary of a CoAP datagram for `--log debug`, decoded with the client's
//! own parser (what the client sends and what it understood of what it received).
//!
//! Only metadata is shown: payloads are given as a length, since bootstrap writes carry keys.

use std::fmt::Write;

use lwm2m_carrier::core_engine::coap::{opt, Message, MsgType};

/// Which way the datagram went, seen from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// E.g. `-> conn0 CON 0.02 POST mid=0x1a2b token=0a1b path=/rd query=ep=urn:imei:1&lt=300
/// cf=40 payload=52B`.
pub fn describe(direction: Direction, conn: u8, datagram: &[u8]) -> String {
    let arrow = match direction {
        Direction::Sent => "->",
        Direction::Received => "<-",
    };
    let mut line = format!("{arrow} conn{conn} ");
    let msg = match Message::parse(datagram) {
        Ok(m) => m,
        Err(e) => {
            let _ = write!(line, "undecodable ({e:?}), {} bytes", datagram.len());
            return line;
        }
    };
    let kind = match msg.mtype {
        MsgType::Con => "CON",
        MsgType::Non => "NON",
        MsgType::Ack => "ACK",
        MsgType::Rst => "RST",
    };
    let _ = write!(line, "{kind} {}", msg.code);
    if let Some(method) = method_name(msg.code.0) {
        let _ = write!(line, " {method}");
    }
    let _ = write!(line, " mid={:#06x} token={}", msg.mid, hex(msg.token.as_slice()));
    let path = joined(msg.uri_path(), "/");
    if !path.is_empty() {
        let _ = write!(line, " path=/{path}");
    }
    let query = joined(msg.uri_query(), "&");
    if !query.is_empty() {
        let _ = write!(line, " query={query}");
    }
    let location = joined(msg.location_path(), "/");
    if !location.is_empty() {
        let _ = write!(line, " location=/{location}");
    }
    if let Ok(Some(cf)) = msg.content_format() {
        let _ = write!(line, " cf={cf}");
    }
    if let Ok(Some(accept)) = msg.accept() {
        let _ = write!(line, " accept={accept}");
    }
    if let Ok(Some(obs)) = msg.observe() {
        let _ = write!(line, " observe={obs}");
    }
    if msg.option(opt::BLOCK1).is_some() || msg.option(opt::BLOCK2).is_some() {
        let _ = write!(line, " block");
    }
    let _ = write!(line, " payload={}B", msg.payload.len());
    line
}

fn method_name(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "GET",
        2 => "POST",
        3 => "PUT",
        4 => "DELETE",
        5 => "FETCH",
        _ => return None,
    })
}

fn joined<'a>(parts: impl Iterator<Item = &'a [u8]>, sep: &str) -> String {
    parts.map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>().join(sep)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_request() {
        // CON POST mid 0x1234, token ab, Uri-Path rd, Content-Format 40, Uri-Query ep=x.
        let d = [
            0x41, 0x02, 0x12, 0x34, 0xab, // header + token
            0xb2, b'r', b'd', // Uri-Path (11) "rd"
            0x11, 40, // Content-Format (12) 40
            0x34, b'e', b'p', b'=', b'x', // Uri-Query (15) "ep=x"
            0xff, b'<', b'/', b'1', b'>',
        ];
        assert_eq!(
            describe(Direction::Sent, 0, &d),
            "-> conn0 CON 0.02 POST mid=0x1234 token=ab path=/rd query=ep=x cf=40 payload=4B"
        );
    }

    #[test]
    fn junk_is_described_not_fatal() {
        let s = describe(Direction::Received, 1, &[0xff]);
        assert!(s.starts_with("<- conn1 undecodable"), "{s}");
    }
}
