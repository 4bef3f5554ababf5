//! Generation settings, made here for every door: the defaults and bounds
//! of `policies/limits.yaml`, with what a request may override. One function,
//! so a door cannot drift to its own literals.

use hauski_brain::GenerationParams;

use crate::config::policies::Limits;

/// Where a generation is asked for; each door has its own token ceiling and
/// way of ending an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// The hands-free loop: `llm.max_tokens`, sentences to the speaker.
    Voice,
    /// `ask` and `converse`: up to 8 × `llm.max_tokens` when asked for, and
    /// an answer ends at its line (base models run on into "User:" otherwise).
    Cli,
    /// OpenAI chat: up to `api.max_tokens`, ends only where the client says.
    Api,
    /// The editors' endpoints: the server picks the budget (clamped to
    /// `api.max_tokens`) and a steadier temperature.
    Editor,
    /// Home Assistant's conversation stage over Wyoming (`handle`): a spoken
    /// answer in one piece, `llm.max_tokens`, ending at its line.
    HomeAssistant,
    /// A satellite in another room: spoken like the voice loop's answers.
    Satellite,
}

impl Door {
    /// How events on the bus name the door.
    pub fn name(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Cli => "cli",
            Self::Api => "api",
            Self::Editor => "editor",
            Self::HomeAssistant => "home-assistant",
            Self::Satellite => "satellite",
        }
    }
}

/// What one request asks for; anything unset takes the limits' default.
#[derive(Debug, Clone, Default)]
pub struct Requested {
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub seed: Option<u32>,
    /// `None`: the door's default; `Some(empty)`: no stop strings.
    pub stop: Option<Vec<String>>,
}

/// A requested setting outside its bounds: which one, and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidSetting {
    /// The request field (`max_tokens`, `temperature`, `top_p`, `stop`).
    pub param: &'static str,
    pub message: String,
}

fn invalid(param: &'static str, message: impl Into<String>) -> InvalidSetting {
    InvalidSetting {
        param,
        message: message.into(),
    }
}

/// The settings for one generation at `door`: `requested` within `limits`.
pub fn generation_params(
    limits: &Limits,
    door: Door,
    requested: &Requested,
) -> Result<GenerationParams, InvalidSetting> {
    let llm = &limits.llm;
    let (default_tokens, ceiling, ceiling_source) = match door {
        Door::Voice | Door::Satellite | Door::HomeAssistant => {
            (llm.max_tokens, llm.max_tokens, "llm.max_tokens")
        }
        Door::Cli => (llm.max_tokens, llm.max_tokens.max(1) * 8, "8 × llm.max_tokens"),
        Door::Api | Door::Editor => (limits.api.max_tokens, limits.api.max_tokens, "api.max_tokens"),
    };
    let mut max_tokens = requested.max_tokens.unwrap_or(default_tokens);
    if door == Door::Editor {
        max_tokens = max_tokens.min(ceiling);
    }
    if max_tokens == 0 || max_tokens > ceiling {
        return Err(invalid(
            "max_tokens",
            format!("max_tokens must be between 1 and {ceiling} ({ceiling_source} in policies/limits.yaml)"),
        ));
    }
    let default_temperature = match door {
        Door::Editor => llm.editor_temperature,
        _ => llm.temperature,
    };
    let temperature = requested.temperature.unwrap_or(default_temperature);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(invalid("temperature", "temperature must be between 0 and 2"));
    }
    let top_p = requested.top_p.unwrap_or(llm.top_p);
    if !(0.0..=1.0).contains(&top_p) {
        return Err(invalid("top_p", "top_p must be between 0 and 1"));
    }
    let stop = match (&requested.stop, door) {
        (Some(stop), _) => stop.clone(),
        // A line break ends a one-shot answer from a base model.
        (None, Door::Cli | Door::HomeAssistant) => vec!["\n".to_string()],
        (None, _) => Vec::new(),
    };
    if stop.len() > 4 || stop.iter().any(String::is_empty) {
        return Err(invalid("stop", "stop takes up to 4 non-empty strings"));
    }
    Ok(GenerationParams {
        max_tokens,
        temperature,
        top_p,
        seed: requested.seed.unwrap_or(llm.seed),
        stop,
        grammar: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        crate::config::Config::load(None).expect("built-in config").limits
    }

    #[test]
    fn every_door_takes_its_defaults_from_the_limits() {
        let limits = limits();
        let voice = generation_params(&limits, Door::Voice, &Requested::default()).expect("voice");
        assert_eq!(voice.max_tokens, limits.llm.max_tokens);
        assert_eq!(voice.temperature, limits.llm.temperature);
        assert_eq!(voice.top_p, limits.llm.top_p);
        assert_eq!(voice.seed, limits.llm.seed);
        assert!(voice.stop.is_empty());
        let api = generation_params(&limits, Door::Api, &Requested::default()).expect("api");
        assert_eq!(api.max_tokens, limits.api.max_tokens);
        assert_eq!(api.top_p, voice.top_p);
        let cli = generation_params(&limits, Door::Cli, &Requested::default()).expect("cli");
        assert_eq!(cli.stop, ["\n"]);
        let editor = generation_params(&limits, Door::Editor, &Requested::default()).expect("editor");
        assert_eq!(editor.temperature, limits.llm.editor_temperature);
    }

    #[test]
    fn requests_past_a_bound_are_refused_by_name_and_editors_are_clamped() {
        let limits = limits();
        let too_many = Requested {
            max_tokens: Some(limits.api.max_tokens + 1),
            ..Requested::default()
        };
        let refused = generation_params(&limits, Door::Api, &too_many).expect_err("over the cap");
        assert_eq!(refused.param, "max_tokens");
        assert!(refused.message.contains("api.max_tokens"), "{refused}");
        let clamped = generation_params(&limits, Door::Editor, &too_many).expect("editor");
        assert_eq!(clamped.max_tokens, limits.api.max_tokens);
        let hot = Requested {
            temperature: Some(2.5),
            ..Requested::default()
        };
        assert_eq!(
            generation_params(&limits, Door::Cli, &hot).map_err(|e| e.param),
            Err("temperature")
        );
        let empty_stop = Requested {
            stop: Some(vec![String::new()]),
            ..Requested::default()
        };
        assert_eq!(
            generation_params(&limits, Door::Api, &empty_stop).map_err(|e| e.param),
            Err("stop")
        );
    }
}
