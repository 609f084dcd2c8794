//! `comfy-tui stats`: the server's RAM, each device's VRAM and torch VRAM, versions.

use serde_json::{Value, json};

use super::table::{self, Align, Table};
use super::{Failure, Shown};
use crate::cli::ServerArgs;
use crate::comfy::system::{Device, SystemStats};

pub async fn run(args: ServerArgs) -> i32 {
    super::run_with(&args, |client| async move {
        let stats = client.stats().await?;
        Ok::<_, Failure>(show(client.server().as_str(), &stats))
    })
    .await
}

pub fn show(server: &str, stats: &SystemStats) -> Shown {
    Shown {
        json: to_json(server, stats),
        table: text(server, stats),
    }
}

/// `{"server", "system": {...}, "devices": [...]}`; sizes in bytes, `null` when unknown.
pub fn to_json(server: &str, stats: &SystemStats) -> Value {
    let devices: Vec<Value> = stats.devices.iter().map(device_json).collect();
    json!({
        "server": server,
        "system": {
            "os": stats.os,
            "comfyui_version": stats.comfyui_version,
            "python_version": stats.python_version,
            "pytorch_version": stats.pytorch_version,
            "ram_total": stats.ram_total,
            "ram_free": stats.ram_free,
            "ram_used": stats.ram_used(),
        },
        "devices": devices,
    })
}

fn device_json(d: &Device) -> Value {
    json!({
        "name": d.name,
        "type": d.kind,
        "index": d.index,
        "vram_total": d.vram_total,
        "vram_free": d.vram_free,
        "vram_used": d.vram_used(),
        "torch_vram_total": d.torch_vram_total,
        "torch_vram_free": d.torch_vram_free,
        "torch_vram_used": d.torch_vram_used(),
    })
}

/// Used of total, e.g. `4.0 GiB / 16.0 GiB`.
fn used_of(used: Option<u64>, total: Option<u64>) -> String {
    format!("{} / {}", table::bytes(used), table::bytes(total))
}

pub fn text(server: &str, stats: &SystemStats) -> String {
    let mut out = table::pairs(&[
        ("server", server.to_owned()),
        ("comfyui", table::or_dash(stats.comfyui_version.clone())),
        ("python", table::or_dash(stats.python_version.clone())),
        ("pytorch", table::or_dash(stats.pytorch_version.clone())),
        ("os", table::or_dash(stats.os.clone())),
        (
            "ram used",
            format!(
                "{} (free {})",
                used_of(stats.ram_used(), stats.ram_total),
                table::bytes(stats.ram_free)
            ),
        ),
    ]);
    out.push('\n');
    if stats.devices.is_empty() {
        out.push_str("no devices reported\n");
        return out;
    }
    let mut devices = Table::new(&[
        ("DEVICE", Align::Left),
        ("TYPE", Align::Left),
        ("INDEX", Align::Right),
        ("VRAM USED / TOTAL", Align::Right),
        ("VRAM FREE", Align::Right),
        ("TORCH USED / TOTAL", Align::Right),
        ("TORCH FREE", Align::Right),
    ]);
    for d in &stats.devices {
        devices.row([
            d.name.clone(),
            d.kind.clone(),
            d.index.map_or_else(|| "-".to_owned(), |i| i.to_string()),
            used_of(d.vram_used(), d.vram_total),
            table::bytes(d.vram_free),
            used_of(d.torch_vram_used(), d.torch_vram_total),
            table::bytes(d.torch_vram_free),
        ]);
    }
    out.push_str(&devices.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_shows_ram_and_every_device() {
        let stats = SystemStats::from_value(&json!({
            "system": {"ram_total": 4096, "ram_free": 1024, "comfyui_version": "0.3.64\u{1b}[2J"},
            "devices": [{"name": "cuda:0 GPU", "type": "cuda", "index": 0,
                         "vram_total": 2048, "vram_free": 1024}]
        }));
        let text = text("http://h/", &stats);
        assert!(
            text.contains("ram used  3.0 KiB / 4.0 KiB (free 1.0 KiB)"),
            "{text}"
        );
        assert!(text.contains("comfyui   0.3.64\n"), "{text}");
        assert!(!text.contains('\u{1b}'));
        let row = text.lines().last().unwrap_or_default();
        assert!(row.starts_with("cuda:0 GPU  cuda"), "{row}");
        assert!(row.contains("1.0 KiB / 2.0 KiB"), "{row}");
        assert!(row.contains("- / -"), "unknown torch figures: {row}");
        let value = to_json("http://h/", &stats);
        assert_eq!(value["system"]["ram_used"], 3072);
        assert_eq!(value["devices"][0]["vram_used"], 1024);
        assert_eq!(value["devices"][0]["torch_vram_used"], Value::Null);
    }
}
