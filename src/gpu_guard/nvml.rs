//! The GPU through NVML (nvml-wrapper, which loads `libnvidia-ml.so` at run
//! time: no link-time dependency, so the same binary runs without a GPU).

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

use super::{GpuSample, GpuSensor};

pub struct NvmlSensor {
    nvml: Nvml,
    index: u32,
}

impl NvmlSensor {
    /// The first GPU, or why there is none to watch (no driver, no device).
    pub fn first() -> Result<Self, String> {
        let nvml = Nvml::init().map_err(|e| format!("NVML is not available ({e})"))?;
        let count = nvml.device_count().map_err(|e| e.to_string())?;
        if count == 0 {
            return Err("NVML finds no GPU".into());
        }
        Ok(Self { nvml, index: 0 })
    }
}

const MIB: f64 = 1024.0 * 1024.0;

impl GpuSensor for NvmlSensor {
    fn name(&self) -> String {
        self.nvml
            .device_by_index(self.index)
            .and_then(|d| d.name())
            .unwrap_or_else(|_| format!("GPU {}", self.index))
    }

    fn sample(&mut self) -> Result<GpuSample, String> {
        let device = self.nvml.device_by_index(self.index).map_err(|e| e.to_string())?;
        let temperature = device
            .temperature(TemperatureSensor::Gpu)
            .map_err(|e| e.to_string())?;
        let power_mw = device.power_usage().map_err(|e| e.to_string())?;
        let memory = device.memory_info().map_err(|e| e.to_string())?;
        Ok(GpuSample {
            temperature_c: f64::from(temperature),
            power_w: f64::from(power_mw) / 1000.0,
            vram_used_mib: memory.used as f64 / MIB,
            vram_total_mib: memory.total as f64 / MIB,
        })
    }

    fn set_power_cap(&mut self, watts: u32) -> Result<(), String> {
        let mut device = self.nvml.device_by_index(self.index).map_err(|e| e.to_string())?;
        device
            .set_power_management_limit(watts * 1000)
            .map_err(|e| format!("{e} (setting it needs root or the driver's persistence settings)"))
    }
}
