#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lwm2m_carrier_fuzz::link_decode(data));
