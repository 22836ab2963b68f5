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

/// What the kernel accounted to a child and its reaped descendants.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub user_secs: f64,
    pub system_secs: f64,
    /// Largest resident set of the child or any reaped descendant.
    pub max_rss_bytes: u64,
}

impl Usage {
    fn from_rusage(ru: &libc::rusage) -> Self {
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        Self {
            user_secs: secs(ru.ru_utime),
            system_secs: secs(ru.ru_stime),
            // Linux reports ru_maxrss in KiB.
            max_rss_bytes: u64::try_from(ru.ru_maxrss).unwrap_or(0) * 1024,
        }
    }

    pub fn cpu_secs(&self) -> f64 {
        self.user_secs + self.system_secs
    }
}

/// A running child process that is killed, with its process group, on drop.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    exit: Option<(ExitStatus, Usage)>,
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
        Ok(Self { child, exit: None })
    }

    /// The child's pid (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The underlying child, e.g. to take its pipes. Do not wait on it
    /// directly: the guard reaps the child itself (to get its rusage).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Reaps the child with `wait4`, keeping its status and resource usage.
    fn reap(&mut self, block: bool) -> io::Result<Option<(ExitStatus, Usage)>> {
        if let Some(exit) = self.exit {
            return Ok(Some(exit));
        }
        let pid = libc::pid_t::try_from(self.child.id()).map_err(io::Error::other)?;
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data; zero is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if block { 0 } else { libc::WNOHANG };
        loop {
            // SAFETY: pointers to live locals.
            let r = unsafe { libc::wait4(pid, &mut status, flags, &mut ru) };
            if r == 0 {
                return Ok(None);
            }
            if r == pid {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        let exit = (ExitStatus::from_raw(status), Usage::from_rusage(&ru));
        self.exit = Some(exit);
        Ok(Some(exit))
    }

    /// Non-blocking check whether the child has exited.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        Ok(self.reap(false)?.map(|(status, _)| status))
    }

    /// Blocks until the child exits.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        match self.reap(true)? {
            Some((status, _)) => Ok(status),
            None => Err(io::Error::other("wait4 returned without a status")),
        }
    }

    /// The child's resource usage, once it has been reaped.
    pub fn usage(&self) -> Option<Usage> {
        self.exit.map(|(_, usage)| usage)
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
        self.wait()
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

/// CPU time (user + system) of this process's own threads so far, in
/// seconds (`getrusage(RUSAGE_SELF)`: children are not included).
pub fn self_cpu_secs() -> Option<f64> {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return None;
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    Some(secs(ru.ru_utime) + secs(ru.ru_stime))
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
    fn usage_counts_the_childs_cpu_time() {
        let mut guard = ChildGuard::spawn(
            Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]),
        )
        .unwrap();
        guard.wait().unwrap();
        let usage = guard.usage().unwrap();
        assert!(usage.cpu_secs() > 0.05, "{usage:?}");
        assert!(usage.max_rss_bytes > 100 * 1024, "{usage:?}");
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
