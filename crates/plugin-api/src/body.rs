//! Bodies: how a request's and a response's bytes cross the ABI (after the JSON message, not
//! inside it), and how a plugin reads a request's body as text, a form, JSON or a multipart
//! upload, from memory or from the file the host spooled it to.

use std::io::{BufRead, BufReader, Read};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::messages::{Request, Response};

/// A message as JSON, its body's bytes right after it.
#[doc(hidden)]
pub fn encode<T: Serialize>(message: &T, body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = serde_json::to_vec(message).map_err(|e| e.to_string())?;
    out.extend_from_slice(body);
    Ok(out)
}

/// The JSON message at the start of `input` and the bytes after it.
#[doc(hidden)]
pub fn decode<T: DeserializeOwned>(input: &[u8]) -> Result<(T, &[u8]), String> {
    let mut values = serde_json::Deserializer::from_slice(input).into_iter::<T>();
    let message = match values.next() {
        Some(Ok(message)) => message,
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("an empty message".into()),
    };
    Ok((message, &input[values.byte_offset()..]))
}

/// A framed request: its message and its body.
#[doc(hidden)]
pub fn decode_request(input: &[u8]) -> Result<Request, String> {
    let (mut request, body) = decode::<Request>(input)?;
    request.body = body.to_vec();
    Ok(request)
}

/// A framed response: its message and its body (or the text body its JSON gave).
#[doc(hidden)]
pub fn decode_response(input: &[u8]) -> Result<Response, String> {
    let (mut response, body) = decode::<Response>(input)?;
    response.body = match response.body_text.take() {
        Some(text) if body.is_empty() => text.into_bytes(),
        _ => body.to_vec(),
    };
    Ok(response)
}

impl Request {
    /// The body, from memory or from the file it was spooled to.
    pub fn body_reader(&self) -> Result<Box<dyn Read + '_>, String> {
        match &self.body_file {
            Some(path) => std::fs::File::open(path)
                .map(|f| Box::new(BufReader::new(f)) as Box<dyn Read>)
                .map_err(|e| format!("the spooled body could not be read: {e}")),
            None => Ok(Box::new(self.body.as_slice())),
        }
    }

    /// The whole body as UTF-8 text.
    pub fn text(&self) -> Result<String, String> {
        let mut text = String::new();
        self.body_reader()?
            .read_to_string(&mut text)
            .map_err(|_| "the body is not UTF-8 text".to_string())?;
        Ok(text)
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_reader(self.body_reader()?)
            .map_err(|e| format!("the body is not the JSON expected: {e}"))
    }

    /// The fields of a form post (`application/x-www-form-urlencoded`), in order.
    pub fn form(&self) -> Result<Vec<(String, String)>, String> {
        Ok(crate::urlencoded::parse(&self.text()?))
    }

    /// The parts of a `multipart/form-data` body (a form with a file input), read one after
    /// another as they come, never all in memory.
    pub fn multipart(&self) -> Result<Multipart<Box<dyn Read + '_>>, String> {
        let content_type = self.header("content-type").unwrap_or_default();
        let boundary =
            boundary(content_type).ok_or("the body is not multipart/form-data with a boundary")?;
        Ok(Multipart::new(self.body_reader()?, &boundary))
    }
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

/// The most a part's headers may be.
const MAX_PART_HEADERS: usize = 16 << 10;

/// A multipart body: [`Multipart::next_part`] gives each part's headers and a reader of its
/// content, which must be read (or dropped) before the next part.
pub struct Multipart<R: Read> {
    input: BufReader<R>,
    /// `\r\n--boundary`: what ends a part's content.
    delimiter: Vec<u8>,
    /// Bytes read ahead of the current part's content.
    pending: Vec<u8>,
    state: State,
}

#[derive(PartialEq)]
enum State {
    /// Before the first boundary.
    Start,
    /// In a part's content.
    Content,
    /// Right after a delimiter: a part's headers or the end follow.
    Between,
    Done,
}

/// One part: its name, file name and type, from its headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Part {
    pub name: String,
    /// Set for a file input's part.
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

impl<R: Read> Multipart<R> {
    fn new(input: R, boundary: &str) -> Multipart<R> {
        Multipart {
            input: BufReader::with_capacity(64 << 10, input),
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            pending: Vec::new(),
            state: State::Start,
        }
    }

    /// The next part's headers, and a reader of its content; `None` after the last.
    pub fn next_part(&mut self) -> Result<Option<(Part, PartReader<'_, R>)>, String> {
        if self.state == State::Start {
            // The first boundary comes without the CRLF before it.
            let mut first = Vec::new();
            self.input
                .read_until(b'\n', &mut first)
                .map_err(|e| e.to_string())?;
            if !first.starts_with(&self.delimiter[2..]) {
                return Err("the multipart body does not start with its boundary".into());
            }
            // What follows the boundary on its line is read as after any other delimiter.
            self.pending = first.split_off(self.delimiter.len() - 2);
            self.state = State::Between;
        }
        while self.state == State::Content {
            std::io::copy(&mut PartReader { multipart: self }, &mut std::io::sink())
                .map_err(|e| e.to_string())?;
        }
        if self.state == State::Done {
            return Ok(None);
        }
        let mut line = Vec::new();
        self.take_line(&mut line)?;
        if line.starts_with(b"--") {
            self.state = State::Done;
            return Ok(None);
        }
        let mut part = Part::default();
        let mut headers_read = 0;
        loop {
            let mut line = Vec::new();
            self.take_line(&mut line)?;
            headers_read += line.len();
            if headers_read > MAX_PART_HEADERS {
                return Err("a part of the multipart body has too many headers".into());
            }
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            read_header(line, &mut part);
        }
        self.state = State::Content;
        Ok(Some((part, PartReader { multipart: self })))
    }

    /// A line after a delimiter (what is left of the delimiter's line, or a header).
    fn take_line(&mut self, line: &mut Vec<u8>) -> Result<(), String> {
        if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            line.extend(self.pending.drain(..=end));
            return Ok(());
        }
        line.append(&mut self.pending);
        let read = self
            .input
            .read_until(b'\n', line)
            .map_err(|e| e.to_string())?;
        if read == 0 && line.is_empty() {
            return Err("the multipart body ends before its closing boundary".into());
        }
        Ok(())
    }
}

fn read_header(line: &str, part: &mut Part) {
    let Some((name, value)) = line.split_once(':') else {
        return;
    };
    let value = value.trim();
    if name.eq_ignore_ascii_case("content-type") {
        part.content_type = Some(value.to_string());
    } else if name.eq_ignore_ascii_case("content-disposition") {
        for param in value.split(';').skip(1) {
            let Some((k, v)) = param.trim().split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "name" => part.name = v,
                "filename" => part.filename = Some(v),
                _ => {}
            }
        }
    }
}

/// The content of one part, up to the next delimiter.
pub struct PartReader<'a, R: Read> {
    multipart: &'a mut Multipart<R>,
}

impl<R: Read> Read for PartReader<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let m = &mut *self.multipart;
        if m.state != State::Content || out.is_empty() {
            return Ok(0);
        }
        let d = m.delimiter.len();
        // Enough bytes ahead to tell whether a delimiter starts within what is handed out.
        while m.pending.len() < d + out.len().min(64 << 10) {
            let buf = m.input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let n = buf.len();
            m.pending.extend_from_slice(buf);
            m.input.consume(n);
        }
        if let Some(at) = find(&m.pending, &m.delimiter) {
            let n = at.min(out.len());
            out[..n].copy_from_slice(&m.pending[..n]);
            m.pending.drain(..n);
            if n == at {
                m.pending.drain(..d);
                m.state = State::Between;
            }
            return Ok(n);
        }
        if m.pending.len() < d {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the multipart body ends inside a part",
            ));
        }
        // Everything but the last `d - 1` bytes, which could start a delimiter.
        let n = (m.pending.len() - (d - 1)).min(out.len());
        out[..n].copy_from_slice(&m.pending[..n]);
        m.pending.drain(..n);
        Ok(n)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, content) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            let file = filename
                .map(|f| format!("; filename=\"{f}\""))
                .unwrap_or_default();
            out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n").as_bytes(),
            );
            if filename.is_some() {
                out.extend_from_slice(b"Content-Type: text/csv\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    fn request(body: Vec<u8>) -> Request {
        Request {
            headers: vec![(
                "content-type".into(),
                "multipart/form-data; boundary=XyZ".into(),
            )],
            body,
            ..Request::default()
        }
    }

    #[test]
    fn parts_are_read_in_order_with_their_content_intact() {
        // Content that holds most of a delimiter, CRLFs and binary bytes.
        let tricky: Vec<u8> = b"a,b\r\n1,2\r\n--Xy"
            .iter()
            .copied()
            .chain(0..=255u8)
            .collect();
        let r = request(body(&[
            ("csrftoken", None, b"tok"),
            ("csv", Some("data.csv"), &tricky),
            ("empty", None, b""),
        ]));
        let mut m = r.multipart().unwrap();
        let mut seen = Vec::new();
        while let Some((part, mut reader)) = m.next_part().unwrap() {
            let mut content = Vec::new();
            reader.read_to_end(&mut content).unwrap();
            seen.push((part, content));
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].0.name, "csrftoken");
        assert_eq!(seen[0].1, b"tok");
        assert_eq!(seen[1].0.filename.as_deref(), Some("data.csv"));
        assert_eq!(seen[1].0.content_type.as_deref(), Some("text/csv"));
        assert_eq!(seen[1].1, tricky);
        assert_eq!((seen[2].0.name.as_str(), seen[2].1.len()), ("empty", 0));
    }

    #[test]
    fn a_part_left_unread_is_skipped_and_a_truncated_body_is_an_error() {
        let big = vec![b'x'; 300_000];
        let r = request(body(&[("file", Some("f"), &big), ("after", None, b"yes")]));
        let mut m = r.multipart().unwrap();
        m.next_part().unwrap().unwrap();
        let (part, mut reader) = m.next_part().unwrap().unwrap();
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!((part.name.as_str(), rest.as_str()), ("after", "yes"));
        assert!(m.next_part().unwrap().is_none());

        let mut cut = body(&[("file", Some("f"), &big)]);
        cut.truncate(1000);
        let r = request(cut);
        let mut m = r.multipart().unwrap();
        let (_, mut reader) = m.next_part().unwrap().unwrap();
        assert!(reader.read_to_end(&mut Vec::new()).is_err());
        assert!(request(b"no boundary here".to_vec())
            .multipart()
            .unwrap()
            .next_part()
            .is_err());
    }

    #[test]
    fn messages_carry_their_bodies_after_the_json() {
        let response = Response::bytes(200, "image/png", vec![0, 159, 146, 150, b'{']);
        let framed = encode(&response, &response.body).unwrap();
        let back = decode_response(&framed).unwrap();
        assert_eq!(back.body, response.body);
        assert_eq!(back.header("content-type"), Some("image/png"));
        let request = Request {
            path: "/-/up".into(),
            body: b"}{ not json".to_vec(),
            ..Request::default()
        };
        let back = decode_request(&encode(&request, &request.body).unwrap()).unwrap();
        assert_eq!(
            (back.path.as_str(), back.body.as_slice()),
            ("/-/up", &b"}{ not json"[..])
        );
        // A plugin writing JSON by hand gives a text body in it.
        let hand = decode_response(br#"{"status": 201, "body": "made"}"#).unwrap();
        assert_eq!((hand.status, hand.text_body().as_ref()), (201, "made"));
    }
}
