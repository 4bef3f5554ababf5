//! Stop sequences over streamed text.
//!
//! Text is released to the listener only once it can no longer be the start of
//! a stop sequence, so a stop string never leaks out half-spoken.

/// Outcome of adding text to the [`StopScanner`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Scan {
    /// This much new text is safe to emit.
    Emit(String),
    /// A stop sequence matched; emit this final text and stop.
    Stopped(String),
}

pub(crate) struct StopScanner {
    stops: Vec<String>,
    text: String,
    emitted: usize,
}

impl StopScanner {
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            text: String::new(),
            emitted: 0,
        }
    }

    pub(crate) fn push(&mut self, piece: &str) -> Scan {
        self.text.push_str(piece);
        let earliest = self
            .stops
            .iter()
            .filter_map(|s| self.text[self.emitted..].find(s.as_str()))
            .min();
        if let Some(at) = earliest {
            let end = self.emitted + at;
            let out = self.text[self.emitted..end].to_string();
            self.text.truncate(end);
            self.emitted = end;
            return Scan::Stopped(out);
        }
        let held = self.longest_stop_prefix_suffix();
        let safe = self.text.len() - held;
        let out = self.text[self.emitted..safe].to_string();
        self.emitted = safe;
        Scan::Emit(out)
    }

    /// Releases held-back text at the end of generation.
    pub(crate) fn flush(&mut self) -> String {
        let out = self.text[self.emitted..].to_string();
        self.emitted = self.text.len();
        out
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Length of the longest tail of the text that begins some stop sequence.
    fn longest_stop_prefix_suffix(&self) -> usize {
        let tail = &self.text[self.emitted..];
        self.stops
            .iter()
            .flat_map(|stop| {
                (1..stop.len().min(tail.len() + 1))
                    .rev()
                    .find(|&n| stop.is_char_boundary(n) && tail.ends_with(&stop[..n]))
            })
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_back_a_possible_stop_then_releases_it() {
        let mut s = StopScanner::new(&["\nUser:".to_string()]);
        assert_eq!(s.push("Hello"), Scan::Emit("Hello".into()));
        assert_eq!(s.push("\nUs"), Scan::Emit(String::new()));
        assert_eq!(s.push("ually"), Scan::Emit("\nUsually".into()));
    }

    #[test]
    fn stops_before_the_sequence() {
        let mut s = StopScanner::new(&["\nUser:".to_string()]);
        assert_eq!(s.push("Fine.\nUse"), Scan::Emit("Fine.".into()));
        assert_eq!(s.push("r: more"), Scan::Stopped(String::new()));
        assert_eq!(s.text(), "Fine.");
    }

    #[test]
    fn flush_returns_held_text() {
        let mut s = StopScanner::new(&["END".to_string()]);
        assert_eq!(s.push("the EN"), Scan::Emit("the ".into()));
        assert_eq!(s.flush(), "EN");
    }
}
