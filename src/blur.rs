//! Rust reference implementation of the `blur` workload
//! (`workloads/builtin/blur.py`): same image decoding rules, same
//! nearest-neighbour resize, same box blur, same checksum.  gilscope uses it
//! to tell whether a Python run produced the right picture.
//!
//! * Input: 8-bit (or lower) non-interlaced PNG via the `image` crate and
//!   `to_rgb8()` (gray -> (g, g, g), alpha dropped, palette looked up), or a
//!   binary PPM (P6, maxval 255) parsed here.  16-bit and interlaced PNGs
//!   are refused, as in Python.
//! * Resize (`size > 0`, smaller or larger than the image): `W2 = size`,
//!   `H2 = max(1, H * size / W)`, `src = (x * W / W2, y * H / H2)`.
//! * Blur: `out = floor(sum of the (2r+1)^2 clamped neighbours / (2r+1)^2)`,
//!   computed separably with one integer division at the end.
//! * Checksum: `"sha256:" + hex(sha256(row-major RGB bytes))`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};
use sha2::{Digest, Sha256};

/// Why an image could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BlurError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not an image this workload accepts.
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    /// The `image` crate could not decode the PNG.
    #[error("{path}: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn unsupported(path: &Path, reason: impl Into<String>) -> BlurError {
    BlurError::Unsupported {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Load a PNG or P6 PPM file as 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<RgbImage, BlurError> {
    let data = std::fs::read(path).map_err(|source| BlurError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if data.starts_with(PNG_SIGNATURE) {
        check_png_header(&data, path)?;
        let decoded =
            image::load_from_memory_with_format(&data, ImageFormat::Png).map_err(|source| {
                BlurError::Decode {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        return Ok(decoded.to_rgb8());
    }
    if data.starts_with(b"P6") {
        return parse_ppm(&data, path);
    }
    Err(unsupported(
        path,
        "unsupported image format (need PNG or binary PPM P6)",
    ))
}

/// Refuse what the Python decoder refuses (16-bit, interlaced).
fn check_png_header(data: &[u8], path: &Path) -> Result<(), BlurError> {
    // signature (8) + length (4) + "IHDR" (4) + 13 bytes of header
    let ihdr = data
        .get(12..29)
        .filter(|h| h.starts_with(b"IHDR"))
        .ok_or_else(|| unsupported(path, "PNG does not start with IHDR"))?;
    let (bit_depth, interlace) = (ihdr[12], ihdr[16]);
    if bit_depth == 16 {
        return Err(unsupported(
            path,
            "16-bit PNG is not supported (only 8-bit and lower)",
        ));
    }
    if interlace != 0 {
        return Err(unsupported(path, "interlaced (Adam7) PNG is not supported"));
    }
    Ok(())
}

/// Parse a binary PPM: "P6", width, height, maxval (255), each separated by
/// whitespace (with `#` comments), then one whitespace byte and the pixels.
fn parse_ppm(data: &[u8], path: &Path) -> Result<RgbImage, BlurError> {
    let bad = || unsupported(path, "bad PPM header");
    let mut pos = 2;
    let mut fields = [0u64; 3];
    for field in &mut fields {
        loop {
            match data.get(pos) {
                Some(b) if b.is_ascii_whitespace() => pos += 1,
                Some(b'#') => {
                    while data.get(pos).is_some_and(|&b| b != b'\n' && b != b'\r') {
                        pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = pos;
        while data.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let digits = std::str::from_utf8(&data[start..pos]).map_err(|_| bad())?;
        *field = digits.parse().map_err(|_| bad())?;
    }
    if !data.get(pos).is_some_and(u8::is_ascii_whitespace) {
        return Err(bad());
    }
    let [width, height, maxval] = fields;
    if maxval != 255 {
        return Err(unsupported(
            path,
            format!("PPM maxval {maxval} is not supported (only 255)"),
        ));
    }
    if width == 0 || height == 0 {
        return Err(unsupported(path, "PPM has zero width or height"));
    }
    let (w, h) = match (u32::try_from(width), u32::try_from(height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => return Err(bad()),
    };
    let len = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(3))
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(bad)?;
    let pixels = data
        .get(pos + 1..)
        .and_then(|rest| rest.get(..len))
        .ok_or_else(|| unsupported(path, "PPM pixel data is truncated"))?;
    RgbImage::from_raw(w, h, pixels.to_vec())
        .ok_or_else(|| unsupported(path, "PPM pixel data is truncated"))
}

/// Scale to width `size` with nearest neighbour, down or up; `size == 0`
/// (or the image's own width) returns it unchanged.
pub fn resize_nearest(img: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if size == 0 || w == size || w == 0 {
        return img.clone();
    }
    let new_w = size;
    let new_h = ((u64::from(h) * u64::from(size)) / u64::from(w)).max(1);
    let new_h = u32::try_from(new_h).unwrap_or(u32::MAX);
    RgbImage::from_fn(new_w, new_h, |x, y| {
        let sx = u64::from(x) * u64::from(w) / u64::from(new_w);
        let sy = u64::from(y) * u64::from(h) / u64::from(new_h);
        // sx < w and sy < h, so they fit in u32
        *img.get_pixel(sx as u32, sy as u32)
    })
}

/// Box blur with radius `radius` and clamped edges; returns the row-major
/// RGB bytes of the result (same size as the input).
pub fn box_blur(img: &RgbImage, radius: u32) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let r = radius as i64;
    let src = img.as_raw();
    let clamp = |v: i64, n: usize| v.clamp(0, n as i64 - 1) as usize;
    // horizontal window sums of every row
    let mut hsum = vec![0u64; w * h * 3];
    for y in 0..h {
        let row = &src[y * w * 3..(y + 1) * w * 3];
        let out = &mut hsum[y * w * 3..(y + 1) * w * 3];
        for x in 0..w {
            for dx in -r..=r {
                let sx = clamp(x as i64 + dx, w);
                for c in 0..3 {
                    out[x * 3 + c] += u64::from(row[sx * 3 + c]);
                }
            }
        }
    }
    // vertical sums of those, one floor division at the end
    let area = (2 * u64::from(radius) + 1).pow(2);
    let mut out = vec![0u8; w * h * 3];
    let mut acc = vec![0u64; w * 3];
    for y in 0..h {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in -r..=r {
            let sy = clamp(y as i64 + dy, h);
            for (a, v) in acc.iter_mut().zip(&hsum[sy * w * 3..(sy + 1) * w * 3]) {
                *a += v;
            }
        }
        for (o, a) in out[y * w * 3..(y + 1) * w * 3].iter_mut().zip(&acc) {
            // a / area <= 255 since every term is <= 255
            *o = (a / area) as u8;
        }
    }
    out
}

/// `"sha256:" + lowercase hex` of `bytes`.
pub fn checksum(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in digest {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The checksum the `blur` workload must report for this image, `size` and
/// `radius` (`size == 0`: keep the image's size).
pub fn reference_checksum(path: &Path, size: u32, radius: u32) -> Result<String, BlurError> {
    let img = resize_nearest(&load_rgb(path)?, size);
    Ok(checksum(&box_blur(&img, radius)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb};

    /// A unique scratch file path for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gilscope-blur-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// An image whose three channels all hold the given gray values.
    fn gray_image(w: u32, h: u32, values: &[u8]) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = values[(y * w + x) as usize];
            Rgb([v, v, v])
        })
    }

    /// The first channel of every pixel of a blur result.
    fn red(bytes: &[u8]) -> Vec<u8> {
        bytes.iter().step_by(3).copied().collect()
    }

    #[test]
    fn radius_zero_is_identity() {
        let img = RgbImage::from_fn(5, 4, |x, y| {
            Rgb([x as u8 * 40, y as u8 * 60, (x * y) as u8])
        });
        assert_eq!(box_blur(&img, 0), img.as_raw().clone());
    }

    #[test]
    fn one_row_clamps_at_both_edges() {
        // H = 1: every vertical tap is the same row, so out = 3 * hsum / 9.
        // x=0: 0+0+30 = 30 -> 10; x=1: 0+30+90 = 120 -> 40; x=2: 30+90+90 = 210 -> 70
        let img = gray_image(3, 1, &[0, 30, 90]);
        assert_eq!(red(&box_blur(&img, 1)), vec![10, 40, 70]);
    }

    #[test]
    fn corner_pixel_uses_clamped_neighbours() {
        // 2x2, r = 1.  Top-left window (3x3) over clamped coordinates:
        // rows y=-1,0 -> row 0 (twice), y=1 -> row 1;
        // cols x=-1,0 -> col 0 (twice), x=1 -> col 1.
        // a=0 b=9 / c=18 d=27: 4a + 2b + 2c + d = 0 + 18 + 36 + 27 = 81 -> 9
        let img = gray_image(2, 2, &[0, 9, 18, 27]);
        let out = red(&box_blur(&img, 1));
        assert_eq!(out[0], 9);
        // bottom-right: 4d + 2b + 2c + a = 108 + 18 + 36 = 162 -> 18
        assert_eq!(out[3], 18);
    }

    #[test]
    fn division_floors() {
        // 1x1, r = 1: nine copies of 10 -> 90 / 9 = 10 exactly; a 3x1 row
        // [1, 0, 0] with r = 1: x=0 sums 1+1+0 = 2, times 3 rows = 6 -> 0
        assert_eq!(red(&box_blur(&gray_image(1, 1, &[10]), 1)), vec![10]);
        assert_eq!(
            red(&box_blur(&gray_image(3, 1, &[1, 0, 0]), 1)),
            vec![0, 0, 0]
        );
        // [5, 4, 0]: x=0: 5+5+4 = 14 * 3 = 42 / 9 = 4.67 -> 4
        assert_eq!(red(&box_blur(&gray_image(3, 1, &[5, 4, 0]), 1))[0], 4);
    }

    #[test]
    fn channels_are_blurred_independently() {
        let img = RgbImage::from_fn(3, 3, |x, _| Rgb([255, 0, x as u8]));
        let out = box_blur(&img, 1);
        assert!(out.chunks(3).all(|p| p[0] == 255 && p[1] == 0));
    }

    #[test]
    fn resize_picks_nearest_source_pixels() {
        let img = RgbImage::from_fn(4, 2, |x, y| Rgb([x as u8, y as u8, 0]));
        let small = resize_nearest(&img, 2);
        // W2 = 2, H2 = max(1, 2 * 2 / 4) = 1; src_x = 0, 2; src_y = 0
        assert_eq!(small.dimensions(), (2, 1));
        assert_eq!(small.as_raw(), &vec![0, 0, 0, 2, 0, 0]);
        assert_eq!(resize_nearest(&img, 0), img);
        assert_eq!(resize_nearest(&img, 4), img);
        // enlarging: W2 = 8, H2 = 2 * 8 / 4 = 4; src = (x / 2, y / 2)
        let big = resize_nearest(&img, 8);
        assert_eq!(big.dimensions(), (8, 4));
        assert_eq!(big.get_pixel(7, 3).0, [3, 1, 0]);
        assert_eq!(big.get_pixel(2, 1).0, [1, 0, 0]);
        let tall = RgbImage::new(9, 1);
        assert_eq!(resize_nearest(&tall, 2).dimensions(), (2, 1));
    }

    #[test]
    fn checksum_format() {
        assert_eq!(
            checksum(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn reads_ppm_with_comment() {
        let path = scratch("c.ppm");
        let mut data = b"P6\n# comment\n2 1\n255\n".to_vec();
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        std::fs::write(&path, &data).unwrap();
        let img = load_rgb(&path).unwrap();
        assert_eq!(img.dimensions(), (2, 1));
        assert_eq!(img.as_raw(), &vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn refuses_bad_ppm() {
        let path = scratch("bad.ppm");
        std::fs::write(&path, b"P6\n1 1\n65535\n\0\0\0\0\0\0").unwrap();
        let err = load_rgb(&path).unwrap_err().to_string();
        assert!(err.contains("maxval 65535"), "{err}");
        std::fs::write(&path, b"P6\n2 2\n255\n\0\0\0").unwrap();
        let err = load_rgb(&path).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn palette_png_is_looked_up() {
        // 3x2, palette 0 = (10,20,30), 1 = (200,100,50); index 2 is past the
        // palette and reads as black.  Rows: [0 1 2] [1 0 1]
        const TINY_PAL: [u8; 91] = [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x08, 0x03, 0x00, 0x00,
            0x00, 0xaa, 0xaa, 0x96, 0x28, 0x00, 0x00, 0x00, 0x06, 0x50, 0x4c, 0x54, 0x45, 0x0a,
            0x14, 0x1e, 0xc8, 0x64, 0x32, 0x77, 0xa0, 0xb3, 0x9c, 0x00, 0x00, 0x00, 0x10, 0x49,
            0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x60, 0x64, 0x62, 0x64, 0xfc, 0xcf, 0x08,
            0x00, 0x02, 0x1e, 0x01, 0x06, 0xd1, 0xd3, 0x2c, 0xdf, 0x00, 0x00, 0x00, 0x00, 0x49,
            0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
        ];
        let path = scratch("pal.png");
        std::fs::write(&path, TINY_PAL).unwrap();
        let img = load_rgb(&path).unwrap();
        let (a, b, black) = ([10, 20, 30], [200, 100, 50], [0, 0, 0]);
        let expected: Vec<u8> = [a, b, black, b, a, b].concat();
        assert_eq!(img.as_raw(), &expected);
    }

    /// Encode `raw` pixels as a PNG file with the image crate.
    fn write_png(
        name: &str,
        w: u32,
        h: u32,
        raw: &[u8],
        color: image::ExtendedColorType,
    ) -> PathBuf {
        let path = scratch(name);
        let file = std::fs::File::create(&path).unwrap();
        image::codecs::png::PngEncoder::new(file)
            .write_image(raw, w, h, color)
            .unwrap();
        path
    }

    #[test]
    fn gray_and_alpha_pngs_become_rgb() {
        let gray = write_png("g.png", 2, 1, &[7, 200], image::ExtendedColorType::L8);
        assert_eq!(
            load_rgb(&gray).unwrap().as_raw(),
            &vec![7, 7, 7, 200, 200, 200]
        );
        let rgba = write_png(
            "a.png",
            1,
            1,
            &[1, 2, 3, 0],
            image::ExtendedColorType::Rgba8,
        );
        assert_eq!(load_rgb(&rgba).unwrap().as_raw(), &vec![1, 2, 3]);
        let la = write_png("la.png", 1, 1, &[9, 0], image::ExtendedColorType::La8);
        assert_eq!(load_rgb(&la).unwrap().as_raw(), &vec![9, 9, 9]);
    }

    #[test]
    fn refuses_16_bit_and_interlaced_png() {
        let deep = write_png(
            "d.png",
            1,
            1,
            &[0, 1, 0, 2, 0, 3],
            image::ExtendedColorType::Rgb16,
        );
        let err = load_rgb(&deep).unwrap_err().to_string();
        assert!(err.contains("16-bit") && err.contains("d.png"), "{err}");
        // only the header matters: the check runs before decoding
        let mut data = PNG_SIGNATURE.to_vec();
        data.extend_from_slice(&[0, 0, 0, 13]);
        data.extend_from_slice(b"IHDR");
        data.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 1]);
        let path = scratch("i.png");
        std::fs::write(&path, data).unwrap();
        let err = load_rgb(&path).unwrap_err().to_string();
        assert!(err.contains("interlaced"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = reference_checksum(Path::new("/nonexistent/x.png"), 0, 3).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.png"));
    }

    #[test]
    fn shipped_image_matches_the_python_workload() {
        // the checksums the Python harness reports for assets/astronaut.png
        // (blur defaults: size 0, radius 4; and radius 3)
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/astronaut.png");
        let img = load_rgb(&path).unwrap();
        assert_eq!(img.dimensions(), (512, 512));
        assert_eq!(
            checksum(&box_blur(&img, 4)),
            "sha256:28f4afe3343f89feb3e7450e6b1ff4bc1dbe513ea3d7514616b31bf0af8147ca"
        );
        assert_eq!(
            reference_checksum(&path, 0, 3).unwrap(),
            "sha256:5fe7c50b175243126fb66e1237c524bb66fa9716b9b2d5cd901d83c4d4d89953"
        );
    }

    #[test]
    fn reference_checksum_of_small_ppm() {
        // 3x1 gray [0, 30, 90], r = 1 -> [10, 40, 70] in every channel
        let path = scratch("r.ppm");
        let mut data = b"P6 3 1 255\n".to_vec();
        data.extend_from_slice(&[0, 0, 0, 30, 30, 30, 90, 90, 90]);
        std::fs::write(&path, &data).unwrap();
        let expected = checksum(&[10, 10, 10, 40, 40, 40, 70, 70, 70]);
        assert_eq!(reference_checksum(&path, 0, 1).unwrap(), expected);
    }
}
