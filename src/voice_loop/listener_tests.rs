//! The listener's decisions on recorded speech (a phrase of jfk.wav from
//! `../shared/models`) and digital silence, fed in 20 ms blocks as the
//! capture delivers them.

use super::*;

const BLOCK: usize = 320;
const RATE: usize = ASR_RATE as usize;

/// "And so my fellow Americans": 1.9 s of speech with no pause as long as
/// the hang-over.
fn phrase() -> Vec<f32> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/models/audio/jfk.wav");
    let audio = hauski_audio::load_mono(std::path::Path::new(path), ASR_RATE).unwrap_or_else(|e| {
        panic!("{path}: {e}; the unit tests need ../shared/models beside the repository")
    });
    audio[RATE * 3 / 10..RATE * 22 / 10].to_vec()
}

pub(super) fn silence(ms: usize) -> Vec<f32> {
    vec![0.0; RATE * ms / 1000]
}

fn wake_word() -> WakeDetection {
    WakeDetection {
        name: "hey-hauski".into(),
        timestamp_ms: 0,
        score: 0.6,
    }
}

/// Feeds `audio` block by block, the wake word reported with the block at
/// `wake_at` (a sample index), and returns each action with the sample
/// count fed when it came.
pub(super) struct Run {
    pub(super) listener: Listener,
    fed: usize,
    pub(super) actions: Vec<(usize, Action)>,
    partials_published: usize,
    /// What each speculative turn's transcript would say about its pause
    /// (`None`: no verdict, as before the transcript is ready).
    judge: Box<Judge>,
    /// The open speculation's verdict, reported with every block.
    verdict: Option<TurnEnd>,
}

/// Judges a speculative turn's question audio.
type Judge = dyn FnMut(&[f32]) -> Option<TurnEnd>;

/// The waits policies/limits.yaml ships, around `vad`'s own hang-over.
fn hang_overs(vad: &VadConfig) -> HangOvers {
    HangOvers {
        complete_ms: 400,
        unsure_ms: vad.hangover_ms,
        unfinished_ms: 1500,
    }
}

impl Run {
    pub(super) fn new() -> Self {
        Self::with_vad(VadConfig::default())
    }

    fn with_vad(vad: VadConfig) -> Self {
        let waits = hang_overs(&vad);
        Self::with_waits(vad, waits)
    }

    pub(super) fn with_waits(vad: VadConfig, hang_overs: HangOvers) -> Self {
        Self {
            listener: Listener::new(vad, hang_overs),
            fed: 0,
            actions: Vec::new(),
            partials_published: 0,
            judge: Box::new(|_| None),
            verdict: None,
        }
    }

    /// Every speculative turn's transcript says `judge(question)`, known at
    /// once (the live loop learns it a transcription later).
    pub(super) fn judged_by(mut self, judge: impl FnMut(&[f32]) -> Option<TurnEnd> + 'static) -> Self {
        self.judge = Box::new(judge);
        self
    }

    pub(super) fn feed(&mut self, audio: &[f32], wake_at: Option<usize>) {
        let start = self.fed;
        for block in audio.chunks(BLOCK) {
            let offset = self.fed - start;
            let detections = match wake_at {
                Some(at) if (offset..offset + BLOCK).contains(&at) => vec![wake_word()],
                _ => Vec::new(),
            };
            let reports = Reports {
                detections: &detections,
                partials_published: self.partials_published,
                partial_cost_s: Some(0.1),
                turn_end: self.verdict,
            };
            self.fed += block.len();
            for action in self.listener.step(block, &reports) {
                match &action {
                    Action::OfferPartial => self.listener.partial_offered(),
                    Action::StartTurn {
                        question,
                        speculative: true,
                    } => self.verdict = (self.judge)(question),
                    Action::Confirm | Action::Abandon | Action::StartTurn { .. } => self.verdict = None,
                    _ => {}
                }
                self.actions.push((self.fed, action));
            }
        }
    }

    pub(super) fn kinds(&self) -> Vec<&'static str> {
        self.actions.iter().map(|(_, a)| kind(a)).collect()
    }

    pub(super) fn turns(&self) -> Vec<(usize, bool, usize)> {
        self.actions
            .iter()
            .filter_map(|(at, a)| match a {
                Action::StartTurn {
                    question,
                    speculative,
                } => Some((*at, *speculative, question.len())),
                _ => None,
            })
            .collect()
    }
}

pub(super) fn kind(action: &Action) -> &'static str {
    match action {
        Action::Wake { .. } => "wake",
        Action::SpeechStarted { .. } => "speech_started",
        Action::SpeechEnded { .. } => "speech_ended",
        Action::StopPartial => "stop_partial",
        Action::StartTurn {
            speculative: true, ..
        } => "speculate",
        Action::StartTurn {
            speculative: false, ..
        } => "turn",
        Action::Confirm => "confirm",
        Action::Abandon => "abandon",
        Action::OfferPartial => "partial",
        Action::GiveUp => "give_up",
    }
}

/// Every speculative turn is settled exactly once: confirmed or abandoned,
/// never left waiting (its answer would hang) and never both.
fn assert_every_speculation_settles(kinds: &[&str]) {
    let mut open = false;
    for k in kinds {
        match *k {
            "speculate" => {
                assert!(!open, "a second speculation while one is open: {kinds:?}");
                open = true;
            }
            "confirm" | "abandon" => {
                assert!(open, "{k} with no speculation open: {kinds:?}");
                open = false;
            }
            _ => {}
        }
    }
    assert!(!open, "a speculation was left open: {kinds:?}");
}

#[test]
fn nothing_happens_without_the_wake_word() {
    let mut run = Run::new();
    run.feed(&[phrase(), silence(1000)].concat(), None);
    assert!(run.actions.is_empty(), "{:?}", run.kinds());
    assert!(!run.listener.is_listening());
}

#[test]
fn the_question_keeps_the_audio_from_before_the_wake_word() {
    let mut run = Run::new();
    // A ramp, so each sample says where it came from.
    let before: Vec<f32> = (0..RATE).map(|i| i as f32 / RATE as f32 * 0.001).collect();
    run.feed(&before, None);
    run.feed(&silence(20), Some(0));
    let pre_roll = (PRE_ROLL_S * RATE as f64) as usize;
    let question = run.listener.question_so_far();
    assert_eq!(question.len(), pre_roll + BLOCK);
    assert_eq!(&question[..pre_roll], &before[RATE - pre_roll..]);
    assert_eq!(run.kinds(), ["wake"]);
}

#[test]
fn a_pause_at_the_end_starts_the_answer_early_and_speech_end_confirms_it() {
    let mut run = Run::new();
    let phrase = phrase();
    run.feed(&[phrase.clone(), silence(1000)].concat(), Some(0));
    let kinds = run.kinds();
    assert_eq!(kinds.first(), Some(&"wake"));
    assert!(kinds.contains(&"speech_started"), "{kinds:?}");
    assert_every_speculation_settles(&kinds);
    // The last decision: the pause was the end, so the speculative answer plays.
    let ended = kinds
        .iter()
        .position(|k| *k == "speech_ended")
        .expect("speech ended");
    assert_eq!(&kinds[ended + 1..], ["confirm"], "{kinds:?}");
    assert!(
        !kinds.contains(&"turn"),
        "no second turn for the same question: {kinds:?}"
    );
    // The confirmed answer started 90 ms into the pause, long before the
    // 600 ms hang-over ended, and answers the whole phrase.
    let (started_at, _, question_len) = *run.turns().last().expect("a turn");
    let (ended_at, _) = run.actions[ended];
    let head_start_ms = (ended_at - started_at) * 1000 / RATE;
    assert!(
        (400..=620).contains(&head_start_ms),
        "started {head_start_ms} ms before the end"
    );
    let pre_roll = (PRE_ROLL_S * RATE as f64) as usize;
    assert!(
        question_len >= phrase.len() * 9 / 10,
        "{question_len} of {}",
        phrase.len()
    );
    assert!(
        question_len <= pre_roll + phrase.len() + RATE / 5,
        "{question_len}"
    );
    assert!(!run.listener.is_listening());
}

#[test]
fn speaking_on_after_a_pause_abandons_the_early_answer() {
    let mut run = Run::new();
    let phrase = phrase();
    run.feed(&[phrase.clone(), silence(250)].concat(), Some(0));
    let speculated = run.turns().len();
    assert!(
        speculated >= 1 && run.kinds().last() == Some(&"speculate"),
        "{:?}",
        run.kinds()
    );
    run.feed(&[phrase.clone(), silence(1000)].concat(), None);
    let kinds = run.kinds();
    assert_every_speculation_settles(&kinds);
    assert!(kinds.contains(&"abandon"), "{kinds:?}");
    // What finally plays answers both phrases.
    let (_, _, question_len) = *run.turns().last().expect("a turn");
    assert!(question_len >= 2 * phrase.len(), "{question_len}");
    assert_eq!(kinds.last(), Some(&"confirm"));
}

#[test]
fn the_wake_word_is_heard_while_answering_but_not_while_listening() {
    let mut run = Run::new();
    // Detections inside the question (the question scoring high) are ignored.
    run.feed(&phrase(), Some(0));
    let detections_inside = [wake_word()];
    let reports = Reports {
        detections: &detections_inside,
        ..Reports::default()
    };
    let actions = run.listener.step(&silence(20), &reports);
    assert!(!actions.iter().any(|a| kind(a) == "wake"), "{actions:?}");
    run.feed(&silence(1000), None);
    assert!(!run.listener.is_listening());
    // Once the question is over (the answer may be playing), the wake word
    // is a barge-in: listening starts again.
    run.feed(&silence(100), Some(0));
    assert_eq!(run.kinds().iter().filter(|k| **k == "wake").count(), 2);
    assert!(run.listener.is_listening());
}

#[test]
fn silence_after_the_wake_word_gives_up() {
    let mut run = Run::new();
    run.feed(&silence((LISTEN_TIMEOUT_S * 1000) - 100), Some(0));
    assert!(run.listener.is_listening());
    run.feed(&silence(300), None);
    assert_eq!(run.kinds(), ["wake", "give_up"]);
    assert!(!run.listener.is_listening());
}

#[test]
fn endless_speech_is_cut_at_the_longest_question() {
    // A hang-over longer than any pause: speech never ends by itself.
    let mut run = Run::with_vad(VadConfig {
        hangover_ms: 60_000,
        ..VadConfig::default()
    });
    let phrase = phrase();
    let speech: Vec<f32> = phrase
        .iter()
        .copied()
        .cycle()
        .take(RATE * (MAX_QUESTION_S + 1))
        .collect();
    run.feed(&speech, Some(0));
    let kinds = run.kinds();
    assert!(kinds.contains(&"speech_ended"), "{kinds:?}");
    let (at, speculative, len) = *run.turns().last().expect("a turn");
    assert!(!speculative);
    let seconds = at as f64 / RATE as f64;
    assert!((20.0..20.1).contains(&seconds), "cut at {seconds} s");
    assert!(len <= RATE * MAX_QUESTION_S + RATE / 2);
}

#[test]
fn partials_follow_the_speech_and_stop_for_the_answer() {
    let mut run = Run::new();
    let phrase = phrase();
    run.feed(&phrase[..RATE / 5], Some(0));
    assert!(!run.kinds().contains(&"partial"), "none before 0.4 s of speech");
    run.feed(&phrase[RATE / 5..], None);
    let offered: Vec<usize> = run
        .actions
        .iter()
        .filter(|(_, a)| *a == Action::OfferPartial)
        .map(|(at, _)| *at)
        .collect();
    assert!(offered.len() >= 2, "{:?}", run.kinds());
    // At most one each half second (0.1 s each here: the floor applies).
    assert!(offered.windows(2).all(|w| w[1] - w[0] >= RATE / 2), "{offered:?}");
    // The first partial is published: a turn now stops the one in flight.
    run.partials_published = 1;
    run.feed(&silence(1000), None);
    let kinds = run.kinds();
    let speculate = kinds.iter().position(|k| *k == "speculate").expect("speculation");
    assert_eq!(kinds[speculate - 1], "stop_partial", "{kinds:?}");
}

#[test]
fn the_first_partial_is_spared_when_the_answer_starts() {
    let mut run = Run::new();
    run.feed(&[phrase(), silence(1000)].concat(), Some(0));
    // No partial was published yet: the one in flight is the question's
    // first and is let finish.
    assert!(!run.kinds().contains(&"stop_partial"), "{:?}", run.kinds());
}

/// How long after the last voiced sample the question ended, in ms.
fn waited_ms(run: &Run) -> Option<u64> {
    run.actions.iter().find_map(|(_, a)| match a {
        Action::SpeechEnded { waited_ms, .. } => Some(*waited_ms),
        _ => None,
    })
}

#[test]
fn a_complete_request_ends_after_a_short_pause() {
    let mut run = Run::new().judged_by(|_| Some(TurnEnd::Complete));
    run.feed(&[phrase(), silence(1000)].concat(), Some(0));
    let waited = waited_ms(&run).expect("speech ended");
    // The short wait, to the next 20 ms block and 30 ms VAD frame.
    assert!((400..=450).contains(&waited), "ended {waited} ms into the pause");
    let kinds = run.kinds();
    assert_every_speculation_settles(&kinds);
    assert_eq!(kinds.last(), Some(&"confirm"), "{kinds:?}");
}

#[test]
fn an_unfinished_request_waits_longer_than_the_usual_hang_over() {
    let mut run = Run::new().judged_by(|_| Some(TurnEnd::Unfinished));
    run.feed(&[phrase(), silence(1000)].concat(), Some(0));
    assert_eq!(
        waited_ms(&run),
        None,
        "a 1 s pause did not end it: {:?}",
        run.kinds()
    );
    assert!(run.listener.is_listening());
    run.feed(&silence(700), None);
    let waited = waited_ms(&run).expect("speech ended");
    assert!(
        (1500..=1550).contains(&waited),
        "ended {waited} ms into the pause"
    );
    assert_every_speculation_settles(&run.kinds());
}

#[test]
fn without_a_verdict_the_usual_hang_over_ends_the_question() {
    let mut run = Run::new().judged_by(|_| Some(TurnEnd::Unsure));
    run.feed(&[phrase(), silence(1000)].concat(), Some(0));
    let waited = waited_ms(&run).expect("speech ended");
    assert!((600..=650).contains(&waited), "ended {waited} ms into the pause");
}

#[test]
fn a_verdict_on_an_abandoned_pause_does_not_end_the_next_one_early() {
    // The first pause is judged complete, then the speaker goes on; the
    // second pause has no verdict yet and waits the usual hang-over.
    let mut verdicts = vec![None, Some(TurnEnd::Complete)];
    let mut run = Run::new().judged_by(move |_| verdicts.pop().flatten());
    let phrase = phrase();
    run.feed(&[phrase.clone(), silence(200)].concat(), Some(0));
    assert_eq!(waited_ms(&run), None, "200 ms < 400 ms: {:?}", run.kinds());
    run.feed(&[phrase, silence(1000)].concat(), None);
    let waited = waited_ms(&run).expect("speech ended");
    assert!((600..=650).contains(&waited), "ended {waited} ms into the pause");
    assert_every_speculation_settles(&run.kinds());
}
