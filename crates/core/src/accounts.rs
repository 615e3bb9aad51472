//! What the engine needs to know from the Security and Server objects: which servers to talk
//! to and with which registration parameters.

use heapless::{String, Vec};
use lwm2m_objects::Registry;

use crate::config::MAX_SESSIONS;

/// A management server the client registers with: a Security instance that is not the
/// bootstrap server, paired with the Server instance of the same Short Server ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub security_instance: u16,
    pub short_id: u16,
}

/// The management servers, in Security instance order, at most one per session.
pub fn servers(registry: &Registry) -> Vec<Account, MAX_SESSIONS> {
    let mut out = Vec::new();
    for sec in registry.security.iter().filter(|s| !s.bootstrap) {
        if registry.server.by_short_id(sec.short_server_id).is_some() {
            let acc = Account { security_instance: sec.id, short_id: sec.short_server_id };
            if out.push(acc).is_err() {
                break;
            }
        }
    }
    out
}

/// The Security instance of the bootstrap server, if any.
pub fn bootstrap_server(registry: &Registry) -> Option<u16> {
    registry.security.bootstrap_account().map(|s| s.id)
}

/// Registration lifetime for `short_id` (LwM2M default when the Server object has none).
pub fn lifetime_s(registry: &Registry, short_id: u16) -> u32 {
    registry
        .server
        .by_short_id(short_id)
        .map_or(lwm2m_objects::server::DEFAULT_LIFETIME_S, |s| s.lifetime_s)
}

/// Binding for `short_id`, or `default` when the Server object holds none.
pub fn binding(registry: &Registry, short_id: u16, default: &String<4>) -> String<4> {
    let mut out = String::new();
    match registry.server.by_short_id(short_id).map(|s| s.binding.as_str()) {
        Some(b) if !b.is_empty() => {
            let _ = out.push_str(b);
        }
        _ => out = default.clone(),
    }
    out
}

/// Default pmin/pmax of `short_id` (/1/x/2, /1/x/3).
pub fn default_periods(registry: &Registry, short_id: u16) -> (Option<u32>, Option<u32>) {
    registry
        .server
        .by_short_id(short_id)
        .map_or((None, None), |s| (s.default_pmin_s, s.default_pmax_s))
}

/// Disable Timeout of `short_id` (/1/x/5), seconds.
pub fn disable_timeout_s(registry: &Registry, short_id: u16) -> u32 {
    registry.server.by_short_id(short_id).map_or(86400, |s| s.disable_timeout())
}

/// The URI of Security instance `security_instance`.
pub fn uri(registry: &Registry, security_instance: u16) -> Option<&str> {
    registry.security.get(security_instance).map(|s| s.uri.as_str())
}

/// One management server account (Security 1 + Server 1, SSID 1, no security), for the fuzz
/// entry point and tests that start registered.
pub fn provision_for_tests(registry: &mut Registry) {
    let mut sec = lwm2m_objects::security::SecurityInstance::new(1);
    let _ = sec.set_uri("coap://server.invalid");
    sec.mode = lwm2m_objects::security::mode::NO_SEC;
    sec.short_server_id = 1;
    let _ = registry.security.put(sec);
    let mut srv = lwm2m_objects::server::ServerInstance::new(0);
    srv.short_server_id = 1;
    srv.lifetime_s = 300;
    let _ = registry.server.put(srv);
}
