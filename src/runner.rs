//! The one loop that ties the carrier to a port: feed inputs in, drain outputs, wait until the
//! next deadline. Every port uses it.

use lwm2m_carrier_core::carrier::fota::{ConnectErrorKind, FotaAction};
use lwm2m_carrier_core::carrier::{Carrier, CarrierEvent, PortAction};
use lwm2m_carrier_core::config::MAX_DATAGRAM;
use lwm2m_carrier_core::objects::Device;

use crate::port::{Input, Port};

/// The application's event handler. For REBOOT, a non-zero return postpones the reboot.
pub trait EventHandler {
    fn on_event(&mut self, event: &CarrierEvent) -> i32;
}

impl<F: FnMut(&CarrierEvent) -> i32> EventHandler for F {
    fn on_event(&mut self, event: &CarrierEvent) -> i32 {
        self(event)
    }
}

/// The carrier, its port and the application's handler.
#[derive(Debug)]
pub struct Runner<P: Port, H: EventHandler> {
    pub carrier: Carrier<P::Store>,
    pub port: P,
    pub handler: H,
    rx: [u8; MAX_DATAGRAM],
}

impl<P: Port, H: EventHandler> Runner<P, H> {
    #[inline(always)] // lets a port build the runner in its final place (no 10 KB temporary)
    pub fn new(carrier: Carrier<P::Store>, port: P, handler: H) -> Self {
        Runner { carrier, port, handler, rx: [0; MAX_DATAGRAM] }
    }

    /// `lwm2m_carrier_init`: runs until the link is up (CONNECTED) or its failure is deferred.
    pub fn init(&mut self) {
        let now = self.port.now();
        let stored = self.port.dfu().map_or(0, |d| d.offset());
        self.carrier.set_dfu_stored(stored);
        self.carrier.init(now);
        while !self.carrier.init_done() {
            self.step();
        }
        self.drain();
    }

    /// `lwm2m_carrier_run` without the `!`: runs until `stop` says so (tests, the simulator).
    pub fn run_until(&mut self, mut stop: impl FnMut(&Self) -> bool) {
        let now = self.port.now();
        self.carrier.run(now);
        self.drain();
        while !stop(self) {
            self.step();
        }
    }

    /// `lwm2m_carrier_run`: never returns.
    pub fn run(&mut self) -> ! {
        let now = self.port.now();
        self.carrier.run(now);
        loop {
            self.step();
        }
    }

    /// Changes the Device object (the application's setters), e.g.
    /// `runner.with_device(|d| d.battery_level_set(80))`. Observations and registration updates
    /// follow from what changed. Setters return `Err(SetError)` with `errno()` = -EINVAL,
    /// -ENODEV or -ENOMEM for values the object refuses, and change nothing then.
    pub fn with_device<R>(&mut self, f: impl FnOnce(&mut Device) -> R) -> R {
        let now = self.port.now();
        let r = self.carrier.with_registry(now, |registry| f(&mut registry.device));
        self.drain();
        r
    }

    /// Sends, acts and delivers until the carrier has nothing more to say.
    pub fn drain(&mut self) {
        loop {
            let now = self.port.now();
            let mut progressed = false;
            while let Some((conn, datagram)) = self.carrier.poll_transmit(now) {
                self.port.send(conn, datagram);
                progressed = true;
            }
            while let Some(action) = self.carrier.poll_fota_action() {
                progressed = true;
                let refused = match action {
                    FotaAction::Connect { host, port, tls } => {
                        !self.port.fota_connect(host, port, tls)
                    }
                    FotaAction::Send(data) => {
                        self.port.fota_send(data);
                        false
                    }
                    FotaAction::Close => {
                        self.port.fota_close();
                        false
                    }
                };
                if refused {
                    self.carrier.fota_connect_failed(now, ConnectErrorKind::Refused);
                }
            }
            while let Some(action) = self.carrier.poll_action(now) {
                progressed = true;
                match action {
                    PortAction::Event(event) => {
                        let answer = self.handler.on_event(&event);
                        if event == CarrierEvent::Reboot {
                            let now = self.port.now();
                            self.carrier.reboot_response(now, answer == 0);
                        }
                    }
                    other => self.port.act(other, &self.carrier),
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// One turn: drain, wait for one input or the deadline, feed it, drain.
    pub fn step(&mut self) {
        self.drain();
        let deadline = self.carrier.poll_at();
        let input = self.port.wait(deadline, &mut self.rx);
        let now = self.port.now();
        let c = &mut self.carrier;
        match input {
            Input::Datagram { conn, len } => {
                if let Some(d) = self.rx.get(..len) {
                    c.handle_datagram(now, conn, d);
                }
            }
            Input::LinkUp => c.link_up(now),
            Input::LinkFailed(e) => c.link_failed(now, e),
            Input::LinkDown => c.link_down(now),
            Input::LinkDownFailed(v) => c.link_down_failed(now, v),
            Input::KeyWritten { sec_tag, result } => c.key_written(now, sec_tag, result),
            Input::Connected(conn) => c.connected(now, conn),
            Input::ConnectFailed(conn, e) => c.connect_failed(now, conn, e),
            Input::FotaConnected => c.fota_connected(now),
            Input::FotaConnectFailed(kind) => c.fota_connect_failed(now, kind),
            Input::FotaData { len } => {
                if let (Some(d), Some(sink)) = (self.rx.get(..len), self.port.dfu()) {
                    c.fota_received(now, d, sink);
                }
            }
            Input::FotaClosed => c.fota_closed(now),
            Input::FirmwareApplied(result) => c.firmware_applied(now, result),
            Input::Timeout | Input::Wake => {}
        }
        c.handle_timeout(now);
        self.drain();
    }
}
