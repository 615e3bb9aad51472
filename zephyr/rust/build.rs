//! Kconfig booleans as cfgs (CONFIG_LWM2M_CARRIER_SIMULATED_MODEM, ...): only inside a Zephyr
//! build, where zephyr-build reads the build's .config.
fn main() {
    zephyr_build::export_kconfig_bool_options();
}
