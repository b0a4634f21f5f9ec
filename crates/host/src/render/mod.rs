//! Turns a page's data into the format its URL asks for.

pub mod csv;
pub mod html;
pub mod json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Csv,
}

impl Format {
    /// Splits `name.json` / `name.csv` into the name and its format.
    pub fn split(segment: &str) -> (&str, Format) {
        if let Some(s) = segment.strip_suffix(".json") {
            (s, Format::Json)
        } else if let Some(s) = segment.strip_suffix(".csv") {
            (s, Format::Csv)
        } else {
            (segment, Format::Html)
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "",
            Format::Json => ".json",
            Format::Csv => ".csv",
        }
    }
}
