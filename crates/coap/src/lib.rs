//! CoAP for constrained LwM2M clients: wire codec (RFC 7252), Block options (RFC 7959),
//! Observe option values (RFC 7641) and the reliability primitives an engine needs
//! (time, seeded randomness, retransmission backoff, message ids, duplicate detection).
//!
//! No heap, no clock, no I/O: parsing borrows the datagram, building writes into caller memory,
//! and every timing decision takes `now` as an argument.
#![no_std]
#![forbid(unsafe_code)]

mod block;
mod builder;
mod code;
mod error;
mod msg;
pub mod opt;
mod reliability;
mod rng;
mod time;
mod token;

pub use block::Block;
pub use builder::MessageBuilder;
pub use code::{Code, MsgType};
pub use error::{BuildError, ParseError};
pub use msg::{fuzz_parse, CoapOption, Message, OptionIter};
pub use opt::content_format;
pub use reliability::{
    DedupCache, MessageIds, Retransmission, RetransmitDecision, TransmissionParams,
};
pub use rng::Rng;
pub use time::{div_rem_u64, Instant};
pub use token::Token;
