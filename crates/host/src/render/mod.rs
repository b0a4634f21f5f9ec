//! Turns a page's data into the format its URL asks for.

pub mod assets;
pub mod budget;
pub mod csv;
pub mod html;
pub mod jinja;
pub mod json;
pub mod stream;
pub mod trace;

/// What can go wrong turning page data into bytes.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The request asked for a shape the data cannot take (a 400).
    #[error("{0}")]
    Unsupported(String),
    /// The data could not be encoded (a 500).
    #[error("{0}")]
    Encoding(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Csv,
    /// One binary value, downloaded (`.blob`).
    Blob,
}

impl Format {
    /// Splits `name.json` / `name.csv` into the name and its format.
    pub fn split(segment: &str) -> (&str, Format) {
        if let Some(s) = segment.strip_suffix(".json") {
            (s, Format::Json)
        } else if let Some(s) = segment.strip_suffix(".csv") {
            (s, Format::Csv)
        } else if let Some(s) = segment.strip_suffix(".blob") {
            (s, Format::Blob)
        } else {
            (segment, Format::Html)
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "",
            Format::Json => ".json",
            Format::Csv => ".csv",
            Format::Blob => ".blob",
        }
    }
}
