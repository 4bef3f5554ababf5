//! The skills' sandbox (wasmtime): each skill is a WebAssembly core module
//! with a manifest. It sees nothing of the machine: no WASI is linked, so no
//! files, sockets, environment or clock; only the host functions of the
//! capabilities its manifest grants (`imports.rs`). A module that imports
//! anything else is refused at load and the refusal audited. Each call runs
//! in a fresh instance with a fuel budget and a memory cap; a skill that
//! traps or runs out of fuel fails that call only, is audited, and after
//! repeated failures rests with growing back-off before it is tried again.
//!
//! The ABI: a skill exports `memory`, `hauski_alloc(len) -> ptr` and
//! `hauski_call(ptr, len) -> (ptr << 32 | len)`; the request is the JSON
//! `{"action", "args"}`, the reply `{"reply", "data"}` or `{"error"}`.

pub mod alarms;
pub mod audit;
pub mod egress;
mod imports;
pub mod manifest;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use wasmtime::{Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap};

use crate::store::{SkillStore, StoreError};
use alarms::AlarmDesk;
use audit::{AuditError, AuditLog};
use egress::Egress;
use manifest::{ActionSpec, AdapterSpec, Capability, Manifest};
use secrets::SecretReader;

#[derive(Debug, thiserror::Error)]
pub enum SkillError {
    #[error("skill manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(
        "the skill {skill} asks for the {capability} capability, which its manifest does not grant; refused"
    )]
    NotGranted { skill: String, capability: &'static str },
    #[error("the skill {skill} imports {import}, which HausKI does not offer; refused")]
    UnknownImport { skill: String, import: String },
    #[error("the skill {skill}'s module is not one HausKI can run: {reason}")]
    Module { skill: String, reason: String },
    #[error("a skill named {0} is loaded already")]
    Duplicate(String),
    #[error("no skill offers the action {0}")]
    NoSuchAction(String),
    #[error("the skill {skill} ran past its fuel ({fuel} units) and was stopped")]
    RanTooLong { skill: String, fuel: u64 },
    #[error("the skill {skill} failed: {reason}")]
    Failed { skill: String, reason: String },
    #[error("the skill {skill} failed {failures} times in a row; it is tried again in {wait_s} s")]
    Resting {
        skill: String,
        failures: u32,
        wait_s: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Unix milliseconds (the `clock` capability).
pub type ClockFn = Arc<dyn Fn() -> i64 + Send + Sync>;
/// A message for the core's notification path (`notify`), as a skill
/// hands it over: `{"sender", "room", "text", "urgency"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub sender: String,
    /// The group, room or chat it was said in; none for a direct message.
    #[serde(default)]
    pub room: Option<String>,
    pub text: String,
    /// "low", "normal" or "high"; normal when absent.
    #[serde(default)]
    pub urgency: Option<String>,
}

/// Who notified: the skill, and the source its manifest names (an
/// adapter's messenger), which the skill itself cannot choose.
#[derive(Debug, Clone, Copy)]
pub struct Notifier<'a> {
    pub skill: &'a str,
    pub source: Option<&'a str>,
}

pub type NotifyFn = Arc<dyn Fn(Notifier<'_>, Message) + Send + Sync>;

/// What the host lends skills beyond their kv store. A capability whose
/// service the host lacks cannot be granted: such a skill does not load.
pub struct HostServices {
    pub clock: ClockFn,
    pub notify: NotifyFn,
    /// The keeper of timers and reminders.
    pub alarms: Option<Arc<dyn AlarmDesk>>,
    /// The routing policy and an HTTP client, for `http`.
    pub egress: Option<Arc<dyn Egress>>,
    /// The encrypted vault, for `secrets`.
    pub secrets: Option<Arc<dyn SecretReader>>,
}

/// Each skill's kv store: its own keys only, in SQLite.
pub struct SkillKv(Mutex<SkillStore>);

impl SkillKv {
    fn get(&self, skill: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .kv_get(skill, key)
    }

    fn set(&self, skill: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .kv_set(skill, key, value)
    }

    fn delete(&self, skill: &str, key: &str) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .kv_delete(skill, key)
    }
}

/// One call's store data.
pub struct CallState {
    skill: String,
    /// An adapter's messenger, from its manifest.
    source: Option<String>,
    audit: Arc<AuditLog>,
    /// The room (profile) the request came from, where an alarm set in it rings.
    room: Option<String>,
    kv: Arc<SkillKv>,
    limits: StoreLimits,
}

/// Consecutive failures, and when a resting skill may be tried again.
#[derive(Debug, Default)]
struct Health {
    failures: u32,
    retry_at: Option<Instant>,
}

struct LoadedSkill {
    manifest: Manifest,
    module: Module,
    linker: Linker<CallState>,
    health: Mutex<Health>,
}

/// A skill's answer: the words to say and what it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillReply {
    pub reply: String,
    pub data: Value,
}

/// Failures in a row before a skill rests.
const FAILURES_BEFORE_REST: u32 = 3;
/// The longest rest.
const LONGEST_REST: Duration = Duration::from_secs(60);

pub struct SkillHost {
    engine: Engine,
    services: Arc<HostServices>,
    kv: Arc<SkillKv>,
    audit: Arc<AuditLog>,
    skills: Vec<LoadedSkill>,
}

impl SkillHost {
    /// A host whose skills keep their kv stores in `store_path` and whose
    /// decisions go to the audit log at `audit_path`.
    pub fn new(store_path: &Path, audit_path: &Path, services: HostServices) -> Result<Self, SkillError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| SkillError::Module {
            skill: "(engine)".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            engine,
            services: Arc::new(services),
            kv: Arc::new(SkillKv(Mutex::new(SkillStore::open(store_path)?))),
            audit: Arc::new(AuditLog::open(audit_path)?),
            skills: Vec::new(),
        })
    }

    /// Loads a skill after checking its module imports only what its
    /// manifest grants; a refusal is audited.
    pub fn load(&mut self, manifest: Manifest, wasm: &[u8]) -> Result<(), SkillError> {
        let _span = tracing::info_span!("skill_load", skill = %manifest.name).entered();
        let skill = manifest.name.clone();
        if self.skills.iter().any(|s| s.manifest.name == skill) {
            return Err(SkillError::Duplicate(skill));
        }
        let module = Module::new(&self.engine, wasm).map_err(|e| SkillError::Module {
            skill: skill.clone(),
            reason: format!("{e:#}"),
        })?;
        if let Err(refused) = check_imports(&manifest, &module) {
            self.audit.record(&skill, "refused", &refused.to_string())?;
            return Err(refused);
        }
        let mut linker = Linker::new(&self.engine);
        imports::link(&mut linker, &manifest.capabilities, &self.services).map_err(|e| {
            SkillError::Module {
                skill: skill.clone(),
                reason: e.to_string(),
            }
        })?;
        let granted: Vec<&str> = manifest.capabilities.iter().map(|c| c.name()).collect();
        self.audit
            .record(&skill, "loaded", &format!("granted: {}", granted.join(", ")))?;
        self.skills.push(LoadedSkill {
            manifest,
            module,
            linker,
            health: Mutex::default(),
        });
        Ok(())
    }

    /// Loads every `*/skill.yaml` under `dir` (the owner's skills folder);
    /// returns what could not be loaded, each with its reason.
    pub fn load_dir(&mut self, dir: &Path) -> Vec<SkillError> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut manifests: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("skill.yaml"))
            .filter(|p| p.is_file())
            .collect();
        manifests.sort();
        let mut problems = Vec::new();
        for path in manifests {
            if let Err(e) = self.load_file(&path) {
                tracing::warn!(error = %e, "a skill was not loaded");
                problems.push(e);
            }
        }
        problems
    }

    fn load_file(&mut self, path: &Path) -> Result<(), SkillError> {
        let problem = |reason: String| SkillError::Manifest {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| problem(e.to_string()))?;
        let manifest = Manifest::parse(&text).map_err(problem)?;
        let module_path = path.with_file_name(&manifest.module);
        let wasm =
            std::fs::read(&module_path).map_err(|e| problem(format!("{}: {e}", module_path.display())))?;
        self.load(manifest, &wasm)
    }

    /// Every loaded skill's actions, as (skill, action).
    pub fn actions(&self) -> impl Iterator<Item = (&str, &ActionSpec)> {
        self.skills.iter().flat_map(|s| {
            s.manifest
                .actions
                .iter()
                .map(move |a| (s.manifest.name.as_str(), a))
        })
    }

    /// Every loaded adapter: its name and what makes it one.
    pub fn adapters(&self) -> impl Iterator<Item = (&str, &AdapterSpec)> {
        self.skills.iter().filter_map(|s| {
            s.manifest
                .adapter
                .as_ref()
                .map(|adapter| (s.manifest.name.as_str(), adapter))
        })
    }

    /// Every loaded skill's manifest.
    pub fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.skills.iter().map(|s| &s.manifest)
    }

    /// Records a decision about `skill` made outside a call (an adapter
    /// started or stopped by the core).
    pub fn audit(&self, skill: &str, decision: &str, detail: &str) -> Result<(), AuditError> {
        self.audit.record(skill, decision, detail)
    }

    /// Calls `action` (`list.add`) with `args` in the skill that offers it.
    pub fn call(&self, action: &str, args: &Value) -> Result<SkillReply, SkillError> {
        self.call_from(None, action, args)
    }

    /// Calls `action` for a request made in `room` (the profile it was
    /// made in, where an alarm it sets rings).
    pub fn call_from(
        &self,
        room: Option<&str>,
        action: &str,
        args: &Value,
    ) -> Result<SkillReply, SkillError> {
        let skill = self
            .skills
            .iter()
            .find(|s| s.manifest.actions.iter().any(|a| a.name == action))
            .ok_or_else(|| SkillError::NoSuchAction(action.to_string()))?;
        let name = &skill.manifest.name;
        let _span = tracing::info_span!("skill_call", skill = %name, action).entered();
        let mut health = skill.health.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(retry_at) = health.retry_at
            && Instant::now() < retry_at
        {
            return Err(SkillError::Resting {
                skill: name.clone(),
                failures: health.failures,
                wait_s: retry_at.saturating_duration_since(Instant::now()).as_secs() + 1,
            });
        }
        let result = self.run(skill, room, &json!({"action": action, "args": args}));
        match &result {
            Ok(_) => *health = Health::default(),
            Err(e) => {
                health.failures += 1;
                if health.failures >= FAILURES_BEFORE_REST {
                    let rest = Duration::from_secs(1 << (health.failures - FAILURES_BEFORE_REST).min(6))
                        .min(LONGEST_REST);
                    health.retry_at = Some(Instant::now() + rest);
                }
                self.audit.record(name, "failed", &e.to_string())?;
            }
        }
        result
    }

    /// One call in a fresh instance, within the skill's fuel and memory.
    fn run(
        &self,
        skill: &LoadedSkill,
        room: Option<&str>,
        request: &Value,
    ) -> Result<SkillReply, SkillError> {
        let name = &skill.manifest.name;
        let limits = skill.manifest.limits;
        let failed = |reason: String| SkillError::Failed {
            skill: name.clone(),
            reason,
        };
        let state = CallState {
            skill: name.clone(),
            source: skill.manifest.adapter.as_ref().map(|a| a.source.clone()),
            audit: self.audit.clone(),
            room: room.map(str::to_string),
            kv: self.kv.clone(),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_mib << 20)
                .instances(1)
                .tables(4)
                .memories(1)
                // Past its cap a skill is stopped, not handed a -1 to ignore.
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_fuel(limits.fuel).map_err(|e| failed(e.to_string()))?;
        let wasm_failed = |e: wasmtime::Error| match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => SkillError::RanTooLong {
                skill: name.clone(),
                fuel: limits.fuel,
            },
            _ => failed(format!("{e:#}")),
        };
        let instance = skill
            .linker
            .instantiate(&mut store, &skill.module)
            .map_err(wasm_failed)?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "hauski_alloc")
            .map_err(|_| failed("it exports no hauski_alloc(i32) -> i32".into()))?;
        let call = instance
            .get_typed_func::<(i32, i32), i64>(&mut store, "hauski_call")
            .map_err(|_| failed("it exports no hauski_call(i32, i32) -> i64".into()))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| failed("it exports no memory".into()))?;
        let request = request.to_string().into_bytes();
        let at = alloc
            .call(&mut store, request.len() as i32)
            .map_err(wasm_failed)?;
        memory
            .write(&mut store, at as u32 as usize, &request)
            .map_err(|e| failed(e.to_string()))?;
        let packed = call
            .call(&mut store, (at, request.len() as i32))
            .map_err(wasm_failed)?;
        let (ptr, len) = ((packed >> 32) as u32 as usize, (packed & 0xffff_ffff) as usize);
        let reply = memory
            .data(&store)
            .get(ptr..ptr.saturating_add(len))
            .ok_or_else(|| failed("its reply lies outside its memory".into()))?;
        let reply: Value =
            serde_json::from_slice(reply).map_err(|e| failed(format!("its reply is not JSON: {e}")))?;
        if let Some(error) = reply.get("error").and_then(Value::as_str) {
            return Err(failed(error.to_string()));
        }
        Ok(SkillReply {
            reply: reply["reply"].as_str().unwrap_or_default().to_string(),
            data: reply.get("data").cloned().unwrap_or(Value::Null),
        })
    }
}

/// Every import must be a host function of a granted capability.
fn check_imports(manifest: &Manifest, module: &Module) -> Result<(), SkillError> {
    let skill = || manifest.name.clone();
    for import in module.imports() {
        let capability = (import.module() == "hauski")
            .then(|| Capability::of_import(import.name()))
            .flatten()
            .ok_or_else(|| SkillError::UnknownImport {
                skill: skill(),
                import: format!("{}::{}", import.module(), import.name()),
            })?;
        if !manifest.capabilities.contains(&capability) {
            return Err(SkillError::NotGranted {
                skill: skill(),
                capability: capability.name(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
