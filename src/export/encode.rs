//! Frames into an animated file, each frame only where it changed (the
//! bounding box of the pixels that differ from the frame before; in a GIF
//! the unchanged pixels inside it are transparent), so a race's hundreds
//! of frames cost what its clocks, lanes and pictures change.
//!
//! * GIF: one fixed global palette of 255 colours — every colour the
//!   animation draws exactly (the palette's eight, the lanes' states and
//!   their hatch, the text's greys and the ramps antialiased coloured text
//!   makes on the background) and a 6×6×5 colour cube for the pictures
//!   (which the animation dithers) — mapped through a lookup table filled
//!   as colours are met. No per-frame quantizer: a frame costs a table
//!   lookup per changed pixel.
//! * APNG (`.png`): the changed rectangle as RGB, deflated.

use super::canvas::Canvas;
use crate::palette::{self, Rgb};
use std::io::Write;

/// The file formats an animation can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gif,
    Apng,
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("GIF: {0}")]
    Gif(#[from] gif::EncodingError),
    #[error("APNG: {0}")]
    Png(#[from] png::EncodingError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The palette index left transparent in GIF frames.
const TRANSPARENT: u8 = 255;
/// Levels of the colour cube per channel (R, G, B).
const CUBE: [u16; 3] = [6, 6, 5];

/// The distance between neighbouring cube levels (red and green): what a
/// dither's amplitude is sized to.
pub const CUBE_STEP: f32 = 51.0;

/// The fixed palette and a lookup table from 6-bit-per-channel cells to
/// the nearest entry, filled lazily.
struct Palette {
    colours: Vec<Rgb>,
    lut: Vec<u16>,
}

impl Palette {
    /// `exact`: colours the animation draws, kept exactly.
    fn new(exact: &[Rgb], background: Rgb, ink: Rgb) -> Self {
        let mut colours: Vec<Rgb> = Vec::with_capacity(256);
        let add = |c: Rgb, colours: &mut Vec<Rgb>| {
            if !colours.contains(&c) && colours.len() < TRANSPARENT as usize {
                colours.push(c);
            }
        };
        for &c in exact {
            add(c, &mut colours);
        }
        // Antialiased text: ink and each colour over the background.
        for k in 1..16 {
            add(palette::mix(background, ink, k as f32 / 16.0), &mut colours);
        }
        for &c in &palette::SERIES {
            for k in 1..4 {
                add(palette::mix(background, c, k as f32 / 4.0), &mut colours);
            }
        }
        let level = |n: u16, i: u16| (f32::from(i) * 255.0 / f32::from(n - 1)).round() as u8;
        for r in 0..CUBE[0] {
            for g in 0..CUBE[1] {
                for b in 0..CUBE[2] {
                    add(
                        [level(CUBE[0], r), level(CUBE[1], g), level(CUBE[2], b)],
                        &mut colours,
                    );
                }
            }
        }
        let mut p = Self {
            colours,
            lut: vec![u16::MAX; 1 << 18],
        };
        // The exact colours map to themselves, whatever shares their cell.
        for &c in exact {
            if let Some(i) = p.colours.iter().position(|&x| x == c) {
                p.lut[Self::cell(c)] = i as u16;
            }
        }
        p
    }

    fn cell(c: Rgb) -> usize {
        (usize::from(c[0] >> 2) << 12) | (usize::from(c[1] >> 2) << 6) | usize::from(c[2] >> 2)
    }

    fn index(&mut self, c: Rgb) -> u8 {
        let cell = Self::cell(c);
        let hit = self.lut[cell];
        if hit != u16::MAX {
            return hit as u8;
        }
        let centre = c.map(|x| i32::from((x & !3) | 2));
        let nearest = self
            .colours
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| {
                // Weighted for the eye (green counts most).
                let d = |k: usize| centre[k] - i32::from(p[k]);
                2 * d(0) * d(0) + 4 * d(1) * d(1) + 3 * d(2) * d(2)
            })
            .map_or(0, |(i, _)| i);
        self.lut[cell] = nearest as u16;
        nearest as u8
    }

    fn flat(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.colours.iter().flatten().copied().collect();
        out.resize(256 * 3, 0);
        out
    }
}

/// A writer that counts what passes through.
struct Counted<W: Write> {
    out: W,
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

enum Sink<W: Write> {
    Gif(Box<gif::Encoder<Counted<W>>>, Box<Palette>),
    Apng(Box<png::Writer<Counted<W>>>),
}

/// Writes frames as they come.
pub struct Encoder<W: Write> {
    sink: Sink<W>,
    /// Bytes written so far.
    bytes: std::rc::Rc<std::cell::Cell<u64>>,
    width: u32,
    height: u32,
    /// The frame before (RGB), to find what changed.
    prev: Option<Vec<u8>>,
    scratch: Vec<u8>,
}

/// The bounding box of the pixels that differ: (x0, y0, x1, y1).
fn changed(
    a: &[u8],
    b: &[u8],
    width: usize,
    height: usize,
) -> Option<(usize, usize, usize, usize)> {
    let row = width * 3;
    let y0 = (0..height).find(|&y| a[y * row..(y + 1) * row] != b[y * row..(y + 1) * row])?;
    let y1 = (y0..height)
        .rev()
        .find(|&y| a[y * row..(y + 1) * row] != b[y * row..(y + 1) * row])?
        + 1;
    let column_differs = |x: usize| {
        (y0..y1).any(|y| {
            a[y * row + x * 3..y * row + x * 3 + 3] != b[y * row + x * 3..y * row + x * 3 + 3]
        })
    };
    let x0 = (0..width).find(|&x| column_differs(x))?;
    let x1 = (x0..width).rev().find(|&x| column_differs(x))? + 1;
    Some((x0, y0, x1, y1))
}

impl<W: Write> Encoder<W> {
    /// An animation of `frames` frames of `width` × `height` that loops;
    /// `exact`: the colours drawn that must stay exact in a GIF.
    pub fn new(
        format: Format,
        out: W,
        (width, height): (u32, u32),
        frames: u32,
        (exact, background, ink): (&[Rgb], Rgb, Rgb),
    ) -> Result<Self, EncodeError> {
        let bytes = std::rc::Rc::default();
        let out = Counted {
            out,
            bytes: std::rc::Rc::clone(&bytes),
        };
        let sink = match format {
            Format::Gif => {
                let palette = Palette::new(exact, background, ink);
                let mut enc = gif::Encoder::new(out, width as u16, height as u16, &palette.flat())?;
                enc.set_repeat(gif::Repeat::Infinite)?;
                Sink::Gif(Box::new(enc), Box::new(palette))
            }
            Format::Apng => {
                let mut enc = png::Encoder::new(out, width, height);
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_compression(png::Compression::Fast);
                enc.set_animated(frames.max(1), 0)?;
                Sink::Apng(Box::new(enc.write_header()?))
            }
        };
        Ok(Self {
            sink,
            bytes,
            width,
            height,
            prev: None,
            scratch: Vec::new(),
        })
    }

    /// Adds `canvas` as the next frame, shown for `delay_cs` hundredths of
    /// a second.
    pub fn frame(&mut self, canvas: &Canvas, delay_cs: u16) -> Result<(), EncodeError> {
        let (w, h) = (self.width as usize, self.height as usize);
        let px = &canvas.pixels;
        let (x0, y0, x1, y1) = match &self.prev {
            None => (0, 0, w, h),
            Some(prev) => changed(prev, px, w, h).unwrap_or((0, 0, 1, 1)),
        };
        let (fw, fh) = (x1 - x0, y1 - y0);
        let at = |x: usize, y: usize| {
            let i = (y * w + x) * 3;
            [px[i], px[i + 1], px[i + 2]]
        };
        self.scratch.clear();
        match &mut self.sink {
            Sink::Gif(enc, palette) => {
                let prev = self.prev.as_deref();
                for y in y0..y1 {
                    for x in x0..x1 {
                        let c = at(x, y);
                        let i = (y * w + x) * 3;
                        let same = prev.is_some_and(|p| p[i..i + 3] == c);
                        self.scratch
                            .push(if same { TRANSPARENT } else { palette.index(c) });
                    }
                }
                let frame = gif::Frame {
                    delay: delay_cs,
                    dispose: gif::DisposalMethod::Keep,
                    transparent: prev.map(|_| TRANSPARENT),
                    left: x0 as u16,
                    top: y0 as u16,
                    width: fw as u16,
                    height: fh as u16,
                    buffer: std::borrow::Cow::Borrowed(&self.scratch),
                    ..gif::Frame::default()
                };
                enc.write_frame(&frame)?;
            }
            Sink::Apng(writer) => {
                for y in y0..y1 {
                    self.scratch
                        .extend_from_slice(&px[(y * w + x0) * 3..(y * w + x1) * 3]);
                }
                writer.reset_frame_position()?;
                writer.set_frame_dimension(fw as u32, fh as u32)?;
                writer.set_frame_position(x0 as u32, y0 as u32)?;
                writer.set_frame_delay(delay_cs, 100)?;
                writer.set_blend_op(png::BlendOp::Source)?;
                writer.set_dispose_op(png::DisposeOp::None)?;
                writer.write_image_data(&self.scratch)?;
            }
        }
        match &mut self.prev {
            Some(prev) => prev.copy_from_slice(px),
            None => self.prev = Some(px.clone()),
        }
        Ok(())
    }

    /// Ends the file; returns its size in bytes.
    pub fn finish(self) -> Result<u64, EncodeError> {
        match self.sink {
            Sink::Gif(enc, _) => enc.into_inner()?.flush()?,
            Sink::Apng(writer) => writer.finish()?,
        }
        Ok(self.bytes.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::canvas::Rect;

    #[test]
    fn exact_colours_stay_exact_and_others_go_to_the_nearest() {
        let exact = [[24, 26, 30], palette::BLUE, palette::VERMILLION];
        let mut p = Palette::new(&exact, exact[0], [235, 235, 235]);
        assert!(p.colours.len() <= 255);
        for c in exact {
            let i = p.index(c) as usize;
            assert_eq!(p.colours[i], c);
        }
        let i = p.index([250, 10, 10]) as usize;
        let c = p.colours[i];
        assert!(c[0] > 200 && c[1] < 60 && c[2] < 60, "{c:?}");
    }

    #[test]
    fn only_the_changed_box_is_written() {
        let (w, h) = (40, 30);
        let mut a = Canvas::new(w, h, [0, 0, 0]);
        let mut out = Vec::new();
        {
            let mut enc = Encoder::new(
                Format::Gif,
                &mut out,
                (w, h),
                3,
                (&[[0, 0, 0], [255, 255, 255]], [0, 0, 0], [255, 255, 255]),
            )
            .unwrap();
            enc.frame(&a, 10).unwrap();
            a.fill(Rect::new(5, 6, 3, 2), [255, 255, 255]);
            enc.frame(&a, 10).unwrap();
            enc.frame(&a, 300).unwrap();
            enc.finish().unwrap();
        }
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::Indexed);
        let mut dec = opts.read_info(std::io::Cursor::new(&out)).unwrap();
        let mut frames = Vec::new();
        while let Some(f) = dec.read_next_frame().unwrap() {
            frames.push((f.left, f.top, f.width, f.height, f.delay));
        }
        assert_eq!(
            frames,
            vec![(0, 0, 40, 30, 10), (5, 6, 3, 2, 10), (0, 0, 1, 1, 300)]
        );
    }
}
