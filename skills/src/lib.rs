//! HausKI's everyday skills: timers, reminders and lists, and the sandbox
//! skills run in. This crate reads time phrases, keeps timers and reminders
//! in SQLite and knows when one is due, and runs WebAssembly skills (the
//! built-in lists skill, the messenger adapters and the owner's) with only
//! the capabilities each is granted, and keeps the encrypted vault of their
//! secrets; it knows nothing of audio or speech: the assistant core says and rings.

pub mod builtin;
pub mod duration;
pub mod host;
mod numbers;
pub mod policy;
pub mod schedule;
pub mod store;
pub mod vault;
pub mod when;

pub use numbers::leading_number;
pub use policy::SkillsPolicy;
