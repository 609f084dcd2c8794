//! The memory a simulated GPU box reports in `/system_stats`: loaded models stay in
//! VRAM until `POST /free` unloads them, and a running prompt's working memory moves
//! with every step, so pollers see figures change.

use serde_json::{Value, json};

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

const RAM_TOTAL: u64 = 32 * GIB;
const RAM_BASE: u64 = 3 * GIB;
const VRAM_TOTAL: u64 = 24 * GIB;
/// The CUDA context and what other processes hold.
const VRAM_BASE: u64 = 400 * MIB;
const MODEL_VRAM: u64 = 6 * GIB + 512 * MIB;
/// Weights also kept in RAM (offloaded copies).
const MODEL_RAM: u64 = 2 * GIB;

/// What the figures depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Load {
    pub models_loaded: bool,
    pub running: bool,
    /// Steps run since start: the working set wobbles with it.
    pub steps: u64,
}

/// The `/system_stats` body for this load, shaped like 0.3.64's.
pub fn system_stats(load: Load) -> Value {
    let wobble = load.steps % 8;
    let (work_vram, work_ram) = if load.running {
        (2 * GIB + wobble * 256 * MIB, GIB + wobble * 64 * MIB)
    } else {
        (0, 0)
    };
    let models_vram = if load.models_loaded { MODEL_VRAM } else { 0 };
    let models_ram = if load.models_loaded { MODEL_RAM } else { 0 };
    // torch keeps what it reserved, a little more than it hands out.
    let torch_active = models_vram + work_vram;
    let torch_reserved = if torch_active == 0 {
        0
    } else {
        torch_active + 512 * MIB
    };
    let ram_free = RAM_TOTAL - RAM_BASE - models_ram - work_ram;
    let vram_free = VRAM_TOTAL - VRAM_BASE - torch_reserved;
    json!({
        "system": {
            "os": "posix",
            "ram_total": RAM_TOTAL,
            "ram_free": ram_free,
            "comfyui_version": "0.3.64",
            "required_frontend_version": "1.27.10",
            "installed_templates_version": "0.1.95",
            "required_templates_version": "0.1.95",
            "python_version": "3.11.7 (comfy-tui simulator)",
            "pytorch_version": "2.15.0+cu132",
            "embedded_python": false,
            "argv": ["main.py", "--listen", "127.0.0.1", "--port", "8188"],
        },
        "devices": [{
            "name": "cuda:0 NVIDIA GeForce RTX 4090 (simulated) : cudaMallocAsync",
            "type": "cuda",
            "index": 0,
            "vram_total": VRAM_TOTAL,
            "vram_free": vram_free,
            "torch_vram_total": torch_reserved,
            "torch_vram_free": torch_reserved - torch_active,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vram_free(load: Load) -> u64 {
        system_stats(load)["devices"][0]["vram_free"]
            .as_u64()
            .unwrap_or(0)
    }

    #[test]
    fn models_and_running_prompts_take_memory() {
        let idle = Load::default();
        let loaded = Load {
            models_loaded: true,
            ..idle
        };
        let running = Load {
            running: true,
            ..loaded
        };
        assert!(vram_free(idle) > vram_free(loaded));
        assert!(vram_free(loaded) > vram_free(running));
        let later = Load {
            steps: 3,
            ..running
        };
        assert_ne!(vram_free(running), vram_free(later), "moves with the steps");
        let stats = system_stats(later);
        assert!(
            stats["system"]["ram_free"].as_u64()
                < system_stats(idle)["system"]["ram_free"].as_u64()
        );
        assert_eq!(system_stats(idle)["devices"][0]["torch_vram_total"], 0);
    }
}
