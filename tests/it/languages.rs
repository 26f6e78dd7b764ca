//! English and Korean: --lang, WHATAP_LANG and LANG=ko_KR.UTF-8 pick the language of reports,
//! next steps, errors and hints (messages/messages.toml; the catalog's completeness is a unit
//! test in src/ui/i18n.rs).

use crate::common::*;

fn stderr_of(cmd: &mut assert_cmd::Command) -> String {
    String::from_utf8(cmd.output().unwrap().stderr).unwrap()
}

#[test]
fn errors_and_hints_follow_the_chosen_language() {
    let dir = tempfile::tempdir().unwrap();
    let english = stderr_of(whatap(dir.path()).args(["install", "--host", "127.0.0.1"]));
    assert!(
        english.contains("error: --license is required"),
        "{english}"
    );
    assert!(english.contains("hint: pass --license KEY"), "{english}");

    let by_flag =
        stderr_of(whatap(dir.path()).args(["--lang", "ko", "install", "--host", "127.0.0.1"]));
    let by_env = stderr_of(whatap(dir.path()).env("WHATAP_LANG", "ko").args([
        "install",
        "--host",
        "127.0.0.1",
    ]));
    let by_locale = stderr_of(whatap(dir.path()).env("LANG", "ko_KR.UTF-8").args([
        "install",
        "--host",
        "127.0.0.1",
    ]));
    for korean in [&by_flag, &by_env, &by_locale] {
        assert!(korean.contains("오류: --license가 필요합니다"), "{korean}");
        assert!(
            korean.contains("조치:") && korean.contains("라이선스"),
            "{korean}"
        );
    }
    // The flag wins over the locale.
    let flag_wins = stderr_of(whatap(dir.path()).env("LANG", "ko_KR.UTF-8").args([
        "--lang",
        "en",
        "install",
        "--host",
        "127.0.0.1",
    ]));
    assert!(flag_wins.contains("--license is required"), "{flag_wins}");

    let bad_host = stderr_of(whatap(dir.path()).args([
        "--lang",
        "ko",
        "install",
        "--license",
        LICENSE,
        "--host",
        "https://x.example",
    ]));
    assert!(bad_host.contains("수집 서버"), "{bad_host}");
}

#[test]
fn reports_and_next_steps_in_korean() {
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let out = whatap(&state)
        .args(install_args(&home))
        .args(["--dry-run", "--lang", "ko"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("계획(시험 실행"), "{text}");
    assert!(text.contains("생성"), "{text}");
    assert!(
        text.contains("다음 단계: 에이전트가 로드되도록 Tomcat을 시작하세요"),
        "{text}"
    );
    let doctor = whatap(&state)
        .args(["doctor", "--no-network", "--lang", "ko", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    let text = String::from_utf8(doctor.stdout).unwrap();
    assert!(
        text.contains("오류가 없습니다") || text.contains("조치:"),
        "{text}"
    );
}

/// Refusals from the target-file checks speak Korean too, with paths and modes verbatim.
#[test]
fn refused_installs_explain_themselves_in_korean() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, home) = fixture("tomcat9");
    let state = dir.path().join("state");
    let refusal = |lang: &str| {
        let out = whatap(&state)
            .args(install_args(&home))
            .args(["--yes", "--lang", lang])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8(out.stderr).unwrap()
    };
    let setenv = home.join("bin/setenv.sh");
    std::fs::write(&setenv, "# setenv\n").unwrap();
    std::fs::set_permissions(&setenv, std::fs::Permissions::from_mode(0o444)).unwrap();
    let read_only = refusal("ko");
    assert!(
        read_only.contains("읽기 전용입니다 (mode 444)"),
        "{read_only}"
    );
    assert!(read_only.contains("chmod u+w"), "{read_only}");

    std::fs::remove_file(&setenv).unwrap();
    let outside = dir.path().join("outside.sh");
    std::fs::write(&outside, "# outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, &setenv).unwrap();
    let symlink = refusal("ko");
    assert!(symlink.contains("런타임 디렉터리 밖의"), "{symlink}");
    assert!(symlink.contains("심볼릭 링크를 일반 파일로"), "{symlink}");
    let english = refusal("en");
    assert!(
        english.contains("outside the runtime's directories"),
        "{english}"
    );
    assert_eq!(std::fs::read(&outside).unwrap(), b"# outside\n");
}

/// `--help` speaks Korean with `--lang ko`, `WHATAP_LANG=ko` or a Korean UTF-8 locale; on an
/// EUC-KR terminal (clap writes UTF-8) it stays English.
#[test]
fn help_in_korean() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = whatap(dir.path());
        cmd.args(args).arg("--help");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for text in [
        help(&["doctor", "--lang", "ko"], &[]),
        help(&["doctor"], &[("WHATAP_LANG", "ko")]),
        help(&["doctor"], &[("LANG", "ko_KR.UTF-8")]),
    ] {
        assert!(
            text.contains("진단합니다") && text.contains("공통 옵션"),
            "{text}"
        );
        assert!(
            text.contains("수집 서버와 방화벽 점검을 건너뜁니다"),
            "{text}"
        );
    }
    let install = help(&["install", "--lang=ko"], &[]);
    assert!(install.contains("라이선스 키와 수집 서버:"), "{install}");
    let euc_kr = help(&["doctor"], &[("LANG", "ko_KR.eucKR")]);
    assert!(
        euc_kr.contains("Skip collector and firewall checks"),
        "{euc_kr}"
    );
}
