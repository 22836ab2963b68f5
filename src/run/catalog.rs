//! The built-in workloads and their parameters, as the harness itself
//! describes them (`harness.py --probe`): the window never keeps its own
//! copy of a workload's defaults.

use crate::child::ChildGuard;
use serde::Deserialize;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One workload as the harness describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkloadInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Defaults, in the workload's own order.
    #[serde(default, deserialize_with = "ordered")]
    pub params: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    pub item_unit: String,
    /// Set when the module failed to load on this interpreter.
    #[serde(default)]
    pub error: Option<String>,
}

impl WorkloadInfo {
    /// The parameters as `key`, default text.
    pub fn param_defaults(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }
}

/// A JSON object as its (key, value) pairs in document order.
fn ordered<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, serde_json::Value)>, D::Error> {
    struct Pairs;
    impl<'de> serde::de::Visitor<'de> for Pairs {
        type Value = Vec<(String, serde_json::Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of parameter defaults")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(pair) = map.next_entry()? {
                out.push(pair);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Pairs)
}

#[derive(Deserialize)]
struct ProbeEvent {
    event: String,
    #[serde(default)]
    workloads: Vec<WorkloadInfo>,
}

/// Asks `python` to describe the built-in workloads (a few hundred ms).
pub fn probe_workloads(python: &Path) -> Result<Vec<WorkloadInfo>, String> {
    let rt = crate::run::embedded::runtime()?;
    let mut cmd = Command::new(python);
    cmd.arg(rt.harness())
        .arg("--probe")
        .env_remove("GILSCOPE_EVENT_FD")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd)
        .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
    let mut stderr = child
        .child_mut()
        .stderr
        .take()
        .ok_or("no stderr pipe for the probe")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => return Err(format!("{} --probe took over 30 s", python.display())),
            Err(e) => return Err(format!("waiting for the probe: {e}")),
        }
    }
    let text = reader.join().unwrap_or_default();
    parse_probe(&text)
}

/// The workloads in the harness's probe output (stderr, `@gilscope ` lines).
pub fn parse_probe(text: &str) -> Result<Vec<WorkloadInfo>, String> {
    for line in text.lines() {
        let Some(json) = line.strip_prefix("@gilscope ") else {
            continue;
        };
        if let Ok(ev) = serde_json::from_str::<ProbeEvent>(json)
            && ev.event == "probe"
        {
            return Ok(ev.workloads);
        }
    }
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    Err(format!(
        "the harness did not describe its workloads; it said: {}",
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_probe_line_and_keeps_param_order() {
        let text = "noise\n@gilscope {\"event\":\"probe\",\"v\":1,\"workloads\":[{\"name\":\"primes\",\"description\":\"d\",\"params\":{\"n\":400000,\"chunk\":2000},\"item_unit\":\"numbers\"},{\"name\":\"sleep\",\"params\":{\"count\":100,\"ms\":10.0}}]}\n";
        let w = parse_probe(text).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(
            w[0].param_defaults(),
            vec![
                ("n".to_string(), "400000".to_string()),
                ("chunk".to_string(), "2000".to_string())
            ]
        );
        assert_eq!(w[1].param_defaults()[1].1, "10.0");
    }

    #[test]
    fn no_probe_line_is_an_error_quoting_the_output() {
        let e = parse_probe("Traceback\nSyntaxError: bad\n").unwrap_err();
        assert!(e.contains("SyntaxError: bad"), "{e}");
    }
}
