//! The carrier configuration from Kconfig (CONFIG_LWM2M_CARRIER_*).

use lwm2m_carrier::CarrierConfig;

/// Hex digits to bytes; `None` for an odd length or a non-hex digit.
pub fn hex_decode<const N: usize>(s: &str) -> Option<heapless::Vec<u8, N>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = heapless::Vec::new();
    for pair in b.chunks(2) {
        let byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        out.push(byte).ok()?;
    }
    Some(out)
}

/// The configuration of this build. With the simulated modem and no custom bootstrap URI,
/// the bootstrap server is the in-image peer.
#[allow(unused_mut)]
pub fn from_kconfig() -> CarrierConfig {
    let mut c = CarrierConfig::default();
    c.certification_mode = cfg!(CONFIG_LWM2M_CARRIER_CERTIFICATION_MODE);
    c.force_bootstrap = cfg!(CONFIG_LWM2M_CARRIER_FORCE_BOOTSTRAP);
    #[cfg(CONFIG_LWM2M_CARRIER_USE_CUSTOM_BOOTSTRAP_URI)]
    {
        let uri = zephyr::kconfig::CONFIG_LWM2M_CARRIER_CUSTOM_BOOTSTRAP_URI;
        if !uri.is_empty() {
            c.bootstrap_uri = heapless::String::try_from(uri).ok();
        }
    }
    #[cfg(CONFIG_LWM2M_CARRIER_SIMULATED_MODEM)]
    if c.bootstrap_uri.is_none() {
        c.bootstrap_uri = heapless::String::try_from(lwm2m_carrier_zephyr_modem::peer::BS_URI).ok();
    }
    #[cfg(CONFIG_LWM2M_CARRIER_USE_CUSTOM_BOOTSTRAP_PSK)]
    {
        let psk = zephyr::kconfig::CONFIG_LWM2M_CARRIER_CUSTOM_BOOTSTRAP_PSK;
        if !psk.is_empty() {
            c.psk = hex_decode(psk);
            if c.psk.is_none() {
                log::error!("CONFIG_LWM2M_CARRIER_CUSTOM_BOOTSTRAP_PSK is not hex; ignored");
            }
        }
    }
    let apn = zephyr::kconfig::CONFIG_LWM2M_CARRIER_CUSTOM_APN;
    if !apn.is_empty() {
        c.apn = heapless::String::try_from(apn).ok();
    }
    c
}
