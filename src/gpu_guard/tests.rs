//! The guard driven through the sensor trait by sensor sequences in the
//! shape `nvidia-smi --query-gpu=temperature.gpu,power.draw,memory.used,memory.total
//! --format=csv,noheader,nounits -l 2` logs them.

use std::collections::VecDeque;
use std::sync::Arc;

use super::*;

/// Replays a logged sequence, one line per sample.
struct Replay(VecDeque<GpuSample>);

impl Replay {
    fn from_csv(log: &str) -> Self {
        Self(
            log.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v: Vec<f64> = l.split(',').map(|f| f.trim().parse().expect("number")).collect();
                    GpuSample {
                        temperature_c: v[0],
                        power_w: v[1],
                        vram_used_mib: v[2],
                        vram_total_mib: v[3],
                    }
                })
                .collect(),
        )
    }
}

impl GpuSensor for Replay {
    fn name(&self) -> String {
        "replay".into()
    }
    fn sample(&mut self) -> Result<GpuSample, String> {
        self.0.pop_front().ok_or_else(|| "the log ended".into())
    }
    fn set_power_cap(&mut self, _: u32) -> Result<(), String> {
        Err("not permitted".into())
    }
}

/// The gate's state after each sample of `log`.
fn paused_after_each(log: &str) -> Vec<bool> {
    let mut sensor = Replay::from_csv(log);
    let mut guard = Guard::new(GpuLimits::default());
    let gate = BatchGate::default();
    let mut states = Vec::new();
    while let Ok(sample) = sensor.sample() {
        apply(&mut guard, &sample, &gate);
        states.push(gate.is_paused());
    }
    states
}

#[test]
fn a_hot_gpu_pauses_batch_work_and_resumes_only_once_it_cooled_past_the_mark() {
    // Indexing heats it to 81 °C; it hovers at 77–79 (no flapping), then cools.
    let heating = "62, 150.2, 3100, 24576\n71, 190.0, 3100, 24576\n81, 205.5, 3200, 24576\n\
                   79, 180.1, 3200, 24576\n77, 150.0, 3200, 24576\n78, 120.0, 3200, 24576\n\
                   74, 90.0, 3100, 24576\n70, 60.0, 3100, 24576\n";
    assert_eq!(
        paused_after_each(heating),
        [false, false, true, true, true, true, false, false]
    );
}

#[test]
fn power_and_memory_pause_it_too() {
    let power = "70, 221.0, 3000, 24576\n70, 210.0, 3000, 24576\n70, 199.0, 3000, 24576\n";
    assert_eq!(paused_after_each(power), [true, true, false]);
    let memory = "60, 100, 23500, 24576\n60, 100, 22500, 24576\n60, 100, 20000, 24576\n";
    assert_eq!(paused_after_each(memory), [true, true, false]);
    // Each reason is named with its reading and limit.
    let mut guard = Guard::new(GpuLimits::default());
    let hot = GpuSample {
        temperature_c: 85.0,
        power_w: 100.0,
        vram_used_mib: 1.0,
        vram_total_mib: 10.0,
    };
    assert_eq!(
        guard.observe(&hot),
        Some(Transition::Paused("85 °C, at or over 80 °C".into()))
    );
}

#[test]
fn batch_work_waits_at_the_gate_until_the_guard_resumes_it() {
    let gate = Arc::new(BatchGate::default());
    gate.set_paused(true);
    let (done, finished) = std::sync::mpsc::channel();
    let waiting = gate.clone();
    let worker = std::thread::spawn(move || {
        waiting.wait_for_turn();
        done.send(()).expect("send");
    });
    assert!(
        finished.try_recv().is_err(),
        "batch work ran while the GPU was hot"
    );
    gate.set_paused(false);
    finished.recv().expect("it runs once resumed");
    worker.join().expect("worker");
}
