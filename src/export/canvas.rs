//! An RGB frame the animation draws into: rectangles and images written
//! straight into the pixels, text through plotters with the report's
//! embedded font (so every export has the same letters).

use crate::palette::Rgb;
use crate::report::style::{FONT, register_font};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    pub fn new(x: i32, y: i32, w: i32, h: i32) -> Self {
        Self {
            x,
            y,
            w: w.max(0),
            h: h.max(0),
        }
    }

    pub fn right(&self) -> i32 {
        self.x + self.w
    }

    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }
}

/// How a text is placed on its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    TopLeft,
    TopRight,
    TopCenter,
}

/// The pixels of one frame.
#[derive(Debug, Clone)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, fill: Rgb) -> Self {
        let mut pixels = vec![0u8; width as usize * height as usize * 3];
        for p in pixels.chunks_exact_mut(3) {
            p.copy_from_slice(&fill);
        }
        register_font();
        Self {
            width,
            height,
            pixels,
        }
    }

    /// `r` clipped to the canvas, as (x0, y0, x1, y1).
    fn clip(&self, r: Rect) -> Option<(usize, usize, usize, usize)> {
        let x0 = r.x.clamp(0, self.width as i32) as usize;
        let y0 = r.y.clamp(0, self.height as i32) as usize;
        let x1 = r.right().clamp(0, self.width as i32) as usize;
        let y1 = r.bottom().clamp(0, self.height as i32) as usize;
        (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    }

    pub fn set(&mut self, x: usize, y: usize, c: Rgb) {
        if x < self.width as usize && y < self.height as usize {
            let i = (y * self.width as usize + x) * 3;
            self.pixels[i..i + 3].copy_from_slice(&c);
        }
    }

    pub fn fill(&mut self, r: Rect, c: Rgb) {
        let Some((x0, y0, x1, y1)) = self.clip(r) else {
            return;
        };
        let w = self.width as usize;
        for y in y0..y1 {
            for p in self.pixels[(y * w + x0) * 3..(y * w + x1) * 3].chunks_exact_mut(3) {
                p.copy_from_slice(&c);
            }
        }
    }

    /// A frame of `px` pixels around `r`, inside it.
    pub fn outline(&mut self, r: Rect, px: i32, c: Rgb) {
        self.fill(Rect::new(r.x, r.y, r.w, px), c);
        self.fill(Rect::new(r.x, r.bottom() - px, r.w, px), c);
        self.fill(Rect::new(r.x, r.y, px, r.h), c);
        self.fill(Rect::new(r.right() - px, r.y, px, r.h), c);
    }

    /// Columns `from..to` of `r` from `src` (a `r.w` × `r.h` image, `None`
    /// where nothing is drawn: left as it is).
    pub fn blit_columns(&mut self, r: Rect, src: &[Option<Rgb>], from: usize, to: usize) {
        let (w, h) = (r.w as usize, r.h as usize);
        for y in 0..h {
            for x in from..to.min(w) {
                if let Some(c) = src[y * w + x] {
                    self.set(
                        (r.x as usize).wrapping_add(x),
                        (r.y as usize).wrapping_add(y),
                        c,
                    );
                }
            }
        }
    }

    /// `img` (`iw` × `ih`, RGB) scaled into `r` (nearest pixel), through
    /// `map` (e.g. a dither for the GIF palette).
    pub fn blit_scaled(
        &mut self,
        r: Rect,
        img: &[u8],
        (iw, ih): (u32, u32),
        map: impl Fn(usize, usize, Rgb) -> Rgb,
    ) {
        let Some((x0, y0, x1, y1)) = self.clip(r) else {
            return;
        };
        if iw == 0 || ih == 0 {
            return;
        }
        for y in y0..y1 {
            let sy = ((y as i32 - r.y) as u64 * u64::from(ih) / r.h.max(1) as u64) as usize;
            for x in x0..x1 {
                let sx = ((x as i32 - r.x) as u64 * u64::from(iw) / r.w.max(1) as u64) as usize;
                let i = (sy.min(ih as usize - 1) * iw as usize + sx.min(iw as usize - 1)) * 3;
                self.set(x, y, map(x, y, [img[i], img[i + 1], img[i + 2]]));
            }
        }
    }

    fn style(px: f64, c: Rgb, bold: bool, anchor: Anchor) -> TextStyle<'static> {
        let font = if bold {
            (FONT, px, FontStyle::Bold).into_font()
        } else {
            (FONT, px).into_font()
        };
        let h = match anchor {
            Anchor::TopLeft => HPos::Left,
            Anchor::TopRight => HPos::Right,
            Anchor::TopCenter => HPos::Center,
        };
        font.color(&RGBColor(c[0], c[1], c[2]))
            .pos(Pos::new(h, VPos::Top))
    }

    /// Draws `text` at (x, y); returns its width in pixels.
    pub fn text(
        &mut self,
        text: &str,
        (x, y): (i32, i32),
        px: f64,
        c: Rgb,
        bold: bool,
        anchor: Anchor,
    ) -> i32 {
        let style = Self::style(px, c, bold, anchor);
        let (w, h) = (self.width, self.height);
        let root = BitMapBackend::with_buffer(&mut self.pixels, (w, h)).into_drawing_area();
        let width = root
            .estimate_text_size(text, &style)
            .map_or(0, |(tw, _)| tw as i32);
        // A text that cannot be drawn (a glyph the font lacks) is left out
        // rather than failing the frame.
        let _ = root.draw_text(text, &style, (x, y));
        width
    }

    /// The width `text` would take.
    pub fn text_width(&mut self, text: &str, px: f64, bold: bool) -> i32 {
        let style = Self::style(px, [0, 0, 0], bold, Anchor::TopLeft);
        let (w, h) = (self.width, self.height);
        let root = BitMapBackend::with_buffer(&mut self.pixels, (w, h)).into_drawing_area();
        root.estimate_text_size(text, &style)
            .map_or(0, |(tw, _)| tw as i32)
    }

    /// `text` cut (with "…") to fit `max_w` pixels.
    pub fn fit(&mut self, text: &str, px: f64, bold: bool, max_w: i32) -> String {
        if self.text_width(text, px, bold) <= max_w {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut lo, mut hi) = (0, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let s: String = chars[..mid].iter().collect::<String>() + "…";
            if self.text_width(&s, px, bold) <= max_w {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        chars[..lo].iter().collect::<String>() + "…"
    }

    /// `text` broken into lines of at most `max_w` pixels (at spaces).
    pub fn wrap(&mut self, text: &str, px: f64, bold: bool, max_w: i32) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.text_width(&candidate, px, bold) > max_w {
                lines.push(std::mem::take(&mut line));
                line = word.to_string();
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_clip_and_text_draws_something() {
        let mut c = Canvas::new(200, 100, [0, 0, 0]);
        c.fill(Rect::new(-10, -10, 30, 30), [255, 0, 0]);
        assert_eq!(&c.pixels[0..3], &[255, 0, 0]);
        let w = c.text(
            "1.23 s",
            (50, 40),
            30.0,
            [255, 255, 255],
            true,
            Anchor::TopLeft,
        );
        assert!(w > 40, "{w}");
        assert!(c.pixels.chunks_exact(3).any(|p| p == [255, 255, 255]));
        let cut = c.fit("a long line that does not fit", 20.0, false, 80);
        assert!(cut.ends_with('…') && c.text_width(&cut, 20.0, false) <= 80);
        assert!(c.wrap("one two three four five", 20.0, false, 90).len() > 1);
    }
}
