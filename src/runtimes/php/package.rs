//! `--install-package`: the vendor's whatap-php package put in place before the install is
//! planned, as the guide does it, with commands run as argument vectors (never a shell),
//! non-interactive, each shown before it runs. Debian/Ubuntu: `apt-get update` and
//! `apt-get install whatap-php` from the vendor's repository, named by a sources list, its key
//! and the package lists all in the state dir's cache (apt's `Dir::*` options): the host's apt
//! configuration is never changed. RHEL/CentOS: the guide's `rpm -Uvh whatap-repo…rpm`, then
//! `yum install -y whatap-php`. The install then takes the module and the agent from the
//! package's home, like an installed package.

use super::agent::{DEFAULT_HOME, SERVICE_SCRIPT, is_ours};
use crate::error::{Error, Result};
use crate::msg;
use crate::os::system_program;
use crate::plan::RunStep;
use crate::runtimes::instance::Prepared;
use crate::settings::InstallSettings;
use std::path::{Path, PathBuf};

const PACKAGE: &str = "whatap-php";

pub fn prepare(settings: &InstallSettings, cache: &Path) -> Result<Option<Prepared>> {
    if !settings.install_package {
        return Ok(None);
    }
    let dist = PathBuf::from(DEFAULT_HOME);
    // Installed already (by an earlier run or by hand): nothing to run, install from it. A
    // service script of ours (an install from an archive) is no package.
    let script = Path::new(SERVICE_SCRIPT);
    if script.is_file() && !is_ours(script) && dist.is_dir() {
        return Ok(Some(Prepared {
            dist,
            ..Prepared::default()
        }));
    }
    let repo = settings.package_repo.trim_end_matches('/');
    if !(repo.starts_with("http://") || repo.starts_with("https://")) {
        return Err(Error::usage(
            msg!("package-repo-not-url", url = repo),
            msg!("package-repo-not-url-hint"),
        ));
    }
    let missing = || {
        Error::usage(
            msg!("install-package-no-manager"),
            msg!("install-package-no-manager-hint"),
        )
    };
    let prepared = match (system_program("apt-get"), system_program("env")) {
        (Some(apt), Some(env)) => apt_steps(&apt, &env, repo, &cache.join("apt")),
        _ => {
            let yum = system_program("dnf")
                .or_else(|| system_program("yum"))
                .ok_or_else(missing)?;
            let rpm = system_program("rpm").ok_or_else(missing)?;
            let repo_rpm = format!("{repo}/centos/5/noarch/whatap-repo-1.0-1.noarch.rpm");
            Prepared {
                steps: vec![
                    RunStep::new(rpm, &["-Uvh", "--replacepkgs", &repo_rpm]),
                    RunStep::new(&yum, &["install", "-y", PACKAGE]),
                ],
                remove: Some(RunStep::new(yum, &["remove", "-y", PACKAGE])),
                ..Prepared::default()
            }
        }
    };
    Ok(Some(Prepared { dist, ..prepared }))
}

/// `apt-get update` of the vendor's repository only, then `apt-get install -y whatap-php`,
/// with DEBIAN_FRONTEND=noninteractive (through `env`: still no shell).
fn apt_steps(apt: &Path, env: &Path, repo: &str, dir: &Path) -> Prepared {
    let key = dir.join("whatap-release.asc");
    let list = dir.join("whatap.list");
    let lists = dir.join("lists");
    let archives = dir.join("archives");
    let source = format!(
        "deb [signed-by={}] {repo}/debian unstable/\n",
        key.display()
    );
    let options = [
        format!("Dir::Etc::SourceList={}", list.display()),
        "Dir::Etc::SourceParts=-".to_string(),
        format!("Dir::State::Lists={}", lists.display()),
        "APT::Get::List-Cleanup=0".to_string(),
        format!("Dir::Cache::Archives={}", archives.display()),
    ];
    let apt_get = |command: &[&str]| {
        let mut args = vec![
            "DEBIAN_FRONTEND=noninteractive".to_string(),
            apt.display().to_string(),
            "-q".to_string(),
            "-y".to_string(),
        ];
        for option in &options {
            args.extend(["-o".to_string(), option.clone()]);
        }
        args.extend(command.iter().map(|c| c.to_string()));
        RunStep {
            args,
            ..RunStep::new(env, &[])
        }
    };
    Prepared {
        files: vec![(list, source.into_bytes())],
        dirs: vec![lists.join("partial"), archives.join("partial")],
        downloads: vec![(format!("{repo}/debian/release.gpg"), key)],
        steps: vec![apt_get(&["update"]), apt_get(&["install", PACKAGE])],
        // The same options: the same apt configuration removes it.
        remove: Some(apt_get(&["purge", PACKAGE])),
        dist: PathBuf::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The apt commands name only the state dir's sources list, lists and archives, never a
    /// shell; the repository key is fetched from the (overridable) repository.
    #[test]
    fn apt_steps_keep_the_hosts_apt_configuration() {
        let dir = Path::new("/state/cache/apt");
        let prepared = apt_steps(
            Path::new("/usr/bin/apt-get"),
            Path::new("/usr/bin/env"),
            "http://127.0.0.1:8080",
            dir,
        );
        let steps: Vec<String> = prepared.steps.iter().map(RunStep::display).collect();
        let options = "-q -y -o Dir::Etc::SourceList=/state/cache/apt/whatap.list \
                       -o Dir::Etc::SourceParts=- -o Dir::State::Lists=/state/cache/apt/lists \
                       -o APT::Get::List-Cleanup=0 -o Dir::Cache::Archives=/state/cache/apt/archives";
        assert_eq!(
            steps,
            [
                format!(
                    "/usr/bin/env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get {options} update"
                ),
                format!(
                    "/usr/bin/env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get {options} install whatap-php"
                ),
            ]
        );
        assert_eq!(
            prepared.remove.as_ref().map(RunStep::display),
            Some(format!(
                "/usr/bin/env DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get {options} purge whatap-php"
            ))
        );
        assert_eq!(
            prepared.files,
            [(
                dir.join("whatap.list"),
                b"deb [signed-by=/state/cache/apt/whatap-release.asc] http://127.0.0.1:8080/debian unstable/\n".to_vec()
            )]
        );
        assert_eq!(
            prepared.downloads,
            [(
                "http://127.0.0.1:8080/debian/release.gpg".to_string(),
                dir.join("whatap-release.asc")
            )]
        );
    }
}
