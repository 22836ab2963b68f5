//! Small helpers more than one part of gilscope needs and none owns:
//! [`stats`] (median, percentiles, quantiles), [`time`] (calendar
//! dates from Unix time, for file names and reports) and [`number`] (the
//! one formatter of counts and rates: "1.23 M") and [`shell`] (arguments
//! split like a shell would, without one).

pub mod number;
pub mod shell;
pub mod stats;
pub mod time;
