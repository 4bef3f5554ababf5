//! Generation on the real llama.cpp with the tiny random-weight test model:
//! streaming, stop sequences, budgets, sampling and the prompt cache.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::OnceLock;

use hauski_brain::{BrainError, FinishReason, GenerationParams, LanguageModel, LlmConfig, Turn};

fn model() -> &'static LanguageModel {
    static MODEL: OnceLock<LanguageModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/models/llm/tiny-random-llama-spm.gguf");
        assert!(
            path.is_file(),
            "test model missing at {}: ../shared must sit beside the repo",
            path.display()
        );
        let config = LlmConfig {
            context_tokens: 512,
            threads: 2,
            ..LlmConfig::default()
        };
        LanguageModel::load(&path, config).expect("tiny model loads")
    })
}

const SYSTEM: &str = "You are a helpful assistant in a quiet house. You answer briefly and kindly, \
and you never invent facts that you do not know for certain.";

fn turn(user: &str) -> Turn {
    Turn {
        system: SYSTEM.to_string(),
        user: user.to_string(),
        context: String::new(),
    }
}

fn greedy(max_tokens: u32) -> GenerationParams {
    GenerationParams {
        max_tokens,
        temperature: 0.0,
        stop: Vec::new(),
        ..GenerationParams::default()
    }
}

#[test]
fn streaming_delivers_text_piece_by_piece() {
    let mut conversation = model().conversation().expect("context");
    let mut pieces = Vec::new();
    let stats = conversation
        .generate(&turn("Tell me a story."), &greedy(16), |piece| {
            pieces.push(piece.to_string());
            ControlFlow::Continue(())
        })
        .expect("generates");
    assert!(
        pieces.len() >= 8,
        "one callback per token or so, got {}",
        pieces.len()
    );
    assert_eq!(pieces.concat().trim(), stats.text);
    assert!(stats.time_to_first_token < stats.prompt_eval + stats.generation);
}

#[test]
fn max_tokens_is_honoured() {
    let mut conversation = model().conversation().expect("context");
    let stats = conversation
        .complete(&turn("Count."), &greedy(7))
        .expect("generates");
    assert_eq!(stats.completion_tokens, 7);
    assert_eq!(stats.finish, FinishReason::Length);
}

#[test]
fn a_stop_sequence_ends_generation_before_it() {
    let mut conversation = model().conversation().expect("context");
    let free = conversation
        .complete(&turn("Say something."), &greedy(24))
        .expect("generates");
    // Pick a stop string from the middle of what the model says unprompted.
    let words: Vec<&str> = free.text.split_whitespace().collect();
    assert!(words.len() >= 6, "need some text to cut: {:?}", free.text);
    let stop = words[words.len() / 2].to_string();
    let cut_at = free.text.find(&stop).expect("stop is in the text");

    conversation.reset();
    let params = GenerationParams {
        stop: vec![stop.clone()],
        ..greedy(24)
    };
    let mut streamed = String::new();
    let stopped = conversation
        .generate(&turn("Say something."), &params, |p| {
            streamed.push_str(p);
            ControlFlow::Continue(())
        })
        .expect("generates");
    assert_eq!(stopped.finish, FinishReason::Stop);
    assert_eq!(stopped.text, free.text[..cut_at].trim());
    assert!(
        !streamed.contains(&stop),
        "the stop string never reaches the listener: {streamed:?}"
    );
    assert!(stopped.completion_tokens < free.completion_tokens);
}

#[test]
fn the_system_prompt_is_served_from_the_cache_on_the_second_turn() {
    let mut conversation = model().conversation().expect("context");
    let first = conversation
        .complete(&turn("What time is it?"), &greedy(4))
        .expect("first turn");
    assert_eq!(
        first.prompt_tokens_evaluated, first.prompt_tokens,
        "a cold cache evaluates everything"
    );

    let second = conversation
        .complete(&turn("Is it raining?"), &greedy(4))
        .expect("second turn");
    let reused = second.prompt_tokens - second.prompt_tokens_evaluated;
    assert!(
        second.prompt_tokens_evaluated < first.prompt_tokens_evaluated,
        "second turn evaluated {} tokens, first {}",
        second.prompt_tokens_evaluated,
        first.prompt_tokens_evaluated
    );
    assert!(
        reused >= 25,
        "the system prompt (~30 tokens) is reused, got {reused}"
    );

    conversation.reset();
    let cold = conversation
        .complete(&turn("Is it raining?"), &greedy(4))
        .expect("after reset");
    assert_eq!(cold.prompt_tokens_evaluated, cold.prompt_tokens);
    assert_eq!(cold.text, second.text, "the cache changes cost, never the answer");
}

#[test]
fn sampling_is_reproducible_with_a_seed() {
    let params = |seed| GenerationParams {
        max_tokens: 12,
        temperature: 0.9,
        seed,
        stop: Vec::new(),
        ..GenerationParams::default()
    };
    let run = |seed| {
        let mut c = model().conversation().expect("context");
        c.complete(&turn("Pick a word."), &params(seed))
            .expect("generates")
            .text
    };
    assert_eq!(run(7), run(7));
    assert_ne!(
        run(7),
        run(8),
        "different seeds give different samples on random weights"
    );
}

#[test]
fn the_listener_can_cancel() {
    let mut conversation = model().conversation().expect("context");
    let mut calls = 0;
    let stats = conversation
        .generate(&turn("Go on."), &greedy(32), |_| {
            calls += 1;
            if calls == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .expect("generates");
    assert_eq!(stats.finish, FinishReason::Cancelled);
    assert!(stats.completion_tokens < 32);
}

#[test]
fn a_prompt_longer_than_the_context_is_refused() {
    let mut conversation = model().conversation().expect("context");
    let long = "word ".repeat(600);
    let err = conversation
        .complete(&turn(&long), &greedy(8))
        .expect_err("too long");
    assert!(matches!(err, BrainError::PromptTooLong { .. }), "{err}");
    // The conversation still works afterwards.
    conversation
        .complete(&turn("Hello."), &greedy(2))
        .expect("still usable");
}

#[test]
fn an_empty_question_is_refused() {
    let mut conversation = model().conversation().expect("context");
    let err = conversation
        .complete(&turn("   "), &greedy(8))
        .expect_err("empty");
    assert!(matches!(err, BrainError::EmptyPrompt));
}

#[test]
fn a_missing_model_file_names_the_pull_command() {
    let err = LanguageModel::load(
        std::path::Path::new("/nonexistent/model.gguf"),
        LlmConfig::default(),
    )
    .err()
    .expect("missing");
    let text = err.to_string();
    assert!(
        text.contains("/nonexistent/model.gguf") && text.contains("hauski models pull"),
        "{text}"
    );
}

#[test]
fn priming_caches_the_system_prompt_before_the_first_question() {
    let mut conversation = model().conversation().expect("context");
    let primed = conversation.prime(SYSTEM).expect("primes");
    assert!(primed >= 25, "the system prompt is evaluated: {primed}");
    let first = conversation
        .complete(&turn("Hello?"), &greedy(2))
        .expect("first turn");
    assert_eq!(
        first.prompt_tokens_evaluated + primed,
        first.prompt_tokens,
        "only the question is evaluated"
    );
    assert_eq!(
        conversation.prime(SYSTEM).expect("primes again"),
        0,
        "already cached"
    );
}
