//! A linear f64 axis whose ticks are exactly the given values (worker
//! counts, bar groups), labelled by the chart's own formatter.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use std::ops::Range;

#[derive(Debug, Clone)]
pub struct Ticked {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self { range, ticks }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return limit.0;
        }
        let t = (value - self.range.start) / span;
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_linearly() {
        let axis = Ticked::new(0.0..10.0, vec![1.0, 2.0]);
        assert_eq!(axis.map(&5.0, (100, 200)), 150);
        assert_eq!(axis.map(&0.0, (100, 200)), 100);
        assert_eq!(axis.map(&10.0, (200, 100)), 100);
        assert_eq!(Ticked::new(1.0..1.0, vec![]).map(&1.0, (3, 9)), 3);
    }
}
