//! The live edges on a real, private PipeWire with null sinks: playback
//! reaches only the named sink, capture hears a sink's monitor, `stop` silences
//! at once, and both follow a sink that vanishes and comes back, and
//! PipeWire itself restarting.

#[path = "../../tests/support/pipewire.rs"]
mod pipewire;

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hauski_audio::live::{Capture, CaptureConfig, Playback, PlaybackEvent};
use pipewire::PipeWire;

const RATE: u32 = 22_050;

fn runtime_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pw-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("runtime dir");
    dir
}

fn tone(seconds: f32) -> Vec<f32> {
    (0..(RATE as f32 * seconds) as usize)
        .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / RATE as f32).sin() * 0.5)
        .collect()
}

/// Blocks captured from a monitor, with their arrival time and peak level.
struct Heard {
    blocks: Arc<Mutex<Vec<(Instant, f32)>>>,
    _capture: Capture,
}

impl Heard {
    fn monitor(pw: &PipeWire, sink: &str) -> Self {
        let mut config = CaptureConfig::new(Some(sink.to_string()), true, 16_000);
        config.remote = Some(pw.socket());
        let (capture, frames) = Capture::start(config).expect("capture starts");
        let blocks = Arc::new(Mutex::new(Vec::new()));
        let sink_blocks = blocks.clone();
        std::thread::spawn(move || {
            while let Ok(block) = frames.recv() {
                let peak = block.iter().fold(0.0f32, |m, s| m.max(s.abs()));
                sink_blocks.lock().unwrap().push((Instant::now(), peak));
            }
        });
        Self {
            blocks,
            _capture: capture,
        }
    }

    fn loud_since(&self, since: Instant) -> usize {
        self.blocks
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, p)| *t >= since && *p > 0.1)
            .count()
    }

    fn blocks_since(&self, since: Instant) -> usize {
        self.blocks
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| *t > since)
            .count()
    }

    fn peak_since(&self, since: Instant) -> f32 {
        self.blocks
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| *t >= since)
            .fold(0.0, |m, (_, p)| m.max(*p))
    }

    /// The first quiet block after `since`.
    fn silent_after(&self, since: Instant) -> Option<Instant> {
        self.blocks
            .lock()
            .unwrap()
            .iter()
            .find(|(t, p)| *t >= since && *p < 0.01)
            .map(|(t, _)| *t)
    }

    fn wait_for(&self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn next_event(events: &Receiver<PlaybackEvent>, wanted: impl Fn(&PlaybackEvent) -> bool) -> PlaybackEvent {
    loop {
        let event = events
            .recv_timeout(Duration::from_secs(20))
            .expect("a playback event");
        if wanted(&event) {
            return event;
        }
    }
}

#[test]
fn playback_reaches_only_its_sink_stops_at_once_and_follows_a_returning_sink() {
    let pw = PipeWire::start(&runtime_dir("edges"), &["kitchen", "living"]);
    let kitchen = Heard::monitor(&pw, "kitchen");
    let living = Heard::monitor(&pw, "living");
    let (playback, events) = Playback::start("kitchen", RATE, Some(pw.socket())).expect("playback starts");

    let started = Instant::now();
    playback.play(&tone(1.0));
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    kitchen.wait_for("the tone at the kitchen monitor", |h| h.loud_since(started) >= 10);
    assert!(
        living.peak_since(started) < 0.001,
        "the living room heard {}",
        living.peak_since(started)
    );

    // Barge-in: stop drops the rest; the monitor goes quiet within a few blocks.
    playback.play(&tone(5.0));
    let playing = Instant::now();
    kitchen.wait_for("the long tone to start", |h| h.loud_since(playing) >= 3);

    // A wake word not yet confirmed: pause silences as stop does but keeps
    // the rest, which resume plays on.
    let paused = Instant::now();
    playback.pause();
    kitchen.wait_for("silence after pause", |h| h.silent_after(paused).is_some());
    let silent = kitchen.silent_after(paused).unwrap_or(paused);
    let kept = playback.queued_s();
    kitchen.wait_for("more silence while paused", |h| h.blocks_since(silent) >= 10);
    assert!(kitchen.loud_since(silent) == 0, "paused playback was heard");
    assert!(
        (playback.queued_s() - kept).abs() < 1e-9 && kept > 3.0,
        "the queue changed while paused: {kept} s, then {} s",
        playback.queued_s()
    );
    let resumed = Instant::now();
    playback.resume();
    kitchen.wait_for("the tone again after resume", |h| h.loud_since(resumed) >= 3);
    println!(
        "pause → silence at the monitor: {} ms",
        (silent - paused).as_millis()
    );

    let stop = Instant::now();
    let dropped = playback.stop();
    assert!(dropped > 3.0, "dropped only {dropped} s");
    kitchen.wait_for("silence after stop", |h| h.silent_after(stop).is_some());
    let latency = kitchen.silent_after(stop).map(|t| t - stop).unwrap_or_default();
    assert!(latency < Duration::from_millis(500), "stop took {latency:?}");
    println!("stop → silence at the monitor: {} ms", latency.as_millis());

    // The sink vanishes mid-answer: the rest is dropped and reported.
    playback.play(&tone(5.0));
    let playing = Instant::now();
    kitchen.wait_for("the tone before unplugging", |h| h.loud_since(playing) >= 3);
    pw.remove_node("kitchen");
    match next_event(&events, |e| matches!(e, PlaybackEvent::SinkLost { .. })) {
        PlaybackEvent::SinkLost { sink, dropped_s } => {
            assert_eq!(sink, "kitchen");
            assert!(dropped_s > 1.0, "dropped {dropped_s} s");
        }
        other => panic!("{other:?}"),
    }
    // It comes back: the next answer plays there again, and the capture re-attached too.
    pw.create_sink("kitchen");
    next_event(&events, |e| matches!(e, PlaybackEvent::SinkBack { .. }));
    let back = Instant::now();
    playback.play(&tone(1.0));
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    kitchen.wait_for("the tone on the returned sink", |h| h.loud_since(back) >= 10);
    assert!(
        living.peak_since(started) < 0.001,
        "the living room heard something"
    );

    // A profile switch: the next answer goes to the living room only.
    playback.set_sink("living");
    let switched = Instant::now();
    playback.play(&tone(1.0));
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    living.wait_for("the tone in the living room", |h| h.loud_since(switched) >= 10);
}

#[test]
fn both_edges_come_back_after_pipewire_restarts() {
    let mut pw = PipeWire::start(&runtime_dir("restart"), &["kitchen", "living"]);
    let kitchen = Heard::monitor(&pw, "kitchen");
    let living = Heard::monitor(&pw, "living");
    let (playback, events) = Playback::start("kitchen", RATE, Some(pw.socket())).expect("playback starts");
    let started = Instant::now();
    playback.play(&tone(1.0));
    kitchen.wait_for("the tone before the restart", |h| h.loud_since(started) >= 10);

    // PipeWire dies mid-answer (as a crash or `systemctl restart` would):
    // the answer is dropped and reported, nothing in this process panics.
    playback.play(&tone(10.0));
    let playing = Instant::now();
    kitchen.wait_for("the long tone", |h| h.loud_since(playing) >= 3);
    pw.restart_pipewire(&["living", "kitchen"]);
    match next_event(&events, |e| matches!(e, PlaybackEvent::SinkLost { .. })) {
        PlaybackEvent::SinkLost { sink, dropped_s } => {
            assert_eq!(sink, "kitchen");
            assert!(dropped_s > 1.0, "dropped only {dropped_s} s");
        }
        other => panic!("{other:?}"),
    }
    next_event(&events, |e| matches!(e, PlaybackEvent::SinkBack { .. }));

    // Both edges re-attached on their own: the next answer plays on the
    // kitchen sink, the captures hear it there and only there.
    let back = Instant::now();
    playback.play(&tone(1.0));
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    kitchen.wait_for("the tone after the restart", |h| h.loud_since(back) >= 10);
    assert!(
        living.peak_since(back) < 0.001,
        "the living room heard {} after the restart",
        living.peak_since(back)
    );

    // The sink vanishes, then PipeWire restarts before it is back: the loss
    // is reported once, when the sink went, not again with the restart.
    pw.remove_node("kitchen");
    next_event(&events, |e| matches!(e, PlaybackEvent::SinkLost { .. }));
    pw.restart_pipewire(&["living"]);
    pw.create_sink("kitchen");
    let mut before_return = Vec::new();
    loop {
        let event = events
            .recv_timeout(Duration::from_secs(20))
            .expect("a playback event");
        if matches!(event, PlaybackEvent::SinkBack { .. }) {
            break;
        }
        before_return.push(event);
    }
    assert!(
        !before_return
            .iter()
            .any(|e| matches!(e, PlaybackEvent::SinkLost { .. })),
        "the vanished sink was reported lost again: {before_return:?}"
    );
}

/// The loudest of the newest blocks: the level now, not a maximum over time.
fn level_now(heard: &Heard) -> f32 {
    let blocks = heard.blocks.lock().unwrap();
    blocks.iter().rev().take(3).fold(0.0, |m, (_, p)| m.max(*p))
}

#[test]
fn other_streams_are_ducked_while_hauski_speaks_and_restored_after() {
    let pw = PipeWire::start(&runtime_dir("duck"), &["kitchen", "living"]);
    let living = Heard::monitor(&pw, "living");
    // Music in the living room, from another program.
    let music_file = runtime_dir("duck-music").join("music.wav");
    hauski_audio::write_wav(&music_file, &tone(60.0), RATE).expect("music written");
    let music = pw.play_in_background("living", &music_file);
    living.wait_for("the music", |h| level_now(h) > 0.4);
    let full = level_now(&living);

    // HausKI answers in the kitchen with ducking on: the music drops while
    // it speaks and comes back when it is done.
    let (playback, events) = Playback::start("kitchen", RATE, Some(pw.socket())).expect("playback starts");
    playback.set_ducking(Some(0.2));
    playback.play(&tone(3.0));
    living.wait_for("the music to duck", |h| level_now(h) < full * 0.3);
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    living.wait_for("the music to come back", |h| level_now(h) > full * 0.9);

    // Ducking off (a profile without `duck_others`): the music stays up.
    playback.set_ducking(None);
    let speaking = Instant::now();
    playback.play(&tone(1.0));
    next_event(&events, |e| *e == PlaybackEvent::Drained);
    let quietest = living
        .blocks
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t >= speaking)
        .fold(f32::MAX, |m, (_, p)| m.min(*p));
    assert!(
        quietest > full * 0.9,
        "the music dropped to {quietest} without ducking"
    );
    drop(music);
}
