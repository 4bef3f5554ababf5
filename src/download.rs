//! Model downloads that can be trusted: every hop of a redirect chain is
//! checked against `policies/routing.yaml` (not only the first host), slow
//! or dead connections time out, failures are retried with back-off, and a
//! retry resumes where the last attempt stopped (HTTP Range). The caller
//! checks the sha256 and moves the file into place.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Routing;

/// Redirects followed before giving up (mirrors and CDNs use two or three).
const MOST_REDIRECTS: usize = 5;
/// Attempts in all; the pauses between them double from [`FIRST_BACK_OFF`].
const ATTEMPTS: u32 = 4;
const FIRST_BACK_OFF: Duration = Duration::from_millis(500);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A read that gets nothing for this long ends the attempt.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{url} is not an http(s) URL")]
    BadUrl { url: String },
    #[error(
        "{from} redirects to {host}, which policies/routing.yaml does not allow; add `- host: {host}` under egress.allow to permit it"
    )]
    RedirectDenied { from: String, host: String },
    #[error("{url} redirected more than {MOST_REDIRECTS} times")]
    TooManyRedirects { url: String },
    #[error("{url} answered {status}; check the url in models.yml")]
    Refused { url: String, status: u16 },
    #[error(
        "downloading from {url} failed after {ATTEMPTS} attempts: {reason}; run the same command again to resume"
    )]
    GaveUp { url: String, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Why one attempt failed, and whether another could succeed.
enum Attempt {
    Retry(String),
    Fatal(DownloadError),
}

pub struct Downloader<'a> {
    agent: ureq::Agent,
    routing: &'a Routing,
}

impl<'a> Downloader<'a> {
    pub fn new(routing: &'a Routing) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(READ_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            // Redirects are followed here, one hop at a time, so each hop's
            // host is checked against the policy.
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self { agent, routing }
    }

    /// Downloads `url` into `part` (what is there already is kept and
    /// resumed), showing progress as `label`.
    pub fn fetch(&self, url: &str, part: &Path, label: &str) -> Result<(), DownloadError> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let pause = FIRST_BACK_OFF * 2u32.pow(attempt - 1);
                tracing::warn!(%url, attempt, reason = %last, pause_ms = pause.as_millis() as u64, "download failed; retrying");
                eprintln!("{label}: {last}; retrying in {:.1} s", pause.as_secs_f64());
                std::thread::sleep(pause);
            }
            match self.attempt(url, part, label) {
                Ok(()) => return Ok(()),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry(reason)) => last = reason,
            }
        }
        Err(DownloadError::GaveUp {
            url: url.to_string(),
            reason: last,
        })
    }

    fn attempt(&self, url: &str, part: &Path, label: &str) -> Result<(), Attempt> {
        let have = std::fs::metadata(part).map_or(0, |m| m.len());
        let response = match self.open(url, have)? {
            Some(response) => response,
            // The part already holds everything there is.
            None => return Ok(()),
        };
        let resumed = response.status() == 206;
        let offset = if resumed { have } else { 0 };
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let write_error = |source| {
            Attempt::Fatal(DownloadError::Write {
                path: part.display().to_string(),
                source,
            })
        };
        let mut file = if resumed {
            OpenOptions::new().append(true).open(part)
        } else {
            File::create(part)
        }
        .map_err(write_error)?;
        let bar = progress_bar(length.map(|l| l + offset), label);
        bar.set_position(offset);
        if resumed {
            bar.println(format!("{label}: resuming at {offset} bytes"));
        }
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; 256 * 1024];
        let mut received = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    bar.abandon();
                    return Err(Attempt::Retry(format!("the transfer broke off: {e}")));
                }
            };
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).map_err(write_error)?;
            received += n as u64;
            bar.inc(n as u64);
        }
        file.sync_all().map_err(write_error)?;
        bar.finish_and_clear();
        if length.is_some_and(|l| received < l) {
            return Err(Attempt::Retry(format!(
                "the transfer broke off after {received} of {} bytes",
                length.unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// The response for `url` from byte `have` on, following redirects
    /// after checking each hop; `None` when there is nothing left to get.
    fn open(&self, url: &str, have: u64) -> Result<Option<ureq::http::Response<ureq::Body>>, Attempt> {
        let mut current = url.to_string();
        for _ in 0..=MOST_REDIRECTS {
            let mut request = self.agent.get(&current);
            if have > 0 {
                request = request.header("Range", format!("bytes={have}-"));
            }
            let response = request
                .call()
                .map_err(|e| Attempt::Retry(format!("{current}: {e}")))?;
            let status = response.status().as_u16();
            match status {
                200 | 206 => return Ok(Some(response)),
                416 if have > 0 => return Ok(None),
                301 | 302 | 303 | 307 | 308 => {
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .ok_or_else(|| Attempt::Retry(format!("{current} redirects nowhere")))?;
                    let next = resolve(&current, location).ok_or_else(|| {
                        Attempt::Fatal(DownloadError::BadUrl {
                            url: location.to_string(),
                        })
                    })?;
                    let host = host_of(&next)
                        .ok_or_else(|| Attempt::Fatal(DownloadError::BadUrl { url: next.clone() }))?;
                    if !self.routing.allows(&host) {
                        return Err(Attempt::Fatal(DownloadError::RedirectDenied {
                            from: current,
                            host,
                        }));
                    }
                    tracing::info!(from = %current, to = %next, "following a redirect allowed by policy");
                    current = next;
                }
                // Overloaded or briefly down: worth another try.
                408 | 429 | 500..=599 => {
                    return Err(Attempt::Retry(format!("{current} answered {status}")));
                }
                _ => {
                    return Err(Attempt::Fatal(DownloadError::Refused { url: current, status }));
                }
            }
        }
        Err(Attempt::Fatal(DownloadError::TooManyRedirects {
            url: url.to_string(),
        }))
    }
}

/// The host of an http(s) URL, without port or user (an IPv6 address in
/// brackets, as routing.yaml writes it).
pub fn host_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    crate::config::policies::host_after_scheme(rest)
}

/// `location` (absolute, or relative to `base`) as an absolute URL.
fn resolve(base: &str, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_string());
    }
    let scheme_end = base.find("://")? + 3;
    let origin_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    if let Some(path) = location.strip_prefix('/') {
        return Some(format!("{}/{path}", &base[..origin_end]));
    }
    let dir_end = base.rfind('/').filter(|&i| i >= origin_end).unwrap_or(origin_end);
    Some(format!("{}/{location}", &base[..dir_end]))
}

/// A byte-counting progress bar (a spinner when the length is unknown).
pub fn progress_bar(len: Option<u64>, message: &str) -> ProgressBar {
    let bar = match len {
        Some(l) => ProgressBar::new(l),
        None => ProgressBar::new_spinner(),
    };
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_redirect_targets_are_read_from_urls() {
        assert_eq!(
            host_of("https://huggingface.co/x/y").as_deref(),
            Some("huggingface.co")
        );
        assert_eq!(
            host_of("http://127.0.0.1:8080/m.bin").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(host_of("http://[::1]:80/m").as_deref(), Some("[::1]"));
        assert_eq!(host_of("ftp://example.com/m"), None);
        let base = "https://hub.example/models/a/model.bin";
        assert_eq!(
            resolve(base, "https://cdn.example/x").as_deref(),
            Some("https://cdn.example/x")
        );
        assert_eq!(
            resolve(base, "/blobs/1").as_deref(),
            Some("https://hub.example/blobs/1")
        );
        assert_eq!(
            resolve(base, "other.bin").as_deref(),
            Some("https://hub.example/models/a/other.bin")
        );
    }
}
