//! What the application sees, with the numbers of the C interface (`lwm2m_carrier.h` 0.9.x).

/// Why a connection was deferred (`LWM2M_CARRIER_DEFERRED_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum DeferredReason {
    NoReason = 0,
    PdnActivate = 1,
    BootstrapNoRoute = 2,
    BootstrapConnect = 3,
    BootstrapSequence = 4,
    ServerNoRoute = 5,
    ServerConnect = 6,
    ServerRegistration = 7,
}

/// Error codes (`LWM2M_CARRIER_ERROR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ErrorCode {
    NoError = 0,
    ConnectFail = 1,
    DisconnectFail = 2,
    Bootstrap = 3,
    FotaPkg = 4,
    FotaProto = 5,
    FotaConn = 6,
    FotaConnLost = 7,
    FotaFail = 8,
}

/// An event for the application (`LWM2M_CARRIER_EVENT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierEvent {
    BsdlibInit,
    Connecting,
    Connected,
    Disconnecting,
    Disconnected,
    Bootstrapped,
    Ready,
    /// The connection failed; the library retries after `timeout_s` seconds.
    Deferred {
        reason: DeferredReason,
        timeout_s: i32,
    },
    FotaStart,
    /// The library wants to reboot; the application may postpone it.
    Reboot,
    Error {
        code: ErrorCode,
        value: i32,
    },
}

impl CarrierEvent {
    /// The `type` field of `lwm2m_carrier_event_t`.
    pub fn type_id(&self) -> u32 {
        match self {
            CarrierEvent::BsdlibInit => 1,
            CarrierEvent::Connecting => 2,
            CarrierEvent::Connected => 3,
            CarrierEvent::Disconnecting => 4,
            CarrierEvent::Disconnected => 5,
            CarrierEvent::Bootstrapped => 6,
            CarrierEvent::Ready => 7,
            CarrierEvent::Deferred { .. } => 8,
            CarrierEvent::FotaStart => 9,
            CarrierEvent::Reboot => 10,
            CarrierEvent::Error { .. } => 20,
        }
    }

    /// The C name, as the simulator prints it.
    pub fn name(&self) -> &'static str {
        match self {
            CarrierEvent::BsdlibInit => "LWM2M_CARRIER_EVENT_BSDLIB_INIT",
            CarrierEvent::Connecting => "LWM2M_CARRIER_EVENT_CONNECTING",
            CarrierEvent::Connected => "LWM2M_CARRIER_EVENT_CONNECTED",
            CarrierEvent::Disconnecting => "LWM2M_CARRIER_EVENT_DISCONNECTING",
            CarrierEvent::Disconnected => "LWM2M_CARRIER_EVENT_DISCONNECTED",
            CarrierEvent::Bootstrapped => "LWM2M_CARRIER_EVENT_BOOTSTRAPPED",
            CarrierEvent::Ready => "LWM2M_CARRIER_EVENT_READY",
            CarrierEvent::Deferred { .. } => "LWM2M_CARRIER_EVENT_DEFERRED",
            CarrierEvent::FotaStart => "LWM2M_CARRIER_EVENT_FOTA_START",
            CarrierEvent::Reboot => "LWM2M_CARRIER_EVENT_REBOOT",
            CarrierEvent::Error { .. } => "LWM2M_CARRIER_EVENT_ERROR",
        }
    }
}

impl DeferredReason {
    pub fn name(self) -> &'static str {
        match self {
            DeferredReason::NoReason => "LWM2M_CARRIER_DEFERRED_NO_REASON",
            DeferredReason::PdnActivate => "LWM2M_CARRIER_DEFERRED_PDN_ACTIVATE",
            DeferredReason::BootstrapNoRoute => "LWM2M_CARRIER_DEFERRED_BOOTSTRAP_NO_ROUTE",
            DeferredReason::BootstrapConnect => "LWM2M_CARRIER_DEFERRED_BOOTSTRAP_CONNECT",
            DeferredReason::BootstrapSequence => "LWM2M_CARRIER_DEFERRED_BOOTSTRAP_SEQUENCE",
            DeferredReason::ServerNoRoute => "LWM2M_CARRIER_DEFERRED_SERVER_NO_ROUTE",
            DeferredReason::ServerConnect => "LWM2M_CARRIER_DEFERRED_SERVER_CONNECT",
            DeferredReason::ServerRegistration => "LWM2M_CARRIER_DEFERRED_SERVER_REGISTRATION",
        }
    }
}

impl ErrorCode {
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::NoError => "LWM2M_CARRIER_ERROR_NO_ERROR",
            ErrorCode::ConnectFail => "LWM2M_CARRIER_ERROR_CONNECT_FAIL",
            ErrorCode::DisconnectFail => "LWM2M_CARRIER_ERROR_DISCONNECT_FAIL",
            ErrorCode::Bootstrap => "LWM2M_CARRIER_ERROR_BOOTSTRAP",
            ErrorCode::FotaPkg => "LWM2M_CARRIER_ERROR_FOTA_PKG",
            ErrorCode::FotaProto => "LWM2M_CARRIER_ERROR_FOTA_PROTO",
            ErrorCode::FotaConn => "LWM2M_CARRIER_ERROR_FOTA_CONN",
            ErrorCode::FotaConnLost => "LWM2M_CARRIER_ERROR_FOTA_CONN_LOST",
            ErrorCode::FotaFail => "LWM2M_CARRIER_ERROR_FOTA_FAIL",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_the_c_interface() {
        assert_eq!(CarrierEvent::BsdlibInit.type_id(), 1);
        assert_eq!(CarrierEvent::Ready.type_id(), 7);
        let deferred = CarrierEvent::Deferred { reason: DeferredReason::NoReason, timeout_s: 0 };
        assert_eq!(deferred.type_id(), 8);
        assert_eq!(CarrierEvent::Reboot.type_id(), 10);
        assert_eq!(CarrierEvent::Error { code: ErrorCode::NoError, value: 0 }.type_id(), 20);
        assert_eq!(DeferredReason::ServerRegistration as u32, 7);
        assert_eq!(ErrorCode::FotaFail as u32, 8);
    }
}
