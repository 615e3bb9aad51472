//! Requests from servers: dedup, Block1 reassembly, routing to the objects, replies.
//!
//! Every refusal is a CoAP code and leaves the objects untouched: the registry validates a whole
//! payload before applying any of it, and everything here checks before it changes state.

use lwm2m_coap::{content_format, opt, Block, Code, Instant, Message, MsgType};
use lwm2m_formats::Path;
use lwm2m_objects::{Caller, Ctx};

use crate::config::MAX_BLOCK1_PAYLOAD;
use crate::engine::Engine;
use crate::event::ConnId;
use crate::message::{self, Head};
use crate::observe::Observation;
use crate::session::Phase;

/// Options we understand. Any other critical option gets 4.02 (RFC 7252 §5.4.1).
const KNOWN_OPTIONS: &[u16] = &[
    opt::URI_HOST,
    opt::OBSERVE,
    opt::URI_PORT,
    opt::URI_PATH,
    opt::CONTENT_FORMAT,
    opt::URI_QUERY,
    opt::ACCEPT,
    opt::BLOCK2,
    opt::BLOCK1,
    opt::SIZE2,
    opt::SIZE1,
];

/// Reassembly of a Block1 transfer (RFC 7959 §2.5): one at a time, for the whole engine.
#[derive(Debug)]
pub struct Block1 {
    active: Option<Transfer>,
    buf: [u8; MAX_BLOCK1_PAYLOAD],
    len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transfer {
    conn: ConnId,
    code: Code,
    path: Path,
    content_format: Option<u16>,
}

impl Block1 {
    pub const fn new() -> Block1 {
        Block1 { active: None, buf: [0; MAX_BLOCK1_PAYLOAD], len: 0 }
    }
}

impl Default for Block1 {
    fn default() -> Self {
        Self::new()
    }
}

/// What a Block1 block means for the request.
enum Assembly {
    /// Not blockwise: use the message payload.
    Whole,
    /// More blocks to come: reply 2.31 Continue with this Block1 value.
    Continue(Block),
    /// Last block arrived: the payload is in the reassembly buffer.
    Complete(Block),
}

impl Engine {
    pub(crate) fn on_request(&mut self, now: Instant, i: usize, msg: &Message<'_>) {
        let Some(s) = self.sessions.get_mut(i) else { return };
        let conn = s.conn;
        let reused_id = s.reply_mid == Some(msg.mid) && s.reply_token != msg.token;
        if msg.mtype == MsgType::Con && self.dedup.seen(conn.0, msg.mid, now) && !reused_id {
            // Same request again: our reply was lost. Send the same reply, do not act twice.
            if s.reply_mid == Some(msg.mid) {
                s.reply_pending = true;
            }
            return;
        }
        let mut reply_head = Head {
            mtype: if msg.mtype == MsgType::Con { MsgType::Ack } else { MsgType::Non },
            code: Code::CONTENT,
            mid: if msg.mtype == MsgType::Con { msg.mid } else { self.mids.next() },
            token: &msg.token,
        };
        let len = match self.route(now, i, msg, &mut reply_head) {
            Ok(len) => len,
            Err(code) => {
                reply_head.code = code;
                let s = self.sessions.get_mut(i);
                s.map_or(0, |s| message::code_only(&mut s.reply.bytes, &reply_head))
            }
        };
        let Some(s) = self.sessions.get_mut(i) else { return };
        if len == 0 {
            return;
        }
        s.reply.len = len;
        s.reply_mid = (msg.mtype == MsgType::Con).then_some(msg.mid);
        s.reply_token = msg.token;
        s.reply_pending = true;
        // Every request from the bootstrap server restarts its timeout.
        if let Phase::BootstrapServing { .. } = s.phase {
            s.phase =
                Phase::BootstrapServing { deadline: now.add_ms(self.config.bootstrap_timeout_ms) };
        }
    }

    fn route(
        &mut self,
        now: Instant,
        i: usize,
        msg: &Message<'_>,
        head: &mut Head<'_>,
    ) -> Result<usize, Code> {
        if msg.unknown_critical_option(KNOWN_OPTIONS).is_some() {
            return Err(Code::BAD_OPTION);
        }
        let caller = self.caller(i).ok_or(Code::UNAUTHORIZED)?;

        // Bootstrap-Finish: POST /bs.
        if caller == Caller::Bootstrap && msg.code == Code::POST && is_bs_path(msg) {
            let bootstrap_serving = self.sessions.get(i).is_some_and(|s| {
                matches!(s.phase, Phase::BootstrapServing { .. } | Phase::BootstrapRequest)
            });
            if !bootstrap_serving {
                return Err(Code::METHOD_NOT_ALLOWED);
            }
            self.registry.bootstrap_finish_check()?;
            let s = self.sessions.get_mut(i).ok_or(Code::INTERNAL_SERVER_ERROR)?;
            s.finish_bootstrap_after_reply = true;
            head.code = Code::CHANGED;
            return self.code_reply(i, head, None, None);
        }

        // Matched by reference: moving the path out of its Result copies it.
        let parsed = Path::from_uri_path(msg.uri_path());
        let Ok(path) = &parsed else { return Err(Code::BAD_REQUEST) };
        let cf = msg.content_format().map_err(|_| Code::BAD_REQUEST)?;
        let conn = self.sessions.get(i).map(|s| s.conn).ok_or(Code::INTERNAL_SERVER_ERROR)?;

        // Block1: collect the blocks first, act once on the whole payload.
        let assembly = self.assemble_block1(conn, msg, path, cf)?;
        let block1 = match assembly {
            Assembly::Whole => None,
            Assembly::Continue(b) | Assembly::Complete(b) => Some(b),
        };
        if let Assembly::Continue(_) = assembly {
            head.code = Code::CONTINUE;
            return self.code_reply(i, head, None, block1);
        }

        let ctx = Ctx { caller, now };
        let (code, created) = self.dispatch(&ctx, conn, msg, path, cf, &assembly, head, i)?;
        if code == Code::CONTENT {
            // dispatch already wrote the reply.
            let s = self.sessions.get(i).ok_or(Code::INTERNAL_SERVER_ERROR)?;
            return Ok(s.reply.len);
        }
        // Create answers with the new instance's path (LwM2M 1.0 §5.4.5).
        let location = created.map(|instance| (path.object_id().unwrap_or(0), instance));
        head.code = code;
        self.code_reply(i, head, location, block1)
    }

    /// A reply without payload in session `i`'s reply buffer: `location` (object, instance) as
    /// Location-Path, `block1` echoed.
    fn code_reply(
        &mut self,
        i: usize,
        head: &Head<'_>,
        location: Option<(u16, u16)>,
        block1: Option<Block>,
    ) -> Result<usize, Code> {
        let s = self.sessions.get_mut(i).ok_or(Code::INTERNAL_SERVER_ERROR)?;
        message::code_reply(&mut s.reply.bytes, head, location, block1)
            .map_err(|_| Code::INTERNAL_SERVER_ERROR)
    }

    fn assemble_block1(
        &mut self,
        conn: ConnId,
        msg: &Message<'_>,
        path: &Path,
        cf: Option<u16>,
    ) -> Result<Assembly, Code> {
        let Some(block) = msg.block1().map_err(|_| Code::BAD_OPTION)? else {
            return Ok(Assembly::Whole);
        };
        let transfer = Transfer { conn, code: msg.code, path: *path, content_format: cf };
        let size = block.size();
        let offset = block.offset();
        let st = &mut self.block1;
        if block.num == 0 {
            st.active = Some(transfer);
            st.len = 0;
        } else if st.active.as_ref() != Some(&transfer) || offset != st.len {
            // Out of order or a different transfer (RFC 7959 §2.9.2).
            return Err(Code::REQUEST_ENTITY_INCOMPLETE);
        }
        if block.more && msg.payload.len() != size {
            st.active = None;
            return Err(Code::BAD_REQUEST);
        }
        let end = offset.checked_add(msg.payload.len()).ok_or(Code::REQUEST_ENTITY_TOO_LARGE)?;
        let Some(dst) = st.buf.get_mut(offset..end) else {
            st.active = None;
            return Err(Code::REQUEST_ENTITY_TOO_LARGE);
        };
        dst.copy_from_slice(msg.payload);
        st.len = end;
        if block.more {
            Ok(Assembly::Continue(block))
        } else {
            st.active = None;
            Ok(Assembly::Complete(block))
        }
    }

    /// Acts on a complete request. Returns the reply code (CONTENT means the reply is already
    /// written) and, for Create, the new instance id.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        ctx: &Ctx,
        conn: ConnId,
        msg: &Message<'_>,
        path: &Path,
        cf: Option<u16>,
        assembly: &Assembly,
        head: &mut Head<'_>,
        i: usize,
    ) -> Result<(Code, Option<u16>), Code> {
        let payload: &[u8] = match assembly {
            Assembly::Complete(_) => self.block1.buf.get(..self.block1.len).unwrap_or_default(),
            _ => msg.payload,
        };
        let accept = msg.accept().map_err(|_| Code::BAD_REQUEST)?;
        let bootstrap = ctx.caller == Caller::Bootstrap;
        match msg.code {
            Code::GET if accept == Some(content_format::LINK_FORMAT) => {
                // Discover (and Bootstrap-Discover).
                let short_id = match ctx.caller {
                    Caller::Server { short_id } => Some(short_id),
                    Caller::Bootstrap => None,
                };
                let attrs = DiscoverAttrs { store: &self.attrs, short_id };
                let s = self.sessions.get_mut(i).ok_or(Code::INTERNAL_SERVER_ERROR)?;
                head.code = Code::CONTENT;
                // In place through a reference: moving the builder out of its Result copies it.
                let mut built = head.builder(&mut s.reply.bytes);
                let b = built.as_mut().map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
                b.option_uint(opt::CONTENT_FORMAT, u32::from(content_format::LINK_FORMAT))
                    .map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
                let mut sink = lwm2m_formats::SliceSink::new(b.payload_space());
                self.registry.discover(ctx, path, &attrs, &mut sink)?;
                let n = sink.written().len();
                let len = built.and_then(|b| b.finish(n));
                s.reply.len = len.map_err(|_| Code::INTERNAL_SERVER_ERROR)?;
                Ok((Code::CONTENT, None))
            }
            Code::GET if !bootstrap => {
                let observe = msg.observe().map_err(|_| Code::BAD_OPTION)?;
                let block = msg.block2().map_err(|_| Code::BAD_OPTION)?;
                let mut seq = None;
                match observe {
                    Some(0) => {
                        // Render first: a path that does not read is not observed.
                        let (hash, value) = self.snapshot(ctx, path, accept)?;
                        let Caller::Server { short_id } = ctx.caller else {
                            return Err(Code::METHOD_NOT_ALLOWED);
                        };
                        seq = self.add_observation(
                            ctx.now,
                            Observation {
                                conn,
                                short_id,
                                token: msg.token,
                                path: *path,
                                accept,
                                seq: 0,
                                last_sent: ctx.now,
                                last_hash: hash,
                                last_value: value,
                                dirty: false,
                                pending: false,
                            },
                        );
                    }
                    Some(1) => self.cancel_observation(conn, &msg.token),
                    Some(_) => return Err(Code::BAD_OPTION),
                    None => {}
                }
                let szx = self.config.block_szx;
                let s = self.sessions.get_mut(i).ok_or(Code::INTERNAL_SERVER_ERROR)?;
                head.code = Code::CONTENT;
                let result = message::content(
                    &mut s.reply.bytes,
                    head,
                    &self.registry,
                    ctx,
                    path,
                    accept,
                    seq,
                    block,
                    szx,
                );
                match result {
                    Ok(len) => {
                        s.reply.len = len;
                        Ok((Code::CONTENT, None))
                    }
                    Err(code) => {
                        self.cancel_observation(conn, &msg.token);
                        Err(code)
                    }
                }
            }
            Code::PUT if !bootstrap && cf.is_none() && payload.is_empty() => {
                // Write-Attributes (LwM2M 1.0 §5.4.4): the path must exist.
                let Caller::Server { short_id } = ctx.caller else {
                    return Err(Code::METHOD_NOT_ALLOWED);
                };
                let mut count = lwm2m_formats::CountSink::new();
                self.registry.read(ctx, path, None, &mut count)?;
                self.attrs.write(short_id, path, msg.uri_query()).map_err(|_| Code::BAD_REQUEST)?;
                for o in self.observations.iter_mut() {
                    if o.short_id == short_id && o.overlaps(path) {
                        o.dirty = true;
                    }
                }
                Ok((Code::CHANGED, None))
            }
            Code::PUT => {
                if !bootstrap && path.len() < 2 {
                    return Err(Code::METHOD_NOT_ALLOWED);
                }
                self.registry.write(ctx, path, cf, payload, true)?;
                Ok((Code::CHANGED, None))
            }
            Code::POST if !bootstrap => match path.len() {
                3 => {
                    self.registry.execute(ctx, path, payload)?;
                    Ok((Code::CHANGED, None))
                }
                2 => {
                    self.registry.write(ctx, path, cf, payload, false)?;
                    Ok((Code::CHANGED, None))
                }
                1 => {
                    let instance = self.registry.create(ctx, path, cf, payload)?;
                    Ok((Code::CREATED, Some(instance)))
                }
                _ => Err(Code::METHOD_NOT_ALLOWED),
            },
            Code::DELETE => {
                self.registry.delete(ctx, path)?;
                Ok((Code::DELETED, None))
            }
            _ => Err(Code::METHOD_NOT_ALLOWED),
        }
    }
}

/// `POST /bs` is Bootstrap-Finish.
fn is_bs_path(msg: &Message<'_>) -> bool {
    let mut segs = msg.uri_path();
    segs.next() == Some(b"bs".as_slice()) && segs.next().is_none()
}

/// Attributes shown in Discover: those the asking server set on each path.
struct DiscoverAttrs<'a> {
    store: &'a crate::attributes::AttributeStore,
    short_id: Option<u16>,
}

impl lwm2m_objects::AttrSource for DiscoverAttrs<'_> {
    fn attrs(&self, path: &Path) -> Option<lwm2m_objects::Attrs> {
        self.store.on_path(self.short_id?, path)
    }
}
