//! Kconfig booleans as cfgs (CONFIG_LWM2M_CARRIER): the sample also builds without the carrier,
//! which is how the size figures measure what the module adds.
fn main() {
    zephyr_build::export_kconfig_bool_options();
}
