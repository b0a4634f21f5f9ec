//! Streamed exports (`_stream=on`, Datasette's `allow_csv_stream` and `max_csv_mb`): every row
//! of a table, view or query as CSV, or as newline-delimited JSON with `_shape=array&_nl=on`.
//!
//! A table or view is read a chunk at a time, each chunk its own statement within the SQL time
//! limit (keyset pagination for tables, offsets for views), the connection given back between
//! chunks, so a slow client holds no connection. A query has no key to page by: it is read
//! by one statement, the time limit renewed for each chunk, on a connection it holds while it
//! streams (fewer such streams than connections run at once; another is refused), and given
//! up when the client stops reading for [`STALL`]. No export streams longer than [`LONGEST`]
//! (both are every answer's, from [`crate::delivery`]).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use tokio::sync::mpsc;

use super::PageRequest;
use crate::config::Settings;
use crate::db::next_token::Keyset;
use crate::db::table_query::{Selection, TableQuery};
use crate::db::trace::Tracer;
use crate::db::{self as sqlite, Access, Cell, Database, DbError, Schema};
use crate::delivery::{send_in_time, LONGEST};
use crate::error::AppError;
use crate::render::stream::{self, Encoder, Encoding};
use crate::render::Format;

/// Rows read and sent at a time.
const CHUNK: usize = 1000;

/// Chunks waiting to be sent: a little ahead of the client, never the whole export.
const QUEUED: usize = 4;

/// An export a request asks for.
#[derive(Clone)]
pub struct Export {
    encoding: Encoding,
    /// `_dl=1`: the file's name.
    download: Option<String>,
    limit: Option<usize>,
}

impl Export {
    /// The export the request asks for (`None`: it does not stream), or why it cannot have it.
    /// `name` names the file of a download.
    pub fn requested(
        ctx: &PageRequest,
        settings: &Settings,
        name: &str,
    ) -> Result<Option<Export>, AppError> {
        if !ctx.flag("_stream") || ctx.renderer.is_some() {
            return Ok(None);
        }
        let bad = |m: &str| Err(AppError::BadRequest(m.into()));
        let encoding = match ctx.format {
            Format::Html | Format::Blob => return Ok(None),
            Format::Csv => Encoding::Csv {
                header: ctx.arg("_header") != Some("off"),
            },
            Format::Json if ctx.arg("_shape") == Some("array") && ctx.flag("_nl") => {
                Encoding::Ndjson {
                    non_finite: ctx.flag("_json_infinity"),
                }
            }
            Format::Json => return bad("_stream=on streams CSV, or JSON with _shape=array&_nl=on"),
        };
        if !settings.allow_csv_stream {
            return bad("CSV streaming is disabled");
        }
        if ctx.arg("_next").is_some_and(|n| !n.is_empty()) {
            return bad("_next not allowed for CSV streaming");
        }
        Ok(Some(Export {
            encoding,
            download: ctx.flag("_dl").then(|| name.to_string()),
            limit: (settings.max_csv_mb > 0).then(|| settings.max_csv_mb as usize * 1024 * 1024),
        }))
    }

    fn encoder(&self, columns: Vec<String>) -> Encoder {
        Encoder::new(self.encoding, columns, self.limit)
    }

    fn response(&self, chunks: mpsc::Receiver<Bytes>) -> HttpResponse {
        stream::response(self.encoding, self.download.as_deref(), chunks)
    }
}

/// What a table export selects: the page's query without its paging.
pub struct TableRows {
    pub schema: Arc<Schema>,
    pub table: String,
    pub selection: Selection,
}

/// Where the next chunk of a table or view starts.
#[derive(Clone)]
enum Start {
    Key(Option<Keyset>),
    Offset(u64),
}

impl TableRows {
    /// One chunk from `from`: its rows (cut to the columns shown) and where the next starts.
    fn chunk(
        &self,
        c: &sqlite::Conn,
        from: &Start,
    ) -> Result<(Vec<Vec<Cell>>, Option<Start>), DbError> {
        let t = self
            .schema
            .get(&self.table)
            .ok_or_else(|| DbError::Sql(format!("no such table: {}", self.table)))?;
        let (keyset, offset) = match from {
            Start::Key(k) => (k.clone(), 0),
            Start::Offset(o) => (None, *o),
        };
        let built = TableQuery {
            table: t,
            selection: &self.selection,
            keyset,
            offset,
            size: CHUNK,
        }
        .build();
        let cached = self.selection.wheres.is_empty();
        if !cached {
            c.check_request_sql(&built.sql)?;
        }
        let mut rows = sqlite::select(c, &built.sql, &built.params, CHUNK + 1, cached)?.rows;
        let next = (rows.len() > CHUNK).then(|| match from {
            Start::Offset(o) => Start::Offset(o + CHUNK as u64),
            Start::Key(_) => Start::Key(Some(Keyset::after(
                &rows[CHUNK - 1],
                built.sort_index,
                &built.key_indexes,
            ))),
        });
        // A NULL key (possible in a table keyed by a column that is not INTEGER PRIMARY
        // KEY) has no "after": say so rather than end the export as if it were complete.
        if let Some(Start::Key(Some(k))) = &next {
            if k.keys.iter().any(Cell::is_null) {
                return Err(DbError::Sql(
                    "a row with a NULL primary key ends the export: the rows after it cannot be paged".into(),
                ));
            }
        }
        rows.truncate(CHUNK);
        for r in &mut rows {
            r.truncate(self.selection.columns.len());
        }
        Ok((rows, next))
    }
}

/// Streams every row of a table or view. The first chunk is read before the answer starts,
/// so a bad request is still a 4xx; a failure later ends the export with its message.
pub async fn table(
    db: Arc<Database>,
    access: Arc<Access>,
    limit: Duration,
    rows: TableRows,
    export: Export,
) -> Result<HttpResponse, AppError> {
    let rows = Arc::new(rows);
    let is_view = rows.schema.get(&rows.table).is_some_and(|t| t.is_view);
    let start = if is_view {
        Start::Offset(0)
    } else {
        Start::Key(None)
    };
    let mut encoder = export.encoder(rows.selection.columns.clone());
    let read = move |from: Start| {
        let (db, access, rows) = (db.clone(), access.clone(), rows.clone());
        async move { db.run(limit, access, move |c| rows.chunk(c, &from)).await }
    };
    let (first, mut next) = read(start).await?;
    let (tx, rx) = mpsc::channel(QUEUED);
    let started = std::time::Instant::now();
    actix_web::rt::spawn(Tracer::carry(async move {
        let send = |bytes: Bytes| {
            let tx = tx.clone();
            async move { send_in_time(&tx, bytes).await }
        };
        let (bytes, mut go_on) = encoder.rows(&first);
        let mut sent = send(encoder.start()).await && send(bytes).await;
        while let (Some(from), true, true) = (next.take(), go_on, sent) {
            if started.elapsed() > LONGEST {
                let _ = send(encoder.failure(&too_long())).await;
                return;
            }
            let bytes = match read(from).await {
                Ok((rows, after)) => {
                    next = after;
                    let (bytes, more) = encoder.rows(&rows);
                    go_on = more;
                    bytes
                }
                Err(e) => {
                    tracing::warn!("a streamed export stopped: {e}");
                    go_on = false;
                    encoder.failure(&e.to_string())
                }
            };
            sent = send(bytes).await;
        }
    }));
    Ok(export.response(rx))
}

/// SQL from a request or a canned query, with its parameters' values.
pub struct QueryRows {
    pub sql: String,
    pub declared: Option<Vec<String>>,
    pub values: std::collections::HashMap<String, Cell>,
    /// SQL from the request: checked against the schema the actor sees first.
    pub from_request: bool,
}

/// Streams every row of a query, read by one statement on a connection held while it
/// streams. Errors before the first row are a 4xx as without streaming.
pub async fn query(
    db: Arc<Database>,
    access: Arc<Access>,
    limit: Duration,
    q: QueryRows,
    export: Export,
) -> Result<HttpResponse, AppError> {
    // A streamed query holds a connection: only so many at once, never all of them.
    let slot = db.stream_slot()?;
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUED);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), DbError>>();
    let out = Sender::new(tx);
    let for_thread = export.clone();
    actix_web::rt::spawn(Tracer::carry(async move {
        let result = db
            .run(limit, access, move |c| {
                stream_query(c, &q, limit, &for_thread, &out, ready_tx)
            })
            .await;
        drop(slot);
        if let Err(e) = result {
            tracing::debug!("a streamed query ended: {e}");
        }
    }));
    match ready_rx.await {
        Ok(Ok(())) => Ok(export.response(rx)),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(AppError::Internal(
            "the streamed query stopped before it began".into(),
        )),
    }
}

fn too_long() -> String {
    format!(
        "the export stopped after {} minutes: export less at a time",
        LONGEST.as_secs() / 60
    )
}

/// Sends chunks of a response body from a blocking thread (a streamed query), as
/// [`send_in_time`] does.
pub struct Sender {
    tx: mpsc::Sender<Bytes>,
    runtime: tokio::runtime::Handle,
}

impl Sender {
    /// Made on the async thread that answers the request, for use on a blocking one.
    pub fn new(tx: mpsc::Sender<Bytes>) -> Sender {
        Sender {
            tx,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    pub fn send(&self, bytes: Bytes) -> bool {
        self.runtime.block_on(send_in_time(&self.tx, bytes))
    }
}

/// Reads the query's rows a chunk at a time and sends each encoded; `ready` hears once the
/// first chunk was read (or why it could not be).
fn stream_query(
    c: &sqlite::Conn,
    q: &QueryRows,
    limit: Duration,
    export: &Export,
    out: &Sender,
    ready: tokio::sync::oneshot::Sender<Result<(), DbError>>,
) -> Result<(), DbError> {
    let mut ready = Some(ready);
    let mut encoder = export.encoder(vec![]);
    let started = std::time::Instant::now();
    let value = |name: &str| super::magic::parameter_value(&q.values, name, q.from_request);
    let checked = if q.from_request {
        c.check_request_sql(&q.sql)
    } else {
        Ok(())
    };
    let result = checked.and_then(|()| {
        sqlite::for_each_chunk(
            c,
            &q.sql,
            q.declared.clone(),
            value,
            CHUNK,
            |columns, rows| {
                if let Some(ready) = ready.take() {
                    encoder = export.encoder(columns.to_vec());
                    let _ = ready.send(Ok(()));
                    if !out.send(encoder.start()) {
                        return false;
                    }
                }
                let (bytes, go_on) = encoder.rows(&rows);
                let sent = out.send(bytes);
                // The client's reading time is not the query's: its limit starts after it.
                c.set_time_limit(limit);
                if started.elapsed() > LONGEST {
                    out.send(encoder.failure(&too_long()));
                    return false;
                }
                sent && go_on
            },
        )
    });
    match (result, ready) {
        (Err(e), Some(ready)) => {
            let _ = ready.send(Err(e));
            Ok(())
        }
        (Err(e), None) => {
            out.send(encoder.failure(&e.to_string()));
            Err(e)
        }
        (Ok(()), _) => Ok(()),
    }
}
