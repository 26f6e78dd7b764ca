//! Build-time facts for `whatap --version`: the target triple and the commit. The commit is
//! `WHATAP_COMMIT` when set (a build from a source tarball can name it), else the commit of
//! this repository's checkout, else "unknown": the build never needs git or `.git`.

use std::path::Path;
use std::process::Command;

fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=WHATAP_TARGET={target}");
    println!("cargo:rerun-if-env-changed=WHATAP_COMMIT");
    let commit = std::env::var("WHATAP_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(checkout_commit)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=WHATAP_COMMIT={}", commit.trim());
}

/// The short commit of the checkout this crate is the top of (not of some repository a source
/// tarball was unpacked into), and the files whose change moves it, so a new commit rebuilds.
fn checkout_commit() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != Path::new(&dir).canonicalize().ok()? {
        return None;
    }
    let commit = git(&dir, &["rev-parse", "--short=12", "HEAD"])?;
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        // Only files that exist: a missing one would make cargo rerun this on every build.
        if let Some(path) = git(
            &dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &name],
        )
        .filter(|p| Path::new(p).exists())
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}

fn git(dir: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
