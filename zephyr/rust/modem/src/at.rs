//! The AT commands of the nRF91 modem port: formatting the commands and parsing the answers.
//!
//! Pure string work, kept here (no Zephyr, no libmodem) so that the host tests cover it; the
//! port (`lwm2m_carrier_zephyr::nrf`) sends the commands through libmodem. Commands and answer
//! formats are those of the nRF91 AT command set (3GPP TS 27.007 plus Nordic's `%` commands).

use core::fmt::Write;

use heapless::String;

/// The non-empty lines of `resp`, trimmed.
fn lines(resp: &str) -> impl Iterator<Item = &str> {
    resp.split(['\r', '\n']).map(str::trim).filter(|l| !l.is_empty())
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The IMEI in the answer to `AT+CGSN`: a line of 15 digits before `OK`.
pub fn parse_cgsn(resp: &str) -> Option<String<15>> {
    let line = lines(resp).find(|l| l.len() == 15 && all_digits(l))?;
    String::try_from(line).ok()
}

/// The IMSI in the answer to `AT+CIMI`: a line of 6 to 15 digits.
pub fn parse_cimi(resp: &str) -> Option<&str> {
    lines(resp).find(|l| (6..=15).contains(&l.len()) && all_digits(l))
}

/// The MSISDN in the answer to `AT+CNUM` (`+CNUM: <alpha>,"<number>",<type>`): the number's
/// digits without the `+` of the international format. `None` when the SIM has none.
pub fn parse_cnum(resp: &str) -> Option<String<15>> {
    let line = lines(resp).find_map(|l| l.strip_prefix("+CNUM:"))?;
    let number = line.split(',').nth(1)?.trim().trim_matches('"');
    let digits = number.strip_prefix('+').unwrap_or(number);
    if !all_digits(digits) {
        return None;
    }
    String::try_from(digits).ok()
}

/// The MNC length (2 or 3) from the answer to `AT+CRSM=176,28589,0,0,4` (read the SIM's EF_AD):
/// `+CRSM: 144,0,"<hex>"`; the fourth byte's low nibble is the length of the MNC.
pub fn parse_mnc_length(resp: &str) -> Option<usize> {
    let line = lines(resp).find_map(|l| l.strip_prefix("+CRSM:"))?;
    let mut fields = line.split(',').map(|f| f.trim().trim_matches('"'));
    let (sw1, _sw2, data) = (fields.next()?, fields.next()?, fields.next()?);
    if sw1 != "144" {
        return None; // not "normal ending of the command"
    }
    let nibble = data.get(7..8)?;
    match u8::from_str_radix(nibble, 16).ok()? {
        2 => Some(2),
        3 => Some(3),
        _ => None,
    }
}

/// MCC and MNC of the SIM's home network from its IMSI. The MNC has `mnc_len` digits when the SIM
/// says so (EF_AD); otherwise 3 digits for the North American MCCs (302, 310-316) and 2 elsewhere.
pub fn home_network(imsi: &str, mnc_len: Option<usize>) -> Option<(u16, u16)> {
    let mcc: u16 = imsi.get(..3)?.parse().ok()?;
    let len = mnc_len.unwrap_or(if mcc == 302 || (310..=316).contains(&mcc) { 3 } else { 2 });
    let mnc: u16 = imsi.get(3..3 + len)?.parse().ok()?;
    Some((mcc, mnc))
}

/// Network registration status of a `+CEREG` notification (`AT+CEREG=1` and above):
/// `+CEREG: <stat>[,...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// 1 (home) or 5 (roaming).
    Registered,
    /// 0 (not registered) or 2 (searching).
    Searching,
    /// 3: the network refused the registration.
    Denied,
    /// 90: the SIM failed.
    SimFailure,
    /// 4, or anything else.
    Unknown,
}

/// The status of a `+CEREG` notification, `None` for other notifications.
pub fn parse_cereg(notif: &str) -> Option<Registration> {
    let rest = lines(notif).find_map(|l| l.strip_prefix("+CEREG:"))?;
    let stat: u8 = rest.split(',').next()?.trim().parse().ok()?;
    Some(match stat {
        1 | 5 => Registration::Registered,
        0 | 2 => Registration::Searching,
        3 => Registration::Denied,
        90 => Registration::SimFailure,
        _ => Registration::Unknown,
    })
}

/// A server URI split for a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// `coaps`: DTLS.
    pub secure: bool,
    /// Host name or address literal (IPv6 without its brackets).
    pub host: &'a str,
    pub port: u16,
}

/// Splits `coap[s]://host[:port][/path]` (port 5683, or 5684 for coaps, when absent).
pub fn split_uri(uri: &str) -> Option<Endpoint<'_>> {
    let (secure, rest) = if let Some(r) = uri.strip_prefix("coaps://") {
        (true, r)
    } else {
        (false, uri.strip_prefix("coap://")?)
    };
    let authority = rest.split(['/', '?']).next()?;
    let default_port = if secure { 5684 } else { 5683 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok().filter(|&p| p != 0)?,
        None => default_port,
    };
    if host.is_empty() {
        return None;
    }
    Some(Endpoint { secure, host, port })
}

/// Longest `AT%CMNG` write the port builds: a 64-byte PSK is 128 hex digits.
pub const CMNG_MAX: usize = 192;

/// Credential types of `AT%CMNG`.
const CMNG_PSK: u8 = 3;
const CMNG_IDENTITY: u8 = 4;

/// Why a key could not be put in a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmngError {
    /// Empty, too long, or (identity) not printable ASCII without `"`.
    BadValue,
}

/// `AT%CMNG=0,<sec_tag>,3,"<psk as hex>"`: writes a PSK. The command holds the secret: the
/// caller wipes it after use and never logs it.
pub fn cmng_write_psk(
    out: &mut String<CMNG_MAX>,
    sec_tag: u32,
    psk: &[u8],
) -> Result<(), CmngError> {
    if psk.is_empty() || psk.len() > 64 {
        return Err(CmngError::BadValue);
    }
    out.clear();
    write!(out, "AT%CMNG=0,{},{},\"", sec_tag, CMNG_PSK).map_err(|_| CmngError::BadValue)?;
    for b in psk {
        write!(out, "{:02x}", b).map_err(|_| CmngError::BadValue)?;
    }
    out.push('"').map_err(|_| CmngError::BadValue)
}

/// `AT%CMNG=0,<sec_tag>,4,"<identity>"`: writes a PSK identity (printable ASCII, no quote).
pub fn cmng_write_identity(
    out: &mut String<CMNG_MAX>,
    sec_tag: u32,
    identity: &[u8],
) -> Result<(), CmngError> {
    let ok = |b: &u8| (0x20..0x7f).contains(b) && *b != b'"';
    if identity.is_empty() || !identity.iter().all(ok) {
        return Err(CmngError::BadValue);
    }
    let identity = core::str::from_utf8(identity).map_err(|_| CmngError::BadValue)?;
    out.clear();
    write!(out, "AT%CMNG=0,{},{},\"{}\"", sec_tag, CMNG_IDENTITY, identity)
        .map_err(|_| CmngError::BadValue)
}

/// `AT+CGDCONT=0,"IPV4V6","<apn>"`: the APN of the default PDN context (CID 0), set while the
/// modem is offline. `None` when the APN cannot be quoted.
pub fn cgdcont(apn: &str) -> Option<String<128>> {
    if apn.is_empty() || !apn.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return None;
    }
    let mut s = String::new();
    write!(s, "AT+CGDCONT=0,\"IPV4V6\",\"{}\"", apn).ok()?;
    Some(s)
}

/// The `+CME ERROR: <n>` of a failed command as a negative number (the modem's error code),
/// or -5 (-EIO) for a plain `ERROR`.
pub fn cme_error(resp: &str) -> i32 {
    lines(resp)
        .find_map(|l| l.strip_prefix("+CME ERROR:"))
        .and_then(|n| n.trim().parse::<i32>().ok())
        .map_or(-5, |n| -n.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_answers() {
        assert_eq!(parse_cgsn("352656100367872\r\nOK\r\n").as_deref(), Some("352656100367872"));
        assert_eq!(parse_cgsn("ERROR\r\n"), None);
        assert_eq!(parse_cimi("311480123456789\r\nOK\r\n"), Some("311480123456789"));
        assert_eq!(
            parse_cnum("+CNUM: ,\"+15555550100\",145\r\nOK\r\n").as_deref(),
            Some("15555550100")
        );
        assert_eq!(
            parse_cnum("+CNUM: ,\"5555550100\",129\r\nOK\r\n").as_deref(),
            Some("5555550100")
        );
        assert_eq!(parse_cnum("OK\r\n"), None);
        assert_eq!(parse_mnc_length("+CRSM: 144,0,\"00000003\"\r\nOK\r\n"), Some(3));
        assert_eq!(parse_mnc_length("+CRSM: 144,0,\"00000102\"\r\nOK\r\n"), Some(2));
        assert_eq!(parse_mnc_length("+CRSM: 106,130,\"\"\r\nOK\r\n"), None);
    }

    #[test]
    fn home_networks() {
        assert_eq!(home_network("311480123456789", None), Some((311, 480)));
        assert_eq!(home_network("310410123456789", Some(3)), Some((310, 410)));
        assert_eq!(home_network("242011234567890", None), Some((242, 1)));
        assert_eq!(home_network("24201", Some(3)), None);
    }

    #[test]
    fn registration() {
        assert_eq!(
            parse_cereg("+CEREG: 1,\"0A0B\",\"01020304\",7\r\n"),
            Some(Registration::Registered)
        );
        assert_eq!(parse_cereg("+CEREG: 5\r\n"), Some(Registration::Registered));
        assert_eq!(parse_cereg("+CEREG: 2,\"0A0B\",\"01020304\",7"), Some(Registration::Searching));
        assert_eq!(parse_cereg("+CEREG: 3"), Some(Registration::Denied));
        assert_eq!(parse_cereg("+CEREG: 90"), Some(Registration::SimFailure));
        assert_eq!(parse_cereg("+CSCON: 1"), None);
    }

    #[test]
    fn uris() {
        let e = split_uri("coaps://boot.lwm2m.vzwdm.com:5684").unwrap();
        assert_eq!(e, Endpoint { secure: true, host: "boot.lwm2m.vzwdm.com", port: 5684 });
        let e = split_uri("coap://[2001:db8::1]/rd").unwrap();
        assert_eq!(e, Endpoint { secure: false, host: "2001:db8::1", port: 5683 });
        assert_eq!(split_uri("coaps://10.0.0.1").unwrap().port, 5684);
        assert_eq!(split_uri("http://x"), None);
        assert_eq!(split_uri("coaps://:5684"), None);
        assert_eq!(split_uri("coaps://h:0"), None);
    }

    #[test]
    fn commands() {
        let mut s = String::new();
        cmng_write_psk(&mut s, 25, &[0x01, 0xab]).unwrap();
        assert_eq!(s.as_str(), "AT%CMNG=0,25,3,\"01ab\"");
        assert!(cmng_write_psk(&mut s, 25, &[0; 64]).is_ok());
        assert_eq!(cmng_write_psk(&mut s, 25, &[0; 65]), Err(CmngError::BadValue));
        cmng_write_identity(&mut s, 26, b"urn:imei:490154203237518").unwrap();
        assert_eq!(s.as_str(), "AT%CMNG=0,26,4,\"urn:imei:490154203237518\"");
        assert_eq!(cmng_write_identity(&mut s, 26, b"a\"b"), Err(CmngError::BadValue));
        assert_eq!(cgdcont("vzwadmin").unwrap().as_str(), "AT+CGDCONT=0,\"IPV4V6\",\"vzwadmin\"");
        assert_eq!(cgdcont("a\"b"), None);
        assert_eq!(cme_error("+CME ERROR: 513\r\n"), -513);
        assert_eq!(cme_error("ERROR\r\n"), -5);
    }
}
