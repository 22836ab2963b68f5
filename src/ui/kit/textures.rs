//! The lane bitmaps of each run as textures kept between frames: each
//! frame feeds only the new rows, and a texture is re-uploaded at most
//! every 100 ms while its run grows.

use super::lanes::{self, Bitmap, StateColors};
use crate::store::RunRecord;
use crate::ui::runs::RunId;
use egui::{TextureHandle, TextureOptions};
use std::time::{Duration, Instant};

/// Swimlanes shown at most.
pub const MAX_LANES: usize = 96;

/// The heat map and swimlane bitmaps of each run, kept between frames:
/// each frame feeds only the new rows, and the textures are re-uploaded at
/// most every 100 ms while a run grows (and on a theme change).
#[derive(Default)]
pub struct LaneTextures {
    runs: std::collections::HashMap<RunId, RunTextures>,
    /// Names the textures (the live view and the race keep their own).
    prefix: &'static str,
}

pub struct RunTextures {
    acc: Option<lanes::Accumulator>,
    gil_acc: Option<lanes::Accumulator>,
    pub heat: Option<(TextureHandle, Bitmap)>,
    pub lanes: Option<(TextureHandle, Bitmap)>,
    uploaded: Option<(Instant, u64, bool)>,
}

impl LaneTextures {
    /// Re-draw every bitmap on its next use (the benchmark's worst case
    /// for a growing run).
    pub fn mark_stale(&mut self) {
        for pics in self.runs.values_mut() {
            pics.uploaded = None;
        }
    }

    pub fn new(prefix: &'static str) -> Self {
        Self {
            runs: Default::default(),
            prefix,
        }
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.runs.clear();
    }

    /// Forget the bitmaps of runs that are gone.
    pub fn retain(&mut self, keep: impl Fn(RunId) -> bool) {
        self.runs.retain(|id, _| keep(*id));
    }

    /// Brings run `id`'s bitmaps up to date and returns them.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        id: RunId,
        run: &RunRecord,
        dark: bool,
    ) -> &RunTextures {
        let prefix = self.prefix;
        let index = id.number();
        let pics = self.runs.entry(id).or_insert(RunTextures {
            acc: None,
            gil_acc: None,
            heat: None,
            lanes: None,
            uploaded: None,
        });
        if pics.acc.is_none()
            && let Some(first) = run.series().first_t_ns()
        {
            pics.acc = Some(lanes::Accumulator::new(first, lanes::FIRST_BUCKET_NS));
        }
        let Some(acc) = &mut pics.acc else {
            return pics;
        };
        acc.feed(run.series(), &lanes::bitmap_columns(run, MAX_LANES));
        let gil_series = &run.gil().series;
        if pics.gil_acc.is_none()
            && let Some(first) = gil_series.first_t_ns()
        {
            // The GIL reader's rows close 100 ms intervals: start one
            // interval before the first.
            let start = first.saturating_sub(crate::run::gil_feed::INTERVAL_NS);
            pics.gil_acc = Some(
                lanes::Accumulator::new(start, lanes::FIRST_BUCKET_NS)
                    .with_first_span(crate::run::gil_feed::INTERVAL_NS),
            );
        }
        if let Some(g) = &mut pics.gil_acc {
            g.feed(gil_series, &lanes::gil_columns(run, MAX_LANES));
        }
        let rows = acc.rows_read() + pics.gil_acc.as_ref().map_or(0, |g| g.rows_read());
        let stale = match pics.uploaded {
            None => true,
            Some((at, r, d)) => {
                d != dark || (r != rows && at.elapsed() >= Duration::from_millis(100))
            }
        };
        if stale {
            let colors = StateColors::new(dark);
            let mut heat = lanes::core_heat(run, acc, colors);
            let mut lane = lanes::thread_lanes(run, acc, pics.gil_acc.as_ref(), MAX_LANES, colors);
            pics.heat = Some((
                upload(ctx, &format!("{prefix}heat{index}"), &mut heat),
                heat,
            ));
            pics.lanes = Some((
                upload(ctx, &format!("{prefix}lanes{index}"), &mut lane),
                lane,
            ));
            pics.uploaded = Some((Instant::now(), rows, dark));
        }
        pics
    }
}

/// Uploads a bitmap's pixels as a texture (moving them out of `bitmap`:
/// only its rows and time span are kept).
pub fn upload(ctx: &egui::Context, name: &str, bitmap: &mut Bitmap) -> TextureHandle {
    let image = std::mem::take(&mut bitmap.image);
    ctx.load_texture(name, image, TextureOptions::NEAREST)
}
