//! Ducking: while HausKI speaks, every other playback stream (music, a
//! podcast) is turned down, and turned back up when it is done.
//!
//! WirePlumber 0.4 (Debian 12) has no role-based ducking, so HausKI does it
//! itself: it follows the registry's `Stream/Output/Audio` nodes and sets
//! their `volume` property. `volume` is a factor of its own in PipeWire's
//! audioconvert, separate from the channel volumes a mixer shows, so ducking
//! never overwrites the volume the user chose, and restoring means 1.0.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pipewire as pw;
use pw::core::CoreRc;
use pw::node::Node;
use pw::registry::RegistryRc;
use pw::spa;
use pw::types::ObjectType;

/// Playback streams of other programs, and whether they are turned down now.
pub struct Ducker {
    _registry: RegistryRc,
    _listener: pw::registry::Listener,
    streams: Rc<RefCell<HashMap<u32, Node>>>,
    /// The factor the others play at now: `None` when not ducked.
    ducked: Rc<Cell<Option<f32>>>,
}

impl Ducker {
    /// Follows every output stream but `own_node` (HausKI's voice).
    pub fn start(core: &CoreRc, own_node: &'static str) -> Result<Self, String> {
        let registry = core
            .get_registry_rc()
            .map_err(|e| format!("PipeWire registry: {e}"))?;
        let streams: Rc<RefCell<HashMap<u32, Node>>> = Rc::default();
        let ducked: Rc<Cell<Option<f32>>> = Rc::default();
        let weak = registry.downgrade();
        let (added, removed) = (streams.clone(), streams.clone());
        let now = ducked.clone();
        let listener = registry
            .add_listener_local()
            .global(move |global| {
                let Some(props) = global.props else { return };
                let is_other_output = global.type_ == ObjectType::Node
                    && props.get("media.class") == Some("Stream/Output/Audio")
                    && props.get("node.name") != Some(own_node);
                if !is_other_output {
                    return;
                }
                let Some(registry) = weak.upgrade() else { return };
                match registry.bind::<Node, _>(global) {
                    Ok(node) => {
                        // A stream that starts while HausKI speaks is ducked too.
                        if let Some(level) = now.get() {
                            set_volume(&node, level);
                        }
                        added.borrow_mut().insert(global.id, node);
                    }
                    Err(e) => {
                        tracing::debug!(id = global.id, error = %e, "cannot follow a stream for ducking")
                    }
                }
            })
            .global_remove(move |id| {
                removed.borrow_mut().remove(&id);
            })
            .register();
        Ok(Self {
            _registry: registry,
            _listener: listener,
            streams,
            ducked,
        })
    }

    /// Turns the other streams down to `level` (0–1), or back up with `None`.
    pub fn set(&self, level: Option<f32>) {
        if self.ducked.get() == level {
            return;
        }
        self.ducked.set(level);
        let volume = level.unwrap_or(1.0);
        let streams = self.streams.borrow();
        for node in streams.values() {
            set_volume(node, volume);
        }
        tracing::debug!(streams = streams.len(), volume, "other streams ducked");
    }
}

impl Drop for Ducker {
    fn drop(&mut self) {
        // Never leave someone's music turned down.
        self.set(None);
    }
}

fn set_volume(node: &Node, volume: f32) {
    let props = spa::pod::Value::Object(spa::pod::Object {
        type_: spa::utils::SpaTypes::ObjectParamProps.as_raw(),
        id: spa::param::ParamType::Props.as_raw(),
        properties: vec![spa::pod::Property::new(
            spa::sys::SPA_PROP_volume,
            spa::pod::Value::Float(volume),
        )],
    });
    let serialized = spa::pod::serialize::PodSerializer::serialize(std::io::Cursor::new(Vec::new()), &props);
    let Ok((cursor, _)) = serialized else {
        tracing::warn!("cannot describe a volume change");
        return;
    };
    let bytes = cursor.into_inner();
    if let Some(pod) = spa::pod::Pod::from_bytes(&bytes) {
        node.set_param(spa::param::ParamType::Props, 0, pod);
    }
}
