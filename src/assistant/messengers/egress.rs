//! The adapters' way out: `policies/routing.yaml` decides which skill may
//! reach which host, ureq carries the request. Redirects are not followed
//! (a 3xx goes back to the adapter), so no hop escapes the policy.

use std::time::Duration;

use hauski_skills::host::egress::{Egress, HttpRequest, HttpResponse};

use crate::config::Routing;

pub struct HttpEgress {
    routing: Routing,
    agent: ureq::Agent,
}

/// Longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl HttpEgress {
    pub fn new(routing: Routing) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self { routing, agent }
    }
}

impl Egress for HttpEgress {
    fn allows(&self, skill: &str, host: &str) -> bool {
        self.routing.allows_skill(skill, host)
    }

    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let timeout = Some(Duration::from_secs(request.timeout_s));
        let sent = match request.method.as_str() {
            "GET" => {
                let mut builder = self.agent.get(&request.url);
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                builder.config().timeout_global(timeout).build().call()
            }
            method => {
                let mut builder = match method {
                    "PUT" => self.agent.put(&request.url),
                    _ => self.agent.post(&request.url),
                };
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                let body = request.body.clone().unwrap_or_default();
                builder.config().timeout_global(timeout).build().send(body)
            }
        };
        let mut response = sent.map_err(|e| format!("the request failed: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(request.max_response_bytes as u64)
            .read_to_string()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(limit) => {
                    format!("the response is larger than {limit} bytes; refused")
                }
                other => format!("the response could not be read: {other}"),
            })?;
        Ok(HttpResponse { status, body })
    }
}
