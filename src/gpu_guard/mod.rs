//! The GPU guard: where an NVIDIA GPU exists, its temperature, power draw
//! and memory are sampled (NVML) every couple of seconds; past the limits in
//! `policies/limits.yaml` (`gpu:`), batch work (re-indexing notes, batch
//! embeddings) pauses, and resumes only once the readings are back below
//! the lower resume marks (hysteresis, so a GPU hovering at its limit does
//! not flap). Answers are never paused: they are what the box is for.
//! Without a GPU the guard says so once at start and stays quiet.
//!
//! The decisions are a pure state machine over samples ([`Guard`]), driven
//! in tests by recorded sensor sequences through the same [`GpuSensor`]
//! trait the NVML sampler implements.

mod nvml;

use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;

pub use nvml::NvmlSensor;

/// One reading of the GPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuSample {
    pub temperature_c: f64,
    pub power_w: f64,
    pub vram_used_mib: f64,
    pub vram_total_mib: f64,
}

/// Where readings come from: NVML on a real GPU, a recorded sequence in tests.
pub trait GpuSensor: Send {
    /// The GPU's name, for the log.
    fn name(&self) -> String;
    fn sample(&mut self) -> Result<GpuSample, String>;
    /// Sets the board's power limit, where the driver permits it.
    fn set_power_cap(&mut self, watts: u32) -> Result<(), String>;
}

/// `gpu:` in `policies/limits.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuLimits {
    /// Batch work pauses at or above this temperature…
    pub max_temperature_c: f64,
    /// …and resumes below this one.
    pub resume_temperature_c: f64,
    pub max_power_w: f64,
    pub resume_power_w: f64,
    /// Share of the GPU's memory in use that pauses batch work.
    pub max_vram_percent: f64,
    pub resume_vram_percent: f64,
    /// A board power limit to set at start, where permitted; none leaves it.
    pub power_cap_w: Option<u32>,
    pub sample_every_ms: u64,
}

impl Default for GpuLimits {
    fn default() -> Self {
        Self {
            max_temperature_c: 80.0,
            resume_temperature_c: 75.0,
            max_power_w: 220.0,
            resume_power_w: 200.0,
            max_vram_percent: 95.0,
            resume_vram_percent: 90.0,
            power_cap_w: None,
            sample_every_ms: 2000,
        }
    }
}

/// What a sample changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// Batch work stops; the reason names the reading and its limit.
    Paused(String),
    Resumed,
}

/// Whether batch work may run, from the samples so far.
#[derive(Debug)]
pub struct Guard {
    limits: GpuLimits,
    paused: bool,
}

impl Guard {
    pub fn new(limits: GpuLimits) -> Self {
        Self {
            limits,
            paused: false,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Takes one sample; returns the change it makes, if any.
    pub fn observe(&mut self, sample: &GpuSample) -> Option<Transition> {
        let l = &self.limits;
        let vram = if sample.vram_total_mib > 0.0 {
            100.0 * sample.vram_used_mib / sample.vram_total_mib
        } else {
            0.0
        };
        if !self.paused {
            let over = if sample.temperature_c >= l.max_temperature_c {
                Some(format!(
                    "{:.0} °C, at or over {:.0} °C",
                    sample.temperature_c, l.max_temperature_c
                ))
            } else if sample.power_w >= l.max_power_w {
                Some(format!(
                    "{:.0} W, at or over {:.0} W",
                    sample.power_w, l.max_power_w
                ))
            } else if vram >= l.max_vram_percent {
                Some(format!(
                    "{vram:.0} % of its memory, at or over {:.0} %",
                    l.max_vram_percent
                ))
            } else {
                None
            };
            self.paused = over.is_some();
            return over.map(Transition::Paused);
        }
        let calm = sample.temperature_c < l.resume_temperature_c
            && sample.power_w < l.resume_power_w
            && vram < l.resume_vram_percent;
        if calm {
            self.paused = false;
            return Some(Transition::Resumed);
        }
        None
    }
}

/// The gate batch work passes between its steps: open unless the guard
/// paused it. One per process, as there is one GPU guard.
#[derive(Debug, Default)]
pub struct BatchGate {
    paused: Mutex<bool>,
    changed: Condvar,
}

impl BatchGate {
    pub fn set_paused(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner()) = paused;
        self.changed.notify_all();
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once batch work may run (at once when it may).
    pub fn wait_for_turn(&self) {
        let mut paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        if *paused {
            tracing::info!("batch work waits for the GPU to cool down");
        }
        while *paused {
            paused = self.changed.wait(paused).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The process's batch gate.
pub fn batch_gate() -> &'static BatchGate {
    static GATE: OnceLock<BatchGate> = OnceLock::new();
    GATE.get_or_init(BatchGate::default)
}

/// What the guard reports each sample (the daemon's metrics).
pub type Report = Box<dyn Fn(&GpuSample, bool) + Send>;

/// Samples `sensor` for the daemon's lifetime from a thread of its own,
/// pausing and resuming `gate`.
pub fn start(
    mut sensor: Box<dyn GpuSensor>,
    limits: GpuLimits,
    gate: &'static BatchGate,
    report: Report,
) -> std::io::Result<()> {
    if let Some(watts) = limits.power_cap_w {
        match sensor.set_power_cap(watts) {
            Ok(()) => tracing::info!(watts, "GPU power limit set"),
            Err(e) => tracing::warn!(watts, error = %e, "the GPU's power limit could not be set"),
        }
    }
    tracing::info!(gpu = %sensor.name(), "GPU guard sampling");
    let every = Duration::from_millis(limits.sample_every_ms.max(100));
    let mut guard = Guard::new(limits);
    std::thread::Builder::new()
        .name("gpu-guard".into())
        .spawn(move || {
            let mut failing = false;
            loop {
                match sensor.sample() {
                    Ok(sample) => {
                        failing = false;
                        apply(&mut guard, &sample, gate);
                        report(&sample, guard.paused());
                    }
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "the GPU could not be read; batch work goes on");
                        gate.set_paused(false);
                    }
                    Err(_) => {}
                }
                std::thread::sleep(every);
            }
        })?;
    Ok(())
}

/// One sample's effect on the gate, logged.
pub fn apply(guard: &mut Guard, sample: &GpuSample, gate: &BatchGate) {
    match guard.observe(sample) {
        Some(Transition::Paused(reason)) => {
            tracing::warn!(%reason, "GPU over its limit: batch work paused");
            gate.set_paused(true);
        }
        Some(Transition::Resumed) => {
            tracing::info!(
                temperature_c = sample.temperature_c,
                power_w = sample.power_w,
                "GPU back under its limits: batch work resumes"
            );
            gate.set_paused(false);
        }
        None => {}
    }
}

#[cfg(test)]
mod tests;
