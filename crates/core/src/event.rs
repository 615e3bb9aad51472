//! What the engine tells its driver: actions to carry out and protocol events.

use lwm2m_coap::Code;

/// A connection slot. The port maps each to one (D)TLS/UDP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u8);

/// Why an exchange with a server did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The port could not open the connection (DTLS handshake, route).
    Connect,
    /// No answer after all retransmissions.
    Timeout,
    /// The server answered with an error code.
    Rejected(Code),
    /// The server did not follow the protocol (e.g. no Location-Path, no Bootstrap-Finish).
    Protocol,
}

/// Protocol-level events, for the carrier layer to turn into application events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Bootstrap-Finish was accepted; registration follows.
    Bootstrapped,
    /// The bootstrap exchange failed.
    BootstrapFailed(Failure),
    /// Registered with the server with this Short Server ID.
    Registered { short_id: u16 },
    /// A registration update succeeded.
    Updated { short_id: u16 },
    /// Registering or updating failed; the session is closed.
    RegistrationFailed { short_id: u16, failure: Failure },
    /// De-registered (on request or before a re-bootstrap).
    Deregistered { short_id: u16 },
    /// The server executed Reboot (/3/0/4).
    Reboot,
    /// The server executed Factory Reset (/3/0/5).
    FactoryReset,
    /// A server asked for a new bootstrap; the engine de-registers and bootstraps again.
    BootstrapRequested,
    /// The server disabled itself (/1/x/4) for `timeout_s` seconds.
    ServerDisabled { short_id: u16, timeout_s: u32 },
    /// A Package URI was written to /5/0/1 (empty = cancel).
    FirmwareUriWritten,
    /// The server executed Update (/5/0/2).
    FirmwareUpdate,
}

/// Something the port must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open `conn` to the server of Security instance `security_instance` (its URI and keys are
    /// in the Security object; the security tag is the carrier layer's choice).
    Connect { conn: ConnId, security_instance: u16 },
    /// Close `conn`.
    Close { conn: ConnId },
    /// Tell the layer above.
    Event(Event),
}
