use serde::Deserialize;

/// `policies/limits.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub speech: SpeechLimits,
    pub llm: LlmLimits,
    pub tts: TtsLimits,
    #[serde(default)]
    pub wake: WakeLimits,
    #[serde(default)]
    pub voice: VoiceTargets,
    /// Absent in a limits file written before the API existed: defaults then.
    #[serde(default)]
    pub api: ApiLimits,
    #[serde(default)]
    pub editor: EditorLimits,
    /// The GPU guard's limits (used only where an NVIDIA GPU exists).
    #[serde(default)]
    pub gpu: crate::gpu_guard::GpuLimits,
    /// The figures the benches are held to (`hauski-bench check`).
    #[serde(default)]
    pub budgets: Vec<Budget>,
    /// Each stage's p95 budget at run time, in ms (the budget guard).
    #[serde(default)]
    pub stage_budgets_ms: std::collections::HashMap<String, f64>,
}

/// One bench figure's ceiling.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub name: String,
    /// `FILE.json#/json/pointer` under target/bench.
    pub figure: String,
    pub max: f64,
}

/// The editor plugins' commentary: how much must change since the last
/// comment before the next (either threshold crossed is enough).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EditorLimits {
    pub commentary_chars: u64,
    pub commentary_lines: u64,
    /// Longest file `POST /code/hints` reads, in bytes.
    pub hints_max_bytes: usize,
}

impl Default for EditorLimits {
    fn default() -> Self {
        Self {
            commentary_chars: 600,
            commentary_lines: 25,
            hints_max_bytes: 256 * 1024,
        }
    }
}

/// What the voice bench measures against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceTargets {
    pub speech_end_to_first_audio_p95_ms: f64,
    pub barge_in_ms: f64,
    pub idle_cpu_percent: f64,
}

impl Default for VoiceTargets {
    fn default() -> Self {
        Self {
            speech_end_to_first_audio_p95_ms: 600.0,
            barge_in_ms: 150.0,
            idle_cpu_percent: 5.0,
        }
    }
}

/// When the wake-word classifier's score counts (see `WakeSettings`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WakeLimits {
    pub threshold: f32,
    pub patience: usize,
    pub refractory_ms: u64,
}

impl WakeLimits {
    /// The detector's settings these limits give.
    pub fn settings(&self) -> hauski_voice::wake::WakeSettings {
        hauski_voice::wake::WakeSettings {
            threshold: self.threshold,
            patience: self.patience,
            refractory_ms: self.refractory_ms,
        }
    }
}

impl Default for WakeLimits {
    fn default() -> Self {
        let settings = hauski_voice::wake::WakeSettings::default();
        Self {
            threshold: settings.threshold,
            patience: settings.patience,
            refractory_ms: settings.refractory_ms,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiLimits {
    pub max_body_bytes: usize,
    pub max_tokens: u32,
    pub request_timeout_ms: u64,
    pub max_concurrent_generations: usize,
    pub max_queued_generations: usize,
    pub max_speech_chars: usize,
    pub max_embedding_inputs: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 25 * 1024 * 1024,
            max_tokens: 512,
            request_timeout_ms: 120_000,
            max_concurrent_generations: 1,
            max_queued_generations: 8,
            max_speech_chars: 4096,
            max_embedding_inputs: 256,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeechLimits {
    /// Silence that ends a question when its words say nothing either way.
    pub vad_hangover_ms: u32,
    /// Silence that ends a question whose words make a whole request.
    #[serde(default = "default_complete_hangover_ms")]
    pub complete_hangover_ms: u32,
    /// Silence that ends a question whose words are clearly unfinished.
    #[serde(default = "default_unfinished_hangover_ms")]
    pub unfinished_hangover_ms: u32,
    pub vad_aggressiveness: u8,
    pub vad_min_speech_ms: u32,
    pub max_audio_s: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmLimits {
    pub max_tokens: u32,
    pub context_tokens: u32,
    pub temperature: f32,
    /// Nucleus sampling; absent in limits files from before it was set here.
    #[serde(default = "default_top_p")]
    pub top_p: f32,
    /// The editors' endpoints write titles and ideas: steadier than chat.
    #[serde(default = "default_editor_temperature")]
    pub editor_temperature: f32,
    pub seed: u32,
    pub notes_tokens: usize,
    pub notes_top_k: usize,
}

fn default_complete_hangover_ms() -> u32 {
    400
}

fn default_unfinished_hangover_ms() -> u32 {
    1500
}

impl SpeechLimits {
    /// The waits the voice loop ends a turn by (`assistant::turn_end`).
    pub fn hang_overs(&self) -> crate::assistant::turn_end::HangOvers {
        crate::assistant::turn_end::HangOvers {
            complete_ms: self.complete_hangover_ms,
            unsure_ms: self.vad_hangover_ms,
            unfinished_ms: self.unfinished_hangover_ms,
        }
    }
}

fn default_top_p() -> f32 {
    0.95
}

fn default_editor_temperature() -> f32 {
    0.3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtsLimits {
    pub max_text_chars: usize,
}

/// `policies/memory.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFile {
    pub layers: MemoryLayers,
    /// Most memories in one prompt: those most like the question, pins first.
    pub prompt_entries: usize,
    /// Their budget in characters (about four a token).
    #[serde(default = "default_memory_prompt_chars")]
    pub prompt_chars: usize,
    /// Whether utterances are kept as recordings, and how long.
    #[serde(default)]
    pub recordings: RecordingsPolicy,
}

/// Utterance recordings: off unless the owner turns them on; kept
/// encrypted (age) under `recordings/` in the data dir, purged after `ttl`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingsPolicy {
    pub keep: bool,
    pub ttl: String,
}

impl Default for RecordingsPolicy {
    fn default() -> Self {
        Self {
            keep: false,
            ttl: "7d".into(),
        }
    }
}

impl RecordingsPolicy {
    /// How long a recording is kept; `None` for `never` (until purged by hand).
    pub fn ttl_ms(&self) -> Result<Option<i64>, String> {
        hauski_brain::memory::parse_ttl(&self.ttl).map_err(|e| format!("recordings.ttl: {e}"))
    }
}

fn default_memory_prompt_chars() -> usize {
    800
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLayers {
    pub short: LayerLifetime,
    pub working: LayerLifetime,
    pub long: LayerLifetime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerLifetime {
    pub ttl: String,
}

impl MemoryFile {
    /// The lifetimes as the brain's policy; a bad lifetime names its layer.
    pub fn policy(&self) -> Result<hauski_brain::memory::MemoryPolicy, String> {
        let ttl = |name: &str, l: &LayerLifetime| {
            hauski_brain::memory::parse_ttl(&l.ttl).map_err(|e| format!("layers.{name}.ttl: {e}"))
        };
        self.recordings.ttl_ms()?;
        Ok(hauski_brain::memory::MemoryPolicy {
            short_ttl_ms: ttl("short", &self.layers.short)?,
            working_ttl_ms: ttl("working", &self.layers.working)?,
            long_ttl_ms: ttl("long", &self.layers.long)?,
        })
    }
}

/// `policies/routing.yaml`: egress is denied unless a rule allows the host;
/// the Wyoming server takes peers beyond this box only from named networks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub egress: Egress,
    #[serde(default)]
    pub wyoming: WyomingIngress,
}

/// Who may reach the Wyoming server: the protocol carries no token, so a
/// peer's network is all there is to go by. Loopback is always allowed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WyomingIngress {
    #[serde(default)]
    pub allow: Vec<ipnet::IpNet>,
}

impl WyomingIngress {
    pub fn admits(&self, peer: std::net::IpAddr) -> bool {
        let peer = match peer {
            // An IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d.
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, std::net::IpAddr::V4),
            v4 => v4,
        };
        peer.is_loopback() || self.allow.iter().any(|net| net.contains(&peer))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Egress {
    pub default: EgressDefault,
    #[serde(default)]
    pub allow: Vec<EgressRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EgressDefault {
    Deny,
    Allow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressRule {
    pub host: String,
    #[serde(default)]
    pub purpose: Option<String>,
    /// The sandboxed skills (messenger adapters) this host is granted to;
    /// a skill reaches only the hosts a rule grants it by name.
    #[serde(default)]
    pub skills: Vec<String>,
}

impl Routing {
    /// Whether a connection to `host` is allowed. Loopback never leaves the box.
    pub fn allows(&self, host: &str) -> bool {
        is_loopback(host) || self.egress.default == EgressDefault::Allow || self.rule_for(host).is_some()
    }

    /// Whether the sandboxed skill `skill` may connect to `host`: only when
    /// a rule names both. Unlike the daemon's own connections, loopback is
    /// not implied: a skill is not trusted with the box's local services
    /// (HausKI's own API among them) unless the owner says so.
    pub fn allows_skill(&self, skill: &str, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.egress
            .allow
            .iter()
            .any(|rule| rule.host.eq_ignore_ascii_case(host) && rule.skills.iter().any(|s| s == skill))
    }

    /// The rule that allows `host`, for the log line that records why.
    pub fn rule_for(&self, host: &str) -> Option<&EgressRule> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.egress
            .allow
            .iter()
            .find(|rule| rule.host.eq_ignore_ascii_case(host))
    }
}

/// One parser for every egress check (downloads, the NATS bus, the
/// skills' requests): the skills host's.
pub use hauski_skills::host::egress::host_after_scheme;

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wyoming_admits_loopback_and_the_named_networks_only() {
        let ingress: WyomingIngress =
            serde_yaml::from_str("allow: [192.168.0.0/16, fd00::/8]").expect("parses");
        for admitted in [
            "127.0.0.1",
            "::1",
            "192.168.4.20",
            "::ffff:192.168.4.20",
            "fd00::2",
        ] {
            assert!(ingress.admits(admitted.parse().expect("ip")), "{admitted}");
        }
        for refused in ["10.0.0.5", "192.169.0.1", "2001:db8::1"] {
            assert!(!ingress.admits(refused.parse().expect("ip")), "{refused}");
        }
        assert!(serde_yaml::from_str::<WyomingIngress>("allow: [not-a-net]").is_err());
    }

    #[test]
    fn egress_is_denied_unless_allowed() {
        let routing: Routing =
            serde_yaml::from_str("egress: {default: deny, allow: [{host: huggingface.co}]}").expect("parses");
        assert!(routing.allows("huggingface.co"));
        assert!(routing.allows("127.0.0.1"));
        assert!(routing.allows("[::1]"));
        assert!(!routing.allows("example.com"));
    }

    #[test]
    fn a_skill_reaches_only_the_hosts_granted_to_it_by_name() {
        let routing: Routing = serde_yaml::from_str(
            "egress: {default: allow, allow: [{host: api.telegram.org, skills: [telegram]}, {host: 127.0.0.1, skills: [signal]}]}",
        )
        .expect("parses");
        assert!(routing.allows_skill("telegram", "api.telegram.org"));
        assert!(routing.allows_skill("telegram", "API.Telegram.org"));
        assert!(!routing.allows_skill("matrix", "api.telegram.org"));
        assert!(routing.allows_skill("signal", "127.0.0.1"));
        // Neither loopback nor `default: allow` is implied for a skill.
        assert!(!routing.allows_skill("telegram", "127.0.0.1"));
        assert!(!routing.allows_skill("telegram", "localhost"));
        assert!(!routing.allows_skill("telegram", "example.com"));
    }
}
