//! What each node class does in the simulator: its pace (steps, sleep) and its outputs.

use std::time::Duration;

use serde_json::{Map, Value};

use super::catalog;
use super::files::Dirs;
use super::images;

/// The size and identity of a batch of images (or of a latent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageSpec {
    pub width: u32,
    pub height: u32,
    pub batch: u32,
    pub seed: u64,
    /// A flat colour (`EmptyImage`), else a generated pattern.
    pub color: Option<u32>,
}

impl ImageSpec {
    /// A generated pattern of this size: what a node makes of a missing input.
    pub fn pattern(width: u32, height: u32, batch: u32, seed: u64) -> Self {
        Self {
            width,
            height,
            batch: batch.max(1),
            seed,
            color: None,
        }
    }
}

/// A value flowing along a link. Tensors are only described, never computed.
#[derive(Clone, Debug, PartialEq)]
pub enum SimValue {
    Image(ImageSpec),
    Latent(ImageSpec),
    Text(String),
    /// Models, conditioning, masks...: only the type name.
    Opaque(String),
}

impl SimValue {
    /// How the value shows in `execution_error.current_inputs`.
    pub fn describe(&self) -> String {
        match self {
            SimValue::Image(s) => format!("<IMAGE {}x{} batch={}>", s.width, s.height, s.batch),
            SimValue::Latent(s) => format!("<LATENT {}x{} batch={}>", s.width, s.height, s.batch),
            SimValue::Text(t) => t.clone(),
            SimValue::Opaque(t) => format!("<{t}>"),
        }
    }
}

/// An input as the node sees it: a literal or the value of a linked output.
#[derive(Clone, Debug)]
pub enum Arg {
    Lit(Value),
    Link(SimValue),
}

/// A node's resolved inputs, in the prompt's order.
#[derive(Clone, Debug, Default)]
pub struct Args(pub Vec<(String, Arg)>);

impl Args {
    fn get(&self, name: &str) -> Option<&Arg> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    fn lit(&self, name: &str) -> Option<&Value> {
        match self.get(name) {
            Some(Arg::Lit(v)) => Some(v),
            _ => None,
        }
    }

    pub fn u64(&self, name: &str, default: u64) -> u64 {
        self.lit(name)
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(default)
    }

    fn i64(&self, name: &str, default: i64) -> i64 {
        self.lit(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .unwrap_or(default)
    }

    fn u32(&self, name: &str, default: u32) -> u32 {
        u32::try_from(self.u64(name, u64::from(default))).unwrap_or(u32::MAX)
    }

    pub fn f64(&self, name: &str, default: f64) -> f64 {
        self.lit(name).and_then(Value::as_f64).unwrap_or(default)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Arg::Lit(Value::String(s))) => Some(s),
            Some(Arg::Link(SimValue::Text(s))) => Some(s),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str, default: bool) -> bool {
        self.lit(name).and_then(Value::as_bool).unwrap_or(default)
    }

    /// The image (or latent) spec behind an input.
    pub fn image(&self, name: &str) -> Option<ImageSpec> {
        match self.get(name) {
            Some(Arg::Link(SimValue::Image(s) | SimValue::Latent(s))) => Some(*s),
            _ => None,
        }
    }

    /// `execution_error.current_inputs`: every input as a one-element list.
    pub fn current_inputs(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(n, a)| {
                let v = match a {
                    Arg::Lit(v) => v.clone(),
                    Arg::Link(s) => Value::from(s.describe()),
                };
                (n.clone(), Value::Array(vec![v]))
            })
            .collect()
    }
}

/// How previews of a stepping node look.
#[derive(Clone, Copy, Debug)]
pub struct PreviewSpec {
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    pub png: bool,
}

/// What a node does while it runs.
#[derive(Clone, Debug)]
pub enum Pace {
    /// Done at once.
    Instant,
    /// Reports `steps` progress steps at the configured pace.
    Steps {
        steps: u64,
        previews: Option<PreviewSpec>,
        /// ProbeSteps' `send_text`: a binary TEXT frame per step.
        text_frames: bool,
    },
    /// Sleeps silently (interruptible), like ProbeSleep.
    Sleep(Duration),
    /// Sends the images as binary PNG frames with progress, like SaveImageWebsocket.
    WsImages(ImageSpec),
}

/// Whether sampler previews are wanted for a prompt (`extra_data.preview_method`).
pub fn previews_wanted(extra_data: &Map<String, Value>, by_default: bool) -> bool {
    match extra_data.get("preview_method").and_then(Value::as_str) {
        Some("none") => false,
        Some("auto" | "latent2rgb" | "taesd") => true,
        _ => by_default,
    }
}

/// The pace of a node of `class_type` with these inputs.
pub fn pace(class_type: &str, args: &Args, previews: bool) -> Pace {
    match class_type {
        "ProbeSleep" => Pace::Sleep(Duration::from_secs_f64(
            args.f64("seconds", 1.0).clamp(0.0, 3600.0),
        )),
        "SaveImageWebsocket" => args.image("images").map_or(Pace::Instant, Pace::WsImages),
        "ProbeSteps" => {
            let spec = PreviewSpec {
                width: args.u32("width", 64),
                height: args.u32("height", 64),
                seed: args.u64("seed", 0),
                png: args.str("preview_format") == Some("PNG"),
            };
            Pace::Steps {
                steps: args.u64("steps", 20),
                previews: args.bool("send_previews", true).then_some(spec),
                text_frames: args.bool("send_text", false),
            }
        }
        _ if has_steps_input(class_type) => {
            let mut steps = args.u64("steps", 20);
            if class_type == "KSamplerAdvanced" {
                let end = args.u64("end_at_step", 10_000).min(steps);
                steps = end.saturating_sub(args.u64("start_at_step", 0));
            }
            if steps == 0 {
                return Pace::Instant;
            }
            let latent = args.image("latent_image");
            let spec = PreviewSpec {
                width: latent.map_or(512, |l| l.width),
                height: latent.map_or(512, |l| l.height),
                seed: args.u64("seed", args.u64("noise_seed", 0)),
                png: false,
            };
            Pace::Steps {
                steps,
                previews: previews.then_some(spec),
                text_frames: false,
            }
        }
        _ => Pace::Instant,
    }
}

/// Samplers and probes: any class with a required INT `steps` input.
fn has_steps_input(class_type: &str) -> bool {
    catalog::inputs(class_type, "required")
        .iter()
        .any(|(n, spec)| n == "steps" && spec.get(0).and_then(Value::as_str) == Some("INT"))
}

/// The (non-UI) outputs of a node.
pub fn outputs(class_type: &str, node_id: &str, args: &Args, dirs: &Dirs) -> Vec<SimValue> {
    let dims = ImageSpec::pattern;
    match class_type {
        "EmptyLatentImage" => vec![SimValue::Latent(dims(
            args.u32("width", 512),
            args.u32("height", 512),
            args.u32("batch_size", 1),
            0,
        ))],
        "KSampler" | "KSamplerAdvanced" => {
            let seed = args.u64("seed", args.u64("noise_seed", 0));
            let base = args.image("latent_image").unwrap_or(dims(512, 512, 1, 0));
            vec![SimValue::Latent(ImageSpec {
                seed: base.seed ^ seed.wrapping_add(1),
                color: None,
                ..base
            })]
        }
        "VAEDecode" => vec![SimValue::Image(
            args.image("samples").unwrap_or(dims(512, 512, 1, 0)),
        )],
        "VAEEncode" => vec![SimValue::Latent(
            args.image("pixels").unwrap_or(dims(512, 512, 1, 0)),
        )],
        "EmptyImage" => vec![SimValue::Image(ImageSpec {
            color: Some(args.u32("color", 0)),
            ..dims(
                args.u32("width", 512),
                args.u32("height", 512),
                args.u32("batch_size", 1),
                0,
            )
        })],
        "LoadImage" => {
            let name = args.str("image").unwrap_or("");
            let (w, h) = dirs
                .annotated_input(name)
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|b| images::dimensions(&b))
                .unwrap_or((512, 512));
            let seed = name
                .bytes()
                .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
            vec![
                SimValue::Image(dims(w, h, 1, seed)),
                SimValue::Opaque("MASK".to_owned()),
            ]
        }
        "ImageScale" => {
            let src = args.image("image").unwrap_or(dims(512, 512, 1, 0));
            let (w, h) = (args.u32("width", 512), args.u32("height", 512));
            let (w, h) = match (w, h) {
                (0, 0) => (src.width, src.height),
                (0, h) => (
                    (u64::from(src.width) * u64::from(h) / u64::from(src.height.max(1))) as u32,
                    h,
                ),
                (w, 0) => (
                    w,
                    (u64::from(src.height) * u64::from(w) / u64::from(src.width.max(1))) as u32,
                ),
                wh => wh,
            };
            vec![SimValue::Image(ImageSpec {
                width: w.max(1),
                height: h.max(1),
                ..src
            })]
        }
        "ImageInvert" => {
            let src = args.image("image").unwrap_or(dims(512, 512, 1, 0));
            vec![SimValue::Image(ImageSpec {
                seed: !src.seed,
                color: src.color.map(|c| !c & 0x00ff_ffff),
                ..src
            })]
        }
        "ProbeSteps" => {
            let spec = dims(
                args.u32("width", 64),
                args.u32("height", 64),
                args.u32("batch_size", 1),
                args.u64("seed", 0),
            );
            let summary = format!(
                "ProbeSteps node={node_id} seed={} steps={} size={}x{} batch={}",
                spec.seed,
                args.u64("steps", 20),
                spec.width,
                spec.height,
                spec.batch
            );
            vec![SimValue::Image(spec), SimValue::Text(summary)]
        }
        "ProbeBatch" => vec![SimValue::Image(dims(
            args.u32("width", 64),
            args.u32("height", 64),
            args.u32("count", 4),
            args.u64("seed", 0),
        ))],
        "ProbeSleep" => vec![SimValue::Image(
            args.image("image").unwrap_or(dims(64, 64, 1, 0)),
        )],
        "ProbeText" => vec![SimValue::Text(args.str("text").unwrap_or("").to_owned())],
        _ => catalog::output_types(class_type)
            .into_iter()
            .map(SimValue::Opaque)
            .collect(),
    }
}

/// ProbeText's UI lines.
pub fn probe_text_lines(args: &Args) -> Vec<String> {
    let mut lines = vec![args.str("text").unwrap_or("").to_owned()];
    if let Some(img) = args.image("image") {
        lines.push(format!(
            "image batch={} size={}x{}",
            img.batch, img.width, img.height
        ));
    }
    lines
}

/// ProbeSteps' deliberate failure step (`fail_at_step`, 0 = never).
pub fn own_fail_step(class_type: &str, args: &Args) -> Option<u64> {
    (class_type == "ProbeSteps")
        .then(|| args.i64("fail_at_step", 0))
        .filter(|s| *s > 0)
        .map(|s| s as u64)
}
