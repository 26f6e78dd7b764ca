//! HTTP(S) download into a `.part` file that survives a dropped connection: each retry asks
//! for the missing bytes with `Range` and starts over only when the server ignores it.
//! Proxies come from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (reqwest reads them). Servers are
//! trusted by the OS trust store (SSL_CERT_FILE / SSL_CERT_DIR replace it, as for OpenSSL), the
//! bundled web roots and `--cacert`: a TLS-inspecting proxy or an internal mirror signs with a
//! CA only the host knows.

use super::Progress;
use crate::error::{Error, Result};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_RANGE, RANGE};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

const ATTEMPTS: u32 = 5;
/// No agent distribution comes near this; a bigger body is not what the user meant.
const MAX_BYTES: u64 = 1 << 30;

pub fn client(cacert: Option<&Path>) -> Result<Client> {
    let mut builder = Client::builder()
        .user_agent(concat!("whatap-installer/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(1800));
    if let Some(file) = cacert {
        for cert in ca_bundle(file)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

/// The certificates of the PEM file `--cacert` names; none is bad input.
fn ca_bundle(file: &Path) -> Result<Vec<reqwest::Certificate>> {
    let bad = |why: String| {
        Error::usage(
            crate::msg!("cacert-invalid", path = file.display(), why = why),
            crate::msg!("cacert-invalid-hint"),
        )
    };
    let pem = fs::read(file).map_err(|e| bad(e.to_string()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(certs),
        Ok(_) => Err(bad(crate::msg!("cacert-no-certificate"))),
        Err(e) => Err(bad(error_chain(&e))),
    }
}

fn flag_error(url: &str, why: impl std::fmt::Display) -> Error {
    Error::usage(
        crate::msg!("agent-fetch-failed", url = url, why = why),
        crate::msg!("agent-fetch-failed-hint"),
    )
}

/// A small text file (the `.sha256` beside the archive); None when the server has none.
pub fn fetch_text(client: &Client, url: &str) -> Result<Option<String>> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            backoff(attempt);
        }
        match client.get(url).send() {
            Ok(resp) if resp.status() == StatusCode::NOT_FOUND => return Ok(None),
            Ok(resp) if resp.status().is_success() => {
                let mut text = String::new();
                match resp.take(64 << 10).read_to_string(&mut text) {
                    Ok(_) => return Ok(Some(text)),
                    Err(e) => last = e.to_string(),
                }
            }
            Ok(resp) if resp.status().is_server_error() => last = resp.status().to_string(),
            Ok(resp) => return Err(flag_error(url, format!("HTTP {}", resp.status()))),
            Err(e) => last = error_chain(&e),
        }
    }
    Err(flag_error(url, last))
}

/// Downloads `url` into `part`, continuing what an earlier attempt left there.
pub fn download(client: &Client, url: &str, part: &Path, progress: &dyn Progress) -> Result<()> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            backoff(attempt);
        }
        match attempt_once(client, url, part, progress) {
            Ok(Step::Done) => {
                progress.finish();
                return Ok(());
            }
            Ok(Step::Retry(why)) => last = why,
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        }
    }
    progress.finish();
    Err(flag_error(
        url,
        crate::msg!("agent-retries-exhausted", attempts = ATTEMPTS, why = last),
    ))
}

enum Step {
    Done,
    Retry(String),
}

fn attempt_once(client: &Client, url: &str, part: &Path, progress: &dyn Progress) -> Result<Step> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = client.get(url);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let mut resp = match request.send() {
        Ok(resp) => resp,
        Err(e) => return Ok(Step::Retry(error_chain(&e))),
    };
    let status = resp.status();
    let resumed = status == StatusCode::PARTIAL_CONTENT
        && resp
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(&format!("bytes {have}-")));
    if status == StatusCode::RANGE_NOT_SATISFIABLE && have > 0 {
        // The part file is not a prefix of this resource (it changed): start over.
        fs::remove_file(part).map_err(|e| Error::io(part, e))?;
        return Ok(Step::Retry(status.to_string()));
    }
    if status.is_server_error() {
        return Ok(Step::Retry(format!("HTTP {status}")));
    }
    if !status.is_success() {
        return Err(flag_error(url, format!("HTTP {status}")));
    }
    let offset = if resumed { have } else { 0 };
    let total = resp.content_length().map(|len| len + offset);
    if total.is_some_and(|t| t > MAX_BYTES) {
        return Err(flag_error(url, crate::msg!("agent-too-large")));
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .map_err(|e| Error::io(part, e))?;
    progress.start(total, offset);
    let mut received = offset;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return Ok(Step::Retry(e.to_string())),
        };
        file.write_all(&buf[..n]).map_err(|e| Error::io(part, e))?;
        received += n as u64;
        if received > MAX_BYTES {
            return Err(flag_error(url, crate::msg!("agent-too-large")));
        }
        progress.advance(n as u64);
    }
    file.sync_all().map_err(|e| Error::io(part, e))?;
    match total {
        Some(total) if received < total => Ok(Step::Retry(format!(
            "connection closed after {received} of {total} bytes"
        ))),
        _ => Ok(Step::Done),
    }
}

/// reqwest's top-level message hides the cause ("error sending request"); show all of it.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
}
