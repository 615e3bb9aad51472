//! The modem side of the lwm2m-carrier Zephyr port.
//!
//! [`Modem`] is what the port's `wait` loop drives: the LTE link, key writes to security tags,
//! datagram sockets by connection id, and the device identity. Two implementations exist: the
//! nRF91 modem (in the port crate, through `nrf-modem`) and [`SimModem`] here: a simulated
//! modem whose "network" is a scripted bootstrap server and device-management server inside
//! the image ([`peer`]), so that the carrier loop runs to READY in QEMU.
#![no_std]

pub mod at;
pub mod peer;
pub mod sim;

use lwm2m_carrier::core_engine::carrier::fota::DfuSink;
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{Carrier, DeviceIdentity, Input, PortAction, RecordStore};

pub use sim::SimModem;

/// A modem as the Zephyr port sees it. Times are milliseconds of kernel uptime.
pub trait Modem {
    /// IMEI, MSISDN and home network, read once at start-up.
    fn identity(&mut self) -> DeviceIdentity;

    /// Starts `action` (link, keys, connections; never `Event` or `Reboot`, which the port
    /// handles). Results come back through `poll`.
    fn act<S: RecordStore>(&mut self, now_ms: u64, action: PortAction, carrier: &Carrier<S>);

    /// Sends a datagram on `conn`; a failure is a lost datagram.
    fn send(&mut self, now_ms: u64, conn: ConnId, datagram: &[u8]);

    /// An input that is due at `now_ms`, if any (a datagram goes to `buf`).
    fn poll(&mut self, now_ms: u64, buf: &mut [u8]) -> Option<Input>;

    /// When `poll` has something next, for modems that schedule their own results (the
    /// simulation); `None` when results only come with a wake-up from outside.
    fn poll_at(&self) -> Option<u64>;

    /// Opens the firmware download's TCP connection (TLS when `tls`) to `host:port`; the
    /// result (`Input::FotaConnected` or `FotaConnectFailed`) and then the server's bytes
    /// (`Input::FotaData`, `FotaClosed`) come through `poll`. `false`: this modem has no such
    /// transport (the default; the download then fails with FOTA_CONN).
    fn fota_connect(&mut self, _now_ms: u64, _host: &str, _port: u16, _tls: bool) -> bool {
        false
    }

    /// Writes on the firmware download's connection (the default has none: nothing to do).
    fn fota_send(&mut self, _now_ms: u64, _data: &[u8]) {}

    /// Drops the firmware download's connection, whatever its state.
    fn fota_close(&mut self) {}

    /// Where a downloaded image goes; `None` (the default): no firmware update on this modem.
    fn dfu(&mut self) -> Option<&mut dyn DfuSink> {
        None
    }
}
