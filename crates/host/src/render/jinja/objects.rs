//! What Datasette's templates call: `urls.table(db, t)`, a display row's `row["col"]` and
//! `row.display("col")`, and a custom page's `custom_status`, `custom_header`,
//! `custom_redirect` and `raise_404`.

use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use crate::urls::tilde_encode;

/// Datasette's `urls`: links to the site's pages, under `base_url`.
#[derive(Debug)]
pub struct Urls {
    /// `base_url` without its last slash.
    pub base: String,
}

impl Object for Urls {
    fn call_method(
        self: &Arc<Self>,
        _state: &State,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let arg = |i: usize| -> Result<String, Error> {
            args.get(i).map(|v| v.to_string()).ok_or_else(|| {
                Error::new(
                    ErrorKind::MissingArgument,
                    format!("urls.{method} takes {} arguments", i + 1),
                )
            })
        };
        let base = &self.base;
        let path = match method {
            "instance" => format!("{base}/"),
            "path" => format!("{base}/{}", arg(0)?.trim_start_matches('/')),
            "database" => format!("{base}/{}", tilde_encode(&arg(0)?)),
            "table" | "query" => format!(
                "{base}/{}/{}",
                tilde_encode(&arg(0)?),
                tilde_encode(&arg(1)?)
            ),
            "row" => format!(
                "{base}/{}/{}/{}",
                tilde_encode(&arg(0)?),
                tilde_encode(&arg(1)?),
                arg(2)?
            ),
            "static" => format!("{base}/-/static/{}", arg(0)?),
            "logout" => format!("{base}/-/logout"),
            _ => {
                return Err(Error::new(
                    ErrorKind::UnknownMethod,
                    format!("urls has no method {method}"),
                ))
            }
        };
        Ok(Value::from(path))
    }
}

/// One cell of a display row: Datasette's `{column, value, raw, value_type}`, `value` being
/// the cell's HTML.
#[derive(Debug, Clone)]
pub struct DisplayCell {
    pub column: String,
    pub html: String,
    pub raw: serde_json::Value,
    pub value_type: &'static str,
}

/// A row of `display_rows`: iterated, its cells; `row["col"]`, the column's raw value;
/// `row.display("col")`, its HTML (links to other tables included).
#[derive(Debug)]
pub struct DisplayRow {
    pub cells: Vec<DisplayCell>,
}

impl DisplayRow {
    fn cell(&self, column: &str) -> Option<&DisplayCell> {
        self.cells.iter().find(|c| c.column == column)
    }
}

impl Object for DisplayRow {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(column) = key.as_str() {
            return self.cell(column).map(|c| Value::from_serialize(&c.raw));
        }
        let cell = self.cells.get(key.as_usize()?)?;
        Some(Value::from_iter([
            ("column", Value::from(cell.column.clone())),
            ("value", Value::from_safe_string(cell.html.clone())),
            ("raw", Value::from_serialize(&cell.raw)),
            ("value_type", Value::from(cell.value_type)),
        ]))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.cells.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match (method, args) {
            ("display", [column]) => Ok(self
                .cell(&column.to_string())
                .map(|c| Value::from_safe_string(c.html.clone()))
                .unwrap_or_default()),
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!(
                    "a row has no method {method} taking {} arguments",
                    args.len()
                ),
            )),
        }
    }
}

/// What a custom page asked of its answer while it rendered.
#[derive(Debug, Default)]
pub struct Reply {
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub redirect: Option<(String, u16)>,
    /// `raise_404(message)`: the page is not found.
    pub not_found: Option<String>,
}

/// The render's [`Reply`], kept in the context as `_reply`.
#[derive(Debug, Default)]
pub struct ReplySlot(pub Mutex<Reply>);

impl Object for ReplySlot {}

fn with_reply(state: &State, f: impl FnOnce(&mut Reply)) -> Result<(), Error> {
    let slot = state.lookup("_reply").ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            "only a custom page (pages/…) can change its answer",
        )
    })?;
    let slot = slot
        .downcast_object_ref::<ReplySlot>()
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "_reply is not the page's"))?;
    f(&mut slot.0.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(())
}

pub(super) fn add_functions(env: &mut Environment<'static>) {
    env.add_filter("to_css_class", |name: String| {
        crate::render::html::css_class(&name)
    });
    env.add_function("custom_status", |state: &State, code: u16| {
        if !(100..=599).contains(&code) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("custom_status({code}): not an HTTP status"),
            ));
        }
        with_reply(state, |r| r.status = Some(code)).map(|_| String::new())
    });
    env.add_function(
        "custom_header",
        |state: &State, name: String, value: String| {
            with_reply(state, |r| r.headers.push((name, value))).map(|_| String::new())
        },
    );
    env.add_function(
        "custom_redirect",
        |state: &State, location: String, code: Option<u16>| {
            let code = code.unwrap_or(302);
            if !(300..=399).contains(&code) {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("custom_redirect(…, {code}): not a redirect status"),
                ));
            }
            with_reply(state, |r| r.redirect = Some((location, code))).map(|_| String::new())
        },
    );
    env.add_function("raise_404", |state: &State, message: Option<String>| {
        let message = message.unwrap_or_else(|| "Not found".into());
        with_reply(state, |r| r.not_found = Some(message.clone()))?;
        // Ends the render: nothing more of the page is drawn.
        Err::<String, _>(Error::new(ErrorKind::InvalidOperation, message))
    });
}
