//! The `http` capability: outbound HTTP for the adapters that talk to
//! messengers. The host, not the skill, decides: every request's host is
//! checked against the routing policy for that skill (deny unless a rule
//! names both), and every decision, allowed or refused, is audited. A
//! refused request stops the call (a trap): a skill that reaches for a
//! host it was not granted is misbehaving, not unlucky. A request that was
//! allowed but failed (refused connection, timeout, malformed or oversized
//! response) is handed back as `{"error"}`, for the adapter to back off.
//!
//! Import of module `hauski`: `http_request(json) -> json`, the request
//! `{"method", "url", "headers": {..}, "body", "timeout_s"}`, the reply
//! `{"status", "body"}` or `{"error"}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use wasmtime::{Caller, Linker};

use super::CallState;
use super::imports::{hand_over, read};

/// A request as the host sends it, after the policy allowed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// The whole exchange's limit (a long-poll's wait plus its margin).
    pub timeout_s: u64,
    /// A longer response is an error, never truncated.
    pub max_response_bytes: usize,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// The host's way out: the routing policy and an HTTP client.
pub trait Egress: Send + Sync {
    /// Whether `skill` may connect to `host` (`policies/routing.yaml`).
    fn allows(&self, skill: &str, host: &str) -> bool;
    /// Sends an allowed request; `Err` says what failed, for the skill.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}

/// Longest request a skill may pass (URL, headers, body), in bytes.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Longest response handed to a skill: a messenger's batch of messages is
/// far smaller; anything larger is refused as an error, not cut.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Longest a request may take; a long-poll's `timeout` is shorter.
const LONGEST_TIMEOUT_S: u64 = 120;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AskedRequest {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default = "default_timeout_s")]
    timeout_s: u64,
}

fn get() -> String {
    "GET".into()
}

fn default_timeout_s() -> u64 {
    30
}

/// Where a request goes, for the policy and the audit log: the scheme and
/// the host with its port. Never the path or query, which may carry a
/// token (Telegram's bot URLs do).
#[derive(Debug, PartialEq, Eq)]
pub struct Destination {
    pub host: String,
    /// `https://host:port`, what the audit log records.
    pub origin: String,
}

/// The host in what follows a URL's `scheme://` (`user@host:port/path`),
/// as routing.yaml writes it: an IPv6 address in brackets; `None` without
/// a host. The one parser for every egress check: the skills' requests
/// here, and the daemon's downloads and bus connection.
pub fn host_after_scheme(rest: &str) -> Option<String> {
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => authority.split(':').next()?.to_string(),
    };
    (!host.is_empty() && host != "[]").then_some(host)
}

/// The destination of `url`, or why a skill may not ask for it.
pub fn destination(url: &str) -> Result<Destination, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not an absolute URL"))?;
    if !matches!(scheme, "http" | "https") {
        return Err(format!(
            "the scheme {scheme:?} is not HTTP; only http and https are lent"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("credentials in the URL are refused; send them as a header".into());
    }
    let host = host_after_scheme(rest).ok_or_else(|| format!("{url:?} names no host"))?;
    Ok(Destination {
        host: host.to_ascii_lowercase(),
        origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
    })
}

impl AskedRequest {
    fn checked(self) -> Result<HttpRequest, String> {
        let method = self.method.to_ascii_uppercase();
        if !matches!(method.as_str(), "GET" | "POST" | "PUT") {
            return Err(format!("the method {method} is not lent; GET, POST and PUT are"));
        }
        Ok(HttpRequest {
            method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            timeout_s: self.timeout_s.clamp(1, LONGEST_TIMEOUT_S),
            max_response_bytes: MAX_RESPONSE_BYTES,
        })
    }
}

/// Links `http_request` over `egress`.
pub(super) fn link(linker: &mut Linker<CallState>, egress: &Arc<dyn Egress>) -> wasmtime::Result<()> {
    let egress = egress.clone();
    linker.func_wrap(
        "hauski",
        "http_request",
        move |mut caller: Caller<'_, CallState>, ptr: i32, len: i32| -> wasmtime::Result<i64> {
            let bytes = read(&mut caller, ptr, len, MAX_REQUEST_BYTES)?;
            let asked: AskedRequest = serde_json::from_slice(&bytes).map_err(|e| {
                wasmtime::format_err!("the skill's HTTP request is not one HausKI reads: {e}")
            })?;
            let request = asked.checked().map_err(wasmtime::Error::msg)?;
            let to = destination(&request.url).map_err(wasmtime::Error::msg)?;
            let state = caller.data();
            let skill = state.skill.clone();
            let _span = tracing::info_span!("egress", skill, to = %to.origin).entered();
            if !egress.allows(&skill, &to.host) {
                state.audit.record(
                    &skill,
                    "egress refused",
                    &format!(
                        "{} {}: no rule in policies/routing.yaml allows it",
                        request.method, to.origin
                    ),
                )?;
                wasmtime::bail!(
                    "egress to {} refused: policies/routing.yaml has no rule for {} granted to {skill}",
                    to.origin,
                    to.host
                );
            }
            state.audit.record(
                &skill,
                "egress allowed",
                &format!("{} {}", request.method, to.origin),
            )?;
            let reply = match egress.send(&request) {
                Ok(response) => json!({"status": response.status, "body": response.body}),
                Err(error) => {
                    tracing::warn!(%error, "a skill's request failed");
                    json!({ "error": error })
                }
            };
            hand_over(&mut caller, reply.to_string().as_bytes())
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::destination;

    #[test]
    fn the_destination_is_the_origin_never_the_path() {
        let to = destination("https://api.telegram.org/bot123:SECRET/getUpdates?offset=4").expect("url");
        assert_eq!(to.host, "api.telegram.org");
        assert_eq!(to.origin, "https://api.telegram.org");
        let to = destination("http://127.0.0.1:8008/_matrix/client/v3/sync").expect("url");
        assert_eq!(
            (to.host.as_str(), to.origin.as_str()),
            ("127.0.0.1", "http://127.0.0.1:8008")
        );
        assert_eq!(destination("http://[::1]:80/x").expect("url").host, "[::1]");
        for refused in [
            "file:///etc/passwd",
            "ftp://example.com/",
            "example.com/x",
            "http://user:pw@example.com/",
            "http:///x",
        ] {
            assert!(destination(refused).is_err(), "{refused}");
        }
    }
}
