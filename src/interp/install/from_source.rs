//! The slow path: CPython built from verified source into gilscope's
//! managed directory (fetch, then configure, compile, install and verify
//! each build), for when uv is not there or could not help.

use super::build::{self, check_build_deps};
use super::{
    InstallError, InstallEvent, InstallMarker, InstallRequest, MARKER_FILE, Phase,
    find_good_install, io_err, prefix_for, python_in, source, unix_now, verify,
};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Builds every build `req` asks for that has no good managed install yet,
/// logging to `log`; returns the interpreters in the order of `req.builds`.
pub(super) fn install(
    req: &InstallRequest,
    log: &mut File,
    log_path: &Path,
    send: &dyn Fn(InstallEvent),
) -> Result<Vec<PathBuf>, InstallError> {
    let deps = check_build_deps();
    let _ = writeln!(log, "build dependencies: {deps:?}");
    if !deps.missing_required.is_empty() {
        return Err(InstallError::MissingDeps {
            headers: deps
                .missing_required
                .iter()
                .map(|d| d.what.to_string())
                .collect(),
            packages: deps
                .missing_required
                .iter()
                .map(|d| d.package.to_string())
                .collect(),
        });
    }
    if !deps.missing_optional.is_empty() {
        let names: Vec<&str> = deps.missing_optional.iter().map(|d| d.package).collect();
        send(InstallEvent::Note {
            text: format!(
                "optional modules will be missing (install {} for them); continuing",
                names.join(" ")
            ),
        });
    }

    let fetched = source::fetch(req, log, send)?;
    let src_dir = build::extract(&fetched.tarball, &fetched.version, log)?;
    let mut pythons = Vec::new();
    for &build in &req.builds {
        if !req.force
            && let Some((marker, python)) = find_good_install(&fetched.version, build)
            && verify(&python, &marker.version, build).is_ok()
        {
            send(InstallEvent::Kept {
                build,
                python: python.clone(),
            });
            pythons.push(python);
            continue;
        }
        let started = Instant::now();
        let prefix = prefix_for(&fetched.version, build);
        let configure_args =
            build::build_one(&src_dir, &prefix, build, req.jobs, log, log_path, send)?;
        let python = python_in(&prefix, &fetched.version, build);
        send(InstallEvent::PhaseStarted {
            build: Some(build),
            phase: Phase::Verify,
        });
        verify(&python, &fetched.version, build).map_err(|reason| InstallError::Verify {
            build,
            python: python.clone(),
            reason,
            log: log_path.to_path_buf(),
        })?;
        let marker = InstallMarker {
            version: fetched.version.clone(),
            build,
            source_sha256: fetched.sha256.clone(),
            source: fetched.origin.clone(),
            configure_args,
            installed_at_unix: unix_now(),
        };
        let json = serde_json::to_vec_pretty(&marker).map_err(|e| InstallError::Io {
            what: "cannot encode the install marker".into(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(prefix.join(MARKER_FILE), json).map_err(io_err(format!(
            "cannot write {}",
            prefix.join(MARKER_FILE).display()
        )))?;
        send(InstallEvent::PhaseDone {
            build: Some(build),
            phase: Phase::Verify,
            secs: 0.0,
        });
        send(InstallEvent::Installed {
            build,
            python: python.clone(),
            secs: started.elapsed().as_secs_f64(),
        });
        pythons.push(python);
    }
    // The source tree is only needed while building.
    let _ = std::fs::remove_dir_all(&src_dir);
    Ok(pythons)
}
