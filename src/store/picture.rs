//! [`PictureTrack`]: the workload's picture — its input image and the bands
//! of its output with the worker that computed each and when it came back —
//! from the harness's `picture` events (blur, mandelbrot, any workload with
//! the picture hooks; see `workloads/PROTOCOL.md`, "The picture").
//!
//! The harness downscales by an integer factor ([`scale_for`]) so that the
//! picture's long side is at most [`MAX_SIDE`] pixels; [`downscale`] is the
//! same rule in Rust (tests compare the composed picture with
//! `blur::box_blur`'s output put through it).

use crate::run::protocol::{Picture, PictureBand, PictureGeometry};
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// The longest side of a picture the harness sends.
pub const MAX_SIDE: u32 = 320;

/// The largest picture side the store accepts (a damaged file or a
/// misbehaving harness must not make it allocate without bound).
pub const MAX_STORED_SIDE: u32 = 4_096;

/// Bands kept past this many are counted, not kept (a picture is at most
/// [`MAX_SIDE`] rows, so a workload's bands stay far below it).
pub const MAX_BANDS: usize = 20_000;

/// The integer factor the harness downscales a `width` × `height` output
/// by: the smallest that brings the long side to at most [`MAX_SIDE`].
pub fn scale_for(width: u32, height: u32) -> u32 {
    width.max(height).div_ceil(MAX_SIDE).max(1)
}

/// `img` downscaled by `scale` as the harness does it: picture pixel
/// (x, y) is `img`'s pixel (x·scale, y·scale); the size rounds up.
pub fn downscale(img: &RgbImage, scale: u32) -> RgbImage {
    let scale = scale.max(1);
    let (w, h) = img.dimensions();
    RgbImage::from_fn(w.div_ceil(scale), h.div_ceil(scale), |x, y| {
        *img.get_pixel(x * scale, y * scale)
    })
}

/// One band of the output as it arrived.
pub type Band = PictureBand;

/// The picture of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PictureTrack {
    /// Set by the first `picture` event; `None`: the run sent no picture.
    geometry: Option<PictureGeometry>,
    input: Option<PictureBand>,
    bands: Vec<PictureBand>,
    /// Bands that did not fit the picture (wrong size, outside it, another
    /// geometry) or came past [`MAX_BANDS`]: counted, not kept.
    #[serde(default)]
    rejected: u64,
}

impl PictureTrack {
    /// Takes in one `picture` event.
    pub fn eat(&mut self, event: Picture) {
        if !sane(&event.geometry) {
            self.rejected += event.bands.len() as u64 + u64::from(event.input.is_some());
            return;
        }
        let geometry = *self.geometry.get_or_insert(event.geometry);
        if geometry != event.geometry {
            self.rejected += event.bands.len() as u64 + u64::from(event.input.is_some());
            return;
        }
        if let Some(input) = event.input
            && event.kind == "input"
        {
            if fits(&geometry, &input) {
                self.input = Some(input);
            } else {
                self.rejected += 1;
            }
        }
        for band in event.bands {
            if fits(&geometry, &band) && self.bands.len() < MAX_BANDS {
                self.bands.push(band);
            } else {
                self.rejected += 1;
            }
        }
    }

    /// The picture's size and scale; `None` when the run sent no picture
    /// (or a file holds an impossible one).
    pub fn geometry(&self) -> Option<PictureGeometry> {
        self.geometry.filter(sane)
    }

    /// Whether the run sent any picture.
    pub fn is_empty(&self) -> bool {
        self.geometry.is_none()
    }

    /// The bands of the output in arrival order, each with its worker,
    /// chunk and arrival time (`t_ns`, the events' clock).
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    /// Bands refused (did not fit the picture) or past the limit.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The input image (downscaled like the output), when the workload has
    /// one (blur: the photo before the blur).
    pub fn input(&self) -> Option<RgbImage> {
        let g = self.geometry()?;
        let band = self.input.as_ref()?;
        let mut img = RgbImage::new(g.width, g.height);
        paint(&mut img, band);
        Some(img)
    }

    /// The output as it stood at `until_ns` (every band that arrived by
    /// then; `None`: all of them), on black; `None` when the run sent no
    /// picture.
    pub fn composed(&self, until_ns: Option<u64>) -> Option<RgbImage> {
        let g = self.geometry()?;
        let mut img = RgbImage::new(g.width, g.height);
        for band in self.bands_until(until_ns) {
            paint(&mut img, band);
        }
        Some(img)
    }

    /// The bands that arrived by `until_ns` (`None`: all).
    pub fn bands_until(&self, until_ns: Option<u64>) -> impl Iterator<Item = &Band> {
        self.bands
            .iter()
            .filter(move |b| until_ns.is_none_or(|t| b.t_ns.is_none_or(|bt| bt <= t)))
    }

    /// Which worker painted each picture pixel last by `until_ns`, row-major
    /// (`None`: not painted yet) — for tinting the bands by worker.
    pub fn workers_at(&self, until_ns: Option<u64>) -> Option<Vec<Option<usize>>> {
        let g = self.geometry()?;
        let mut owners = vec![None; g.width as usize * g.height as usize];
        // a band from a damaged file that does not fit is skipped
        for band in self.bands_until(until_ns).filter(|b| fits(&g, b)) {
            for y in band.y..band.y + band.h {
                let row = y as usize * g.width as usize;
                for x in band.x..band.x + band.w {
                    owners[row + x as usize] = band.worker;
                }
            }
        }
        Some(owners)
    }

    /// The share of the picture's pixels painted by `until_ns` (0..=1).
    pub fn coverage(&self, until_ns: Option<u64>) -> Option<f64> {
        let owners = self.workers_at(until_ns)?;
        let painted = owners.iter().filter(|o| o.is_some()).count();
        Some(painted as f64 / owners.len().max(1) as f64)
    }
}

/// A picture size the store can hold.
fn sane(g: &PictureGeometry) -> bool {
    (1..=MAX_STORED_SIDE).contains(&g.width) && (1..=MAX_STORED_SIDE).contains(&g.height)
}

/// Whether `band` lies inside the picture with one RGB triple per pixel.
fn fits(g: &PictureGeometry, band: &PictureBand) -> bool {
    let inside = band.x.checked_add(band.w).is_some_and(|r| r <= g.width)
        && band.y.checked_add(band.h).is_some_and(|b| b <= g.height);
    inside && band.rgb.len() as u64 == u64::from(band.w) * u64::from(band.h) * 3
}

/// Copies `band` into `img` (which it fits: checked on arrival).
fn paint(img: &mut RgbImage, band: &PictureBand) {
    let width = img.width() as usize;
    let raw: &mut [u8] = img.as_mut();
    let row_len = band.w as usize * 3;
    for (j, src) in band.rgb.chunks_exact(row_len.max(1)).enumerate() {
        let at = ((band.y as usize + j) * width + band.x as usize) * 3;
        if let Some(dest) = raw.get_mut(at..at + row_len) {
            dest.copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(width: u32, height: u32) -> PictureGeometry {
        PictureGeometry {
            width,
            height,
            scale: 1,
            full_width: width,
            full_height: height,
        }
    }

    fn band(y: u32, h: u32, worker: usize, t_ns: u64, value: u8) -> PictureBand {
        PictureBand {
            x: 0,
            y,
            w: 2,
            h,
            worker: Some(worker),
            chunk: Some(u64::from(y)),
            t_ns: Some(t_ns),
            rgb: vec![value; 2 * h as usize * 3],
        }
    }

    fn bands_event(bands: Vec<PictureBand>) -> Picture {
        Picture {
            t_ns: 0,
            kind: "bands".into(),
            geometry: geometry(2, 3),
            input: None,
            bands,
        }
    }

    #[test]
    fn scale_matches_the_harness_rule() {
        assert_eq!(scale_for(320, 10), 1);
        assert_eq!(scale_for(321, 1), 2);
        assert_eq!(scale_for(512, 512), 2);
        assert_eq!(scale_for(400, 300), 2);
        assert_eq!(scale_for(1024, 768), 4);
        let img = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8, y as u8, 0]));
        let small = downscale(&img, 2);
        assert_eq!(small.dimensions(), (3, 2));
        assert_eq!(small.get_pixel(2, 1).0, [4, 2, 0]);
    }

    #[test]
    fn composes_bands_in_time_and_names_their_workers() {
        let mut track = PictureTrack::default();
        assert!(track.composed(None).is_none());
        track.eat(bands_event(vec![
            band(0, 1, 0, 100, 10),
            band(2, 1, 1, 300, 30),
        ]));
        track.eat(bands_event(vec![band(1, 1, 0, 200, 20)]));
        let at_250 = track.composed(Some(250)).unwrap();
        assert_eq!(at_250.get_pixel(1, 1).0, [20; 3]);
        assert_eq!(at_250.get_pixel(0, 2).0, [0; 3]);
        let all = track.composed(None).unwrap();
        assert_eq!(all.get_pixel(0, 2).0, [30; 3]);
        assert_eq!(
            track.workers_at(Some(150)).unwrap(),
            [Some(0), Some(0), None, None, None, None]
        );
        assert_eq!(track.coverage(None), Some(1.0));
    }

    #[test]
    fn refuses_bands_that_do_not_fit() {
        let mut track = PictureTrack::default();
        let mut short = band(0, 1, 0, 1, 1);
        short.rgb.pop();
        let outside = band(2, 2, 0, 1, 1);
        track.eat(bands_event(vec![short, outside, band(0, 1, 0, 1, 1)]));
        assert_eq!((track.bands().len(), track.rejected()), (1, 2));
        let mut other = bands_event(vec![band(0, 1, 0, 1, 1)]);
        other.geometry.width = 4;
        track.eat(other);
        assert_eq!((track.bands().len(), track.rejected()), (1, 3));
        // an impossible size is refused before anything is allocated
        let mut huge = bands_event(vec![band(0, 1, 0, 1, 1)]);
        huge.geometry.width = u32::MAX;
        let mut fresh = PictureTrack::default();
        fresh.eat(huge);
        assert!(fresh.is_empty() && fresh.composed(None).is_none());
        assert_eq!(fresh.rejected(), 1);
    }

    #[test]
    fn survives_a_round_trip_through_json() {
        let mut track = PictureTrack::default();
        track.eat(bands_event(vec![band(0, 2, 1, 5, 7)]));
        let text = serde_json::to_string(&track).unwrap();
        assert!(text.contains("\"rgb\":\"BwcH"), "{text}");
        let back: PictureTrack = serde_json::from_str(&text).unwrap();
        assert_eq!(back, track);
    }
}
