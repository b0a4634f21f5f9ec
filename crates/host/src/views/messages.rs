//! Flash messages (Datasette's `add_message`): what a form's POST did, kept in the session
//! until the next HTML page shows them.

use actix_session::SessionExt;
use actix_web::{HttpMessage, HttpRequest};

const KEY: &str = "messages";

/// At most this many wait in the session cookie, the newest kept.
const MAX_WAITING: usize = 5;

pub use crate::render::html::Message;

/// Marks a request whose page showed messages: its answer is the visitor's alone.
pub struct Shown;

pub fn add(req: &HttpRequest, text: &str, kind: &str) {
    let session = req.get_session();
    let mut waiting: Vec<Message> = session.get(KEY).ok().flatten().unwrap_or_default();
    waiting.push(Message {
        text: text.chars().take(1000).collect(),
        kind: kind.to_string(),
    });
    let extra = waiting.len().saturating_sub(MAX_WAITING);
    waiting.drain(..extra);
    if let Err(e) = session.insert(KEY, waiting) {
        tracing::error!("cannot keep a message in the session: {e}");
    }
}

/// The messages waiting for this visitor, now shown: they leave the session.
pub fn take(req: &HttpRequest) -> Vec<Message> {
    let session = req.get_session();
    // Removed only when there: a removal marks the session changed, and every page would
    // then set a cookie.
    let waiting: Vec<Message> = session.get(KEY).ok().flatten().unwrap_or_default();
    if !waiting.is_empty() {
        session.remove(KEY);
        req.extensions_mut().insert(Shown);
    }
    waiting
}
