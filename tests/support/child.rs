//! Child processes that tests start (watchers, daemons, PipeWire's tools):
//! killed and reaped when dropped, so a failing test leaves nothing running,
//! and their output read line by line with a time limit instead of blocking
//! forever on a child that never says what the test waits for.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::Child;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running child, killed and reaped on drop.
pub struct Running(Child);

impl Running {
    pub fn new(child: Child) -> Self {
        Self(child)
    }

    /// The child's stdout as lines; panics if stdout was not piped.
    pub fn stdout_lines(&mut self) -> Lines {
        Lines::new(self.0.stdout.take().expect("the child's stdout is piped"))
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Killing a child that already exited is harmless; wait reaps it.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's output, read on a thread of their own.
pub struct Lines {
    receiver: Receiver<String>,
}

impl Lines {
    pub fn new(reader: impl Read + Send + 'static) -> Self {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { receiver }
    }

    /// The next line, if one comes within `limit`; `None` also when the
    /// child closed its output.
    pub fn next_within(&self, limit: Duration) -> Option<String> {
        self.receiver.recv_timeout(limit).ok()
    }

    /// Skips lines until one satisfies `wanted` and returns it; fails the
    /// test, naming `what` and every line seen, after `limit` or when the
    /// child stops talking.
    pub fn wait_for(&self, what: &str, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("timed out after {limit:?} waiting for {what}; saw {seen:#?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the child closed its output before {what}; saw {seen:#?}")
                }
            }
        }
    }

    /// Every line that arrives within `window`: for checking that a child
    /// left alone says nothing.
    pub fn during(&self, window: Duration) -> Vec<String> {
        let deadline = Instant::now() + window;
        let mut lines = Vec::new();
        while let Ok(line) = self
            .receiver
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            lines.push(line);
        }
        lines
    }
}
