//! Which line of a YAML file each key and list item is on, so a bad key is
//! named as `file:line`. serde_yaml keeps no positions in its `Value`;
//! yaml-rust2's event parser reports a marker for every node.

use std::collections::HashMap;

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Paths in serde_path_to_error's notation (`profiles.kueche.volume`,
/// `models[2].sha256`) → 1-based line.
#[derive(Debug, Default)]
pub struct LineMap(HashMap<String, usize>);

impl LineMap {
    /// Lines of every node of `text`; empty when the text is not YAML (the
    /// parse error itself carries the line then).
    pub fn of(text: &str) -> Self {
        let mut walker = Walker::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut walker, false).is_err() {
            return Self::default();
        }
        Self(walker.lines)
    }

    /// The line of `path`, or of the nearest enclosing node that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.0.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
}

impl Walker {
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.stack {
            match frame {
                Frame::Map { key: Some(key) } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Frame::Map { key: None } => {}
                Frame::Seq { index } => path.push_str(&format!("[{index}]")),
            }
        }
        path
    }

    /// A node (scalar or container) starts at `mark`, in the current frame.
    fn node_starts(&mut self, mark: Marker) {
        let path = self.path();
        self.lines.entry(path).or_insert(mark.line());
    }

    /// A node in the current frame is complete: move on to the next slot.
    fn node_ends(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, ..) => {
                if let Some(Frame::Map { key: key @ None }) = self.stack.last_mut() {
                    // A key: its value lives under it from now on.
                    *key = Some(text);
                    self.node_starts(mark);
                } else {
                    self.node_starts(mark);
                    self.node_ends();
                }
            }
            Event::Alias(_) => {
                self.node_starts(mark);
                self.node_ends();
            }
            Event::MappingStart(..) => {
                self.node_starts(mark);
                self.stack.push(Frame::Map { key: None });
            }
            Event::SequenceStart(..) => {
                self.node_starts(mark);
                self.stack.push(Frame::Seq { index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.node_ends();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_items_have_their_lines() {
        let text = "active: a\nprofiles:\n  a:\n    sink: x\n    volum: 1\nmodels:\n  - id: m\n    sha256: abc\n  - {id: n, url: u}\n";
        let lines = LineMap::of(text);
        assert_eq!(lines.line("active"), Some(1));
        assert_eq!(lines.line("profiles.a.volum"), Some(5));
        assert_eq!(lines.line("models[0].sha256"), Some(8));
        assert_eq!(lines.line("models[1].url"), Some(9));
        // Unknown deeper paths fall back to the nearest known node.
        assert_eq!(lines.line("profiles.a.sink.deeper"), Some(4));
    }
}
