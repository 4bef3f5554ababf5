//! The sinks this PipeWire has and which one is the default, read from the
//! registry and the session manager's `default` metadata: so a person can
//! see what a profile's `sink` may name, and where it will really play.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use pipewire as pw;
use pw::metadata::{Metadata, MetadataListener};
use pw::types::ObjectType;

use super::session::Session;
use crate::AudioError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkInfo {
    /// `node.name`: what a profile's `sink` names.
    pub name: String,
    /// `node.description`: what a desktop's sound settings show.
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sinks {
    pub sinks: Vec<SinkInfo>,
    /// The default sink's name, when the session manager has chosen one.
    pub default: Option<String>,
}

impl Sinks {
    /// Where a profile naming `sink` plays: `default` and a sink this
    /// PipeWire lacks both go to the default sink.
    pub fn resolve(&self, sink: &str) -> Option<String> {
        if self.sinks.iter().any(|s| s.name == sink) {
            Some(sink.to_string())
        } else {
            self.default.clone()
        }
    }
}

/// Reads the sinks and the default one (two round trips to PipeWire).
pub fn list(remote: Option<&str>) -> Result<Sinks, AudioError> {
    super::init();
    let session = Session::connect(remote).map_err(AudioError::Device)?;
    let registry = session
        .core
        .get_registry_rc()
        .map_err(|e| AudioError::Device(format!("PipeWire registry: {e}")))?;
    let found = Rc::new(RefCell::new(Sinks::default()));
    // The `default` metadata object, bound when announced, and its listener.
    let bound: Rc<RefCell<Vec<(Metadata, MetadataListener)>>> = Rc::default();
    let _registry_listener = {
        let found = found.clone();
        let bound = bound.clone();
        let registry_for_bind = registry.clone();
        registry
            .add_listener_local()
            .global(move |global| {
                let prop = |key: &str| global.props.and_then(|p| p.get(key)).map(str::to_string);
                match global.type_ {
                    ObjectType::Node if prop("media.class").as_deref() == Some("Audio/Sink") => {
                        if let Some(name) = prop("node.name") {
                            let description = prop("node.description").unwrap_or_default();
                            found.borrow_mut().sinks.push(SinkInfo { name, description });
                        }
                    }
                    ObjectType::Metadata if prop("metadata.name").as_deref() == Some("default") => {
                        let Ok(metadata) = registry_for_bind.bind::<Metadata, _>(global) else {
                            return;
                        };
                        let found = found.clone();
                        let listener = metadata
                            .add_listener_local()
                            .property(move |_, key, _, value| {
                                if key == Some("default.audio.sink") {
                                    found.borrow_mut().default = value.and_then(name_in_json);
                                }
                                0
                            })
                            .register();
                        bound.borrow_mut().push((metadata, listener));
                    }
                    _ => {}
                }
            })
            .register()
    };
    // First round trip: every global announced (and the metadata bound);
    // second: the metadata's properties delivered.
    let rounds = Rc::new(Cell::new(0u8));
    let pending = Rc::new(Cell::new(
        session
            .core
            .sync(0)
            .map_err(|e| AudioError::Device(format!("PipeWire sync: {e}")))?,
    ));
    let _done = {
        let mainloop = session.mainloop.clone();
        let core = session.core.clone();
        let (rounds, pending) = (rounds.clone(), pending.clone());
        session
            .core
            .add_listener_local()
            .done(move |id, seq| {
                if id != pw::core::PW_ID_CORE || seq != pending.get() {
                    return;
                }
                rounds.set(rounds.get() + 1);
                match core.sync(0) {
                    Ok(next) if rounds.get() < 2 => pending.set(next),
                    _ => mainloop.quit(),
                }
            })
            .register()
    };
    session.mainloop.run();
    let mut sinks = found.borrow().clone();
    sinks.sinks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sinks)
}

/// `{"name":"living"}` → `living`.
fn name_in_json(value: &str) -> Option<String> {
    let rest = value.split_once("\"name\"")?.1;
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(rest.split('"').next()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sink_is_read_from_its_json() {
        assert_eq!(name_in_json(r#"{"name":"living"}"#).as_deref(), Some("living"));
        assert_eq!(
            name_in_json(r#"{ "name": "alsa_output.pci" }"#).as_deref(),
            Some("alsa_output.pci")
        );
        assert_eq!(name_in_json("{}"), None);
    }

    #[test]
    fn a_missing_or_default_sink_resolves_to_the_default() {
        let sinks = Sinks {
            sinks: vec![SinkInfo {
                name: "living".into(),
                description: "Living room".into(),
            }],
            default: Some("living".into()),
        };
        assert_eq!(sinks.resolve("living").as_deref(), Some("living"));
        assert_eq!(sinks.resolve("default").as_deref(), Some("living"));
        assert_eq!(sinks.resolve("attic").as_deref(), Some("living"));
    }
}
