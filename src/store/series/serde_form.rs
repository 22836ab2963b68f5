//! The file form of a [`TimeSeries`]: each column's stored span (from
//! `first_row`, an index into `t_ns`), gaps as `null`; the coarse level is
//! rebuilt (and the data checked) on load.

use super::column::Column;
use super::{ColumnId, SeriesLimits, TimeSeries};
use serde::{Deserialize, Serialize, Serializer};

#[derive(Deserialize)]
pub(super) struct SeriesData {
    limits: SeriesLimits,
    pruned_rows: u64,
    t_ns: Vec<u64>,
    columns: Vec<ColumnData>,
    /// The older, coarser tiers (absent in older files and short runs).
    #[serde(default)]
    older: Option<Box<TimeSeries>>,
}

#[derive(Deserialize)]
struct ColumnData {
    name: String,
    first_row: usize,
    values: Vec<Option<f32>>,
}

impl TryFrom<SeriesData> for TimeSeries {
    type Error = String;

    fn try_from(data: SeriesData) -> Result<Self, String> {
        if data.t_ns.windows(2).any(|w| w[1] < w[0]) {
            return Err("the time axis goes backwards".to_string());
        }
        if u32::try_from(data.columns.len()).is_err() {
            return Err("too many columns".to_string());
        }
        let mut series = TimeSeries::new(data.limits);
        series.older = data.older;
        series.pruned_rows = data.pruned_rows;
        series.t_ns = data.t_ns;
        for column in data.columns {
            if column.first_row.saturating_add(column.values.len()) > series.len() {
                return Err(format!(
                    "column {:?} has values past the {} times",
                    column.name,
                    series.len()
                ));
            }
            if series.by_name.contains_key(&column.name) {
                return Err(format!("column {:?} appears twice", column.name));
            }
            let values = column
                .values
                .into_iter()
                .map(|v| v.filter(|v| v.is_finite()).unwrap_or(f32::NAN))
                .collect();
            let start = series.pruned_rows + column.first_row as u64;
            let id = ColumnId(series.columns.len() as u32);
            series.by_name.insert(column.name.clone(), id);
            series
                .columns
                .push(Column::from_values(&column.name, start, values));
        }
        Ok(series)
    }
}

impl Serialize for TimeSeries {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            limits: SeriesLimits,
            pruned_rows: u64,
            t_ns: &'a [u64],
            columns: Vec<ColumnOut<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            older: Option<&'a TimeSeries>,
        }
        #[derive(Serialize)]
        struct ColumnOut<'a> {
            name: &'a str,
            first_row: u64,
            values: Gaps<'a>,
        }
        Out {
            limits: self.limits,
            pruned_rows: self.pruned_rows,
            t_ns: &self.t_ns,
            columns: self
                .columns
                .iter()
                .map(|c| {
                    let (start, values) = c.stored();
                    ColumnOut {
                        name: &c.name,
                        first_row: start.saturating_sub(self.pruned_rows),
                        values: Gaps(values),
                    }
                })
                .collect(),
            older: self.older(),
        }
        .serialize(serializer)
    }
}

/// Serializes NaN gaps as `null`.
struct Gaps<'a>(&'a [f32]);

impl Serialize for Gaps<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|&v| (!v.is_nan()).then_some(v)))
    }
}
