#!/bin/sh
# Installs whatap on a Linux server from a release directory or URL (what scripts/dist.sh
# writes): picks the archive for this machine's architecture, verifies it against SHA256SUMS
# before touching anything, then installs the binary, the man pages and the shell
# completions under a prefix. Running it again changes nothing; --uninstall removes exactly
# what it installed. POSIX sh: dash, busybox ash, bash, ksh.
#
#   sh install.sh [--from DIR|URL] [--prefix DIR] [--version VER] [--uninstall]
#
# Exit codes as whatap's: 0 done, 2 bad usage or input, 3 refused (checksum mismatch, a
# binary that does not run here), 4 a write failed and what was written is gone again.
set -u
umask 022

from=
prefix=/usr/local
version=
uninstall=
case "${WHATAP_LANG:-${LC_ALL:-${LANG:-}}}" in
  ko*) lang=ko ;;
  *) lang=en ;;
esac

# The text of message $1 in the chosen language, a printf format whose %s are the arguments.
text() {
  case $lang:$1 in
    en:usage) echo 'usage: sh install.sh [--from DIR|URL] [--prefix DIR] [--version VER] [--uninstall]
  --from       the directory or URL holding SHA256SUMS and the archives (default: the directory of install.sh)
  --prefix     where to install: PREFIX/bin, PREFIX/share/man, completions (default /usr/local)
  --version    which version, when the source holds several
  --uninstall  remove what this script installed under PREFIX' ;;
    ko:usage) echo '사용법: sh install.sh [--from DIR|URL] [--prefix DIR] [--version VER] [--uninstall]
  --from       SHA256SUMS 파일과 아카이브가 있는 디렉터리 또는 URL (기본값: install.sh가 있는 디렉터리)
  --prefix     설치 위치: PREFIX/bin, PREFIX/share/man, 자동 완성 (기본값 /usr/local)
  --version    여러 버전이 있을 때 설치할 버전
  --uninstall  이 스크립트가 PREFIX 아래에 설치한 파일을 제거' ;;
    en:bad-option) echo 'unknown option %s (see --help)' ;;
    ko:bad-option) echo '알 수 없는 옵션입니다: %s (--help 참고)' ;;
    en:needs-value) echo 'option %s needs a value' ;;
    ko:needs-value) echo '%s 옵션에 값이 필요합니다' ;;
    en:bad-prefix) echo '--prefix %s must be an absolute path without tabs or newlines' ;;
    ko:bad-prefix) echo '--prefix 값은 탭이나 줄바꿈이 없는 절대 경로여야 합니다: %s' ;;
    en:no-from) echo '--from is required: the directory or URL holding SHA256SUMS and the archives' ;;
    ko:no-from) echo '--from 옵션이 필요합니다: SHA256SUMS 파일과 아카이브가 있는 디렉터리 또는 URL' ;;
    en:bad-os) echo 'this system is %s: these archives are for Linux' ;;
    ko:bad-os) echo '이 시스템은 %s 시스템입니다: 이 아카이브는 Linux용입니다' ;;
    en:bad-arch) echo 'unsupported architecture %s (x86_64 and aarch64 are)' ;;
    ko:bad-arch) echo '지원하지 않는 아키텍처입니다: %s (x86_64, aarch64 지원)' ;;
    en:no-fetcher) echo 'neither curl nor wget is installed: download the files and use --from DIR' ;;
    ko:no-fetcher) echo 'curl과 wget이 모두 없습니다: 파일을 내려받아 --from DIR 옵션으로 설치하십시오' ;;
    en:no-file) echo 'cannot read %s' ;;
    ko:no-file) echo '다음 파일을 읽을 수 없습니다: %s' ;;
    en:no-hasher) echo 'no sha256sum, shasum or openssl to verify the archive with' ;;
    ko:no-hasher) echo '아카이브를 확인할 sha256sum, shasum, openssl 명령이 없습니다' ;;
    en:no-entry) echo 'SHA256SUMS lists no archive %s' ;;
    ko:no-entry) echo 'SHA256SUMS 파일에 다음 아카이브가 없습니다: %s' ;;
    en:many) echo 'SHA256SUMS lists several versions for %s: pick one with --version' ;;
    ko:many) echo 'SHA256SUMS 파일에 %s 대상의 버전이 여러 개 있습니다: --version 옵션으로 하나를 고르십시오' ;;
    en:mismatch) echo '%s does not match SHA256SUMS (expected %s, got %s): nothing was installed' ;;
    ko:mismatch) echo '%s 파일의 체크섬이 SHA256SUMS 값과 다릅니다 (기대값 %s, 실제값 %s): 아무것도 설치하지 않았습니다' ;;
    en:verified) echo '%s matches SHA256SUMS' ;;
    ko:verified) echo '%s 파일의 체크섬을 확인했습니다' ;;
    en:bad-archive) echo '%s holds no %s/whatap: nothing was installed' ;;
    ko:bad-archive) echo '%s 아카이브에 %s/whatap 파일이 없습니다: 아무것도 설치하지 않았습니다' ;;
    en:does-not-run) echo 'the whatap binary from %s does not run on this host: nothing was installed' ;;
    ko:does-not-run) echo '%s 아카이브의 whatap 실행 파일이 이 호스트에서 실행되지 않습니다: 아무것도 설치하지 않았습니다' ;;
    en:write-failed) echo 'cannot write %s: nothing was changed' ;;
    ko:write-failed) echo '다음 파일을 쓸 수 없습니다: %s (변경 사항 없음)' ;;
    en:installed) echo 'installed %s into %s (%s files written)' ;;
    ko:installed) echo '%s 버전을 %s 디렉터리에 설치했습니다 (파일 %s개 기록)' ;;
    en:unchanged) echo '%s is already installed in %s: nothing changed' ;;
    ko:unchanged) echo '%s 버전이 이미 %s 디렉터리에 설치되어 있습니다: 변경 사항 없음' ;;
    en:not-installed) echo 'this script installed nothing under %s: nothing to remove' ;;
    ko:not-installed) echo '이 스크립트가 %s 디렉터리 아래에 설치한 것이 없습니다: 제거할 것 없음' ;;
    en:bad-list) echo '%s names a path outside the prefix: nothing was removed' ;;
    ko:bad-list) echo '%s 파일에 prefix 밖의 경로가 있습니다: 아무것도 제거하지 않았습니다' ;;
    en:removed) echo 'removed whatap from %s (%s files)' ;;
    ko:removed) echo '%s 디렉터리에서 whatap을 제거했습니다 (파일 %s개)' ;;
    en:ledger) echo 'note: agent installs that whatap made on this host are recorded in %s; only whatap uninstall reverses them' ;;
    ko:ledger) echo '참고: whatap으로 설치한 에이전트 기록이 %s 파일에 남아 있습니다. 되돌리려면 whatap uninstall 명령이 필요합니다' ;;
  esac
}

say() {
  fmt=$(text "$1")
  shift
  # shellcheck disable=SC2059 # the formats are the constant texts above
  printf "$fmt\n" "$@" >&2
}

die() {
  code=$1
  shift
  say "$@"
  exit "$code"
}

need_value() {
  [ "$1" -ge 2 ] || die 2 needs-value "$2"
}

while [ $# -gt 0 ]; do
  case $1 in
    --from) need_value $# "$1"; from=$2; shift 2 ;;
    --from=*) from=${1#*=}; shift ;;
    --prefix) need_value $# "$1"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --version) need_value $# "$1"; version=$2; shift 2 ;;
    --version=*) version=${1#*=}; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h | --help) text usage; exit 0 ;;
    *) die 2 bad-option "$1" ;;
  esac
done

tab=$(printf '\t')
newline='
'
case $prefix in
  /*) ;;
  *) die 2 bad-prefix "$prefix" ;;
esac
case $prefix in
  *"$tab"* | *"$newline"*) die 2 bad-prefix "$prefix" ;;
esac
while [ "${prefix%/}" != "$prefix" ]; do prefix=${prefix%/}; done
# The list of what was installed: "d DIR" for each directory this script created, "f FILE"
# for each file it wrote.
list=$prefix/share/whatap/installed-files

if [ -n "$uninstall" ]; then
  [ -f "$list" ] || { say not-installed "${prefix:-/}"; exit 0; }
  outside=
  while IFS= read -r line; do
    case ${line#? } in
      "$prefix"/*) ;;
      *) outside=1 ;;
    esac
  done <"$list"
  [ -z "$outside" ] || die 3 bad-list "$list"
  state=${WHATAP_STATE_DIR:-/var/lib/whatap}/ledger.json
  [ -f "$state" ] && say ledger "$state"
  count=0
  while IFS= read -r line; do
    case $line in
      "f "*) rm -f "${line#f }" && count=$((count + 1)) ;;
    esac
  done <"$list"
  # Directories last, deepest (latest created) first, and only when empty.
  dirs=$(sed -n 's/^d //p' "$list" | sed -n '1!G;h;$p')
  rm -f "$list"
  printf '%s\n' "$dirs" | while IFS= read -r dir; do
    [ -n "$dir" ] && rmdir "$dir" 2>/dev/null
  done
  say removed "${prefix:-/}" "$count"
  exit 0
fi

if [ -z "$from" ]; then
  here=$(dirname "$0")
  [ -f "$here/SHA256SUMS" ] || die 2 no-from
  from=$here
fi
while [ "${from%/}" != "$from" ]; do from=${from%/}; done

os=$(uname -s)
[ "$os" = Linux ] || die 2 bad-os "$os"
arch=$(uname -m)
case $arch in
  x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64 | armv8*) target=aarch64-unknown-linux-musl ;;
  *) die 2 bad-arch "$arch" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/whatap-install.XXXXXX") || die 4 write-failed "${TMPDIR:-/tmp}"
pending=$work/pending
: >"$pending"
cleanup() {
  # Staged files not yet renamed into place (none after success).
  while IFS="$tab" read -r _ tmp _; do
    rm -f "$tmp"
  done <"$pending"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case $from in
  http://* | https://*)
    if command -v curl >/dev/null 2>&1; then
      fetcher=curl
    elif command -v wget >/dev/null 2>&1; then
      fetcher=wget
    else
      die 2 no-fetcher
    fi
    ;;
  *) fetcher=copy ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  hasher=sha256sum
elif command -v shasum >/dev/null 2>&1; then
  hasher='shasum -a 256'
elif command -v openssl >/dev/null 2>&1; then
  hasher='openssl dgst -sha256 -r'
else
  die 2 no-hasher
fi

# Copies $1 (a file name under --from) to $2; curl and cp say why they failed.
fetch() {
  case $fetcher in
    curl) curl -fsSL --retry 3 -o "$2" "$from/$1" ;;
    wget) wget -q -O "$2" "$from/$1" ;;
    copy) cp "$from/$1" "$2" ;;
  esac || die 2 no-file "$from/$1"
}

sha256() {
  # shellcheck disable=SC2086 # $hasher is a command and its options
  $hasher "$1" | { read -r sum _ && printf '%s\n' "$sum" | tr 'A-F' 'a-f'; }
}

fetch SHA256SUMS "$work/SHA256SUMS"
pattern="whatap-${version:-*}-$target.tar.gz"
name=
expected=
while read -r sum file; do
  file=${file#\*}
  # shellcheck disable=SC2254 # $pattern is a glob on purpose (any version unless --version)
  case $file in
    $pattern)
      [ -z "$name" ] || die 2 many "$target"
      name=$file
      expected=$(printf '%s\n' "$sum" | tr 'A-F' 'a-f')
      ;;
  esac
done <"$work/SHA256SUMS"
[ -n "$name" ] || die 2 no-entry "$pattern"
fetch "$name" "$work/$name"
actual=$(sha256 "$work/$name")
if [ -z "$actual" ] || [ "$actual" != "$expected" ]; then
  die 3 mismatch "$name" "$expected" "${actual:-?}"
fi
say verified "$name"

package=${name%.tar.gz}
mkdir "$work/x" && (cd "$work/x" && gzip -dc "../$name" | tar -xf -) 2>/dev/null
pkg=$work/x/$package
[ -f "$pkg/whatap" ] || die 3 bad-archive "$name" "$package"
installing=$("$pkg/whatap" --version 2>/dev/null) || die 3 does-not-run "$name"

# What goes where: mode, source in the archive, destination.
plan=$work/plan
{
  printf '0755\t%s\t%s\n' "$pkg/whatap" "$prefix/bin/whatap"
  for page in "$pkg"/man/*.1; do
    printf '0644\t%s\t%s\n' "$page" "$prefix/share/man/man1/${page##*/}"
  done
  printf '0644\t%s\t%s\n' "$pkg/completions/whatap.bash" "$prefix/share/bash-completion/completions/whatap"
  printf '0644\t%s\t%s\n' "$pkg/completions/_whatap" "$prefix/share/zsh/site-functions/_whatap"
  printf '0644\t%s\t%s\n' "$pkg/completions/whatap.fish" "$prefix/share/fish/vendor_completions.d/whatap.fish"
} >"$plan"

created=$work/created
: >"$created"
# Undoes the staging (temp files, directories created) and exits with a write failure.
staging_failed() {
  cleanup_dirs=$(sed -n '1!G;h;$p' "$created")
  printf '%s\n' "$cleanup_dirs" | while IFS= read -r dir; do
    [ -n "$dir" ] && rmdir "$dir" 2>/dev/null
  done
  die 4 write-failed "$1"
}
make_dir() {
  [ -z "$1" ] || [ -d "$1" ] && return 0
  make_dir "${1%/*}" || return 1
  mkdir "$1" 2>/dev/null || return 1
  printf '%s\n' "$1" >>"$created"
}

# Stage: every changed file is copied next to its destination first, so a failure (disk
# full, read-only path) leaves the installed files as they were.
make_dir "${list%/*}" || staging_failed "${list%/*}"
while IFS="$tab" read -r mode src dest; do
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ -n "$(find "$dest" -prune -perm "$mode")" ]; then
    continue
  fi
  dir=${dest%/*}
  make_dir "$dir" || staging_failed "$dir"
  tmp=$dir/.whatap-new.$$.${dest##*/}
  printf '%s\t%s\t%s\n' "$mode" "$tmp" "$dest" >>"$pending"
  { cp "$src" "$tmp" && chmod "$mode" "$tmp"; } 2>/dev/null || staging_failed "$dest"
done <"$plan"

# Commit: one rename per file, each within its directory.
written=0
while IFS="$tab" read -r _ tmp dest; do
  mv -f "$tmp" "$dest" || die 4 write-failed "$dest"
  written=$((written + 1))
done <"$pending"
: >"$pending"

# The new list: the directories any run created, every file of this version. Files an older
# version installed that this one does not are removed.
new=$work/installed-files
{
  [ -f "$list" ] && grep '^d ' "$list"
  sed 's/^/d /' "$created"
  cut -f3 "$plan" | sed 's/^/f /'
} | awk '!seen[$0]++' >"$new"
if [ -f "$list" ]; then
  sed -n 's/^f //p' "$list" | while IFS= read -r old; do
    grep -qxF "f $old" "$new" || rm -f "$old"
  done
fi
if ! cmp -s "$new" "$list"; then
  { cp "$new" "$list.tmp.$$" && mv -f "$list.tmp.$$" "$list"; } 2>/dev/null || die 4 write-failed "$list"
fi

if [ "$written" -eq 0 ]; then
  say unchanged "$installing" "${prefix:-/}"
else
  say installed "$installing" "${prefix:-/}" "$written"
fi
