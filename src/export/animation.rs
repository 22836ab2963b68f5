//! The race as an animation for a slide, rendered without a window: two
//! runs replayed on their own clocks (each starts at its start gate and
//! stops at its last chunk), side by side — each runner's clock, progress,
//! thread lanes filling in (the app's colours and hatching), its picture
//! filling in band by band tinted by worker, the finish line — and, once
//! both finished, the winner with its verdict and margin
//! ([`crate::sweep::headline`], as the app says it). Real time or a chosen
//! speed, 1920×1080 or any size, a chosen frame rate, the last frame held.
//!
//! The frame is drawn once and then changed where the race moves (clocks,
//! bars, new lane columns, new bands); [`super::encode`] writes only what
//! changed, so rendering takes a fraction of the race's own time.
//!
//! The app's "Export animation…" calls [`render_file`] with the two runs
//! it shows and their points.

use super::canvas::{Anchor, Canvas, Rect};
use super::encode::{CUBE_STEP, Encoder, Format};
use super::lanes::{LaneImage, lane_image};
use crate::palette::{self, Rgb, lane, state};
use crate::store::RunRecord;
use crate::store::verdict;
use crate::sweep::Point;
use crate::sweep::headline::{self, Headline};
use crate::sweep::race::{ChunkClock, Lap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The background and the inks (the app's dark stage).
pub const BACKGROUND: Rgb = [22, 24, 28];
/// A picture not computed yet, and the progress bar's track.
pub const EMPTY: Rgb = [40, 44, 52];
const INK: Rgb = [236, 236, 236];
const MUTED: Rgb = [150, 155, 162];
const RULE: Rgb = [70, 75, 84];

/// How strongly a band takes its worker's colour (as in the app).
const TINT: f32 = 0.38;
/// Lanes drawn at most (main, the workers, then the others).
const MAX_LANES: usize = 24;

/// What to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnimationOptions {
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// Frames per second (1–50).
    pub fps: f64,
    /// Replay speed: 1 is real time, 2 twice as fast.
    pub speed: f64,
    /// How long the last frame is held, in seconds.
    pub hold_s: f64,
}

impl Default for AnimationOptions {
    fn default() -> Self {
        Self {
            size: (1920, 1080),
            fps: 15.0,
            speed: 1.0,
            hold_s: 3.0,
        }
    }
}

/// One side of the race: a run and, when it has repeats, its point (its
/// median, spread and verdicts: what the headline says).
#[derive(Debug, Clone, Copy)]
pub struct Racer<'a> {
    pub run: &'a RunRecord,
    pub point: Option<&'a Point>,
}

/// What was rendered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rendered {
    pub frames: usize,
    pub bytes: u64,
    /// The race's length (the slower finish), in seconds of its clock.
    pub race_s: f64,
    /// How long the animation plays, the hold included.
    pub plays_s: f64,
    /// How long rendering took.
    pub render_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum AnimationError {
    #[error("{}: {why}; write .gif, or .png for an animated PNG", path.display())]
    Format { path: PathBuf, why: String },
    #[error(
        "{0} has no start gate: it never started its work, so there is nothing to race (race runs that completed)"
    )]
    NoGate(String),
    #[error(
        "neither run finished: a race needs at least one finish line (race runs that completed)"
    )]
    NoFinish,
    #[error("size {0}x{1}: choose from 640x360 to 3840x2160")]
    Size(u32, u32),
    #[error("{0} frames per second: choose 1 to 50 (GIF delays are in hundredths of a second)")]
    Fps(f64),
    #[error("speed {0}×: choose 0.05 to 100")]
    Speed(f64),
    #[error("hold {0} s: choose 0 to 600 seconds for the last frame")]
    Hold(f64),
    #[error("cannot write {}: {source} (check the folder exists and is writable)", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("encoding the animation: {0}")]
    Encode(#[from] super::encode::EncodeError),
}

/// The format `path` asks for by its extension.
pub fn format_of(path: &Path) -> Result<Format, AnimationError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let why = match ext.as_str() {
        "gif" => return Ok(Format::Gif),
        "png" | "apng" => return Ok(Format::Apng),
        "webp" => "WebP is not supported (no well-kept Rust encoder writes animated WebP)".into(),
        "mp4" | "webm" | "mkv" | "mov" => format!(
            ".{ext} is not supported (video needs a system encoder; convert the GIF, e.g. `ffmpeg -i race.gif race.mp4`)"
        ),
        "" => "no extension".into(),
        other => format!(".{other} is not an animation format gilscope writes"),
    };
    Err(AnimationError::Format {
        path: path.to_path_buf(),
        why,
    })
}

impl AnimationOptions {
    /// Whether the options can be rendered (size, frame rate, speed, hold).
    pub fn check(&self) -> Result<(), AnimationError> {
        let (w, h) = self.size;
        if !(640..=3840).contains(&w) || !(360..=2160).contains(&h) {
            return Err(AnimationError::Size(w, h));
        }
        if !(1.0..=50.0).contains(&self.fps) {
            return Err(AnimationError::Fps(self.fps));
        }
        if !(0.05..=100.0).contains(&self.speed) {
            return Err(AnimationError::Speed(self.speed));
        }
        if !(0.0..=600.0).contains(&self.hold_s) {
            return Err(AnimationError::Hold(self.hold_s));
        }
        Ok(())
    }

    /// The race clock of each frame: every 1/fps of playing time from the
    /// gate (×speed), the last one exactly at `race_s`.
    pub fn frame_times(&self, race_s: f64) -> Vec<f64> {
        let step = self.speed / self.fps;
        let n = (race_s / step - 1e-9).ceil().max(0.0) as usize;
        (0..=n).map(|k| (k as f64 * step).min(race_s)).collect()
    }

    /// Each frame's delay in hundredths of a second (rounded so the whole
    /// stays on time); the last one is the hold.
    fn delays_cs(&self, frames: usize) -> Vec<u16> {
        let cs = |k: usize| (k as f64 * 100.0 / self.fps).round() as u64;
        (0..frames)
            .map(|k| {
                if k + 1 == frames {
                    (self.hold_s * 100.0).round().clamp(1.0, 65_535.0) as u16
                } else {
                    (cs(k + 1) - cs(k)).clamp(1, 65_535) as u16
                }
            })
            .collect()
    }
}

/// The race's length: the slower finish (a run that did not finish has no
/// finish line; the other's sets the length).
pub fn race_seconds(a: &RunRecord, b: &RunRecord) -> Result<f64, AnimationError> {
    let laps = [Lap::of(a), Lap::of(b)];
    laps.iter()
        .flatten()
        .filter_map(|l| l.finish_s)
        .reduce(f64::max)
        .map(|s| s.max(0.1))
        .ok_or(AnimationError::NoFinish)
}

/// Where things are drawn, for a given size: tests read the regions.
#[derive(Debug, Clone, Copy)]
pub struct Regions {
    /// Where the winner, verdict and margin appear once both finished.
    pub headline: Rect,
    /// Each runner's picture (`None`: the run sent none).
    pub pictures: [Option<Rect>; 2],
}

/// The layout of one runner's half.
#[derive(Debug, Clone)]
struct Half {
    name_y: i32,
    clock: Rect,
    status: Rect,
    bar: Rect,
    labels: Rect,
    lanes: Rect,
    axis_y: i32,
    picture: Option<Rect>,
}

#[derive(Debug, Clone)]
struct Layout {
    s: f64,
    margin: i32,
    title_y: i32,
    headline: Rect,
    legend_y: i32,
    halves: [Half; 2],
}

impl Layout {
    fn of((w, h): (u32, u32), pictures: [Option<(u32, u32)>; 2]) -> Self {
        let s = f64::from(h) / 1080.0;
        let px = |v: f64| (v * s).round() as i32;
        let (w, h) = (w as i32, h as i32);
        let margin = px(40.0);
        let gap = px(48.0);
        let title_y = px(22.0);
        let headline = Rect::new(margin, px(110.0), w - 2 * margin, px(150.0));
        let legend_y = headline.bottom() + px(8.0);
        let top = legend_y + px(52.0);
        let half_w = (w - 2 * margin - gap) / 2;
        let halves = [0, 1].map(|i| {
            let x = margin + i * (half_w + gap);
            let name_y = top;
            // Text rects start a quarter of their font above the text:
            // glyphs reach above plotters' top.
            let clock = Rect::new(x, name_y + px(46.0), px(330.0), px(110.0));
            let status = Rect::new(
                clock.right() + px(16.0),
                clock.y,
                half_w - clock.w - px(16.0),
                clock.h,
            );
            let bar = Rect::new(x, clock.bottom() + px(8.0), half_w, px(14.0));
            let body_top = bar.bottom() + px(24.0);
            let body_h = h - body_top - px(58.0);
            let picture = pictures[i as usize].map(|(pw, ph)| {
                let max_w = (f64::from(half_w) * 0.36) as i32;
                let scale = (f64::from(max_w) / f64::from(pw.max(1)))
                    .min(f64::from(body_h) / f64::from(ph.max(1)));
                let (fw, fh) = (
                    (f64::from(pw) * scale) as i32,
                    (f64::from(ph) * scale) as i32,
                );
                Rect::new(x + half_w - fw, body_top, fw, fh)
            });
            let lanes_right = picture.map_or(x + half_w, |p| p.x - px(20.0));
            let label_w = px(150.0);
            let labels = Rect::new(x, body_top, label_w, body_h);
            let lanes = Rect::new(x + label_w, body_top, lanes_right - x - label_w, body_h);
            Half {
                name_y,
                clock,
                status,
                bar,
                labels,
                lanes,
                axis_y: lanes.bottom() + px(6.0),
                picture,
            }
        });
        Self {
            s,
            margin,
            title_y,
            headline,
            legend_y,
            halves,
        }
    }

    fn px(&self, v: f64) -> f64 {
        v * self.s
    }
}

fn picture_size(run: &RunRecord) -> Option<(u32, u32)> {
    run.picture().geometry().map(|g| (g.width, g.height))
}

/// Where the headline and the pictures are drawn for `a` against `b`.
pub fn regions(a: &RunRecord, b: &RunRecord, size: (u32, u32)) -> Regions {
    let layout = Layout::of(size, [picture_size(a), picture_size(b)]);
    let [ha, hb] = &layout.halves;
    Regions {
        headline: layout.headline,
        pictures: [ha.picture, hb.picture],
    }
}

/// One runner while the race plays.
struct Lane<'a> {
    run: &'a RunRecord,
    lap: Lap,
    clock: ChunkClock,
    lanes: LaneImage,
    /// Lane columns drawn so far.
    shown_cols: usize,
    /// Bands painted in the picture so far.
    shown_bands: Option<usize>,
}

/// A 4×4 ordered dither in -0.5..0.5 (the pictures, in a GIF).
fn bayer(x: usize, y: usize) -> f32 {
    const M: [[u8; 4]; 4] = [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]];
    (f32::from(M[y % 4][x % 4]) + 0.5) / 16.0 - 0.5
}

/// Renders the race of `a` against `b` to `path` (`.gif`, or `.png` for
/// an animated PNG), written whole or not at all; `progress` gets the
/// fraction done after each frame.
pub fn render_file(
    a: Racer<'_>,
    b: Racer<'_>,
    options: &AnimationOptions,
    path: &Path,
    progress: impl FnMut(f32),
) -> Result<Rendered, AnimationError> {
    let format = format_of(path)?;
    options.check()?;
    let write_err = |source| AnimationError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or("animation".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    let file = std::fs::File::create(&tmp).map_err(write_err)?;
    let done = render(
        a,
        b,
        options,
        format,
        std::io::BufWriter::new(file),
        progress,
    )
    .and_then(|r| std::fs::rename(&tmp, path).map(|()| r).map_err(write_err));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// Renders the race of `a` against `b` into `out`.
pub fn render(
    a: Racer<'_>,
    b: Racer<'_>,
    options: &AnimationOptions,
    format: Format,
    out: impl Write,
    mut progress: impl FnMut(f32),
) -> Result<Rendered, AnimationError> {
    options.check()?;
    let started = Instant::now();
    let race_s = race_seconds(a.run, b.run)?;
    let racers = [a, b];
    let layout = Layout::of(options.size, racers.map(|r| picture_size(r.run)));
    let stripe = layout.px(3.0).round().max(2.0) as usize;
    let mut lanes: Vec<Lane> = Vec::with_capacity(2);
    for (r, half) in racers.iter().zip(&layout.halves) {
        let lap = Lap::of(r.run)
            .ok_or_else(|| AnimationError::NoGate(crate::store::labels::run_label(r.run)))?;
        let rect = half.lanes;
        lanes.push(Lane {
            run: r.run,
            lap,
            clock: ChunkClock::of(r.run),
            lanes: lane_image(
                r.run,
                lap.zero_ns,
                race_s,
                (rect.w as usize, rect.h as usize),
                MAX_LANES,
                stripe,
            ),
            shown_cols: 0,
            shown_bands: None,
        });
    }
    let (w, h) = options.size;
    let mut canvas = Canvas::new(w, h, BACKGROUND);
    draw_static(&mut canvas, &layout, &racers, &lanes, race_s);
    let times = options.frame_times(race_s);
    let delays = options.delays_cs(times.len());
    let exact = exact_colours();
    let mut enc = Encoder::new(
        format,
        out,
        options.size,
        times.len() as u32,
        (&exact, BACKGROUND, INK),
    )?;
    let dither = format == Format::Gif;
    let mut headline_shown = false;
    for (k, (&t, &delay)) in times.iter().zip(&delays).enumerate() {
        for (lane, half) in lanes.iter_mut().zip(&layout.halves) {
            draw_runner(&mut canvas, &layout, half, lane, t, race_s, dither);
        }
        let all_done = lanes.iter().all(|l| l.lap.finish_s.is_none_or(|f| t >= f));
        if all_done && !headline_shown {
            draw_headline(&mut canvas, &layout, &racers, &lanes);
            headline_shown = true;
        }
        enc.frame(&canvas, delay)?;
        progress((k + 1) as f32 / times.len() as f32);
    }
    let bytes = enc.finish()?;
    Ok(Rendered {
        frames: times.len(),
        bytes,
        race_s,
        plays_s: delays.iter().map(|&d| f64::from(d) / 100.0).sum(),
        render_s: started.elapsed().as_secs_f64(),
    })
}

/// Every colour the animation draws flat (kept exact in a GIF).
fn exact_colours() -> Vec<Rgb> {
    let mut out = vec![BACKGROUND, EMPTY, INK, MUTED, RULE, palette::FLAG];
    out.extend(palette::SERIES);
    out.extend([
        state::HOLDING,
        state::RUNNING_FREE,
        state::WAITING_FOR_CORE,
        state::WAITING_FOR_GIL,
        state::UNSURE,
        lane::hatch(state::WAITING_FOR_GIL, 1, 0, 1),
        lane::blocked_other(true),
        lane::unread(true),
    ]);
    out.extend(crate::interp::Mode::ALL.iter().map(|m| palette::mode(*m)));
    out
}

/// The title, the legend, the names, the lanes' labels and axis, the
/// empty pictures: what does not move.
fn draw_static(
    c: &mut Canvas,
    l: &Layout,
    racers: &[Racer<'_>; 2],
    lanes: &[Lane<'_>],
    race_s: f64,
) {
    let s = l.s;
    let width = c.width as i32;
    let title = format!(
        "Race: {} vs {}",
        racers[0].run.spec().mode.as_str(),
        racers[1].run.spec().mode.as_str()
    );
    let spec = racers[0].run.spec();
    let mut what = spec.workload.clone();
    for (k, v) in &spec.params {
        what.push_str(&format!(" {k}={v}"));
    }
    let tw = c.text(
        &title,
        (l.margin, l.title_y),
        44.0 * s,
        INK,
        true,
        Anchor::TopLeft,
    );
    let what = c.fit(
        &what,
        28.0 * s,
        false,
        width - 2 * l.margin - tw - (30.0 * s) as i32,
    );
    c.text(
        &what,
        (
            l.margin + tw + (24.0 * s) as i32,
            l.title_y + (12.0 * s) as i32,
        ),
        28.0 * s,
        MUTED,
        false,
        Anchor::TopLeft,
    );
    c.text(
        "Each clock starts at its run's start gate (every worker ready) and stops at its last chunk: the Compare table's time.",
        (l.margin, l.title_y + (56.0 * s) as i32),
        22.0 * s,
        MUTED,
        false,
        Anchor::TopLeft,
    );
    legend(c, l, racers);
    for ((racer, lane), half) in racers.iter().zip(lanes).zip(&l.halves) {
        let colour = palette::mode(racer.run.spec().mode);
        let name = c.fit(
            &crate::store::labels::run_label(racer.run),
            34.0 * s,
            true,
            half.bar.w,
        );
        c.text(
            &name,
            (half.bar.x, half.name_y),
            34.0 * s,
            colour,
            true,
            Anchor::TopLeft,
        );
        // Lane labels, centred on each lane.
        let label_px = (lane.lanes.lane_px as f64 * 0.55).clamp(12.0 * s, 22.0 * s);
        for (label, top) in &lane.lanes.rows {
            let y = half.lanes.y
                + *top as i32
                + (lane.lanes.lane_px as f64 / 2.0 - label_px * 0.6) as i32;
            let text = c.fit(label, label_px, false, half.labels.w - (10.0 * s) as i32);
            c.text(
                &text,
                (half.labels.x, y),
                label_px,
                MUTED,
                false,
                Anchor::TopLeft,
            );
        }
        // The time axis from the gate.
        let used = lane.lanes.rows.len() as i32 * lane.lanes.lane_px as i32;
        let axis_y = (half.lanes.y + used + (6.0 * s) as i32).min(half.axis_y);
        c.fill(
            Rect::new(
                half.lanes.x,
                axis_y,
                half.lanes.w,
                (2.0 * s).max(1.0) as i32,
            ),
            RULE,
        );
        let step = [
            0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
        ]
        .into_iter()
        .find(|st| race_s / st <= 6.0)
        .unwrap_or(1200.0);
        let mut t = 0.0;
        while t <= race_s + 1e-9 {
            let x = half.lanes.x + (t / race_s * f64::from(half.lanes.w)) as i32;
            c.fill(
                Rect::new(x, axis_y, (2.0 * s).max(1.0) as i32, (10.0 * s) as i32),
                RULE,
            );
            let anchor = if t == 0.0 {
                Anchor::TopLeft
            } else {
                Anchor::TopCenter
            };
            c.text(
                &format!("{} s", trim(t)),
                (x, axis_y + (12.0 * s) as i32),
                18.0 * s,
                MUTED,
                false,
                anchor,
            );
            t += step;
        }
        if let Some(p) = half.picture {
            c.fill(p, EMPTY);
            c.text(
                "picture, tinted by worker",
                (p.x, p.bottom() + (6.0 * s) as i32),
                18.0 * s,
                MUTED,
                false,
                Anchor::TopLeft,
            );
        }
        c.fill(half.bar, EMPTY);
    }
}

/// `1.5`, `2`, `0.2`: a tick's seconds without trailing zeros.
fn trim(t: f64) -> String {
    let s = format!("{t:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// The lanes' legend, as the app's: with the GIL reader's states when a
/// runner has them.
fn legend(c: &mut Canvas, l: &Layout, racers: &[Racer<'_>; 2]) {
    let s = l.s;
    let exact = racers.iter().any(|r| r.run.gil().has_data());
    let items: Vec<(Rgb, &str, bool)> = if exact {
        vec![
            (state::HOLDING, "running, holding the GIL", false),
            (state::RUNNING_FREE, "running without it", false),
            (state::UNSURE, "without it, unsure", false),
            (state::WAITING_FOR_CORE, "waiting for a core", false),
            (state::WAITING_FOR_GIL, "waiting for the GIL", true),
            (lane::blocked_other(true), "blocked on other", false),
        ]
    } else {
        vec![
            (state::HOLDING, "running", false),
            (state::WAITING_FOR_CORE, "waiting for a core", false),
            (state::WAITING_FOR_GIL, "blocked", true),
        ]
    };
    let px = 22.0 * s;
    let sw = (24.0 * s) as i32;
    let mut x = l.margin;
    let y = l.legend_y + (10.0 * s) as i32;
    let stripe = (3.0 * s).round().max(2.0) as usize;
    for (colour, text, hatched) in items {
        for yy in 0..sw {
            for xx in 0..sw {
                let (px_x, px_y) = ((x + xx) as usize, (y + yy) as usize);
                let col = if hatched {
                    lane::hatch(colour, px_x, px_y, stripe)
                } else {
                    colour
                };
                c.set(px_x, px_y, col);
            }
        }
        let tw = c.text(
            text,
            (x + sw + (8.0 * s) as i32, y),
            px,
            INK,
            false,
            Anchor::TopLeft,
        );
        x += sw + tw + (36.0 * s) as i32;
    }
}

/// One runner at race time `t`: its clock, progress, lanes up to `t`,
/// finish line and picture.
fn draw_runner(
    c: &mut Canvas,
    l: &Layout,
    half: &Half,
    lane: &mut Lane<'_>,
    t: f64,
    race_s: f64,
    dither: bool,
) {
    let s = l.s;
    let run = lane.run;
    let colour = palette::mode(run.spec().mode);
    let finished = lane.lap.finish_s.filter(|f| t >= *f);
    let shown_t = finished.unwrap_or(t);
    let done = lane.clock.by(lane.lap.at_ns(t));
    // The clock, stopped at the finish.
    c.fill(half.clock, BACKGROUND);
    c.text(
        &format!("{shown_t:.2} s"),
        (half.clock.x, half.clock.y + (21.0 * s) as i32),
        84.0 * s,
        if finished.is_some() { colour } else { INK },
        true,
        Anchor::TopLeft,
    );
    c.fill(half.status, BACKGROUND);
    let chunks = match lane.lap.total_chunks {
        Some(total) => format!("{done} of {total} chunks"),
        None => format!("{done} chunks"),
    };
    let line = match finished {
        Some(f) => format!("⚑ finished at {f:.3} s · {chunks}"),
        None if lane.lap.finish_s.is_none() => format!("did not finish · {chunks}"),
        None => format!("running… {chunks}"),
    };
    let line = c.fit(&line, 28.0 * s, true, half.status.w);
    c.text(
        &line,
        (half.status.x, half.status.y + (28.0 * s) as i32),
        28.0 * s,
        INK,
        true,
        Anchor::TopLeft,
    );
    if let Some(st) = lane.lap.startup_s {
        let text = c.fit(
            &format!("start-up before the gate {st:.2} s"),
            22.0 * s,
            false,
            half.status.w,
        );
        c.text(
            &text,
            (half.status.x, half.status.y + (70.0 * s) as i32),
            22.0 * s,
            MUTED,
            false,
            Anchor::TopLeft,
        );
    }
    let fraction = lane
        .lap
        .total_chunks
        .filter(|&n| n > 0)
        .map_or(0.0, |n| done as f64 / n as f64)
        .min(1.0);
    c.fill(half.bar, EMPTY);
    c.fill(
        Rect::new(
            half.bar.x,
            half.bar.y,
            (f64::from(half.bar.w) * fraction) as i32,
            half.bar.h,
        ),
        colour,
    );
    // The lanes up to now.
    let img = &lane.lanes;
    let cols = ((t / race_s) * img.width as f64).ceil() as usize;
    let cols = cols.min(img.width);
    if cols > lane.shown_cols {
        c.blit_columns(half.lanes, &img.pixels, lane.shown_cols, cols);
        lane.shown_cols = cols;
    }
    if let Some(f) = finished {
        let x = half.lanes.x + (f / race_s * f64::from(half.lanes.w)) as i32;
        let used = (img.rows.len() * img.lane_px) as i32;
        let lw = (4.0 * s).max(2.0) as i32;
        c.fill(Rect::new(x - lw / 2, half.lanes.y, lw, used), INK);
    }
    // The picture: every band that arrived by now; a finished runner's
    // whole picture (its last band is stamped when the harness took the
    // chunk in, a little after the clock stopped).
    if let Some(rect) = half.picture {
        let pic = run.picture();
        let until = finished.is_none().then(|| lane.lap.at_ns(t));
        let bands = pic.bands_until(until).count();
        if lane.shown_bands != Some(bands)
            && let (Some(img), Some(owners)) = (pic.composed(until), pic.workers_at(until))
        {
            let (pw, ph) = img.dimensions();
            let mut rgb = img.into_raw();
            for (i, owner) in owners.iter().enumerate() {
                let at = i * 3;
                match owner {
                    Some(w) => {
                        let p = [rgb[at], rgb[at + 1], rgb[at + 2]];
                        rgb[at..at + 3].copy_from_slice(&palette::mix(
                            p,
                            palette::series(*w),
                            TINT,
                        ));
                    }
                    None => rgb[at..at + 3].copy_from_slice(&EMPTY),
                }
            }
            let owned = |x: usize, y: usize| {
                let sx =
                    ((x as i32 - rect.x) as u64 * u64::from(pw) / rect.w.max(1) as u64) as usize;
                let sy =
                    ((y as i32 - rect.y) as u64 * u64::from(ph) / rect.h.max(1) as u64) as usize;
                owners
                    .get(sy.min(ph as usize - 1) * pw as usize + sx.min(pw as usize - 1))
                    .is_some_and(Option::is_some)
            };
            c.blit_scaled(rect, &rgb, (pw, ph), |x, y, p| {
                if !dither || !owned(x, y) {
                    return p;
                }
                let d = bayer(x, y) * CUBE_STEP;
                p.map(|v| (f32::from(v) + d).round().clamp(0.0, 255.0) as u8)
            });
            lane.shown_bands = Some(bands);
        }
    }
}

/// The winner, its margin and verdicts, once both finished.
fn draw_headline(c: &mut Canvas, l: &Layout, racers: &[Racer<'_>; 2], lanes: &[Lane<'_>]) {
    let s = l.s;
    let names: Vec<String> = racers
        .iter()
        .map(|r| r.run.spec().mode.as_str().to_string())
        .collect();
    let names: Vec<String> = if names[0] == names[1] {
        racers
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    r.run.spec().mode.as_str(),
                    r.run.interpreter().name
                )
            })
            .collect()
    } else {
        names
    };
    let h: Headline = match (lanes[0].lap.finish_s, lanes[1].lap.finish_s) {
        (Some(fa), Some(fb)) => {
            let racer = |i: usize, work_s: f64| headline::Racer {
                name: &names[i],
                point: racers[i].point,
                work_s,
                startup_s: lanes[i].lap.startup_s,
            };
            headline::race(racer(0, fa), racer(1, fb))
        }
        // Only one finished: no margin to give.
        _ => {
            let (won, lost) = if lanes[0].lap.finish_s.is_some() {
                (0, 1)
            } else {
                (1, 0)
            };
            Headline {
                text: format!("{} finished; {} did not", names[won], names[lost]),
                clear: false,
                flags: Vec::new(),
                unsure: Vec::new(),
                detail: lanes[lost]
                    .run
                    .outcome()
                    .map_or_else(|| "it was still running".into(), |o| o.headline()),
            }
        }
    };
    let r = l.headline;
    c.fill(r, BACKGROUND);
    let big = 46.0 * s;
    let mut x = r.x;
    let lines = c.wrap(&h.text, big, true, r.w);
    let mut y = r.y;
    for line in lines.iter().take(2) {
        x = r.x + c.text(line, (r.x, y), big, INK, true, Anchor::TopLeft);
        y += (big * 1.15) as i32;
    }
    if !h.flags.is_empty() {
        // The flag beside the number, as large.
        c.text(
            &format!("  {}", h.flag_marks()),
            (x, y - (big * 1.15) as i32),
            big,
            palette::FLAG,
            true,
            Anchor::TopLeft,
        );
    }
    let small = 24.0 * s;
    for line in c.wrap(&h.detail, small, false, r.w).iter().take(2) {
        c.text(line, (r.x, y), small, MUTED, false, Anchor::TopLeft);
        y += (small * 1.3) as i32;
    }
    let all: Vec<verdict::Verdict> = h.flags.iter().chain(&h.unsure).cloned().collect();
    if !all.is_empty() && y + (small as i32) <= r.bottom() {
        let marks = c.fit(&verdict::marks(&all), small, false, r.w);
        c.text(&marks, (r.x, y), small, MUTED, false, Anchor::TopLeft);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Mode;
    use crate::store::fixtures::{Synth, interpreter};

    #[test]
    fn frames_come_every_step_and_end_at_the_finish() {
        let o = AnimationOptions {
            fps: 10.0,
            ..AnimationOptions::default()
        };
        let t = o.frame_times(1.25);
        assert_eq!(t.len(), 14);
        assert_eq!(t[0], 0.0);
        assert_eq!(t[13], 1.25);
        assert_eq!(o.frame_times(1.2).len(), 13);
        let d = o.delays_cs(14);
        assert!(d[..13].iter().all(|&x| x == 10));
        assert_eq!(d[13], 300);
        let fast = AnimationOptions {
            speed: 2.0,
            fps: 15.0,
            ..o
        };
        assert_eq!(fast.frame_times(3.0).len(), 24);
        let d = fast.delays_cs(24);
        assert_eq!(d[..23].iter().map(|&x| u64::from(x)).sum::<u64>(), 153);
    }

    #[test]
    fn formats_by_extension_say_what_is_supported() {
        assert_eq!(format_of(Path::new("a.gif")).ok(), Some(Format::Gif));
        assert_eq!(format_of(Path::new("a.PNG")).ok(), Some(Format::Apng));
        let e = format_of(Path::new("a.webp")).unwrap_err().to_string();
        assert!(e.contains("write .gif"), "{e}");
        assert!(format_of(Path::new("a.mp4")).is_err());
    }

    #[test]
    fn a_synthetic_race_renders_with_its_headline() {
        let gil = interpreter("3.13", "3.13.5", false);
        let ft = interpreter("3.13t", "3.13.5", true);
        let a = Synth::new(Mode::Gil, 2).build(&gil);
        let b = Synth::new(Mode::Ft, 2).build(&ft);
        let o = AnimationOptions {
            size: (640, 360),
            fps: 10.0,
            ..AnimationOptions::default()
        };
        let mut out = Vec::new();
        let mut last = 0.0;
        let r = render(
            Racer {
                run: &a,
                point: None,
            },
            Racer {
                run: &b,
                point: None,
            },
            &o,
            Format::Gif,
            &mut out,
            |f| last = f,
        )
        .unwrap();
        assert_eq!(last, 1.0);
        assert_eq!(r.frames, o.frame_times(r.race_s).len());
        assert_eq!(r.bytes, out.len() as u64);
        assert!(out.starts_with(b"GIF89a"));
    }
}
