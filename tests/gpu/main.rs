//! The GPU guard on a real NVIDIA GPU: run on a machine that has one
//! (`cargo test --test gpu`; not part of `scripts/test.sh`, as CI machines
//! have none). Everything else of the guard is tested with sensor
//! sequences through the same trait (`src/gpu_guard/tests.rs`).

use hauski::gpu_guard::{BatchGate, GpuLimits, GpuSensor, Guard, NvmlSensor, apply};

#[test]
fn the_real_gpu_is_sampled_and_its_readings_drive_the_guard() {
    let mut sensor = NvmlSensor::first()
        .unwrap_or_else(|reason| panic!("this test needs an NVIDIA GPU with its driver: {reason}"));
    let sample = sensor.sample().expect("NVML reads the GPU");
    println!("{}: {sample:?}", sensor.name());
    assert!((1.0..120.0).contains(&sample.temperature_c), "{sample:?}");
    assert!(sample.power_w > 0.0 && sample.power_w < 2000.0, "{sample:?}");
    assert!(
        sample.vram_total_mib > 1000.0 && sample.vram_used_mib <= sample.vram_total_mib,
        "{sample:?}"
    );

    // Limits just under what it reads now pause batch work; generous ones resume it.
    let tight = GpuLimits {
        max_temperature_c: sample.temperature_c - 1.0,
        resume_temperature_c: sample.temperature_c - 2.0,
        ..GpuLimits::default()
    };
    let gate = BatchGate::default();
    let mut guard = Guard::new(tight);
    apply(&mut guard, &sensor.sample().expect("sample"), &gate);
    assert!(gate.is_paused(), "a GPU over its limit did not pause batch work");
    let mut relaxed = Guard::new(GpuLimits {
        max_temperature_c: 200.0,
        resume_temperature_c: 150.0,
        max_power_w: 5000.0,
        resume_power_w: 4000.0,
        max_vram_percent: 101.0,
        resume_vram_percent: 100.5,
        ..GpuLimits::default()
    });
    apply(&mut relaxed, &sensor.sample().expect("sample"), &gate);
    assert!(guard.paused() && !relaxed.paused());
}
