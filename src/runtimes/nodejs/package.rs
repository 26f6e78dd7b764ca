//! The npm side of a Node.js app: its package.json, the `whatap` package (an npm tarball or
//! the registry's metadata), which Node.js versions the package supports (`engines.node`), the
//! app's node and npm. Programs are run directly, never through a shell.

use crate::detect::cache::{self, ProbeCache};
use crate::error::{Error, Result};
use crate::msg;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The agent's npm package.
pub const PACKAGE: &str = "whatap";
/// The app's manifest and the lock files npm writes beside it.
pub const MANIFEST: &str = "package.json";
pub const LOCK_FILES: &[&str] = &["package-lock.json", "npm-shrinkwrap.json"];

/// A package.json as JSON; None when missing or not JSON.
pub fn manifest(app_dir: &Path) -> Option<serde_json::Value> {
    let bytes = crate::plan::target::peek(&app_dir.join(MANIFEST)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Does the manifest list `whatap` among its dependencies (any kind)?
pub fn depends_on_agent(manifest: &serde_json::Value) -> bool {
    [
        "dependencies",
        "optionalDependencies",
        "devDependencies",
        "peerDependencies",
    ]
    .iter()
    .any(|kind| manifest[kind].get(PACKAGE).is_some())
}

/// The installed agent package: `node_modules/whatap` with its package.json.
pub fn installed_agent(app_dir: &Path) -> Option<PathBuf> {
    let dir = app_dir.join("node_modules").join(PACKAGE);
    dir.join(MANIFEST).is_file().then_some(dir)
}

/// What the install takes the package from, and what it says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPackage {
    /// What npm is given: `whatap` (the registry) or the tarball's absolute path.
    pub spec: String,
    pub version: String,
    /// `engines.node`, when the package names one.
    pub engines: Option<String>,
}

/// The package.json inside an npm tarball (`package/package.json`).
pub fn tarball_manifest(tarball: &Path) -> Result<serde_json::Value> {
    let bad = |why: String| {
        Error::usage(
            msg!("nodejs-tarball-bad", path = tarball.display(), why = why),
            msg!("nodejs-tarball-bad-hint"),
        )
    };
    let file = std::fs::File::open(tarball).map_err(|e| bad(e.to_string()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let entries = archive.entries().map_err(|e| bad(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let path = entry.path_bytes().into_owned();
        // npm packs everything under one top directory (`package/`).
        let mut parts = path.split(|&b| b == b'/').filter(|p| !p.is_empty());
        if let (Some(_), Some(b"package.json"), None) = (parts.next(), parts.next(), parts.next()) {
            let mut text = Vec::new();
            entry
                .by_ref()
                .take(1 << 20)
                .read_to_end(&mut text)
                .map_err(|e| bad(e.to_string()))?;
            return serde_json::from_slice(&text).map_err(|e| bad(e.to_string()));
        }
    }
    Err(bad(msg!("nodejs-tarball-no-manifest")))
}

/// The agent package from a tarball: it must be the `whatap` package.
pub fn from_tarball(tarball: &Path) -> Result<AgentPackage> {
    let manifest = tarball_manifest(tarball)?;
    if manifest["name"].as_str() != Some(PACKAGE) {
        return Err(Error::usage(
            msg!(
                "nodejs-tarball-not-agent",
                path = tarball.display(),
                name = manifest["name"].as_str().unwrap_or("?")
            ),
            msg!("nodejs-tarball-bad-hint"),
        ));
    }
    Ok(AgentPackage {
        spec: tarball.display().to_string(),
        version: manifest["version"].as_str().unwrap_or_default().to_string(),
        engines: manifest["engines"]["node"].as_str().map(str::to_string),
    })
}

/// The newest `whatap-X.Y.Z.tgz` in a directory.
pub fn tarball_in(dir: &Path) -> Option<PathBuf> {
    let mut found =
        crate::detect::files_in(dir, |n| n.starts_with("whatap-") && n.ends_with(".tgz"));
    found.sort_by_key(|p| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        Version::parse(name.trim_start_matches("whatap-").trim_end_matches(".tgz"))
    });
    found.pop()
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            Error::usage(
                msg!("nodejs-cannot-run", program = program.display(), error = e),
                msg!("nodejs-cannot-run-hint"),
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(Error::usage(
            msg!(
                "nodejs-program-failed",
                program = program.display(),
                args = args.join(" "),
                error = last.unwrap_or_default()
            ),
            msg!("nodejs-cannot-run-hint"),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The agent package as the registry (the app's npm, with the app's .npmrc) describes it.
pub fn from_registry(npm: &Path, app_dir: &Path, offline: bool) -> Result<AgentPackage> {
    let mut args = vec!["view", PACKAGE, "version", "engines", "--json"];
    if offline {
        args.push("--offline");
    }
    let text = run(npm, &args, app_dir).map_err(|e| match e {
        Error::Usage { message, .. } => Error::usage(message, msg!("nodejs-registry-hint")),
        other => other,
    })?;
    let view: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Ok(AgentPackage {
        spec: PACKAGE.to_string(),
        version: view["version"].as_str().unwrap_or_default().to_string(),
        engines: view["engines"]["node"].as_str().map(str::to_string),
    })
}

/// `node --version` of a node binary.
pub fn node_version(node: &Path) -> Result<Version> {
    let text = run(node, &["--version"], Path::new("/"))?;
    Version::parse(text.trim()).ok_or_else(|| {
        Error::usage(
            msg!(
                "nodejs-version-unreadable",
                node = node.display(),
                text = text.trim()
            ),
            msg!("nodejs-cannot-run-hint"),
        )
    })
}

/// `node_version` through the probe cache: doctor asks it for every running app, and each ask
/// starts a node (tens of milliseconds); the answer holds while the binary is unchanged.
pub fn node_version_cached(node: &Path, cache: &ProbeCache) -> Result<Version> {
    let key = format!("{} --version", node.display());
    if let Some((major, minor, patch)) = cache.get(&key) {
        return Ok(Version(major, minor, patch));
    }
    let stamp = cache::stamp(node);
    let version = node_version(node)?;
    cache.put(&key, vec![stamp], &(version.0, version.1, version.2));
    Ok(version)
}

/// The npm of a node: beside it (`/usr/bin/npm`, an nvm `bin/`), else the one on PATH.
pub fn npm_for(node: &Path) -> Option<PathBuf> {
    node.parent()
        .map(|dir| dir.join("npm"))
        .filter(|p| p.is_file())
        .or_else(|| crate::edit::wrap::which("npm"))
}

/// A release version; prerelease and build tags are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    /// `v20.20.2`, `18.19`, `17`.
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.trim().trim_start_matches(['v', '=']);
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().transpose().ok()?.unwrap_or(0);
        let patch = parts.next().transpose().ok()?.unwrap_or(0);
        Some(Version(major, minor, patch))
    }

    /// Does this version satisfy an npm range (`>=17`, `^18.0.0 || >=20`, `14.x - 16`)?
    /// None when the range cannot be read.
    pub fn satisfies(self, range: &str) -> Option<bool> {
        let mut any = false;
        for alternative in range.split("||") {
            let bounds = bounds(alternative.trim())?;
            any |= bounds.iter().all(|(op, v)| match op {
                Op::Ge => self >= *v,
                Op::Gt => self > *v,
                Op::Lt => self < *v,
                Op::Le => self <= *v,
                Op::Eq => self == *v,
            });
        }
        Some(any)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Lt,
    Le,
    Eq,
}

/// A partial version (`18`, `18.2`, `18.x`): the parts given, wildcards as absent.
fn partial(text: &str) -> Option<Vec<u64>> {
    let text = text.trim_start_matches(['v', '=']);
    let text = text.split(['-', '+']).next()?;
    let mut parts = Vec::new();
    for part in text.split('.') {
        if matches!(part, "x" | "X" | "*" | "") {
            break;
        }
        parts.push(part.parse().ok()?);
    }
    (parts.len() <= 3).then_some(parts)
}

fn filled(parts: &[u64]) -> Version {
    Version(
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
        parts.get(2).copied().unwrap_or(0),
    )
}

/// The version right above every version a partial one covers (`18.2` → 18.3.0).
fn next_after(parts: &[u64]) -> Option<Version> {
    match parts {
        [] => None,
        [major] => Some(Version(major + 1, 0, 0)),
        [major, minor] => Some(Version(*major, minor + 1, 0)),
        [major, minor, patch] => Some(Version(*major, *minor, patch + 1)),
        _ => None,
    }
}

/// One alternative of a range as lower / upper bounds.
fn bounds(text: &str) -> Option<Vec<(Op, Version)>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let [low, "-", high] = words.as_slice() {
        let (low, high) = (partial(low)?, partial(high)?);
        let mut out = vec![(Op::Ge, filled(&low))];
        if high.len() == 3 {
            out.push((Op::Le, filled(&high)));
        } else if let Some(above) = next_after(&high) {
            out.push((Op::Lt, above));
        }
        return Some(out);
    }
    let mut out = Vec::new();
    // `>= 17` is written with a blank too: an operator alone joins the next word.
    let mut pending = String::new();
    for word in words {
        if word.chars().all(|c| "<>=^~".contains(c)) {
            pending.push_str(word);
            continue;
        }
        let comparator = std::mem::take(&mut pending) + word;
        out.extend(comparator_bounds(&comparator)?);
    }
    Some(out)
}

fn comparator_bounds(text: &str) -> Option<Vec<(Op, Version)>> {
    let ops = ["<=", ">=", "<", ">", "^", "~>", "~", "="];
    let op = ops.iter().find(|op| text.starts_with(**op)).copied();
    let parts = partial(&text[op.map_or(0, str::len)..])?;
    let low = filled(&parts);
    Some(match (op, parts.len()) {
        (Some(">="), _) => vec![(Op::Ge, low)],
        (Some(">"), 3) => vec![(Op::Gt, low)],
        (Some(">"), _) => next_after(&parts).map(|v| vec![(Op::Ge, v)])?,
        (Some("<"), _) => vec![(Op::Lt, low)],
        (Some("<="), 3) => vec![(Op::Le, low)],
        (Some("<="), _) => next_after(&parts).map_or_else(Vec::new, |v| vec![(Op::Lt, v)]),
        (Some("^"), _) => {
            let upper = match parts.as_slice() {
                [] => None,
                [0] => Some(Version(1, 0, 0)),
                [0, 0] => Some(Version(0, 1, 0)),
                [0, 0, patch] => Some(Version(0, 0, patch + 1)),
                [0, minor, ..] => Some(Version(0, minor + 1, 0)),
                [major, ..] => Some(Version(major + 1, 0, 0)),
            };
            let mut out = vec![(Op::Ge, low)];
            out.extend(upper.map(|v| (Op::Lt, v)));
            out
        }
        (Some("~" | "~>"), _) => {
            let upper = match parts.as_slice() {
                [] => None,
                [major] => Some(Version(major + 1, 0, 0)),
                [major, minor, ..] => Some(Version(*major, minor + 1, 0)),
            };
            let mut out = vec![(Op::Ge, low)];
            out.extend(upper.map(|v| (Op::Lt, v)));
            out
        }
        // `=`, or no operator: `18` means 18.x, `18.2.1` exactly that.
        (_, 3) => vec![(Op::Eq, low)],
        (_, _) => {
            let mut out = vec![(Op::Ge, low)];
            out.extend(next_after(&parts).map(|v| (Op::Lt, v)));
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions_against_npm_ranges() {
        let v = |t| Version::parse(t).unwrap();
        for (version, range, expected) in [
            ("v20.20.2", ">=17", true),
            ("v16.20.2", ">=17", false),
            ("v18.20.4", ">= 17", true),
            ("v17.0.0", ">17", false),
            ("v17.0.1", ">17.0.0", true),
            ("v18.2.0", "^18.0.0 || >=20", true),
            ("v19.1.0", "^18.0.0 || >=20", false),
            ("v14.21.3", "14.x - 16", true),
            ("v17.0.0", "14.x - 16", false),
            ("v16.3.0", "~16.2", false),
            ("v16.2.9", "~16.2", true),
            ("v0.12.1", "^0.12", true),
            ("v20.0.0", "*", true),
            ("v20.0.0", "", true),
            ("v18.0.0", "<18", false),
            ("v18.9.0", "<=18", true),
            ("v20.1.0", "20", true),
        ] {
            assert_eq!(
                v(version).satisfies(range),
                Some(expected),
                "{version} {range}"
            );
        }
        assert_eq!(v("v20.1.0").satisfies(">=banana"), None);
        assert!(v("v20.20.2") > v("20.3"));
        assert_eq!(v("v20.20.2").to_string(), "20.20.2");
    }

    #[test]
    fn the_agent_is_found_in_a_manifest_and_a_directory() {
        let manifest: serde_json::Value =
            serde_json::from_str(r#"{"name":"a","dependencies":{"whatap":"^2.0.6"}}"#).unwrap();
        assert!(depends_on_agent(&manifest));
        assert!(!depends_on_agent(&serde_json::json!({"name": "a"})));
        let dir = tempfile::tempdir().unwrap();
        for name in ["whatap-2.0.10.tgz", "whatap-2.0.9.tgz", "other-9.tgz"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            tarball_in(dir.path()),
            Some(dir.path().join("whatap-2.0.10.tgz"))
        );
    }
}
