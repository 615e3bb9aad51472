//! Kconfig booleans as cfgs: the stack report needs CONFIG_THREAD_ANALYZER, which native_sim
//! does not offer.
fn main() {
    zephyr_build::export_kconfig_bool_options();
}
