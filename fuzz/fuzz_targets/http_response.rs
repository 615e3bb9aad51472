#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lwm2m_carrier_fuzz::http_response(data));
