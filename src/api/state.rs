//! What every handler shares: the assistant core, and the API's own guard
//! (the bearer token).

use std::sync::Arc;

use crate::assistant::{Assistant, SharedAssistant};
use crate::config::policies::ApiLimits;

pub struct ApiState {
    pub assistant: SharedAssistant,
    /// When set, every route but /healthz needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The editors' edits since their last comment (`POST /code/commentary`).
    pub commentary: super::editors::commentary::Tally,
}

impl ApiState {
    pub fn new(assistant: SharedAssistant, token: Option<String>) -> SharedState {
        Arc::new(Self {
            assistant,
            token,
            commentary: Default::default(),
        })
    }

    pub fn limits(&self) -> &ApiLimits {
        &self.assistant.config.limits.api
    }
}

/// Handlers read the core's state through the API's.
impl std::ops::Deref for ApiState {
    type Target = Assistant;
    fn deref(&self) -> &Assistant {
        &self.assistant
    }
}

pub type SharedState = Arc<ApiState>;
