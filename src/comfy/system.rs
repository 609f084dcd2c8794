//! What a server says about itself: `/system_stats` (memory, devices, versions) and
//! `/features`, typed and tolerant of every version's shape (reference §4.11, §4.12).

use serde::Serialize;
use serde_json::{Map, Value};

/// `GET /system_stats`. Every field is optional on the wire; what is missing stays `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SystemStats {
    /// `posix` / `nt` on 0.3.x, `linux` / `win32` / `darwin` on newer servers.
    pub os: Option<String>,
    pub ram_total: Option<u64>,
    pub ram_free: Option<u64>,
    pub comfyui_version: Option<String>,
    pub python_version: Option<String>,
    pub pytorch_version: Option<String>,
    /// 0.3.x reports one device; newer servers every device, the primary first.
    pub devices: Vec<Device>,
}

/// One compute device. For CPU and MPS the VRAM figures are system RAM.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Device {
    pub name: String,
    /// `cuda`, `cpu`, `mps`, `xpu`, ...
    pub kind: String,
    pub index: Option<u64>,
    pub vram_total: Option<u64>,
    pub vram_free: Option<u64>,
    pub torch_vram_total: Option<u64>,
    pub torch_vram_free: Option<u64>,
}

/// A byte count: an integer, or a float some servers send (`104857600.0`); negative and
/// non-finite numbers are no size.
pub(crate) fn bytes_of(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl SystemStats {
    pub fn from_value(value: &Value) -> Self {
        let system = value.get("system");
        let field = |key: &str| system.and_then(|s| s.get(key));
        Self {
            os: text_of(field("os")),
            ram_total: bytes_of(field("ram_total")),
            ram_free: bytes_of(field("ram_free")),
            comfyui_version: text_of(field("comfyui_version")),
            python_version: text_of(field("python_version")),
            pytorch_version: text_of(field("pytorch_version")),
            devices: value
                .get("devices")
                .and_then(Value::as_array)
                .map(|devices| devices.iter().map(Device::from_value).collect())
                .unwrap_or_default(),
        }
    }

    /// RAM in use, when both figures are known.
    pub fn ram_used(&self) -> Option<u64> {
        Some(self.ram_total?.saturating_sub(self.ram_free?))
    }
}

impl Device {
    pub fn from_value(value: &Value) -> Self {
        Self {
            name: text_of(value.get("name")).unwrap_or_default(),
            kind: text_of(value.get("type")).unwrap_or_default(),
            index: value.get("index").and_then(Value::as_u64),
            vram_total: bytes_of(value.get("vram_total")),
            vram_free: bytes_of(value.get("vram_free")),
            torch_vram_total: bytes_of(value.get("torch_vram_total")),
            torch_vram_free: bytes_of(value.get("torch_vram_free")),
        }
    }

    /// `cuda:0`, `xpu:1`, `cpu`: the device as torch names it, without the model and
    /// allocator that follow in `name`.
    pub fn short_name(&self) -> String {
        match (self.kind.as_str(), self.index) {
            ("", _) | (_, None) => self
                .name
                .split_whitespace()
                .next()
                .unwrap_or(self.kind.as_str())
                .to_owned(),
            (kind, Some(index)) => format!("{kind}:{index}"),
        }
    }

    pub fn vram_used(&self) -> Option<u64> {
        Some(self.vram_total?.saturating_sub(self.vram_free?))
    }

    /// What torch holds (allocated and cached) but has not handed out.
    pub fn torch_vram_used(&self) -> Option<u64> {
        Some(self.torch_vram_total?.saturating_sub(self.torch_vram_free?))
    }
}

/// The preview metadata flag and upload limit older servers imply (no `/features`).
pub const DEFAULT_MAX_UPLOAD: u64 = 100 * 1024 * 1024;

/// `GET /features` (also the socket's `feature_flags` reply).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    /// False when the server has no `/features` route (before 2025-07).
    pub known: bool,
    pub supports_preview_metadata: bool,
    pub max_upload_size: u64,
    /// Every flag as sent, in the server's order (operator flags, `extension`, ...).
    pub flags: Map<String, Value>,
}

impl Features {
    /// `None` = the route does not exist (404): an older server, with its defaults.
    pub fn from_value(value: Option<&Value>) -> Self {
        let Some(value) = value else {
            return Self {
                known: false,
                supports_preview_metadata: false,
                max_upload_size: DEFAULT_MAX_UPLOAD,
                flags: Map::new(),
            };
        };
        let flags = value.as_object().cloned().unwrap_or_default();
        Self {
            known: true,
            supports_preview_metadata: flags.get("supports_preview_metadata")
                == Some(&Value::Bool(true)),
            max_upload_size: bytes_of(flags.get("max_upload_size")).unwrap_or(DEFAULT_MAX_UPLOAD),
            flags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stats_of_old_and_new_servers_parse() {
        let new = SystemStats::from_value(&json!({
            "system": {"os": "linux", "ram_total": 100, "ram_free": 40.0,
                       "comfyui_version": "0.3.70", "deploy_environment": {"x": 1}},
            "devices": [
                {"name": "cuda:0 NVIDIA", "type": "cuda", "index": 0, "vram_total": 24,
                 "vram_free": 20, "torch_vram_total": 6, "torch_vram_free": 1},
                {"name": "cuda:1", "type": "cuda", "index": 1}
            ]
        }));
        assert_eq!(new.ram_used(), Some(60));
        assert_eq!(new.devices.len(), 2);
        assert_eq!(new.devices[0].vram_used(), Some(4));
        assert_eq!(new.devices[0].torch_vram_used(), Some(5));
        assert_eq!(new.devices[1].vram_total, None);
        assert_eq!(new.devices[1].vram_used(), None);
        assert_eq!(new.devices[0].short_name(), "cuda:0");
        let cpu = Device::from_value(&json!({"name": "cpu", "type": "cpu", "index": null}));
        assert_eq!(cpu.short_name(), "cpu");
        assert_eq!(Device::default().short_name(), "");
        let odd = SystemStats::from_value(&json!({"system": {"ram_total": -1}, "devices": {}}));
        assert_eq!(odd.ram_total, None);
        assert!(odd.devices.is_empty());
        assert_eq!(SystemStats::from_value(&json!([])), SystemStats::default());
    }

    #[test]
    fn features_default_when_absent_and_keep_every_flag() {
        let old = Features::from_value(None);
        assert!(!old.known && !old.supports_preview_metadata);
        assert_eq!(old.max_upload_size, DEFAULT_MAX_UPLOAD);
        let new = Features::from_value(Some(&json!({
            "supports_preview_metadata": true, "max_upload_size": 5.0e6,
            "extension": {"manager": {"supports_v4": true}}, "assets": false
        })));
        assert!(new.known && new.supports_preview_metadata);
        assert_eq!(new.max_upload_size, 5_000_000);
        assert_eq!(new.flags.len(), 4);
    }
}
