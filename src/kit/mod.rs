//! Small helpers more than one part of gilscope needs and none owns:
//! [`stats`] (median, percentiles, quantiles) and [`time`] (calendar
//! dates from Unix time, for file names and reports).

pub mod stats;
pub mod time;
