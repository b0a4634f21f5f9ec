//! Encoding under the answer limit ([`crate::limits`]).

use super::RenderError;
use crate::limits::answer_limit;

/// The refusal of an answer past the limit.
pub fn too_large() -> RenderError {
    RenderError::Unsupported(crate::limits::too_large_message())
}

/// A buffer that refuses to grow past the answer limit.
pub struct Capped {
    pub bytes: Vec<u8>,
    /// Set once a write was refused.
    pub overflowed: bool,
    /// The answer limit, read once: encoders write many small pieces.
    limit: usize,
}

impl Default for Capped {
    fn default() -> Self {
        Capped::with_capacity(0)
    }
}

impl Capped {
    /// An empty buffer with room for `capacity` bytes (never more than the limit).
    pub fn with_capacity(capacity: usize) -> Capped {
        let limit = answer_limit();
        Capped {
            bytes: Vec::with_capacity(capacity.min(limit)),
            overflowed: false,
            limit,
        }
    }

    #[inline]
    fn take(&mut self, data: &[u8]) -> bool {
        if self.overflowed || self.bytes.len() + data.len() > self.limit {
            self.overflowed = true;
            return false;
        }
        self.bytes.extend_from_slice(data);
        true
    }

    /// The bytes, or the refusal of an answer that grew past the limit.
    pub fn finish(self) -> Result<Vec<u8>, RenderError> {
        self.finish_after(Ok::<(), String>(()))
    }

    /// The bytes once an encoder has written them (`written`, its outcome): the refusal of an
    /// answer that grew past the limit, whatever the encoder then said of the refused write,
    /// else the encoder's own failure.
    pub fn finish_after<E: std::fmt::Display>(
        self,
        written: Result<(), E>,
    ) -> Result<Vec<u8>, RenderError> {
        if self.overflowed {
            return Err(too_large());
        }
        written.map_err(|e| RenderError::Encoding(e.to_string()))?;
        Ok(self.bytes)
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data).map(|()| data.len())
    }

    #[inline]
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.take(data) {
            true => Ok(()),
            false => Err(std::io::Error::other("the answer is too large")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        match self.take(s.as_bytes()) {
            true => Ok(()),
            false => Err(std::fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_refuses_what_passes_the_limit() {
        let mut c = Capped::default();
        let big = vec![b'x'; answer_limit()];
        assert!(std::io::Write::write_all(&mut c, &big).is_ok());
        assert!(std::io::Write::write_all(&mut c, b"y").is_err());
        assert!(c.overflowed);
        assert!(c.finish().unwrap_err().to_string().contains("_stream=on"));
    }
}
