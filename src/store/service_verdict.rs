//! Verdicts of service runs, by the rules of [`super::verdict`] (its
//! constants and functions) plus what only a service has:
//!
//! * *contended*: gilscope's own load generator competes for the cores the
//!   server needs, so its CPU counts with the other processes' — named
//!   apart in the reason;
//! * *generator-bound*: the generator sent its requests late
//!   ([`crate::loadgen::LoadReport::generator_bound`]), so part of the
//!   latency is its own.
//!
//! A batch run gets exactly [`super::verdict::run_verdicts`].

use super::load::Load;
use super::record::RunRecord;
use super::verdict::{self, CONTENDED_SHARE, Verdict, VerdictKind};

/// The verdicts one run earns on its own (a service run: with its load
/// generator counted as contention, and *generator-bound*).
pub fn run_verdicts(run: &RunRecord) -> Vec<Verdict> {
    let mut out = verdict::run_verdicts(run);
    let Some(s) = run.service().summary() else {
        return out;
    };
    if let Ok(load) = run.load_track().load() {
        let needed = verdict::needed_cores(run.spec().workers, load.cores);
        let generator = load.cores_of(s.loadgen_cpu_secs);
        if let Some(v) = contended_with_generator(&load, needed, generator) {
            out.retain(|v| v.kind != VerdictKind::Contended);
            out.push(v);
        }
    }
    verdict::push(&mut out, generator_bound(s.generator_bound.as_deref()));
    out
}

/// *contended*: other processes and the load generator together used more
/// than the spare cores plus [`CONTENDED_SHARE`] of the cores the server
/// needed.
pub fn contended_with_generator(load: &Load, needed: f64, generator: f64) -> Option<Verdict> {
    let others = load.other_cores().unwrap_or(0.0);
    let spare = (f64::from(load.cores) - needed).max(0.0);
    let allowed = spare + CONTENDED_SHARE * needed;
    let took = others + generator;
    (took > allowed).then(|| Verdict {
        kind: VerdictKind::Contended,
        reason: format!(
            "gilscope's load generator used {generator:.2} and other processes {others:.2} of {} cores — together {:.0} % of the {needed:.0} the server needed (busiest others: {})",
            load.cores,
            (took - spare).max(0.0) / needed * 100.0,
            load.busiest_text()
        ),
    })
}

/// *generator-bound*, with the generator's reason.
pub fn generator_bound(why: Option<&str>) -> Option<Verdict> {
    why.map(|why| Verdict {
        kind: VerdictKind::GeneratorBound,
        reason: why.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(cores: u32, other_cpu_secs: f64) -> Load {
        Load {
            window_secs: 10.0,
            cores,
            cores_online: cores,
            machine_cpu_secs: 0.0,
            run_cpu_secs: Some(10.0),
            own_cpu_secs: Some(1.0),
            other_cpu_secs: Some(other_cpu_secs),
            other_missing: None,
            own_threads: Vec::new(),
            busiest: Vec::new(),
            readings: 40,
            max_reading_cost_ms: 0.1,
        }
    }

    #[test]
    fn the_load_generator_counts_as_contention_named_apart() {
        // 2 cores, a server needing both: 0.1 of others is allowed …
        assert_eq!(contended_with_generator(&load(2, 1.0), 2.0, 0.0), None);
        // … but not with the generator's 0.4 on top
        let v = contended_with_generator(&load(2, 1.0), 2.0, 0.4);
        let v = v.unwrap_or_else(|| panic!("0.5 of 2 needed cores is contended"));
        assert_eq!(v.kind, VerdictKind::Contended);
        assert!(
            v.reason.contains("load generator used 0.40")
                && v.reason.contains("other processes 0.10"),
            "{}",
            v.reason
        );
        // a spare core absorbs it
        assert_eq!(contended_with_generator(&load(4, 1.0), 2.0, 0.4), None);
        assert_eq!(generator_bound(None), None);
        assert_eq!(
            generator_bound(Some("late")).map(|v| v.kind),
            Some(VerdictKind::GeneratorBound)
        );
    }
}
