//! One connection to the PipeWire daemon, owned by one edge's thread, and
//! the registry watch that tells that edge when its node comes and goes.

use std::cell::Cell;
use std::rc::Rc;

use pipewire as pw;
use pw::context::ContextRc;
use pw::core::CoreRc;
use pw::main_loop::MainLoopRc;
use pw::registry::RegistryRc;
use pw::types::ObjectType;

/// Linux's EPIPE: PipeWire reports a broken connection with it.
const EPIPE: i32 = 32;

pub struct Session {
    pub mainloop: MainLoopRc,
    // Kept alive: the core belongs to it.
    _context: ContextRc,
    pub core: CoreRc,
    _core_listener: pw::core::Listener,
}

impl Session {
    /// Connects; a later fatal core error (PipeWire restarted) ends the main
    /// loop, and the edge's thread connects again.
    /// `remote`: the daemon's socket (a name under `XDG_RUNTIME_DIR`, or a
    /// path); `None` is the user's default daemon.
    pub fn connect(remote: Option<&str>) -> Result<Self, String> {
        let mainloop = MainLoopRc::new(None).map_err(|e| format!("PipeWire main loop: {e}"))?;
        let context = ContextRc::new(&mainloop, None).map_err(|e| format!("PipeWire context: {e}"))?;
        let properties = remote.map(|r| pw::properties::properties! { *pw::keys::REMOTE_NAME => r });
        let core = context.connect_rc(properties).map_err(|e| {
            format!("cannot connect to PipeWire ({e}); is the pipewire daemon running for this user?")
        })?;
        let weak = mainloop.downgrade();
        let core_listener = core
            .add_listener_local()
            .error(move |id, _seq, res, message| {
                // On the core (id 0), -EPIPE means the connection is gone; other
                // errors there are about single objects (a node that vanished).
                if id == 0 && res == -EPIPE {
                    tracing::warn!(res, %message, "lost the PipeWire connection; reconnecting");
                    if let Some(mainloop) = weak.upgrade() {
                        mainloop.quit();
                    }
                }
            })
            .register();
        Ok(Self {
            mainloop,
            _context: context,
            core,
            _core_listener: core_listener,
        })
    }
}

/// Calls `appeared` whenever a node named `name` is announced (including the
/// one already there at start) and `vanished` when it is removed.
pub struct NodeWatch {
    _registry: RegistryRc,
    _listener: pw::registry::Listener,
}

impl NodeWatch {
    pub fn start(
        core: &CoreRc,
        name: String,
        appeared: impl Fn() + 'static,
        vanished: impl Fn() + 'static,
    ) -> Result<Self, String> {
        let registry = core
            .get_registry_rc()
            .map_err(|e| format!("PipeWire registry: {e}"))?;
        let id = Rc::new(Cell::new(None::<u32>));
        let seen = id.clone();
        let listener = registry
            .add_listener_local()
            .global(move |global| {
                let is_it = global.type_ == ObjectType::Node
                    && global
                        .props
                        .and_then(|p| p.get("node.name"))
                        .is_some_and(|n| n == name);
                if is_it {
                    seen.set(Some(global.id));
                    appeared();
                }
            })
            .global_remove(move |removed| {
                if id.get() == Some(removed) {
                    id.set(None);
                    vanished();
                }
            })
            .register();
        Ok(Self {
            _registry: registry,
            _listener: listener,
        })
    }
}
