//! What else ran during a run: the first and the last of the sampler's
//! machine-wide readings ([`LoadSample`]), and what they say — the CPU the
//! run's tree used, gilscope's own (by thread name), every other process
//! (the machine's busy time minus both; the busiest by name) and the cores
//! the run could have had.

use crate::sampler::{LoadSample, NamedCpu};
use serde::{Deserialize, Serialize};

/// The readings a record keeps: the first and the newest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadTrack {
    first: Option<(u64, LoadSample)>,
    last: Option<(u64, LoadSample)>,
    readings: u64,
}

impl LoadTrack {
    /// Takes in one reading taken at `t_ns`.
    pub fn eat(&mut self, t_ns: u64, sample: LoadSample) {
        self.readings += 1;
        if self.first.is_none() {
            self.first = Some((t_ns, sample));
        } else {
            self.last = Some((t_ns, sample));
        }
    }

    /// How many readings came in.
    pub fn readings(&self) -> u64 {
        self.readings
    }

    /// What the readings say; `Err` says why there is nothing to say.
    pub fn load(&self) -> Result<Load, String> {
        let (Some((t0, a)), Some((t1, b))) = (&self.first, &self.last) else {
            return Err(if self.readings == 0 {
                "no machine load readings (a run file from before them, or /proc/stat unreadable)"
                    .into()
            } else {
                "one machine load reading only: the run was too short to difference two".into()
            });
        };
        let window_secs = t1.saturating_sub(*t0) as f64 / 1e9;
        if window_secs <= 0.0 {
            return Err("the load readings span no time".into());
        }
        let secs = |x: u64, y: u64| y.saturating_sub(x) as f64 / 1e9;
        let machine = secs(a.machine_busy_ns, b.machine_busy_ns);
        let run = match (a.tree_cpu_ns, b.tree_cpu_ns) {
            (Some(x), Some(y)) => Some(secs(x, y)),
            _ => None,
        };
        let own = match (a.own_cpu_ns, b.own_cpu_ns) {
            (Some(x), Some(y)) => Some(secs(x, y)),
            _ => None,
        };
        let other = match (run, own) {
            (Some(r), Some(o)) => Some((machine - r - o).max(0.0)),
            _ => None,
        };
        let other_missing = other.is_none().then(|| {
            if run.is_none() {
                "the run's process tree could not be read at both readings".to_string()
            } else {
                "gilscope's own process could not be read at both readings".to_string()
            }
        });
        let own_threads = b
            .own_threads
            .iter()
            .map(|t| {
                let before = a
                    .own_threads
                    .iter()
                    .find(|x| x.name == t.name)
                    .map_or(0, |x| x.cpu_ns);
                NamedLoad {
                    name: t.name.clone(),
                    cpu_secs: secs(before, t.cpu_ns),
                    count: t.count,
                }
            })
            .filter(|t| t.cpu_secs > 0.0)
            .collect();
        Ok(Load {
            window_secs,
            cores: b.cores_allowed.unwrap_or(b.cores_online).max(1),
            cores_online: b.cores_online,
            machine_cpu_secs: machine,
            run_cpu_secs: run,
            own_cpu_secs: own,
            other_cpu_secs: other,
            other_missing,
            own_threads,
            busiest: b.others.iter().map(NamedLoad::from).collect(),
            readings: self.readings,
            max_reading_cost_ms: a.cost_ns.max(b.cost_ns) as f64 / 1e6,
        })
    }
}

/// CPU of the processes (or gilscope's threads) of one name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedLoad {
    pub name: String,
    pub cpu_secs: f64,
    /// Processes (threads, for gilscope's own) of that name.
    pub count: u32,
}

impl From<&NamedCpu> for NamedLoad {
    fn from(n: &NamedCpu) -> Self {
        Self {
            name: n.name.clone(),
            cpu_secs: n.cpu_ns as f64 / 1e9,
            count: n.count,
        }
    }
}

/// What else ran between the first and the last load reading of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Time between the first and last reading (≈ the run's life).
    pub window_secs: f64,
    /// Cores the run could have had (its affinity, else those online).
    pub cores: u32,
    pub cores_online: u32,
    /// Busy time of all cores.
    pub machine_cpu_secs: f64,
    /// The run's process tree.
    pub run_cpu_secs: Option<f64>,
    /// gilscope itself (sampler, GIL reader, window, …).
    pub own_cpu_secs: Option<f64>,
    /// Every other process: machine − run − gilscope.
    pub other_cpu_secs: Option<f64>,
    /// Why `other_cpu_secs` is missing.
    pub other_missing: Option<String>,
    /// gilscope's threads by name.
    pub own_threads: Vec<NamedLoad>,
    /// The busiest other processes by name (short-lived ones may be
    /// missing here, never from `other_cpu_secs`).
    pub busiest: Vec<NamedLoad>,
    pub readings: u64,
    pub max_reading_cost_ms: f64,
}

impl Load {
    /// Mean cores used over the window.
    pub fn cores_of(&self, cpu_secs: f64) -> f64 {
        cpu_secs / self.window_secs
    }

    pub fn other_cores(&self) -> Option<f64> {
        self.other_cpu_secs.map(|s| self.cores_of(s))
    }

    pub fn run_cores(&self) -> Option<f64> {
        self.run_cpu_secs.map(|s| self.cores_of(s))
    }

    pub fn own_cores(&self) -> Option<f64> {
        self.own_cpu_secs.map(|s| self.cores_of(s))
    }

    /// "yes ×2 0.95, cc1 0.20" (mean cores each).
    pub fn busiest_text(&self) -> String {
        let parts: Vec<String> = self
            .busiest
            .iter()
            .map(|b| {
                let n = if b.count > 1 {
                    format!(" ×{}", b.count)
                } else {
                    String::new()
                };
                format!("{}{n} {:.2}", b.name, self.cores_of(b.cpu_secs))
            })
            .collect();
        if parts.is_empty() {
            "none named".into()
        } else {
            parts.join(", ")
        }
    }

    /// One line: "others 0.95 of 2 cores (busiest: yes 0.95); run 1.02,
    /// gilscope 0.04".
    pub fn line(&self) -> String {
        let f = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
        let others = match self.other_cores() {
            Some(o) => format!("{o:.2}"),
            None => format!(
                "— ({})",
                self.other_missing.as_deref().unwrap_or("not measured")
            ),
        };
        format!(
            "other processes {others} of {} cores (busiest: {}); this run {}, gilscope {} (over {:.1} s)",
            self.cores,
            self.busiest_text(),
            f(self.run_cores()),
            f(self.own_cores()),
            self.window_secs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(machine_s: f64, tree_s: f64, own_s: f64, yes_s: f64) -> LoadSample {
        let ns = |s: f64| (s * 1e9) as u64;
        LoadSample {
            machine_busy_ns: ns(machine_s),
            machine_all_ns: 0,
            cores_online: 2,
            cores_allowed: Some(2),
            tree_cpu_ns: Some(ns(tree_s)),
            own_cpu_ns: Some(ns(own_s)),
            own_threads: vec![NamedCpu {
                name: "gilscope-sampl".into(),
                cpu_ns: ns(own_s),
                count: 1,
            }],
            others: vec![NamedCpu {
                name: "yes".into(),
                cpu_ns: ns(yes_s),
                count: 2,
            }],
            processes_scanned: 80,
            cost_ns: 300_000,
        }
    }

    #[test]
    fn others_are_the_machine_minus_the_run_and_gilscope() {
        let mut t = LoadTrack::default();
        assert!(t.load().is_err());
        t.eat(0, reading(100.0, 0.0, 1.0, 0.0));
        assert!(t.load().is_err(), "one reading is not enough");
        t.eat(2_000_000_000, reading(103.9, 2.0, 1.1, 1.7));
        let l = t.load().expect("two readings");
        assert!((l.window_secs - 2.0).abs() < 1e-9);
        assert!((l.other_cpu_secs.expect("other") - 1.8).abs() < 1e-6);
        assert!((l.other_cores().expect("other") - 0.9).abs() < 1e-6);
        assert!((l.run_cores().expect("run") - 1.0).abs() < 1e-6);
        assert_eq!(l.cores, 2);
        assert_eq!(l.busiest_text(), "yes ×2 0.85");
        assert!((l.own_threads[0].cpu_secs - 0.1).abs() < 1e-6);
        assert!(l.line().contains("other processes 0.90 of 2 cores"));
    }

    #[test]
    fn run_files_from_before_load_readings_still_load() {
        use crate::interp::Mode;
        use crate::store::RunRecord;
        use crate::store::fixtures::{Synth, interpreter};
        let run = Synth::new(Mode::Gil, 2).build(&interpreter("3.13", "3.13.5", false));
        let mut v = serde_json::to_value(&run).expect("serialises");
        let obj = v.as_object_mut().expect("an object");
        assert!(obj.remove("load").is_some());
        if let Some(summary) = obj.get_mut("summary").and_then(|s| s.as_object_mut()) {
            for key in ["load", "load_missing", "verdicts"] {
                summary.remove(key);
            }
        }
        let old: RunRecord = serde_json::from_value(v).expect("an older file loads");
        assert_eq!(old.load_track().readings(), 0);
        let why = old.load_track().load().expect_err("nothing to say");
        assert!(why.contains("no machine load readings"), "{why}");
    }

    #[test]
    fn a_tree_that_could_not_be_read_leaves_others_missing() {
        let mut t = LoadTrack::default();
        t.eat(0, reading(100.0, 0.0, 1.0, 0.0));
        let mut b = reading(103.0, 0.0, 1.1, 0.0);
        b.tree_cpu_ns = None;
        t.eat(1_000_000_000, b);
        let l = t.load().expect("two readings");
        assert_eq!(l.other_cpu_secs, None);
        assert!(l.other_missing.is_some());
        assert!(l.line().contains("— (the run's process tree"));
    }
}
