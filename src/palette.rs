//! One palette for every surface — the app, exported charts and the
//! report — built on Okabe & Ito's eight colours, which stay apart for
//! the common colour-vision deficiencies (and in greyscale, with the
//! report's markers and the lanes' hatching for "waiting for the GIL").
//! Colours are plain sRGB triples, so neither egui nor plotters is named
//! here.

use crate::interp::Mode;

/// An sRGB colour.
pub type Rgb = [u8; 3];

pub const BLACK: Rgb = [0, 0, 0];
pub const ORANGE: Rgb = [230, 159, 0];
pub const SKY_BLUE: Rgb = [86, 180, 233];
pub const BLUISH_GREEN: Rgb = [0, 158, 115];
pub const YELLOW: Rgb = [240, 228, 66];
pub const BLUE: Rgb = [0, 114, 178];
pub const VERMILLION: Rgb = [213, 94, 0];
pub const REDDISH_PURPLE: Rgb = [204, 121, 167];

/// One colour per mode, the same in the app, the charts and the report.
pub fn mode(mode: Mode) -> Rgb {
    match mode {
        Mode::Gil => BLUE,
        Mode::Ft => VERMILLION,
        Mode::FtGil => REDDISH_PURPLE,
        Mode::Subinterp => BLUISH_GREEN,
        Mode::Process => ORANGE,
    }
}

/// The colours of a thread's states in the lanes (app and exports).
pub mod state {
    use super::*;

    /// Running, holding its GIL (or running, where the GIL is not read).
    pub const HOLDING: Rgb = SKY_BLUE;
    /// Running without holding any GIL (free-threaded, or released it).
    pub const RUNNING_FREE: Rgb = BLUISH_GREEN;
    /// Runnable, waiting for a core.
    pub const WAITING_FOR_CORE: Rgb = YELLOW;
    /// Blocked waiting for a GIL: also hatched, so it reads without colour.
    pub const WAITING_FOR_GIL: Rgb = VERMILLION;
    /// Running where the interpreter cannot show whether it waits in
    /// `take_gil` (3.13/3.14).
    pub const UNSURE: Rgb = REDDISH_PURPLE;
}

/// Colours for series that have no mode colour (cores, memory kinds,
/// workers): the palette's eight, the darkest last.
pub const SERIES: [Rgb; 8] = [
    SKY_BLUE,
    ORANGE,
    BLUISH_GREEN,
    VERMILLION,
    REDDISH_PURPLE,
    YELLOW,
    BLUE,
    [0x7f, 0x8c, 0x8d],
];

/// The `i`th series colour (workers, cores), repeating after eight.
pub fn series(i: usize) -> Rgb {
    SERIES[i % SERIES.len()]
}

/// The colour `t` of the way from `a` to `b`.
pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// How a thread's lane is drawn, in the app and in the exports: which
/// colours, in which proportions, and the hatching of "waiting for the
/// GIL" that reads without colour.
pub mod lane {
    use super::{BLACK, Rgb, mix, state};

    /// How much darker the hatch's second stripe is.
    pub const HATCH_SHADE: f32 = 0.45;

    /// Waiting for a GIL is hatched: diagonal stripes `stripe` pixels wide
    /// of the colour and a darker shade, so it reads in greyscale, on a
    /// projector, for a colour-blind viewer.
    pub fn hatch(color: Rgb, x: usize, y: usize, stripe: usize) -> Rgb {
        if ((x + y) / stripe.max(1)).is_multiple_of(2) {
            color
        } else {
            mix(color, BLACK, HATCH_SHADE)
        }
    }

    /// Blocked on something other than a GIL (exact lanes only).
    pub fn blocked_other(dark: bool) -> Rgb {
        if dark {
            [0x6b, 0x72, 0x80]
        } else {
            [0xa0, 0xa6, 0xb0]
        }
    }

    /// Running at a moment the GIL reader has no reading for.
    pub fn unread(dark: bool) -> Rgb {
        if dark {
            [0xc8, 0xcd, 0xd4]
        } else {
            [0x55, 0x5b, 0x66]
        }
    }

    /// What the GIL reader says of a thread in one column: the largest
    /// share holding a GIL, waiting for one, and of running without one
    /// the part nothing proved free.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct GilShares {
        pub hold: f32,
        pub wait: f32,
        pub unsure_share: f32,
    }

    impl GilShares {
        /// From the reader's columns (`None`: no reading of that kind).
        /// Of running without the GIL, the share the probes proved free;
        /// without such proof, all of it is unsure — never painted as
        /// running free on a guess.
        pub fn of(
            hold: Option<f32>,
            wait: Option<f32>,
            free: Option<f32>,
            unsure: Option<f32>,
        ) -> Option<Self> {
            let (f, u) = (free.unwrap_or(0.0), unsure.unwrap_or(0.0));
            Some(Self {
                hold: hold?,
                wait: wait.unwrap_or(0.0),
                unsure_share: if f + u > 0.0 { u / (f + u) } else { 1.0 },
            })
        }
    }

    /// The segments of one column of a lane, top to bottom, from the
    /// /proc shares running `r`, waiting for a core `w`, blocked `b` and,
    /// where the GIL reader read the thread (`exact`), its shares at that
    /// moment (`None`: no reading then). Whether a segment is hatched:
    /// its colour is [`state::WAITING_FOR_GIL`].
    pub fn segments(
        (r, w, b): (f32, f32, f32),
        gil: Option<GilShares>,
        exact: bool,
        dark: bool,
    ) -> [(f32, Rgb); 6] {
        let none = (0.0, BLACK);
        match gil {
            Some(g) => {
                let with = r.min(g.hold);
                let without = r - with;
                let gw = b.min(g.wait);
                [
                    (with, state::HOLDING),
                    (without * (1.0 - g.unsure_share), state::RUNNING_FREE),
                    (without * g.unsure_share, state::UNSURE),
                    (w, state::WAITING_FOR_CORE),
                    (gw, state::WAITING_FOR_GIL),
                    (b - gw, blocked_other(dark)),
                ]
            }
            // The GIL reader saw this thread, but not at this moment.
            None if exact => [
                (r, unread(dark)),
                (w, state::WAITING_FOR_CORE),
                (b, blocked_other(dark)),
                none,
                none,
                none,
            ],
            None => [
                (r, state::HOLDING),
                (w, state::WAITING_FOR_CORE),
                (b, state::WAITING_FOR_GIL),
                none,
                none,
                none,
            ],
        }
    }

    /// Pixels per segment in a bar of `height`, in proportion to `values`
    /// (cumulative rounding: they add up to `height` unless all are 0).
    pub fn stack_n<const N: usize>(values: [f32; N], height: usize) -> [usize; N] {
        let v = values.map(|x| x.max(0.0));
        let sum: f32 = v.iter().sum();
        let mut out = [0; N];
        if sum <= 1e-6 {
            return out;
        }
        let mut acc = 0.0f32;
        let mut done = 0usize;
        for (slot, x) in out.iter_mut().zip(v) {
            acc += x;
            let end = ((acc / sum) * height as f32).round() as usize;
            let end = end.clamp(done, height);
            *slot = end - done;
            done = end;
        }
        out
    }
}

/// Numbers that are good news (a speedup near ideal).
pub const GOOD: Rgb = BLUISH_GREEN;
/// Numbers that are bad news (slower than the baseline) and errors.
pub const BAD: Rgb = VERMILLION;
/// Flags on numbers (contended, implausible, noisy).
pub const FLAG: Rgb = ORANGE;

/// How a speedup is coloured: good when near ideal, bad only when it is a
/// slowdown, otherwise neutral (`None`: the text colour). A speedup is
/// never drawn in the colour of errors while it is one.
pub fn speedup(speedup: f64, workers: usize) -> Option<Rgb> {
    let ideal = workers.max(1) as f64;
    if speedup < 0.95 {
        Some(BAD)
    } else if workers > 1 && speedup >= 0.75 * ideal {
        Some(GOOD)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_have_distinct_colours_and_good_numbers_are_never_bad() {
        let set: std::collections::HashSet<Rgb> = Mode::ALL.iter().map(|m| mode(*m)).collect();
        assert_eq!(set.len(), Mode::ALL.len());
        assert_eq!(speedup(1.16, 4), None, "a small gain is neutral, not red");
        assert_eq!(speedup(1.9, 2), Some(GOOD));
        assert_eq!(speedup(0.6, 2), Some(BAD));
        assert_eq!(speedup(1.0, 1), None);
    }
}
