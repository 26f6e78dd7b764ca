#!/usr/bin/env bash
# Builds what an operator installs into target/dist/ (the contract: ../shared/docs/cli.md,
# "Distribution"):
#   whatap-<ver>-<target>.tar.gz    static binary, completions, man pages, README, LICENSE,
#                                   THIRD-PARTY-LICENSES.txt
#   whatap_<ver>-1_<arch>.deb       whatap-<ver>-1.<arch>.rpm      (each Linux target)
#   whatap-<ver>-x86_64-pc-windows-gnu.zip  whatap.exe and the same files (mingw-w64)
#   install.sh  SHA256SUMS
# Every target is built once, by one cargo command (their LTO links run side by side), with
# the release profile of Cargo.toml. Needs what .ci/run installs: the rustup targets,
# musl-tools, gcc-aarch64-linux-gnu + libc6-dev-arm64-cross, dpkg-dev, rpm, gcc-mingw-w64-x86-64.
# Usage: scripts/dist.sh [TARGET...]        (default: every row of TARGETS)
set -euo pipefail
cd "$(dirname "$0")/.."

# One row per target: triple, archive (tar.gz; zip is Windows', issue 17), Debian arch, RPM
# arch ("-": no package), the C compiler for ring's C and assembly, the cross binutils prefix
# ("-": the host's, which links musl targets with the toolchain's own musl CRT). A new target
# is one row here (and, for a new archive kind, one case in the loop that stages it).
TARGETS=(
  "x86_64-unknown-linux-musl  tar.gz amd64 x86_64  musl-gcc              -"
  "aarch64-unknown-linux-musl tar.gz arm64 aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-"
  "x86_64-pc-windows-gnu      zip    -     -       x86_64-w64-mingw32-gcc x86_64-w64-mingw32-"
)

MAINTAINER=${WHATAP_DIST_MAINTAINER:-"whatap developers <whatap@whatap.invalid>"}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
summary=$(sed -n 's/^description = "\(.*\)"$/\1/p' Cargo.toml | head -1)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
dist=target/dist
work=target/dist-work

die() { echo "scripts/dist.sh: $*" >&2; exit 2; }
row() {
  local r
  for r in "${TARGETS[@]}"; do
    [[ $r == "$1 "* ]] && { echo "$r"; return; }
  done
  die "unknown target $1 (known: $(printf '%s ' "${TARGETS[@]%% *}"))"
}

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=("${TARGETS[@]%% *}")
sysroot=$(rustc --print sysroot)
for triple in "${wanted[@]}"; do
  read -r _ _ deb rpm cc cross <<<"$(row "$triple")"
  [[ -d $sysroot/lib/rustlib/$triple ]] || die "no Rust std for $triple: rustup target add $triple"
  command -v "$cc" >/dev/null || die "$cc not found (see .ci/run for the packages)"
  [[ $deb == - ]] || command -v dpkg-deb >/dev/null || die "dpkg-deb not found: apt-get install dpkg-dev"
  [[ $rpm == - ]] || command -v rpmbuild >/dev/null || die "rpmbuild not found: apt-get install rpm"
  var=${triple//-/_}
  export "CC_$var=$cc"
  if [[ $cross != - ]]; then
    export "AR_$var=${cross}ar" "CARGO_TARGET_${var^^}_LINKER=${cross}gcc"
  fi
done

rm -rf "$dist" "$work"
mkdir -p "$dist" "$work"
cargo build --locked --release "${wanted[@]/#/--target=}"

# Reproducible tar.gz of $work/$1 (owner root, mtimes of the last commit, sorted names).
tarball() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    -C "$work" -cf - "$1" | gzip -9n >"$dist/$1.tar.gz"
}

# Reproducible zip of $work/$1 (sorted names, mtimes of the last commit), for Windows.
zipball() {
  python3 - "$work" "$1" "$dist/$1.zip" <<'PY'
import os, sys, time, zipfile
work, name, out = sys.argv[1:]
stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
paths = []
for root, dirs, files in os.walk(os.path.join(work, name)):
    dirs.sort()
    paths += [os.path.join(root, f) for f in sorted(files)]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for path in paths:
        info = zipfile.ZipInfo(os.path.relpath(path, work), stamp)
        info.external_attr = (os.stat(path).st_mode & 0o777) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as f:
            z.writestr(info, f.read())
PY
}

# Installs the shared files into a package root: binary, gzipped man pages, completions.
# $2 is where the distro wants zsh completions.
package_root() {
  local root=$1 zsh_dir=$2 bin=$3 page
  install -D -m 0755 "$bin" "$root/usr/bin/whatap"
  install -d -m 0755 "$root/usr/share/man/man1"
  for page in man/*.1; do
    gzip -9nc "$page" >"$root/usr/share/man/man1/${page#man/}.gz"
  done
  install -D -m 0644 completions/whatap.bash "$root/usr/share/bash-completion/completions/whatap"
  install -D -m 0644 completions/_whatap "$root/$zsh_dir/_whatap"
  install -D -m 0644 completions/whatap.fish "$root/usr/share/fish/vendor_completions.d/whatap.fish"
}

deb_package() {
  local arch=$1 bin=$2 notices=$3 root=$work/deb-$1
  package_root "$root" usr/share/zsh/vendor-completions "$bin"
  install -d -m 0755 "$root/usr/share/doc/whatap" "$root/DEBIAN"
  gzip -9nc "$notices" >"$root/usr/share/doc/whatap/THIRD-PARTY-LICENSES.txt.gz"
  cat >"$root/usr/share/doc/whatap/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: whatap

Files: *
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
Comment: /usr/bin/whatap is statically linked; the licences of everything linked into it
 (Rust crates, the Rust standard library, musl libc) are in
 /usr/share/doc/whatap/THIRD-PARTY-LICENSES.txt.gz.
EOF
  (cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
  cat >"$root/DEBIAN/control" <<EOF
Package: whatap
Version: $version-1
Architecture: $arch
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Section: admin
Priority: optional
Description: $summary
 whatap installs WhaTap APM agents (Tomcat, JBoss/WildFly, WebLogic, WebSphere, JEUS,
 Jetty, Resin, Spring Boot, PHP, Python, the infra agent) as reviewed, reversible plans,
 and diagnoses why monitoring does not work (whatap doctor). Statically linked.
EOF
  dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/whatap_${version}-1_$arch.deb" >/dev/null
}

rpm_package() {
  local arch=$1 bin=$2 notices=$3 top=$work/rpm-$1
  local root=$top/root
  package_root "$root" usr/share/zsh/site-functions "$bin"
  install -D -m 0644 /usr/share/common-licenses/Apache-2.0 "$root/usr/share/licenses/whatap/LICENSE"
  install -D -m 0644 "$notices" "$root/usr/share/licenses/whatap/THIRD-PARTY-LICENSES.txt"
  # Payload xz and no build-id links: rpm 4.11 (RHEL 7) reads it; no auto-requires (static).
  cat >"$top/whatap.spec" <<EOF
Name: whatap
Version: $version
Release: 1
Summary: $summary
License: Apache-2.0
Packager: $MAINTAINER
AutoReqProv: no
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none
%define _binary_payload w9.xzdio
%define use_source_date_epoch_as_buildtime 1
%define clamp_mtime_to_source_date_epoch 1

%description
whatap installs WhaTap APM agents (Tomcat, JBoss/WildFly, WebLogic, WebSphere, JEUS, Jetty,
Resin, Spring Boot, PHP, Python, the infra agent) as reviewed, reversible plans, and diagnoses
why monitoring does not work (whatap doctor). Statically linked.

%install
cp -a "$PWD/$root/." "%{buildroot}/"

%files
%defattr(0644,root,root,0755)
%attr(0755,root,root) /usr/bin/whatap
/usr/share/man/man1/whatap*.1.gz
/usr/share/bash-completion/completions/whatap
/usr/share/zsh/site-functions/_whatap
/usr/share/fish/vendor_completions.d/whatap.fish
%dir /usr/share/licenses/whatap
%license /usr/share/licenses/whatap/LICENSE
%license /usr/share/licenses/whatap/THIRD-PARTY-LICENSES.txt
EOF
  rpmbuild -bb --quiet --target "$arch-linux" --define "_topdir $PWD/$top" \
    --define "_rpmdir $PWD/$dist" --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    "$top/whatap.spec" >/dev/null
}

for triple in "${wanted[@]}"; do
  read -r _ archive deb rpm _ _ <<<"$(row "$triple")"
  exe=
  [[ $triple != *-windows-* ]] || exe=.exe
  bin=target/$triple/release/whatap$exe
  name=whatap-$version-$triple
  stage=$work/$name
  install -D -m 0755 "$bin" "$stage/whatap$exe"
  install -d -m 0755 "$stage/completions" "$stage/man"
  install -m 0644 completions/* "$stage/completions/"
  install -m 0644 man/*.1 "$stage/man/"
  install -m 0644 README.md "$stage/"
  install -m 0644 /usr/share/common-licenses/Apache-2.0 "$stage/LICENSE"
  scripts/third-party-licenses.py "$triple" >"$stage/THIRD-PARTY-LICENSES.txt"
  case $archive in
    tar.gz) tarball "$name" ;;
    zip) zipball "$name" ;;
    *) die "$triple: archive kind $archive is not built yet" ;;
  esac
  [[ $deb == - ]] || deb_package "$deb" "$bin" "$stage/THIRD-PARTY-LICENSES.txt"
  [[ $rpm == - ]] || rpm_package "$rpm" "$bin" "$stage/THIRD-PARTY-LICENSES.txt"
done

install -m 0755 scripts/install.sh "$dist/install.sh"
sums=$(cd "$dist" && find . -maxdepth 1 -type f -printf '%P\n' | sort | xargs sha256sum)
echo "$sums" >"$dist/SHA256SUMS"
rm -rf "$work"
ls -l "$dist"
