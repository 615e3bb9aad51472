//! Size probe: a bare-metal image that links the protocol-core crates and calls their public
//! entry points on opaque inputs, so that everything the engine would use is kept by the
//! linker. `scripts/size-report` builds it and measures the sections.
//!
//! It is never run; it only has to link.
#![no_std]
#![no_main]

#[cfg(feature = "codec-api")]
mod codec;
mod exercise;

#[cfg(feature = "objects")]
use core::mem::MaybeUninit;
use core::panic::PanicInfo;
use cortex_m_rt::entry;

/// What the `ENGINE` static holds: with `carrier`, the carrier, which owns the engine (as on the
/// device); without, the engine alone.
#[cfg(feature = "carrier")]
type EngineState = lwm2m_carrier_core::carrier::Carrier<exercise::ProbeStore>;
#[cfg(all(feature = "engine", not(feature = "carrier")))]
type EngineState = lwm2m_carrier_core::Engine;

#[entry]
fn main() -> ! {
    // Long-lived state lives in statics, as it would on a device, so that `ram_bytes` counts
    // it. `#[entry]` turns these `static mut`s into safe `&'static mut` references, and
    // `MaybeUninit` keeps them in `.bss` (an `Option` whose `None` is not all-zero bytes would
    // land in `.data` and put an image of itself in flash).
    #[cfg(feature = "engine")]
    static mut ENGINE: MaybeUninit<EngineState> = MaybeUninit::uninit();
    // Without the engine, the registry stands alone; with it, the engine owns the registry.
    #[cfg(all(feature = "objects", not(feature = "engine")))]
    static mut REGISTRY: MaybeUninit<lwm2m_objects::Registry> = MaybeUninit::uninit();

    #[cfg(all(feature = "objects", not(feature = "engine")))]
    let registry = REGISTRY.write(lwm2m_objects::Registry::new());
    #[cfg(feature = "engine")]
    let engine = ENGINE.write(exercise::new_engine());

    #[allow(unused_mut)] // nothing adds to it when no feature is on
    let mut acc = 0usize;
    loop {
        #[cfg(feature = "codec-api")]
        {
            acc = acc.wrapping_add(codec::coap());
            acc = acc.wrapping_add(codec::formats());
        }
        #[cfg(all(feature = "objects", not(feature = "engine")))]
        {
            acc = acc.wrapping_add(exercise::objects(registry));
        }
        #[cfg(feature = "engine")]
        {
            acc = acc.wrapping_add(exercise::engine(engine));
        }
        core::hint::black_box(acc);
    }
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    loop {
        core::hint::black_box(());
    }
}
