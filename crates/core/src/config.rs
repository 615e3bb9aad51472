//! Engine configuration. Everything the carrier layer decides (endpoint name, binding, timing)
//! arrives here; the engine itself makes no carrier-specific choices.

use heapless::String;
use lwm2m_coap::TransmissionParams;

/// Largest datagram the engine sends or accepts. 512-byte blocks plus headroom for the CoAP
/// header, token and options; the modem's DTLS MTU on nRF91 is larger than this.
pub const MAX_DATAGRAM: usize = 576;

/// Number of server sessions the engine can hold at once (the nRF91 modem offers two DTLS
/// sessions; bootstrap and management never run at the same time).
pub const MAX_SESSIONS: usize = 2;

/// Observations held at once, across servers.
pub const MAX_OBSERVATIONS: usize = 8;

/// Write-Attributes entries held at once, across servers.
pub const MAX_ATTRIBUTES: usize = 8;

/// Largest payload reassembled from Block1 writes: the largest writable value (a Security
/// instance: URI, identity and keys) fits; the Firmware Package is pull-only.
pub const MAX_BLOCK1_PAYLOAD: usize = 512;

/// Engine configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Endpoint client name, e.g. `urn:imei:490154203237518`.
    pub endpoint: String<64>,
    /// Binding sent at registration when the Server object holds none.
    pub default_binding: String<4>,
    /// CoAP transmission parameters (RFC 7252 §4.8 defaults).
    pub tx: TransmissionParams,
    /// How long to wait for Bootstrap-Finish after the Bootstrap-Request was acknowledged.
    pub bootstrap_timeout_ms: u64,
    /// Preferred Block2/Block1 size exponent (`16 << szx` bytes); 5 = 512 bytes.
    pub block_szx: u8,
    /// Send notifications confirmable. Carriers expect it: a lost CON notification is how the
    /// client learns the server is gone.
    pub confirmable_notifications: bool,
    /// Register right after Bootstrap-Finish. The carrier layer turns this off: it must write
    /// the new keys to the modem (link offline) before connecting to the servers.
    pub register_after_bootstrap: bool,
}

impl Config {
    /// A configuration with the RFC/OMA defaults and the given endpoint name.
    /// Returns `None` when the name does not fit.
    pub fn new(endpoint: &str) -> Option<Config> {
        let mut config = Config::with_defaults();
        config.endpoint.push_str(endpoint).ok()?;
        Some(config)
    }

    /// The defaults with an empty endpoint name (to be filled in before use).
    pub fn with_defaults() -> Config {
        let mut binding = String::new();
        let _ = binding.push('U');
        Config {
            endpoint: String::new(),
            default_binding: binding,
            tx: TransmissionParams::DEFAULT,
            bootstrap_timeout_ms: 247_000,
            block_szx: 5,
            confirmable_notifications: true,
            register_after_bootstrap: true,
        }
    }
}
