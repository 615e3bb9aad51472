//! `Port` over Zephyr: kernel uptime, the modem, k_timer/k_sem waiting, `sys_reboot`.

use lwm2m_carrier::core_engine::carrier::fota::DfuSink;
use lwm2m_carrier::core_engine::coap::Instant;
use lwm2m_carrier::core_engine::ConnId;
use lwm2m_carrier::{Carrier, Input, Port, PortAction};
use lwm2m_carrier_zephyr_modem::Modem;

use crate::store::NvsStore;
use crate::{glue, wake};

/// Milliseconds since boot.
pub fn uptime_ms() -> u64 {
    zephyr::sys::uptime_get().max(0) as u64
}

/// The Zephyr port over a modem `M`.
#[derive(Debug)]
pub struct ZephyrPort<M: Modem> {
    pub modem: M,
    /// Reboot requested by the carrier (the application agreed). `reboot` decides what it
    /// does: `sys_reboot` in products, a flag in the tests.
    pub reboot_requested: bool,
    /// Reboot with `sys_reboot` when the carrier asks (false in the tests).
    pub reboot: bool,
    /// The longest `wait` sleeps before returning `Input::Wake`, for callers that have
    /// periodic work between steps (the C interface reads the application's time hooks).
    pub max_sleep_ms: Option<u64>,
}

impl<M: Modem> ZephyrPort<M> {
    pub fn new(modem: M) -> Self {
        ZephyrPort { modem, reboot_requested: false, reboot: true, max_sleep_ms: None }
    }
}

impl<M: Modem> Port for ZephyrPort<M> {
    type Store = NvsStore;

    fn now(&mut self) -> Instant {
        Instant::from_millis(uptime_ms())
    }

    fn act(&mut self, action: PortAction, carrier: &Carrier<NvsStore>) {
        match action {
            PortAction::Reboot => {
                self.reboot_requested = true;
                if self.reboot {
                    glue::reboot();
                }
            }
            other => self.modem.act(uptime_ms(), other, carrier),
        }
    }

    fn send(&mut self, conn: ConnId, datagram: &[u8]) {
        self.modem.send(uptime_ms(), conn, datagram);
    }

    fn dfu(&mut self) -> Option<&mut dyn DfuSink> {
        self.modem.dfu()
    }

    fn fota_connect(&mut self, host: &str, port: u16, tls: bool) -> bool {
        self.modem.fota_connect(uptime_ms(), host, port, tls)
    }

    fn fota_send(&mut self, data: &[u8]) {
        self.modem.fota_send(uptime_ms(), data);
    }

    fn fota_close(&mut self) {
        self.modem.fota_close();
    }

    fn wait(&mut self, deadline: Option<Instant>, buf: &mut [u8]) -> Input {
        let deadline = deadline.map(Instant::as_millis);
        let give_up = self.max_sleep_ms.map(|ms| uptime_ms().saturating_add(ms));
        loop {
            let now = uptime_ms();
            if let Some(input) = self.modem.poll(now, buf) {
                return input;
            }
            if wake::take_app_wake() {
                return Input::Wake;
            }
            if deadline.is_some_and(|d| d <= now) {
                return Input::Timeout;
            }
            if give_up.is_some_and(|t| t <= now) {
                return Input::Wake;
            }
            let next = [deadline, self.modem.poll_at(), give_up].into_iter().flatten().min();
            wake::sleep(next.map(|t| t.saturating_sub(now)));
        }
    }
}
