//! The loopback platform: a simulated modem whose link comes up at once, records in memory,
//! and no servers (every connection attempt fails with "no route", so the carrier defers).
//! Enough to exercise the whole C interface on a host without a network.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heapless::String;
use lwm2m_carrier::{
    Carrier, CarrierConfig, ConnectError, DeviceIdentity, Input, Port, PortAction, RecordStore,
    StoreError,
};
use lwm2m_carrier_core::coap::Instant;
use lwm2m_carrier_core::ConnId;

use crate::platform::{Parts, Platform, PlatformError, Waiter, Waker};

/// IMEI of the simulated modem (15 digits, made up).
pub const IMEI: &str = "352656100000017";
/// Home network of the simulated SIM: AT&T (MCC 310, MNC 410), so the factory bootstrap
/// server is known and no MSISDN is needed.
pub const HOME_NETWORK: (u16, u16) = (310, 410);

/// Records survive a new `lwm2m_carrier_init` in the same process, like flash survives a reboot.
static RECORDS: Mutex<BTreeMap<u16, Vec<u8>>> = Mutex::new(BTreeMap::new());

fn records() -> MutexGuard<'static, BTreeMap<u16, Vec<u8>>> {
    RECORDS.lock().unwrap_or_else(|e| e.into_inner())
}

/// In-memory `RecordStore` (process-wide).
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStore;

impl MemoryStore {
    /// Erases every record (as erasing the flash would).
    pub fn erase_all() {
        records().clear();
    }
}

impl RecordStore for MemoryStore {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<usize, StoreError> {
        let map = records();
        let data = map.get(&id).ok_or(StoreError::NotFound)?;
        let dst = buf.get_mut(..data.len()).ok_or(StoreError::TooLarge)?;
        dst.copy_from_slice(data);
        Ok(data.len())
    }

    fn write(&mut self, id: u16, data: &[u8]) -> Result<(), StoreError> {
        records().insert(id, data.to_vec());
        Ok(())
    }

    fn delete(&mut self, id: u16) -> Result<(), StoreError> {
        records().remove(&id);
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Queue {
    inputs: VecDeque<Input>,
    woken: bool,
}

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, input: Input) {
        self.lock().inputs.push_back(input);
        self.ready.notify_all();
    }

    fn wake(&self) {
        self.lock().woken = true;
        self.ready.notify_all();
    }
}

fn elapsed(epoch: std::time::Instant) -> Instant {
    let ms = epoch.elapsed().as_millis();
    Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// The loopback port: actions complete at once, sent datagrams vanish.
#[derive(Debug)]
pub struct LoopbackPort {
    shared: Arc<Shared>,
    epoch: std::time::Instant,
}

impl Port for LoopbackPort {
    type Store = MemoryStore;

    fn now(&mut self) -> Instant {
        elapsed(self.epoch)
    }

    fn act(&mut self, action: PortAction, _carrier: &Carrier<MemoryStore>) {
        match action {
            PortAction::LinkUp => self.shared.push(Input::LinkUp),
            PortAction::LinkDown => self.shared.push(Input::LinkDown),
            PortAction::WriteKey { sec_tag, .. } => {
                self.shared.push(Input::KeyWritten { sec_tag, result: Ok(()) });
            }
            PortAction::Connect { conn, .. } => {
                // No servers behind the loopback link.
                self.shared.push(Input::ConnectFailed(conn, ConnectError::NoRoute));
            }
            PortAction::Close { .. } => {}
            PortAction::Reboot => log::warn!("loopback: reboot requested; nothing to reboot"),
            // No DFU area on the loopback platform: nothing can have been downloaded.
            PortAction::FirmwareApply => self.shared.push(Input::FirmwareApplied(Err(-95))),
            PortAction::Event(_) => {}
        }
    }

    fn send(&mut self, conn: ConnId, datagram: &[u8]) {
        log::trace!("loopback: {} bytes on {conn:?} dropped", datagram.len());
    }

    fn wait(&mut self, deadline: Option<Instant>, _buf: &mut [u8]) -> Input {
        let epoch = self.epoch;
        let mut q = self.shared.lock();
        loop {
            if let Some(input) = q.inputs.pop_front() {
                return input;
            }
            if q.woken {
                q.woken = false;
                return Input::Wake;
            }
            let timeout = match deadline {
                None => Duration::from_secs(3600),
                Some(d) => {
                    let left = d.saturating_since(elapsed(epoch));
                    if left == 0 {
                        return Input::Timeout;
                    }
                    Duration::from_millis(left)
                }
            };
            q = self.shared.ready.wait_timeout(q, timeout).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// The loopback port's readiness half.
#[derive(Debug)]
pub struct LoopbackWaiter {
    shared: Arc<Shared>,
}

impl Waiter for LoopbackWaiter {
    fn wait_ready(&mut self, timeout: Duration) {
        let q = self.shared.lock();
        let _ = self
            .shared
            .ready
            .wait_timeout_while(q, timeout, |q| q.inputs.is_empty() && !q.woken)
            .unwrap_or_else(|e| e.into_inner());
    }
}

/// The loopback platform.
#[derive(Debug)]
pub struct Loopback;

impl Platform for Loopback {
    type Port = LoopbackPort;
    type Waiter = LoopbackWaiter;

    fn make(config: &CarrierConfig) -> Result<Parts<Self>, PlatformError> {
        let mut imei = String::new();
        imei.push_str(IMEI).map_err(|_| PlatformError::Io)?;
        let identity = DeviceIdentity { imei, msisdn: None, home_network: Some(HOME_NETWORK) };
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()));
        let carrier =
            Carrier::new(config, &identity, MemoryStore, seed).map_err(PlatformError::Carrier)?;
        let shared = Arc::new(Shared::default());
        let port = LoopbackPort { shared: shared.clone(), epoch: std::time::Instant::now() };
        let waker_shared = shared.clone();
        Ok(Parts {
            carrier,
            port,
            waiter: LoopbackWaiter { shared },
            waker: Waker::new(move || waker_shared.wake()),
        })
    }
}
