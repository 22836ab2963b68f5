//! Parameters checked before anything starts: `harness.py --check` imports
//! the workload and converts every `--param` exactly as a run would, so a
//! bad value (`n=4e5x`) or an unknown key is refused once, up front, with
//! the harness's own words — not after every run of a sweep started and
//! failed.

use super::embedded;
use super::protocol::WorkloadError;
use super::runner::harness_params;
use crate::child::{ChildGuard, describe_status};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long importing a workload may take before the check gives up.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// The prefix of event lines on stderr (no event pipe given).
const EVENT_PREFIX: &str = "@gilscope ";

/// Checks that `python` can import `workload` and convert every one of
/// `params` as a run would. `Err` is one line for the user: for a bad
/// parameter it names the parameter, its value and what it should be; for
/// a workload that cannot be imported, the error and where.
pub fn check_params(
    python: &Path,
    workload: &str,
    params: &[(String, String)],
) -> Result<(), String> {
    let rt = embedded::runtime()?;
    let mut cmd = Command::new(python);
    cmd.arg(rt.harness())
        .args(["--check", "--workload", workload]);
    for (key, value) in harness_params(rt, workload, params) {
        cmd.arg("--param").arg(format!("{key}={value}"));
    }
    cmd.env_remove(super::runner::EVENT_FD_ENV)
        .env_remove("PYTHON_GIL")
        .env_remove("PYTHONSTARTUP")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::spawn(&mut cmd).map_err(|e| {
        format!(
            "cannot start {} to check the parameters: {e}",
            python.display()
        )
    })?;
    let stderr = child.child_mut().stderr.take();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        if let Some(pipe) = stderr {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.push(line);
            }
        }
        lines
    });
    let status = match child.wait_timeout(CHECK_TIMEOUT) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = reader.join();
            return Err(format!(
                "checking the parameters of workload '{workload}' took over {} s (its import hangs?); nothing was started",
                CHECK_TIMEOUT.as_secs()
            ));
        }
        Err(e) => return Err(format!("cannot wait for the parameter check: {e}")),
    };
    // the harness is gone; whatever it started goes with its group
    child.signal_group(libc::SIGKILL);
    let lines = reader.join().unwrap_or_default();
    interpret(&lines, status.success(), &describe_status(status))
}

/// The verdict from the harness's stderr lines and exit.
fn interpret(lines: &[String], success: bool, status: &str) -> Result<(), String> {
    let mut checked = false;
    for line in lines {
        let Some(json) = line.strip_prefix(EVENT_PREFIX) else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        match value.get("event").and_then(|e| e.as_str()) {
            Some("checked") => checked = true,
            Some("error") => {
                let error: WorkloadError = serde_json::from_value(value).map_err(|e| {
                    format!("the parameter check reported an unreadable error: {e}")
                })?;
                return Err(if error.phase.as_deref() == Some("usage") {
                    error.message
                } else {
                    error.headline()
                });
            }
            _ => {}
        }
    }
    if checked && success {
        return Ok(());
    }
    let last = lines
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(EVENT_PREFIX));
    Err(match last {
        Some(line) => {
            format!("the parameter check {status} without a verdict; last stderr line: {line}")
        }
        None => format!("the parameter check {status} without a verdict"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_error_is_its_message_alone() {
        let lines = vec![
            "noise".to_string(),
            r#"@gilscope {"event":"error","v":2,"t_ns":1,"type":"UsageError","message":"--param n=4e5x: '4e5x' is not a whole number","traceback":"","filename":null,"lineno":null,"phase":"usage"}"#.to_string(),
        ];
        assert_eq!(
            interpret(&lines, false, "exited with status 2").unwrap_err(),
            "--param n=4e5x: '4e5x' is not a whole number"
        );
        let ok = vec![r#"@gilscope {"event":"checked","v":2,"t_ns":1}"#.to_string()];
        assert!(interpret(&ok, true, "exited with status 0").is_ok());
        let died = vec!["Segmentation fault".to_string()];
        let err = interpret(&died, false, "was killed by signal 11").unwrap_err();
        assert!(err.contains("Segmentation fault"), "{err}");
    }
}
