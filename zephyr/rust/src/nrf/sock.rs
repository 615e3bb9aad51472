//! Sockets through libmodem's socket API (`nrf_socket`), non-blocking: datagram sockets for the
//! LwM2M servers (DTLS 1.2 with a PSK from a modem security tag, or plain UDP) and a stream
//! socket for the firmware download (TLS 1.2 verifying the server against a CA, or plain TCP).

use core::ffi::{c_char, c_int, c_void};
use core::mem::size_of;

use lwm2m_carrier::ConnectError;
use nrf_modem::nrfxlib_sys as sys;

/// libmodem's errno of the last failed call (nrf-modem's `nrf_modem_os_errno_set`).
pub fn errno() -> i32 {
    i32::try_from(nrf_modem::ffi::get_last_error()).unwrap_or(i32::MAX)
}

/// The DTLS handshake timeout the modem applies (`NRF_SO_SEC_DTLS_HANDSHAKE_TIMEO`), seconds.
pub const HANDSHAKE_TIMEOUT_S: u32 = sys::NRF_SO_SEC_DTLS_HANDSHAKE_TIMEOUT_63S;

/// A resolved server address.
#[derive(Clone, Copy)]
pub enum Addr {
    V4(sys::nrf_sockaddr_in),
    V6(sys::nrf_sockaddr_in6),
}

impl Addr {
    fn family(&self) -> c_int {
        match self {
            Addr::V4(_) => sys::NRF_AF_INET as c_int,
            Addr::V6(_) => sys::NRF_AF_INET6 as c_int,
        }
    }

    fn raw(&self) -> (*const sys::nrf_sockaddr, sys::nrf_socklen_t) {
        match self {
            Addr::V4(a) => {
                (core::ptr::from_ref(a).cast(), size_of::<sys::nrf_sockaddr_in>() as u32)
            }
            Addr::V6(a) => {
                (core::ptr::from_ref(a).cast(), size_of::<sys::nrf_sockaddr_in6>() as u32)
            }
        }
    }
}

/// `host` as a NUL-terminated string in `buf`.
fn c_host<'a>(host: &str, buf: &'a mut [u8; 254]) -> Option<&'a [u8]> {
    let n = host.len();
    if n == 0 || n >= buf.len() || host.bytes().any(|b| b == 0) {
        return None;
    }
    buf.get_mut(..n)?.copy_from_slice(host.as_bytes());
    *buf.get_mut(n)? = 0;
    buf.get(..=n)
}

/// An address literal, without DNS.
fn literal(host: &[u8], port: u16) -> Option<Addr> {
    // SAFETY: all-zero is a valid value of these plain C structs (integers and byte arrays).
    let mut v4: sys::nrf_sockaddr_in = unsafe { core::mem::zeroed() };
    // SAFETY: `host` is NUL-terminated; the destination is an `nrf_in_addr`, as AF_INET needs.
    let r = unsafe {
        sys::nrf_inet_pton(
            sys::NRF_AF_INET as c_int,
            host.as_ptr().cast::<c_char>(),
            core::ptr::addr_of_mut!(v4.sin_addr).cast::<c_void>(),
        )
    };
    if r == 1 {
        v4.sin_family = sys::NRF_AF_INET as sys::nrf_sa_family_t;
        v4.sin_port = port.to_be();
        return Some(Addr::V4(v4));
    }
    // SAFETY: as above.
    let mut v6: sys::nrf_sockaddr_in6 = unsafe { core::mem::zeroed() };
    // SAFETY: `host` is NUL-terminated; the destination is an `nrf_in6_addr`, as AF_INET6 needs.
    let r = unsafe {
        sys::nrf_inet_pton(
            sys::NRF_AF_INET6 as c_int,
            host.as_ptr().cast::<c_char>(),
            core::ptr::addr_of_mut!(v6.sin6_addr).cast::<c_void>(),
        )
    };
    if r == 1 {
        v6.sin6_family = sys::NRF_AF_INET6 as sys::nrf_sa_family_t;
        v6.sin6_port = port.to_be();
        return Some(Addr::V6(v6));
    }
    None
}

/// Resolves `host` (an address literal, or a name through the modem's DNS: `nrf_getaddrinfo`,
/// which blocks until the modem answers) for sockets of `socktype` (`NRF_SOCK_DGRAM` or
/// `NRF_SOCK_STREAM`). Also returns whether `host` was a name.
pub fn resolve(host: &str, port: u16, socktype: u32) -> Result<(Addr, bool), ConnectError> {
    let mut buf = [0u8; 254];
    let host = c_host(host, &mut buf).ok_or(ConnectError::NoRoute)?;
    if let Some(a) = literal(host, port) {
        return Ok((a, false));
    }
    // SAFETY: all-zero is a valid `nrf_addrinfo` (null pointers, zero integers).
    let mut hints: sys::nrf_addrinfo = unsafe { core::mem::zeroed() };
    hints.ai_family = sys::NRF_AF_UNSPEC as c_int;
    hints.ai_socktype = socktype as c_int;
    let mut res: *mut sys::nrf_addrinfo = core::ptr::null_mut();
    // SAFETY: `host` is NUL-terminated; `hints` and `res` are valid for the call; on success
    // `res` owns a list that is freed below with nrf_freeaddrinfo.
    let r =
        unsafe { sys::nrf_getaddrinfo(host.as_ptr().cast(), core::ptr::null(), &hints, &mut res) };
    if r != 0 || res.is_null() {
        log::warn!("DNS: no address ({})", r);
        return Err(ConnectError::NoRoute);
    }
    // SAFETY: `res` is the non-null list libmodem returned; `ai_addr` points to a sockaddr of
    // the entry's family and `ai_addrlen` bytes (read only after checking the family).
    let addr = unsafe {
        let ai = &*res;
        let family = ai.ai_family;
        let a = if ai.ai_addr.is_null() {
            None
        } else if family == sys::NRF_AF_INET as c_int {
            let mut a = core::ptr::read_unaligned(ai.ai_addr.cast::<sys::nrf_sockaddr_in>());
            a.sin_port = port.to_be();
            Some(Addr::V4(a))
        } else if family == sys::NRF_AF_INET6 as c_int {
            let mut a = core::ptr::read_unaligned(ai.ai_addr.cast::<sys::nrf_sockaddr_in6>());
            a.sin6_port = port.to_be();
            Some(Addr::V6(a))
        } else {
            None
        };
        sys::nrf_freeaddrinfo(res);
        a
    };
    addr.map(|a| (a, true)).ok_or(ConnectError::NoRoute)
}

/// What a failed socket call means for the carrier.
pub fn connect_error(err: i32) -> ConnectError {
    let route = [sys::NRF_ENETUNREACH, sys::NRF_EHOSTUNREACH, sys::NRF_ENETDOWN];
    if route.iter().any(|&e| e as i32 == err) {
        ConnectError::NoRoute
    } else {
        ConnectError::Handshake
    }
}

/// Sets a socket option from its bytes (integers in native byte order).
fn setopt(fd: c_int, level: u32, name: u32, value: &[u8]) -> Result<(), i32> {
    // SAFETY: `value` is valid for reads of its length, which is the length given.
    let r = unsafe {
        sys::nrf_setsockopt(
            fd,
            level as c_int,
            name as c_int,
            value.as_ptr().cast::<c_void>(),
            value.len() as sys::nrf_socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// How a started connect went.
pub enum Started {
    /// Connected already (UDP).
    Open(c_int),
    /// The DTLS handshake runs: wait for POLLOUT.
    Handshaking(c_int),
}

/// Opens a non-blocking datagram socket to `addr` and starts connecting: DTLS 1.2 with the PSK
/// of `sec_tag` (peer verification off: a PSK authenticates the server; `hostname` for SNI), or
/// plain UDP when `sec_tag` is `None`.
pub fn open(
    addr: &Addr,
    sec_tag: Option<u32>,
    hostname: Option<&str>,
) -> Result<Started, ConnectError> {
    let proto = if sec_tag.is_some() { sys::NRF_SPROTO_DTLS1v2 } else { sys::NRF_IPPROTO_UDP };
    // SAFETY: plain call with constant arguments.
    let fd =
        unsafe { sys::nrf_socket(addr.family(), sys::NRF_SOCK_DGRAM as c_int, proto as c_int) };
    if fd < 0 {
        let e = errno();
        log::warn!("socket: errno {}", e);
        return Err(connect_error(e));
    }
    match configure_and_connect(fd, addr, sec_tag, hostname) {
        Ok(started) => Ok(started),
        Err(e) => {
            close(fd);
            Err(connect_error(e))
        }
    }
}

fn configure_and_connect(
    fd: c_int,
    addr: &Addr,
    sec_tag: Option<u32>,
    hostname: Option<&str>,
) -> Result<Started, i32> {
    // SAFETY: `fd` is the socket just created.
    if unsafe { sys::nrf_fcntl(fd, sys::NRF_F_SETFL as c_int, sys::NRF_O_NONBLOCK as c_int) } != 0 {
        return Err(errno());
    }
    if let Some(tag) = sec_tag {
        let secure = sys::NRF_SOL_SECURE;
        let tag: sys::nrf_sec_tag_t = tag;
        setopt(fd, secure, sys::NRF_SO_SEC_TAG_LIST, &tag.to_ne_bytes())?;
        let verify = sys::NRF_SO_SEC_PEER_VERIFY_NONE as c_int;
        setopt(fd, secure, sys::NRF_SO_SEC_PEER_VERIFY, &verify.to_ne_bytes())?;
        let timeout = HANDSHAKE_TIMEOUT_S as c_int;
        setopt(fd, secure, sys::NRF_SO_SEC_DTLS_HANDSHAKE_TIMEO, &timeout.to_ne_bytes())?;
        if let Some(name) = hostname {
            setopt(fd, secure, sys::NRF_SO_SEC_HOSTNAME, name.as_bytes())?; // length given: no NUL
        }
    }
    let (ptr, len) = addr.raw();
    // SAFETY: `ptr` points to a sockaddr of `len` bytes that lives for the call.
    if unsafe { sys::nrf_connect(fd, ptr, len) } == 0 {
        return Ok(Started::Open(fd));
    }
    match errno() {
        e if e == sys::NRF_EINPROGRESS as i32 => Ok(Started::Handshaking(fd)),
        e => Err(e),
    }
}

/// Opens a non-blocking TCP socket to `addr` and starts connecting. With `tls = Some((tag,
/// host))`: TLS 1.2 that requires the server's certificate to chain to the CA in security tag
/// `tag` and to name `host` (`NRF_SO_SEC_HOSTNAME`). Returns libmodem's errno on failure.
pub fn open_stream(addr: &Addr, tls: Option<(u32, &str)>) -> Result<Started, i32> {
    let proto = if tls.is_some() { sys::NRF_SPROTO_TLS1v2 } else { sys::NRF_IPPROTO_TCP };
    // SAFETY: plain call with constant arguments.
    let fd =
        unsafe { sys::nrf_socket(addr.family(), sys::NRF_SOCK_STREAM as c_int, proto as c_int) };
    if fd < 0 {
        return Err(errno());
    }
    match stream_connect(fd, addr, tls) {
        Ok(started) => Ok(started),
        Err(e) => {
            close(fd);
            Err(e)
        }
    }
}

fn stream_connect(fd: c_int, addr: &Addr, tls: Option<(u32, &str)>) -> Result<Started, i32> {
    // SAFETY: `fd` is the socket just created.
    if unsafe { sys::nrf_fcntl(fd, sys::NRF_F_SETFL as c_int, sys::NRF_O_NONBLOCK as c_int) } != 0 {
        return Err(errno());
    }
    if let Some((tag, host)) = tls {
        let secure = sys::NRF_SOL_SECURE;
        let tag: sys::nrf_sec_tag_t = tag;
        setopt(fd, secure, sys::NRF_SO_SEC_TAG_LIST, &tag.to_ne_bytes())?;
        let verify = sys::NRF_SO_SEC_PEER_VERIFY_REQUIRED as c_int;
        setopt(fd, secure, sys::NRF_SO_SEC_PEER_VERIFY, &verify.to_ne_bytes())?;
        setopt(fd, secure, sys::NRF_SO_SEC_HOSTNAME, host.as_bytes())?; // length given: no NUL
    }
    let (ptr, len) = addr.raw();
    // SAFETY: `ptr` points to a sockaddr of `len` bytes that lives for the call.
    if unsafe { sys::nrf_connect(fd, ptr, len) } == 0 {
        return Ok(Started::Open(fd));
    }
    match errno() {
        e if e == sys::NRF_EINPROGRESS as i32 => Ok(Started::Handshaking(fd)),
        e => Err(e),
    }
}

/// What a stream socket had.
pub enum Stream {
    /// `n` bytes were written to the buffer.
    Data(usize),
    /// Nothing queued.
    Empty,
    /// The peer closed the connection.
    Closed,
    /// The connection broke (libmodem's errno: reset, link lost ...).
    Failed(i32),
}

/// Receives what a stream socket holds, up to `buf.len()` bytes, without waiting.
pub fn recv_stream(fd: c_int, buf: &mut [u8]) -> Stream {
    if buf.is_empty() {
        return Stream::Empty;
    }
    // SAFETY: `buf` is writable for its length.
    let n = unsafe {
        sys::nrf_recv(fd, buf.as_mut_ptr().cast(), buf.len(), sys::NRF_MSG_DONTWAIT as c_int)
    };
    match n {
        0 => Stream::Closed,
        n if n > 0 => Stream::Data(n as usize),
        _ => match errno() {
            e if e == sys::NRF_EAGAIN as i32 => Stream::Empty,
            e => Stream::Failed(e),
        },
    }
}

/// Writes as much of `data` as the socket takes without waiting; returns how much.
pub fn send_some(fd: c_int, data: &[u8]) -> Result<usize, i32> {
    if data.is_empty() {
        return Ok(0);
    }
    // SAFETY: `data` is readable for its length.
    let n = unsafe {
        sys::nrf_send(fd, data.as_ptr().cast(), data.len(), sys::NRF_MSG_DONTWAIT as c_int)
    };
    if n >= 0 {
        return Ok(n as usize);
    }
    match errno() {
        e if e == sys::NRF_EAGAIN as i32 => Ok(0),
        e => Err(e),
    }
}

/// How a handshake stands.
pub enum Handshake {
    Pending,
    Done,
    Failed(i32),
}

/// Polls a connecting socket without waiting.
pub fn handshake(fd: c_int) -> Handshake {
    let mut pfd = sys::nrf_pollfd { fd, events: sys::NRF_POLLOUT as i16, revents: 0 };
    // SAFETY: one valid pollfd; timeout 0 returns at once.
    let n = unsafe { sys::nrf_poll(&mut pfd, 1, 0) };
    if n < 0 {
        return Handshake::Failed(errno());
    }
    let bad = (sys::NRF_POLLERR | sys::NRF_POLLHUP | sys::NRF_POLLNVAL) as i16;
    if pfd.revents & bad != 0 {
        return Handshake::Failed(so_error(fd));
    }
    if pfd.revents & sys::NRF_POLLOUT as i16 != 0 {
        return Handshake::Done;
    }
    Handshake::Pending
}

/// The socket's pending error (`NRF_SO_ERROR`).
fn so_error(fd: c_int) -> i32 {
    let mut err: c_int = 0;
    let mut len = size_of::<c_int>() as sys::nrf_socklen_t;
    // SAFETY: `err` and `len` are valid for writes; `len` is the size of `err`.
    let r = unsafe {
        sys::nrf_getsockopt(
            fd,
            sys::NRF_SOL_SOCKET as c_int,
            sys::NRF_SO_ERROR as c_int,
            core::ptr::addr_of_mut!(err).cast::<c_void>(),
            &mut len,
        )
    };
    if r == 0 {
        err
    } else {
        errno()
    }
}

/// Receives one datagram into `buf` without waiting: `Ok(None)` when none is queued.
pub fn recv(fd: c_int, buf: &mut [u8]) -> Result<Option<usize>, i32> {
    // SAFETY: `buf` is writable for its length.
    let n = unsafe {
        sys::nrf_recv(fd, buf.as_mut_ptr().cast(), buf.len(), sys::NRF_MSG_DONTWAIT as c_int)
    };
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    match errno() {
        e if e == sys::NRF_EAGAIN as i32 => Ok(None),
        e => Err(e),
    }
}

/// Sends one datagram without waiting; a failure is a lost datagram.
pub fn send(fd: c_int, data: &[u8]) -> Result<(), i32> {
    // SAFETY: `data` is readable for its length.
    let n = unsafe {
        sys::nrf_send(fd, data.as_ptr().cast(), data.len(), sys::NRF_MSG_DONTWAIT as c_int)
    };
    if n < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

pub fn close(fd: c_int) {
    // SAFETY: `fd` is a socket this port opened and has not closed yet.
    let _ = unsafe { sys::nrf_close(fd) };
}
