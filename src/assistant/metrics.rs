//! Prometheus metrics (prometheus-client): per-route request counts and
//! latencies, tokens generated, generations cancelled, ASR/TTS real-time
//! factors, wake words and voice turns. The core owns them, so every door
//! counts into the same registry; the API only serves it.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub method: String,
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    pub stage: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RouteLabels, Counter>,
    pub latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    pub completion_tokens: Counter,
    pub prompt_tokens: Counter,
    pub generations_cancelled: Counter,
    pub wake_detections: Counter,
    pub voice_turns: Counter,
    pub asr_real_time_factor: Gauge<f64, AtomicU64>,
    pub tts_real_time_factor: Gauge<f64, AtomicU64>,
    /// The GPU guard's readings (where a GPU exists).
    pub gpu_temperature_celsius: Gauge<f64, AtomicU64>,
    pub gpu_power_watts: Gauge<f64, AtomicU64>,
    pub gpu_memory_used_bytes: Gauge<f64, AtomicU64>,
    /// 1 while the GPU guard holds batch work back.
    pub batch_paused: Gauge,
    /// Each stage's durations (`speech_end_to_first_audio`, `asr`, …).
    pub stage_duration: Family<StageLabels, Histogram, fn() -> Histogram>,
    /// 1 while a stage's rolling p95 is over its budget.
    pub budget_exceeded: Family<StageLabels, Gauge>,
    /// Each generation's pace after its first token.
    pub llm_tokens_per_second: Histogram,
    /// Chats waiting for an LLM worker, and being generated (set per scrape).
    pub llm_waiting: Gauge,
    pub llm_busy: Gauge,
    /// The daemon's CPU time and resident memory (set per scrape).
    pub process_cpu_seconds: Gauge<f64, AtomicU64>,
    pub process_resident_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hauski");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency =
            Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let completion_tokens = Counter::default();
        let prompt_tokens = Counter::default();
        let generations_cancelled = Counter::default();
        let wake_detections = Counter::default();
        let voice_turns = Counter::default();
        let asr_real_time_factor = Gauge::<f64, AtomicU64>::default();
        let tts_real_time_factor = Gauge::<f64, AtomicU64>::default();
        let gpu_temperature_celsius = Gauge::<f64, AtomicU64>::default();
        let gpu_power_watts = Gauge::<f64, AtomicU64>::default();
        let gpu_memory_used_bytes = Gauge::<f64, AtomicU64>::default();
        let batch_paused = Gauge::default();
        let stage_duration =
            Family::<StageLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let budget_exceeded = Family::<StageLabels, Gauge>::default();
        registry.register(
            "stage_duration_seconds",
            "Duration of each stage of a turn",
            stage_duration.clone(),
        );
        registry.register(
            "budget_exceeded",
            "1 while the stage's rolling p95 is over its budget (policies/limits.yaml stage_budgets_ms)",
            budget_exceeded.clone(),
        );
        registry.register(
            "gpu_temperature_celsius",
            "The GPU's temperature, as the GPU guard last read it",
            gpu_temperature_celsius.clone(),
        );
        registry.register("gpu_power_watts", "The GPU's power draw", gpu_power_watts.clone());
        registry.register(
            "gpu_memory_used_bytes",
            "The GPU's memory in use",
            gpu_memory_used_bytes.clone(),
        );
        registry.register(
            "batch_paused",
            "1 while the GPU guard holds batch work (re-indexing) back",
            batch_paused.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route (to the response head; streams run on)",
            latency.clone(),
        );
        registry.register(
            "llm_completion_tokens",
            "Tokens generated",
            completion_tokens.clone(),
        );
        registry.register(
            "llm_prompt_tokens",
            "Prompt tokens processed",
            prompt_tokens.clone(),
        );
        registry.register(
            "llm_generations_cancelled",
            "Generations stopped early: client gone, timeout, barge-in",
            generations_cancelled.clone(),
        );
        registry.register(
            "wake_detections",
            "Wake words heard by the voice loop",
            wake_detections.clone(),
        );
        registry.register(
            "voice_turns",
            "Questions the voice loop heard and answered",
            voice_turns.clone(),
        );
        registry.register(
            "asr_real_time_factor",
            "Processing time over audio time of the last transcription",
            asr_real_time_factor.clone(),
        );
        registry.register(
            "tts_real_time_factor",
            "Processing time over audio time of the last synthesis",
            tts_real_time_factor.clone(),
        );
        let llm_tokens_per_second = Histogram::new(exponential_buckets(1.0, 1.5, 14));
        registry.register(
            "llm_tokens_per_second",
            "Each generation's tokens per second after its first token",
            llm_tokens_per_second.clone(),
        );
        let llm_waiting = Gauge::default();
        registry.register(
            "llm_waiting",
            "Chats waiting for an LLM worker",
            llm_waiting.clone(),
        );
        let llm_busy = Gauge::default();
        registry.register("llm_busy", "Chats being generated now", llm_busy.clone());
        let process_cpu_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "process_cpu_seconds",
            "CPU time the daemon has used (user and system)",
            process_cpu_seconds.clone(),
        );
        let process_resident_bytes = Gauge::default();
        registry.register(
            "process_resident_bytes",
            "The daemon's resident memory",
            process_resident_bytes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            completion_tokens,
            prompt_tokens,
            generations_cancelled,
            wake_detections,
            voice_turns,
            asr_real_time_factor,
            tts_real_time_factor,
            gpu_temperature_celsius,
            gpu_power_watts,
            gpu_memory_used_bytes,
            batch_paused,
            stage_duration,
            budget_exceeded,
            llm_tokens_per_second,
            llm_waiting,
            llm_busy,
            process_cpu_seconds,
            process_resident_bytes,
        }
    }

    /// Reads this process's CPU time and resident memory from /proc.
    pub fn refresh_process(&self) {
        if let Some(cpu_s) = crate::procfs::cpu_seconds("/proc/self/stat") {
            self.process_cpu_seconds.set(cpu_s);
        }
        if let Some(rss) = crate::procfs::own_resident_bytes() {
            self.process_resident_bytes.set(rss as i64);
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}
