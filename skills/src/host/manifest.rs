//! A skill's manifest (`skill.yaml` beside its `.wasm`): its name, the
//! actions it offers (tools for the LLM, with JSON-schema parameters), and
//! the capabilities it is granted. A module that imports anything else is
//! refused before it runs.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The skill's name, unique among the loaded skills ("lists").
    pub name: String,
    pub description: String,
    /// The WebAssembly module, relative to the manifest.
    pub module: String,
    /// What the host lends it; nothing else is linked.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    pub actions: Vec<ActionSpec>,
    #[serde(default)]
    pub limits: SkillLimits,
    /// Set for an adapter: a skill the host calls on its own, again and
    /// again (its `NAME.poll` action), to bring a messenger's messages in.
    #[serde(default)]
    pub adapter: Option<AdapterSpec>,
}

/// What makes a skill an adapter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdapterSpec {
    /// The messenger, as the owner hears it ("Signal"): the host, not the
    /// adapter, names the source of what it notifies.
    pub source: String,
}

/// What a skill may ask of the host, each a set of imports from module `hauski`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// `clock_now_ms`.
    Clock,
    /// `kv_get`, `kv_set`, `kv_delete`: a small store of its own that survives restarts.
    Kv,
    /// `notify`: a message spoken through the core's notification path.
    Notify,
    /// `log`: lines in HausKI's log, under the skill's name.
    Log,
    /// `alarm_add`, `alarm_pending`, `alarm_cancel`: timers and reminders
    /// the host keeps, schedules and rings.
    Alarms,
    /// `http_request`: outbound HTTP, to the hosts `policies/routing.yaml`
    /// grants this skill only.
    Http,
    /// `secret_get`: the skill's own credentials from the encrypted vault.
    Secrets,
}

impl Capability {
    pub fn name(self) -> &'static str {
        match self {
            Self::Clock => "clock",
            Self::Kv => "kv",
            Self::Notify => "notify",
            Self::Log => "log",
            Self::Alarms => "alarms",
            Self::Http => "http",
            Self::Secrets => "secrets",
        }
    }

    /// The capability an import of module `hauski` belongs to.
    pub fn of_import(name: &str) -> Option<Self> {
        Some(match name {
            "clock_now_ms" => Self::Clock,
            "kv_get" | "kv_set" | "kv_delete" => Self::Kv,
            "notify" => Self::Notify,
            "log" => Self::Log,
            "alarm_add" | "alarm_pending" | "alarm_cancel" => Self::Alarms,
            "http_request" => Self::Http,
            "secret_get" => Self::Secrets,
            _ => return None,
        })
    }
}

/// One action: a tool name ("list.add"), what it does, its arguments' schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
    /// Whether the LLM is offered it as a tool; `false` for actions only
    /// the host calls (the words an alarm rings with).
    #[serde(default = "offered")]
    pub tool: bool,
}

fn offered() -> bool {
    true
}

/// What one call may use before it is stopped.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SkillLimits {
    /// Wasm instructions (roughly) per call.
    pub fuel: u64,
    /// Linear memory, in MiB.
    pub memory_mib: usize,
}

impl Default for SkillLimits {
    fn default() -> Self {
        Self {
            fuel: 200_000_000,
            memory_mib: 16,
        }
    }
}

impl Manifest {
    /// The action the host calls to poll an adapter: `NAME.poll`.
    pub fn poll_action(&self) -> String {
        format!("{}.poll", self.name)
    }

    /// Reads a manifest; `Err` names what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let manifest: Self = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        if manifest.name.is_empty()
            || !manifest
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "name {:?} must be letters, digits, '-' or '_'",
                manifest.name
            ));
        }
        if manifest.actions.is_empty() {
            return Err("a skill offers at least one action".into());
        }
        if manifest.adapter.is_some() {
            let poll = manifest.poll_action();
            if !manifest.actions.iter().any(|a| a.name == poll && !a.tool) {
                return Err(format!(
                    "an adapter offers the action {poll}, with tool: false (the host calls it, not the LLM)"
                ));
            }
        }
        if manifest.limits.memory_mib == 0 || manifest.limits.memory_mib > 256 || manifest.limits.fuel == 0 {
            return Err("limits: memory_mib is 1 to 256 and fuel at least 1".into());
        }
        Ok(manifest)
    }
}
