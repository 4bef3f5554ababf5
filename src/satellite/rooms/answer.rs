//! One satellite turn on the main: the streamed question transcribed, an
//! intent or the LLM (told the room), each sentence spoken in the room's
//! profile and sent back to that room as it is ready.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::RoomProfiles;
use crate::assistant::bus::Event;
use crate::assistant::context::{TurnContext, prompt_for};
use crate::assistant::generation::{Door, Requested, generation_params};
use crate::assistant::intents::{Intent, ProfileIntent};
use crate::assistant::listening::DID_NOT_CATCH;
use crate::assistant::sentences::{Spoken, SpokenAnswer};
use crate::assistant::turn_gate::TurnGate;
use crate::assistant::{Allow, SharedAssistant, use_profile};
use crate::config::Profile;
use crate::satellite::{Claim, LAST_HEADER, MAIN_MS_HEADER, QUESTION_RATE, RATE_HEADER, down_subject};

/// A question that streamed in and was granted.
pub(super) struct Question {
    pub room: String,
    pub turn: String,
    pub audio: Vec<f32>,
    /// Confirmed when the question is over (the main's own time counts
    /// from then); a speculative turn waits here, and may be abandoned.
    pub gate: Arc<TurnGate>,
    /// Set by a barge-in on the same satellite.
    pub cancel: Arc<AtomicBool>,
}

impl Question {
    /// Whether the answer is no longer wanted: a barge-in, or the speaker went on.
    fn dropped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.gate.settled() == Some(None)
    }
}

/// Speaks to the satellites: claims, and answers as audio.
#[derive(Clone)]
pub(super) struct RoomSpeaker {
    state: SharedAssistant,
    client: async_nats::Client,
    runtime: tokio::runtime::Handle,
    profiles: Arc<RoomProfiles>,
}

/// One answer being sent: the first chunk carries the main's time.
struct Reply<'q> {
    question: &'q Question,
    /// What was heard, told on the bus once the turn is confirmed.
    heard: String,
    announced: bool,
    profile: Option<Profile>,
    first_sent: bool,
}

impl RoomSpeaker {
    pub(super) fn new(
        state: SharedAssistant,
        client: async_nats::Client,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            state,
            client,
            runtime,
            profiles: Arc::default(),
        }
    }

    /// Tells a satellite whether its turn is answered (from the door's task).
    pub(super) fn claim(&self, room: &str, turn: &str, claim: Claim) {
        let subject = down_subject(room, "claim", turn);
        let payload = serde_json::to_vec(&claim).unwrap_or_default();
        let client = self.client.clone();
        self.runtime.spawn(async move {
            if let Err(e) = client.publish(subject, payload.into()).await {
                tracing::warn!(error = %e, "satellites: claim not sent");
            }
        });
    }

    /// Answers one question (blocking: run it off the async threads).
    pub(super) fn answer(&self, question: Question) {
        let _span =
            tracing::info_span!("satellite_turn", room = %question.room, turn = %question.turn).entered();
        let Some(text) = self.transcribe(&question) else {
            return;
        };
        let profile = self.profile_of(&question.room);
        let mut reply = Reply {
            question: &question,
            heard: text.clone(),
            announced: false,
            profile,
            first_sent: false,
        };
        let intent = (!text.is_empty())
            .then(|| self.state.recognise(&text, Allow::ALL))
            .flatten();
        let by_llm = intent.is_none() && !text.is_empty();
        if by_llm && !self.state.wants_skill_tools(&text, Allow::ALL) {
            return self.ask_llm(&mut reply, &text);
        }
        // What changes things waits until the question is surely over.
        if question.gate.wait().is_none() || question.cancel.load(Ordering::Relaxed) {
            return;
        }
        self.announce(&mut reply);
        if text.is_empty() {
            return self.say_whole(&mut reply, DID_NOT_CATCH.into());
        }
        let answer = match intent {
            Some(Intent::Profile(ProfileIntent::Switch(name))) => self.switch_room(&question.room, &name),
            Some(intent) => self.state.act(intent).map(|done| done.reply).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the spoken command failed");
                crate::pipeline::FALLBACK_ANSWER.into()
            }),
            None => match self.state.act_by_llm(&text, Door::Satellite) {
                Ok(done) => done.reply,
                Err(e) => {
                    tracing::error!(error = %e, "the skill request failed");
                    crate::pipeline::FALLBACK_ANSWER.into()
                }
            },
        };
        self.say_whole(&mut reply, answer);
    }

    /// The question as heard, once its turn is confirmed.
    fn announce(&self, reply: &mut Reply<'_>) {
        if std::mem::replace(&mut reply.announced, true) || reply.heard.is_empty() {
            return;
        }
        let text = &reply.heard;
        tracing::info!(room = %reply.question.room, transcript = %text, "satellite question");
        self.state.bus.publish(Event::AsrFinal { text: text.clone() });
        self.state.bus.publish(Event::TurnStart {
            door: Door::Satellite.name().into(),
            question: text.clone(),
        });
    }

    fn transcribe(&self, question: &Question) -> Option<String> {
        let transcriber = self.state.engines.transcriber.clone()?;
        let _span = tracing::info_span!("asr", samples = question.audio.len()).entered();
        let started = Instant::now();
        match transcriber.transcribe_live(
            &question.audio,
            QUESTION_RATE,
            Some(question.gate.abandoned_flag()),
        ) {
            Ok(t) => {
                self.state
                    .observe_stage("asr", started.elapsed().as_secs_f64() * 1000.0);
                Some(t.text.trim().to_string())
            }
            Err(hauski_voice::VoiceError::Aborted) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not transcribe the satellite's question");
                None
            }
        }
    }

    /// The room's profile; `None` only if profiles.yaml names no active one
    /// (the voice then keeps its own settings).
    fn profile_of(&self, room: &str) -> Option<Profile> {
        let name = self.profiles.get(&self.state, room);
        self.state
            .profile
            .profiles()
            .profiles
            .get(&name)
            .cloned()
            .or_else(|| self.state.profile.settings())
    }

    /// "Switch to the night profile" on a satellite: that room's profile,
    /// not the main's.
    fn switch_room(&self, room: &str, profile: &str) -> String {
        self.profiles.set(room, profile);
        let profiles = self.state.profile.profiles();
        tracing::info!(%room, %profile, "satellite room's profile switched");
        format!(
            "Switched to the {} profile in the {}.",
            profiles.spoken_name(profile),
            room.replace(['-', '_'], " ")
        )
    }

    fn ask_llm(&self, reply: &mut Reply<'_>, question: &str) {
        let Some(pool) = &self.state.engines.llm else {
            return self.say_whole(reply, crate::pipeline::FALLBACK_ANSWER.into());
        };
        let mut context = self.state.context_for(question, Allow::ALL).unwrap_or_else(|e| {
            tracing::warn!(error = %format!("{e:#}"), "no memories or notes for this answer");
            TurnContext::default()
        });
        context.add_room(&reply.question.room.replace(['-', '_'], " "));
        let params = match generation_params(
            &self.state.config.limits,
            Door::Satellite,
            &Requested::default(),
        ) {
            Ok(params) => params,
            Err(e) => {
                return tracing::error!(error = %e, "policies/limits.yaml's llm settings are out of bounds");
            }
        };
        let generation = match pool.submit(prompt_for(None, question, &context), params) {
            Ok(g) => g,
            Err(e) => return tracing::warn!(error = %e, "the LLM is busy"),
        };
        let mut answer = SpokenAnswer::new(generation);
        while let Some(step) = answer.next_step() {
            if reply.question.dropped() {
                answer.cancel();
                return tracing::debug!("satellite answer dropped: a barge-in, or the speaker went on");
            }
            let Spoken::Sentence { text, last } = step else {
                continue;
            };
            self.send_sentence(reply, &text, last);
            if last {
                if reply.first_sent {
                    self.answered(reply, answer.text());
                }
                return;
            }
        }
    }

    fn say_whole(&self, reply: &mut Reply<'_>, text: String) {
        self.send_sentence(reply, &text, true);
        if reply.first_sent {
            self.answered(reply, &text);
        }
    }

    fn answered(&self, reply: &Reply<'_>, answer: &str) {
        tracing::info!(room = %reply.question.room, %answer, "satellite answer");
        self.state.bus.publish(Event::TurnEnd {
            door: Door::Satellite.name().into(),
            answer: answer.to_string(),
        });
    }

    /// Speaks `text` in the room's profile and sends it; an empty last
    /// sentence still tells the satellite the answer is complete.
    fn send_sentence(&self, reply: &mut Reply<'_>, text: &str, last: bool) {
        if reply.question.dropped() {
            return;
        }
        let (samples, rate) = if text.trim().is_empty() {
            (Vec::new(), 16_000)
        } else {
            let started = Instant::now();
            let spoken = self.synthesize(reply.profile.as_ref(), text);
            if !reply.first_sent {
                self.state
                    .observe_stage("tts_first_audio", started.elapsed().as_secs_f64() * 1000.0);
            }
            match spoken {
                Ok(spoken) => spoken,
                Err(e) => return tracing::error!(error = %e, "the satellite's answer cannot be spoken"),
            }
        };
        // Synthesised ahead, sent once the question is surely over.
        let Some(question_over) = reply.question.gate.wait() else {
            return;
        };
        if reply.question.cancel.load(Ordering::Relaxed) {
            return;
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(RATE_HEADER, rate.to_string());
        headers.insert(LAST_HEADER, last.to_string());
        if !reply.first_sent {
            self.announce(reply);
            let main_ms = question_over.elapsed().as_secs_f64() * 1000.0;
            headers.insert(MAIN_MS_HEADER, format!("{main_ms:.1}"));
            reply.first_sent = true;
        }
        let subject = down_subject(&reply.question.room, "speak", &reply.question.turn);
        let payload = crate::satellite::pcm_from_samples(&samples);
        let sent = self
            .runtime
            .block_on(self.client.publish_with_headers(subject, headers, payload.into()));
        if let Err(e) = sent {
            tracing::warn!(error = %e, room = %reply.question.room, "satellites: answer audio not sent");
        }
    }

    /// `text` in the room's profile; the shared voice is set back to the
    /// main's active profile afterwards, under the same lock.
    fn synthesize(
        &self,
        profile: Option<&Profile>,
        text: &str,
    ) -> Result<(Vec<f32>, u32), hauski_voice::VoiceError> {
        let voice = self
            .state
            .engines
            .voice
            .as_ref()
            .ok_or_else(|| hauski_voice::VoiceError::Synthesis("no voice is loaded".into()))?;
        let _span = tracing::info_span!("tts", chars = text.len()).entered();
        let mut voice = voice.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(profile) = profile {
            use_profile(&mut voice, profile);
        }
        let spoken = voice.synthesize_all(text);
        if let Some(active) = self.state.profile.settings() {
            use_profile(&mut voice, &active);
        }
        Ok((spoken?, voice.sample_rate()))
    }
}
