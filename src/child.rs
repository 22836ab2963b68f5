//! Child processes as RAII guards.
//!
//! Every child gilscope starts (probes, builds, runs) is put in its own
//! process group and gets `PR_SET_PDEATHSIG(SIGKILL)`, so that
//! * dropping the guard kills the child *and everything it started*, and
//! * a crash of gilscope itself takes the children with it.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that spawned the child exits,
//! so spawn from a thread that outlives the child (the guard's owner).

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// How often [`ChildGuard::wait_timeout`] polls.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// A running child process that is killed, with its process group, on drop.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Spawns `cmd` in a new process group with a parent-death signal.
    pub fn spawn(cmd: &mut Command) -> io::Result<Self> {
        cmd.process_group(0);
        // SAFETY: prctl and getppid are async-signal-safe; nothing is allocated.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() == 1 {
                    return Err(io::Error::other("parent exited before the child started"));
                }
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        Ok(Self {
            child,
            status: None,
        })
    }

    /// The child's pid (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The underlying child, e.g. to take its pipes.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Non-blocking check whether the child has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits up to `timeout` for the child to exit; `None` if it is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(POLL_INTERVAL.min(deadline - now));
        }
    }

    /// Sends `signal` to the child's whole process group.
    pub fn signal_group(&self, signal: libc::c_int) {
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: plain syscall; ESRCH (group already gone) is fine.
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }

    /// Kills the whole process group and reaps the child.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        self.signal_group(libc::SIGKILL);
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Always kill the group: a finished child may have left descendants.
        let _ = self.kill();
    }
}

/// Describes how a child ended, for error messages: "exited with status 1",
/// "killed by signal 11 (SIGSEGV)".
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(sig) => format!("killed by signal {sig} ({})", signal_name(sig)),
        None => "ended for an unknown reason".to_string(),
    }
}

/// The conventional name of a signal number.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => "unknown signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks existence.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    #[test]
    fn drop_kills_the_whole_group() {
        // The shell starts a grandchild and prints its pid.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 300 & echo $!; wait"]);
        cmd.stdout(std::process::Stdio::piped());
        let mut guard = ChildGuard::spawn(&mut cmd).unwrap();
        let mut out = guard.child_mut().stdout.take().unwrap();
        let mut line = String::new();
        use std::io::Read;
        let mut byte = [0u8; 1];
        while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0] as char);
        }
        let grandchild: i32 = line.trim().parse().unwrap();
        assert!(alive(grandchild));
        drop(guard);
        // The grandchild was killed; it may linger as a zombie of init for a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let state =
                std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
            let gone = state.is_empty()
                || state
                    .rsplit(')')
                    .next()
                    .is_some_and(|s| s.trim_start().starts_with('Z'));
            if gone {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "grandchild {grandchild} survived the guard"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn wait_timeout_reports_running_then_exit() {
        let mut guard = ChildGuard::spawn(Command::new("sleep").arg("0.3")).unwrap();
        assert!(
            guard
                .wait_timeout(Duration::from_millis(10))
                .unwrap()
                .is_none()
        );
        let status = guard
            .wait_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(describe_status(status), "exited with status 0");
    }

    #[test]
    fn describes_signals() {
        let mut guard =
            ChildGuard::spawn(Command::new("sh").args(["-c", "kill -SEGV $$"])).unwrap();
        let status = guard
            .wait_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(describe_status(status), "killed by signal 11 (SIGSEGV)");
    }
}
