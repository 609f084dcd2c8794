//! The cockpit's header: the server and its connection on the first line, memory on the
//! second (RAM, then each device's VRAM, with a bar each), fitted to the width.

use super::CockpitView;
use crate::comfy::system::SystemStats;
use crate::text::sanitize;
use crate::ui::{gauges, theme};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Lines the strip takes.
pub const HEIGHT: u16 = 2;
/// Bars narrower than this say nothing; wider ones only take room from the figures.
const MIN_BAR: usize = 4;
const MAX_BAR: usize = 20;
const SEPARATOR: &str = " │ ";

pub fn render(frame: &mut Frame<'_>, area: Rect, view: &CockpitView<'_>) {
    let [top, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    render_server(frame, top, view);
    frame.render_widget(
        Paragraph::new(memory_line(view.stats, usize::from(bottom.width))),
        bottom,
    );
}

/// `comfy-tui │ server │ ● connection`, and the server's version on the right when there
/// is room; the name goes first, then the version, then the server is cut.
fn render_server(frame: &mut Frame<'_>, area: Rect, view: &CockpitView<'_>) {
    let width = usize::from(area.width);
    let connection = Span::styled(
        format!("● {}", sanitize(view.connection)),
        theme::connection_word(view.connection),
    );
    let version = view
        .stats
        .and_then(|s| s.comfyui_version.as_deref())
        .map(|v| Span::styled(format!("ComfyUI {}", sanitize(v)), theme::dim()));
    let server = sanitize(view.server).into_owned();
    let name_width = "comfy-tui".len() + SEPARATOR.len();
    let fixed = connection.width() + SEPARATOR.chars().count();
    let server_width = Span::raw(server.as_str()).width();
    let version_width = version.as_ref().map_or(0, |v| v.width() + 2);
    let show_name = name_width + server_width + fixed + version_width <= width;
    let show_version = server_width + fixed + version_width <= width;
    let server_room = width.saturating_sub(fixed);
    let sep = || Span::styled(SEPARATOR, theme::border());
    let mut left = Vec::new();
    if show_name {
        left.extend([Span::styled("comfy-tui", theme::title()), sep()]);
    }
    left.extend([
        Span::raw(crate::ui::format::truncate(&server, server_room)),
        sep(),
        connection,
    ]);
    let right = version.filter(|_| show_version);
    let right_width = right.as_ref().map_or(0, Span::width) as u16;
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    if let Some(right) = right {
        frame.render_widget(
            Paragraph::new(right).alignment(Alignment::Right),
            right_area,
        );
    }
}

/// One figure of the strip: `RAM` or a device, in bytes.
struct Gauge {
    label: String,
    used: u64,
    total: u64,
}

impl Gauge {
    fn figures(&self) -> String {
        format!("{}/{} GiB", gib(self.used), gib(self.total))
    }

    fn text_width(&self) -> usize {
        self.label.chars().count() + 1 + self.figures().chars().count()
    }

    fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.used as f64 / self.total as f64
        }
    }
}

/// GiB with one decimal, whatever the size, so that the figures line up and compare.
fn gib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1u64 << 30) as f64)
}

fn gauges(stats: &SystemStats) -> Vec<Gauge> {
    let mut out = Vec::new();
    if let (Some(used), Some(total)) = (stats.ram_used(), stats.ram_total) {
        out.push(Gauge {
            label: "RAM".into(),
            used,
            total,
        });
    }
    for device in &stats.devices {
        // A CPU device's "VRAM" is the system RAM again: shown once is enough. A device
        // that reports no figures has nothing to draw.
        if device.kind == "cpu" {
            continue;
        }
        if let (Some(used), Some(total)) = (device.vram_used(), device.vram_total) {
            out.push(Gauge {
                label: sanitize(&device.short_name()).into_owned(),
                used,
                total,
            });
        }
    }
    out
}

/// The memory line for `width` columns: every gauge with a bar when they fit; without
/// bars when not; then the last devices dropped for a `+N` mark.
pub fn memory_line(stats: Option<&SystemStats>, width: usize) -> Line<'static> {
    let all = stats.map(gauges).unwrap_or_default();
    if all.is_empty() {
        return Line::styled("stats unavailable", theme::dim());
    }
    let sep = SEPARATOR.chars().count();
    let text: usize = all.iter().map(Gauge::text_width).sum::<usize>() + sep * (all.len() - 1);
    let n = all.len();
    let bar = (width.saturating_sub(text) / n)
        .saturating_sub(1)
        .min(MAX_BAR);
    let (shown, bar) = if bar >= MIN_BAR {
        (n, Some(bar))
    } else {
        // Without bars: as many gauges as fit beside the `+N` mark for the rest.
        let fits = |k: usize| {
            let text: usize = all[..k].iter().map(Gauge::text_width).sum::<usize>();
            let mark = if k < n {
                format!(" +{}", n - k).len()
            } else {
                0
            };
            text + sep * (k - 1) + mark <= width
        };
        let mut shown = n;
        while shown > 1 && !fits(shown) {
            shown -= 1;
        }
        (shown, None)
    };
    let mut spans = Vec::new();
    for gauge in &all[..shown] {
        if !spans.is_empty() {
            spans.push(Span::styled(SEPARATOR, theme::border()));
        }
        spans.push(Span::styled(gauge.label.clone(), theme::label()));
        spans.push(Span::raw(format!(" {}", gauge.figures())));
        if let Some(bar) = bar {
            spans.push(Span::raw(" "));
            let ratio = gauge.ratio();
            spans.extend(gauges::bar(bar as u16, ratio, theme::memory(ratio)).spans);
        }
    }
    if shown < n {
        spans.push(Span::styled(format!(" +{}", n - shown), theme::dim()));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comfy::system::Device;

    const GIB: u64 = 1 << 30;

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn stats(devices: usize) -> SystemStats {
        SystemStats {
            ram_total: Some(64 * GIB),
            ram_free: Some(40 * GIB),
            devices: (0..devices)
                .map(|i| Device {
                    name: format!("cuda:{i} NVIDIA RTX 4090 : cudaMallocAsync"),
                    kind: "cuda".into(),
                    index: Some(i as u64),
                    vram_total: Some(24 * GIB),
                    vram_free: Some(GIB / 2),
                    ..Device::default()
                })
                .collect(),
            ..SystemStats::default()
        }
    }

    #[test]
    fn ram_and_each_device_with_bars() {
        let line = text(&memory_line(Some(&stats(1)), 80));
        assert!(line.starts_with("RAM 24.0/64.0 GiB ━"), "{line}");
        assert!(line.contains(" │ cuda:0 23.5/24.0 GiB ━"), "{line}");
        assert!(line.chars().count() <= 80);
    }

    #[test]
    fn narrow_drops_bars_then_devices() {
        let four = stats(4);
        let line = text(&memory_line(Some(&four), 60));
        assert!(!line.contains('━') && !line.contains('─'), "{line}");
        assert!(line.ends_with(" +3") || line.ends_with(" +2"), "{line}");
        assert!(line.chars().count() <= 60, "{line}");
        let wide = text(&memory_line(Some(&four), 200));
        assert!(wide.contains("cuda:3") && wide.contains('━'), "{wide}");
    }

    #[test]
    fn no_figures_is_unavailable_and_cpu_is_not_repeated() {
        assert_eq!(text(&memory_line(None, 80)), "stats unavailable");
        assert_eq!(
            text(&memory_line(Some(&SystemStats::default()), 80)),
            "stats unavailable"
        );
        let cpu = SystemStats {
            devices: vec![Device {
                name: "cpu".into(),
                kind: "cpu".into(),
                vram_total: Some(GIB),
                vram_free: Some(0),
                ..Device::default()
            }],
            ..stats(0)
        };
        let line = text(&memory_line(Some(&cpu), 80));
        assert!(line.starts_with("RAM ") && !line.contains("cpu"), "{line}");
    }
}
