//! Streamed exports (`_stream=on`): rows as CSV or newline-delimited JSON, encoded a chunk at
//! a time and sent as they come, so memory stays flat however many rows there are.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use tokio::sync::mpsc;

use super::csv;
use crate::db::Cell;

/// What a streamed export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// CSV, with its header line unless `_header=off`.
    Csv { header: bool },
    /// One JSON object a line (`_shape=array&_nl=on`); `non_finite` is `_json_infinity`.
    Ndjson { non_finite: bool },
}

/// Encodes rows of one export, counting bytes against `max_csv_mb`.
pub struct Encoder {
    encoding: Encoding,
    columns: Vec<String>,
    /// The most bytes the export may hold (`None`: no limit).
    limit: Option<usize>,
    written: usize,
    rows: usize,
}

impl Encoder {
    pub fn new(encoding: Encoding, columns: Vec<String>, limit: Option<usize>) -> Encoder {
        Encoder {
            encoding,
            columns,
            limit,
            written: 0,
            rows: 0,
        }
    }

    /// What comes before the rows: CSV's header line.
    pub fn start(&mut self) -> Bytes {
        let mut out = String::new();
        if self.encoding == (Encoding::Csv { header: true }) {
            csv::push_line(&mut out, &self.columns);
        }
        self.written += out.len();
        Bytes::from(out)
    }

    /// `rows` encoded, and whether the export may go on. Past the size limit the bytes end
    /// with Datasette's message instead of the rows that did not fit, and it may not.
    pub fn rows(&mut self, rows: &[Vec<Cell>]) -> (Bytes, bool) {
        let mut out = String::new();
        for row in rows {
            let before = out.len();
            if let Err(e) = self.push_row(&mut out, row) {
                out.truncate(before);
                out.push_str(&String::from_utf8_lossy(&self.failure(&e.to_string())));
                return (Bytes::from(out), false);
            }
            if let Some(limit) = self.limit {
                if self.written + out.len() > limit {
                    out.truncate(before);
                    out.push_str(&format!("CSV contains more than {limit} bytes"));
                    return (Bytes::from(out), false);
                }
            }
            self.rows += 1;
        }
        self.written += out.len();
        (Bytes::from(out), true)
    }

    /// A failure part-way: the message ends the export (its status has gone already).
    pub fn failure(&self, message: &str) -> Bytes {
        let separator = match self.encoding {
            Encoding::Ndjson { .. } if self.rows > 0 => "\n",
            _ => "",
        };
        Bytes::from(format!("{separator}{message}"))
    }

    /// One row onto `out`; a row whose JSON line would pass the answer limit is refused.
    fn push_row(&mut self, out: &mut String, row: &[Cell]) -> Result<(), super::RenderError> {
        match self.encoding {
            Encoding::Csv { .. } => csv::push_line(out, row.iter().map(Cell::to_plain_string)),
            Encoding::Ndjson { non_finite } => {
                // As `_nl=on` without streaming: lines between objects, none after the last.
                if self.rows > 0 || !out.is_empty() {
                    out.push('\n');
                }
                let forms = super::json::CellForms {
                    non_finite,
                    ..Default::default()
                };
                let object = super::json::RowObject {
                    columns: &self.columns,
                    row,
                    forms: &forms,
                };
                let line = super::json::to_vec(&object)?;
                out.push_str(&String::from_utf8_lossy(&line));
            }
        }
        Ok(())
    }
}

/// The response of an export whose bytes arrive on `chunks`; `download` names the file
/// (`_dl=1`).
pub fn response(
    encoding: Encoding,
    download: Option<&str>,
    chunks: mpsc::Receiver<Bytes>,
) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    match encoding {
        Encoding::Csv { .. } => csv::headers(&mut r, download),
        Encoding::Ndjson { .. } => {
            r.content_type("text/plain");
        }
    }
    r.streaming(Chunks(chunks))
}

/// A response body read from a channel: it ends when the sender is dropped.
pub struct Chunks(pub mpsc::Receiver<Bytes>);

impl futures_util::Stream for Chunks {
    type Item = Result<Bytes, actix_web::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: i64) -> Vec<Vec<Cell>> {
        (0..n)
            .map(|i| vec![Cell::Int(i), Cell::Text("x,y".into())])
            .collect()
    }

    #[test]
    fn csv_in_chunks_is_the_csv_of_the_whole() {
        let columns = vec!["id".to_string(), "t".to_string()];
        let mut e = Encoder::new(Encoding::Csv { header: true }, columns.clone(), None);
        let mut all = e.start().to_vec();
        for chunk in rows(5).chunks(2) {
            all.extend_from_slice(&e.rows(chunk).0);
        }
        assert_eq!(
            String::from_utf8(all).unwrap(),
            csv::to_csv(&columns, &rows(5), true).unwrap()
        );
    }

    #[test]
    fn ndjson_in_chunks_has_one_object_a_line() {
        let mut e = Encoder::new(
            Encoding::Ndjson { non_finite: false },
            vec!["id".into(), "t".into()],
            None,
        );
        let mut all = e.start().to_vec();
        for chunk in rows(3).chunks(2) {
            all.extend_from_slice(&e.rows(chunk).0);
        }
        assert_eq!(
            String::from_utf8(all).unwrap(),
            "{\"id\":0,\"t\":\"x,y\"}\n{\"id\":1,\"t\":\"x,y\"}\n{\"id\":2,\"t\":\"x,y\"}"
        );
    }

    #[test]
    fn the_size_limit_ends_the_export_with_a_message() {
        let mut e = Encoder::new(Encoding::Csv { header: false }, vec!["id".into()], Some(20));
        let (first, go_on) = e.rows(&[vec![Cell::Int(1)], vec![Cell::Int(2)]]);
        assert_eq!((&first[..], go_on), (&b"1\r\n2\r\n"[..], true));
        let (last, go_on) = e.rows(&rows(10));
        assert!(!go_on);
        let text = String::from_utf8(last.to_vec()).unwrap();
        assert!(text.ends_with("CSV contains more than 20 bytes"), "{text}");
        assert!(6 + text.len() - "CSV contains more than 20 bytes".len() <= 20);
    }
}
