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
