//! Scripted, sans-IO LwM2M 1.0 servers for deterministic tests of the client engine.
//!
//! Bytes in, bytes out: no sockets, no clock. The test moves datagrams between the client
//! engine and these servers (optionally through a fault-injecting [`Link`]) and drives virtual
//! time itself. Everything on the server side is built on `coap-lite` and this crate's own
//! [`tlv`] and [`link`] code, never on the client's crates, so that a codec bug cannot hide
//! on both sides.
//!
//! # Pieces
//!
//! - [`ManagementServer`]: answers Register (2.01 + Location-Path `rd/<id>`), Update (2.04),
//!   De-register (2.02); can refuse registration/update with a chosen code; sends Read, Write,
//!   Execute, Discover, Write-Attributes, Create, Delete, Observe and Cancel-Observe requests,
//!   fetches Block2 responses and sends Block1 payloads by itself, collects notifications.
//! - [`BootstrapServer`]: answers Bootstrap-Request (2.04), then runs a script of
//!   [`BootstrapOp`]s one CON at a time (NSTART = 1) and records every response code; can also
//!   start without a request (server-initiated bootstrap).
//! - [`Endpoint`]: the CoAP machinery both servers share and dereference to: message ids and
//!   tokens, request queue, response matching, fault knobs ([`Endpoint::ignore_next_con`],
//!   [`Endpoint::set_separate_responses`], [`Endpoint::set_reset_unknown_notifications`]),
//!   the log of [`Received`] records, and the log of sent datagrams for byte-exact resends.
//! - [`Link`]: a one-way virtual link holding datagrams with per-datagram delivery times;
//!   seeded loss, duplication, jitter and reordering, plus deterministic `drop_next`,
//!   `duplicate_next`, `delay_next`, `drop_if`.
//! - [`tlv`], [`link`]: independent OMA-TLV encoder/decoder and link-format reader.
//! - [`Msg`] builds arbitrary datagrams (e.g. hand-made client messages); [`Received::parse`]
//!   parses any datagram.
//!
//! # When datagrams come out
//!
//! `handle(datagram)` returns what is caused by that datagram: ACKs and piggybacked responses,
//! the next Block1/Block2 datagram, the next scripted/queued request once the previous one is
//! answered. `poll_outgoing()` returns everything else that is ready, in particular requests
//! queued by `read()`/`write()`/... and the first operation of a bootstrap script.
//! `release_separate_responses()` and `retransmit_pending()` return their datagrams directly.
//!
//! # Example
//!
//! ```
//! use lwm2m_testkit::{cf, link, tlv, Code, ManagementServer, Msg, MsgType, Received};
//!
//! let mut server = ManagementServer::new();
//! // A hand-made Register request (a test would take it from the client engine instead).
//! let register = Msg::new(MsgType::Con, Code::POST, 0x10, &[0xAB])
//!     .path("/rd")
//!     .query("ep=node-1")
//!     .query("lt=300")
//!     .query("lwm2m=1.0")
//!     .query("b=U")
//!     .content_format(cf::LINK_FORMAT)
//!     .payload(b"</1/0>,</3/0>")
//!     .to_bytes();
//! let replies = server.handle(&register);
//! let ack = Received::parse(&replies[0]).unwrap();
//! assert_eq!((ack.mtype, ack.code, ack.mid), (MsgType::Ack, Code::CREATED, 0x10));
//! assert_eq!(ack.location_path, ["rd", "r1"]);
//! let reg = server.registration().unwrap();
//! assert_eq!(link::targets(&reg.links).unwrap(), ["/1/0", "/3/0"]);
//!
//! // A server-initiated Read, answered by a hand-made piggybacked response.
//! let read = server.read("/3/0/0", Some(cf::TLV));
//! let get = Received::parse(&server.poll_outgoing()[0]).unwrap();
//! assert_eq!(get.path_str(), "/3/0/0");
//! let answer = Msg::new(MsgType::Ack, Code::CONTENT, get.mid, &get.token)
//!     .content_format(cf::TLV)
//!     .payload(&tlv::encode_str(0, "ACME"))
//!     .to_bytes();
//! server.handle(&answer);
//! let resp = server.response(read).unwrap();
//! assert_eq!(resp.code, Code::CONTENT);
//! assert_eq!(tlv::decode(&resp.payload).unwrap()[0].as_str().unwrap(), "ACME");
//! ```

mod bootstrap;
mod endpoint;
mod management;
mod msg;
mod net;

pub mod link;
pub mod tlv;

pub use bootstrap::{
    BootstrapOp, BootstrapResult, BootstrapServer, SecurityInstance, ServerInstance,
};
pub use endpoint::{Endpoint, Notification, Reply, Request, RequestHandle, Response};
pub use management::{ManagementServer, Registration};
pub use msg::{cf, decode_uint, encode_uint, opt, szx_for, Block, Code, Msg, MsgType, Received};
pub use net::{Link, LinkStats, Prng};
