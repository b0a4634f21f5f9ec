//! `.blob`: one binary value of a row or of a query's results, downloaded as a file, as
//! Datasette serves it. A row's value is named by its column (`?_blob_column=`); a query's by
//! its column and the SHA-256 of the value (`&_blob_hash=`), so a link that no longer points
//! at the same bytes says so instead of giving other ones. The page's own checks (may the
//! actor see the row, run the query) have run before any of this.

use actix_web::HttpResponse;
use sha2::{Digest, Sha256};

use super::cells::css_class;
use super::PageRequest;
use crate::db::Cell;
use crate::error::AppError;
use crate::render::json::JsonRows;
use crate::urls;

const COLUMN: &str = "_blob_column";
const HASH: &str = "_blob_hash";

/// The download of the value `ctx` asks for among `rows`: of a row (`row_key`, its URL
/// segment) or a query's results.
pub fn download(
    ctx: &PageRequest,
    rows: &JsonRows,
    table: Option<&str>,
    row_key: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let bad = |m: String| Err(AppError::BadRequest(m));
    let Some(column) = ctx.arg(COLUMN) else {
        return bad(format!("?{COLUMN}= is required"));
    };
    let Some(index) = rows.columns.iter().position(|c| c == column) else {
        return bad(format!("{column} is not a valid column"));
    };
    let hash = ctx.arg(HASH);
    let value = match hash {
        Some(h) => rows
            .rows
            .iter()
            .map(|r| &r[index])
            .find(|v| sha256_hex(v) == h),
        None => rows.rows.first().map(|r| &r[index]),
    };
    let Some(value) = value else {
        return bad(match hash {
            Some(_) => {
                "Link has expired - the requested binary content has changed or could not be found."
                    .into()
            }
            None => "No row to download from".into(),
        });
    };
    let bytes = match value {
        Cell::Blob(b) => b.clone(),
        Cell::Null => vec![],
        other => other.to_plain_string().into_bytes(),
    };
    let mut name: Vec<String> = table.map(css_class).into_iter().collect();
    name.extend(row_key.map(str::to_string));
    name.push(css_class(column));
    name.extend(hash.map(|h| h.chars().take(6).collect()));
    // The row's key is tilde-encoded already; anything else stays out of the header.
    let filename: String = format!("{}.blob", name.join("-"))
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\'))
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/binary")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes))
}

/// The link to a row's value in `column`.
pub fn row_href(row_url: &str, column: &str) -> String {
    format!("{row_url}.blob?{COLUMN}={}", urls::quote_plus(column))
}

/// The link to one value of a query's results: this page's query string as it came (as
/// Datasette links it), its column and hash.
pub fn query_href(ctx: &PageRequest, page_url: &str, column: &str, value: &Cell) -> String {
    let raw = ctx.request.as_ref().map_or("", |r| r.query_string());
    let ours = [format!("{COLUMN}="), format!("{HASH}=")];
    let mut query: Vec<String> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !ours.iter().any(|o| p.starts_with(o.as_str())))
        .map(str::to_string)
        .collect();
    query.push(format!("{COLUMN}={}", urls::quote_plus(column)));
    query.push(format!("{HASH}={}", sha256_hex(value)));
    format!("{page_url}.blob?{}", query.join("&"))
}

/// Rows for CSV, which has no bytes: each binary value becomes the absolute URL that
/// downloads it (`href` gives it: the row and the column), as Datasette writes them.
pub fn csv_rows<'a>(
    ctx: &PageRequest,
    rows: &'a JsonRows,
    href: impl Fn(&[Cell], &str, &Cell) -> Option<String>,
) -> std::borrow::Cow<'a, [Vec<Cell>]> {
    let has_blob = rows
        .rows
        .iter()
        .flatten()
        .any(|c| matches!(c, Cell::Blob(_)));
    if !has_blob {
        return std::borrow::Cow::Borrowed(&rows.rows);
    }
    let linked =
        rows.rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&rows.columns)
                    .map(|(cell, column)| match cell {
                        Cell::Blob(_) => href(row, column, cell)
                            .map_or(Cell::Null, |h| Cell::Text(ctx.absolute(&h))),
                        other => other.clone(),
                    })
                    .collect()
            })
            .collect();
    std::borrow::Cow::Owned(linked)
}

/// A binary value as Datasette links it: `<Binary: N bytes>`, the size spelled out in a
/// tooltip from a kilobyte up.
pub fn link_html(href: &str, len: usize) -> String {
    let title = match len >= 1024 {
        true => format!(" title=\"{}\"", format_bytes(len as u64)),
        false => String::new(),
    };
    format!(
        "<a class=\"blob-download\" href=\"{}\"{title}>&lt;Binary:&nbsp;{len}&nbsp;byte{}&gt;</a>",
        crate::render::html::escape(href),
        if len == 1 { "" } else { "s" }
    )
}

/// A size as Datasette writes it: `812 bytes`, `1.5 KB`, `2.0 MB`.
pub fn format_bytes(len: u64) -> String {
    let mut size = len as f64;
    for unit in ["bytes", "KB", "MB", "GB"] {
        if size < 1024.0 {
            return match unit {
                "bytes" => format!("{len} bytes"),
                _ => format!("{size:.1} {unit}"),
            };
        }
        size /= 1024.0;
    }
    format!("{size:.1} TB")
}

fn sha256_hex(value: &Cell) -> String {
    let digest = match value {
        Cell::Blob(b) => Sha256::digest(b),
        other => Sha256::digest(other.to_plain_string().as_bytes()),
    };
    crate::urls::hex(&digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_links() {
        assert_eq!(format_bytes(7), "7 bytes");
        assert_eq!(format_bytes(2048), "2.0 KB");
        assert_eq!(
            link_html("/d/t/1.blob?_blob_column=data", 7),
            "<a class=\"blob-download\" href=\"/d/t/1.blob?_blob_column=data\">&lt;Binary:&nbsp;7&nbsp;bytes&gt;</a>"
        );
        assert!(link_html("/x", 4096).contains(" title=\"4.0 KB\""));
        assert_eq!(
            sha256_hex(&Cell::Blob(vec![0x15, 0x1c, 0x02, 0xc7, 0xad, 0x05, 0xfe])),
            "f3088978da8f9aea479ffc7f631370b968d2e855eeb172bea7f6c7a04262bb6d"
        );
    }
}
