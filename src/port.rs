//! What a platform provides to the runner: time, the LTE modem, sockets and waiting. Storage is
//! the carrier's `RecordStore`, handed over at creation.

use lwm2m_carrier_core::carrier::fota::{ConnectErrorKind, DfuSink};
use lwm2m_carrier_core::carrier::{Carrier, ConnectError, LinkError, PortAction, RecordStore};
use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::ConnId;

/// The result of an action, or something that arrived, reported by `Port::wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A datagram of `len` bytes is in the buffer given to `wait`.
    Datagram {
        conn: ConnId,
        len: usize,
    },
    LinkUp,
    LinkFailed(LinkError),
    LinkDown,
    LinkDownFailed(i32),
    KeyWritten {
        sec_tag: u32,
        result: Result<(), i32>,
    },
    Connected(ConnId),
    ConnectFailed(ConnId, ConnectError),
    /// The firmware server's connection is open.
    FotaConnected,
    FotaConnectFailed(ConnectErrorKind),
    /// `len` bytes from the firmware server are in the buffer given to `wait`.
    FotaData {
        len: usize,
    },
    /// The firmware server closed the connection (or it broke).
    FotaClosed,
    /// Answer to `PortAction::FirmwareApply`.
    FirmwareApplied(Result<(), i32>),
    /// The deadline passed.
    Timeout,
    /// Woken by the application (a setter changed something).
    Wake,
}

/// A platform: the Zephyr/nRF91 port, the host port, the simulated port of the tests.
pub trait Port {
    type Store: RecordStore;

    /// Monotonic time.
    fn now(&mut self) -> Instant;

    /// Starts `action` (never `PortAction::Event`, which the runner delivers itself). Results
    /// come back later through `wait`. `carrier` answers questions about URIs, keys and APN.
    fn act(&mut self, action: PortAction, carrier: &Carrier<Self::Store>);

    /// Sends a datagram on an open connection; a failure is a lost datagram (CoAP retransmits).
    fn send(&mut self, conn: ConnId, datagram: &[u8]);

    /// Blocks until something happens or `deadline` passes. A datagram is written to `buf`.
    fn wait(&mut self, deadline: Option<Instant>, buf: &mut [u8]) -> Input;

    /// Where firmware images go (the modem's DFU area, a file). `None`: no firmware update on
    /// this port.
    fn dfu(&mut self) -> Option<&mut dyn DfuSink> {
        None
    }

    /// Opens a TCP (TLS when `tls`) connection to the firmware server; answer with
    /// `Input::FotaConnected` or `FotaConnectFailed`. Returns false when the port has no such
    /// transport (the download then fails with FOTA_CONN).
    fn fota_connect(&mut self, _host: &str, _port: u16, _tls: bool) -> bool {
        false
    }

    /// Writes on the firmware connection.
    fn fota_send(&mut self, _data: &[u8]) {}

    /// Drops the firmware connection.
    fn fota_close(&mut self) {}
}
