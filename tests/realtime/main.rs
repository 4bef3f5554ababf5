//! The real-time tests: a daemon listening on a private PipeWire, spoken
//! to through a virtual microphone and heard back from the rooms' sinks.
//! A binary of its own, so nothing but another voice test runs beside them
//! (and those take turns, `common::voice::one_at_a_time`): on two cores a
//! neighbour would starve what is timed.

#[path = "../support/mod.rs"]
mod common;

mod everyday_skills_aloud;
mod messages_read_aloud;
mod satellites;
mod turns_seen_from_outside;
mod voice_loop_on_pipewire;
