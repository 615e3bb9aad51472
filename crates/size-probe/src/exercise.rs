//! One function per crate above the codecs (the codecs' own are in `codec`), each calling that
//! crate's public entry points on inputs hidden
//! behind `core::hint::black_box`, so that the optimiser can neither constant-fold the work nor
//! drop the code. Each function returns a value derived from the results for the same reason.
//!
//! Extend these as the crates grow: the report only counts what is reachable from here.
//! The functions are `#[inline(never)]` so that the code the optimiser inlines into them stays
//! attributable: `scripts/size-report` counts `codec::coap` under `lwm2m_coap`, `codec::formats`
//! under `lwm2m_formats`, `exercise::objects` under `lwm2m_objects` and `exercise::engine`
//! under `lwm2m_carrier_core`. Keep those names when extending.

#[cfg(feature = "objects")]
use core::hint::black_box;

/// A CON GET /3/0/0 with a token: exercises header, token and option decoding.
#[cfg(any(feature = "engine", feature = "codec-api"))]
pub(crate) const GET_REQUEST: [u8; 12] =
    [0x42, 0x01, 0x12, 0x34, 0xAB, 0xCD, 0xB1, b'3', 0x01, b'0', 0x01, b'0'];

/// The object registry (in a static): a Read of the Device object. Only used without the
/// engine, which owns the registry otherwise.
#[cfg(all(feature = "objects", not(feature = "engine")))]
#[inline(never)]
pub fn objects(registry: &mut lwm2m_objects::Registry) -> usize {
    use lwm2m_coap::Instant;
    use lwm2m_formats::{Path, Sink, SliceSink};
    use lwm2m_objects::{Caller, Ctx};

    let registry = black_box(registry);
    let ctx = Ctx { caller: Caller::Server { short_id: 1 }, now: Instant::from_millis(0) };
    let mut out = [0u8; 256];
    let mut sink = SliceSink::new(&mut out);
    let path = black_box(Path::instance(3, 0));
    let _ = registry.read(&ctx, &path, None, &mut sink);
    sink.len()
}

/// A fresh engine with factory-default objects.
#[cfg(all(feature = "engine", not(feature = "carrier")))]
#[inline(never)]
pub fn new_engine() -> lwm2m_carrier_core::Engine {
    use lwm2m_carrier_core::{Config, Engine};
    use lwm2m_objects::Registry;

    let config = match Config::new(black_box("urn:imei:000000000000000")) {
        Some(c) => c,
        None => panic!(),
    };
    Engine::new(config, Registry::new(), black_box(1))
}

/// The engine (in a static; it owns its transmit buffers): start, connect, one datagram in,
/// timers, and everything it wants to send or do drained. The inputs are opaque, so every state
/// the engine can reach from them stays in the image.
#[cfg(all(feature = "engine", not(feature = "carrier")))]
#[inline(never)]
pub fn engine(engine: &mut lwm2m_carrier_core::Engine) -> usize {
    use lwm2m_carrier_core::ConnId;
    use lwm2m_coap::Instant;

    let now = Instant::from_millis(black_box(1_000));
    let conn = ConnId(black_box(0));
    let mut n = 0usize;
    if black_box(true) {
        engine.start(now);
    }
    if black_box(true) {
        engine.handle_connected(now, conn);
    } else {
        engine.handle_connect_failed(now, conn);
    }
    engine.handle_datagram(now, conn, black_box(&GET_REQUEST[..]));
    engine.handle_timeout(now.add_ms(black_box(60_000)));
    while let Some((_, datagram)) = engine.poll_transmit(now) {
        n = n.wrapping_add(black_box(datagram).len());
    }
    while let Some(action) = engine.poll_action(now) {
        black_box(&action);
        n += 1;
    }
    n.wrapping_add(engine.poll_at().map_or(0, |t| t.as_millis() as usize))
}

/// The carrier's record store on the device is NVS, in flash, owned by the port. The probe's
/// store stands in for it: its one record is an opaque image in flash, writes and deletes go
/// to `black_box`. It keeps every path of the carrier's record handling (load, decode, seal,
/// save) reachable without putting a storage area in RAM.
#[cfg(feature = "carrier")]
#[derive(Debug)]
pub struct ProbeStore;

/// The record `ProbeStore` returns for every id: a sealed record header and a few fields.
#[cfg(feature = "carrier")]
static RECORD_IMAGE: [u8; 24] = [
    0x4C, 0x43, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00,
    0x00, 0x01, 0x02, 0x02, 0x00, 0x66, 0x00, 0x00,
];

#[cfg(feature = "carrier")]
impl lwm2m_carrier_core::carrier::RecordStore for ProbeStore {
    fn read(
        &mut self,
        id: u16,
        buf: &mut [u8],
    ) -> Result<usize, lwm2m_carrier_core::carrier::StoreError> {
        use lwm2m_carrier_core::carrier::StoreError;
        if black_box(id) == black_box(0) {
            return Err(StoreError::NotFound);
        }
        let record = black_box(&RECORD_IMAGE[..]);
        let dst = buf.get_mut(..record.len()).ok_or(StoreError::TooLarge)?;
        dst.copy_from_slice(record);
        Ok(record.len())
    }

    fn write(
        &mut self,
        id: u16,
        data: &[u8],
    ) -> Result<(), lwm2m_carrier_core::carrier::StoreError> {
        black_box((id, data));
        if black_box(false) {
            return Err(lwm2m_carrier_core::carrier::StoreError::Io);
        }
        Ok(())
    }

    fn delete(&mut self, id: u16) -> Result<(), lwm2m_carrier_core::carrier::StoreError> {
        black_box(id);
        Ok(())
    }
}

/// The carrier (lifecycle, records, retry schedule, identity) over the engine, as the Zephyr
/// build runs it: `lwm2m_carrier_init` with custom bootstrap settings. Named `new_engine` so
/// that `scripts/size-report` counts it under `lwm2m_carrier_core`.
#[cfg(feature = "carrier")]
#[inline(never)]
pub fn new_engine() -> lwm2m_carrier_core::carrier::Carrier<ProbeStore> {
    use lwm2m_carrier_core::carrier::{Carrier, CarrierConfig, DeviceIdentity};

    let mut config = CarrierConfig::default();
    config.bootstrap_uri = black_box("coaps://bootstrap.example:5684").try_into().ok();
    config.psk = heapless::Vec::from_slice(black_box(&[0x11u8; 16][..])).ok();
    config.apn = black_box("apn.example").try_into().ok();
    config.certification_mode = black_box(false);
    config.force_bootstrap = black_box(false);
    let imei = match black_box("490154203237518").try_into() {
        Ok(imei) => imei,
        Err(()) => panic!(),
    };
    let identity = DeviceIdentity {
        imei,
        msisdn: black_box("15551234567").try_into().ok(),
        home_network: black_box(Some((311, 480))),
    };
    match Carrier::new(&config, &identity, ProbeStore, black_box(1)) {
        Ok(c) => c,
        Err(_) => panic!(),
    }
}

/// Every input the port and the application give the carrier, on opaque values, and everything
/// it wants to send or do drained: init, run, link up/down (and their failures), key writes,
/// connections, one datagram, timers, the REBOOT answer and the Device setters of
/// `lwm2m_carrier.h`. Named `engine` so that `scripts/size-report` counts it under
/// `lwm2m_carrier_core`.
#[cfg(feature = "carrier")]
#[inline(never)]
pub fn engine(carrier: &mut lwm2m_carrier_core::carrier::Carrier<ProbeStore>) -> usize {
    use lwm2m_carrier_core::carrier::{ConnectError, LinkError, PortAction};
    use lwm2m_carrier_core::ConnId;
    use lwm2m_coap::Instant;

    let now = Instant::from_millis(black_box(1_000));
    let conn = ConnId(black_box(0));
    let mut n = 0usize;
    match black_box(0u8) {
        0 => carrier.init(now),
        1 => carrier.run(now),
        2 => carrier.link_up(now),
        3 => carrier.link_failed(now, LinkError::Attach(black_box(-1))),
        4 => carrier.link_failed(now, LinkError::PdnActivation),
        5 => carrier.link_down(now),
        6 => carrier.link_down_failed(now, black_box(-5)),
        7 => carrier.key_written(now, black_box(25), black_box(Ok(()))),
        8 => carrier.connected(now, conn),
        9 => carrier.connect_failed(now, conn, ConnectError::NoRoute),
        10 => carrier.connect_failed(now, conn, ConnectError::Handshake),
        11 => carrier.reboot_response(now, black_box(true)),
        _ => carrier.handle_datagram(now, conn, black_box(&GET_REQUEST[..])),
    }
    n += usize::from(carrier.init_done()) + usize::from(carrier.is_ready());
    n += usize::from(carrier.is_bootstrapped());
    let instance = black_box(1u16);
    n = n.wrapping_add(carrier.server_uri(instance).map_or(0, str::len));
    n = n.wrapping_add(carrier.key_material(instance).map_or(0, |(i, k)| i.len() + k.len()));
    n = n.wrapping_add(carrier.sec_tag(instance) as usize);
    n = n.wrapping_add(carrier.apn().map_or(0, str::len) + carrier.endpoint().len());
    let setter = black_box(0u8);
    let r = carrier.with_registry(now, |r| {
        let d = &mut r.device;
        match setter {
            0 => d.battery_level_set(black_box(80)),
            1 => d.battery_status_set(black_box(0)),
            2 => d.avail_power_sources_set(black_box(&[0, 2][..])),
            3 => d.power_source_voltage_set(black_box(0), black_box(3600)),
            4 => d.power_source_current_set(black_box(0), black_box(120)),
            5 => d.error_code_add(black_box(1)),
            6 => d.error_code_remove(black_box(1)),
            7 => d.memory_total_set(black_box(256)),
            8 => d.memory_free_set(black_box(128)),
            9 => d.utc_offset_set(black_box("+01:00")),
            10 => d.timezone_set(black_box("Europe/Oslo")),
            11 => d.device_type_set(black_box("Smart Device")),
            12 => d.hardware_version_set(black_box("1.0")),
            13 => d.software_version_set(black_box("1.0")),
            _ => {
                d.current_time_set(black_box(1_600_000_000), now);
                Ok(())
            }
        }
    });
    n += usize::from(r.is_ok());
    carrier.handle_timeout(now.add_ms(black_box(60_000)));
    while let Some((_, datagram)) = carrier.poll_transmit(now) {
        n = n.wrapping_add(black_box(datagram).len());
    }
    while let Some(action) = carrier.poll_action(now) {
        if let PortAction::Event(e) = action {
            n = n.wrapping_add(e.type_id() as usize);
        }
        black_box(&action);
        n += 1;
    }
    n.wrapping_add(carrier.poll_at().map_or(0, |t| t.as_millis() as usize))
}
