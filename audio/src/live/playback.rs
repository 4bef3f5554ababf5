//! Playback: a queue of samples that a PipeWire output stream drains into
//! the sink a profile names. Silence fills the gaps; `stop` empties the queue
//! at once (barge-in); the sink can be switched while running.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pipewire as pw;
use pw::properties::properties;
use pw::spa;

use super::duck::Ducker;
use super::session::{NodeWatch, Session};
use super::stream_format::mono_f32;
use crate::AudioError;

/// What the voice loop hears back from playback.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaybackEvent {
    /// The queue ran empty: everything handed over has been played.
    Drained,
    /// The sink disappeared; this much queued audio was dropped.
    SinkLost {
        sink: String,
        dropped_s: f64,
    },
    SinkBack {
        sink: String,
    },
}

struct Shared {
    queue: Mutex<VecDeque<f32>>,
    /// Set from `set_sink` until the new stream exists: the old one must not
    /// play what was queued for the new sink.
    retargeting: AtomicBool,
    /// Set by `pause` until `resume` or `stop`: silence plays, the queue waits.
    paused: AtomicBool,
    drained: Condvar,
    events: Mutex<Sender<PlaybackEvent>>,
    /// What other streams are turned down to while HausKI speaks: f32 bits,
    /// `NO_DUCKING` for none.
    duck_level: AtomicU32,
}

const NO_DUCKING: u32 = u32::MAX;
/// The voice's node name; the ducker leaves it alone.
const NODE_NAME: &str = "hauski-voice";

impl Shared {
    fn event(&self, event: PlaybackEvent) {
        let _ = self.events.lock().unwrap_or_else(|p| p.into_inner()).send(event);
    }

    fn duck_level(&self) -> Option<f32> {
        match self.duck_level.load(Ordering::Relaxed) {
            NO_DUCKING => None,
            bits => Some(f32::from_bits(bits)),
        }
    }
}

enum Control {
    Retarget(String),
    Quit,
}

pub struct Playback {
    shared: Arc<Shared>,
    rate: u32,
    /// The sink asked for last (`set_sink`), so asking again costs nothing.
    target: Mutex<String>,
    control: pw::channel::Sender<Control>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Playback {
    /// Plays f32 mono at `rate` to the sink node named `sink`.
    /// `remote` is the PipeWire daemon's socket; `None` is the user's.
    pub fn start(
        sink: &str,
        rate: u32,
        remote: Option<String>,
    ) -> Result<(Self, Receiver<PlaybackEvent>), AudioError> {
        super::init();
        let (events_tx, events) = channel();
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            retargeting: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            drained: Condvar::new(),
            events: Mutex::new(events_tx),
            duck_level: AtomicU32::new(NO_DUCKING),
        });
        let (control, control_rx) = pw::channel::channel::<Control>();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_shared = shared.clone();
        let thread_stop = stop.clone();
        let target = Mutex::new(sink.to_string());
        let sink = sink.to_string();
        let thread = std::thread::Builder::new()
            .name("playback-pw".into())
            .spawn(move || {
                run(
                    sink,
                    rate,
                    remote.as_deref(),
                    &thread_shared,
                    &thread_stop,
                    control_rx,
                )
            })
            .map_err(|e| AudioError::Device(e.to_string()))?;
        Ok((
            Self {
                shared,
                rate,
                target,
                control,
                stop,
                thread: Some(thread),
            },
            events,
        ))
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Queues samples after whatever is still playing.
    pub fn play(&self, samples: &[f32]) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(samples.iter().copied());
    }

    /// Drops everything not yet played; returns how many seconds that was.
    pub fn stop(&self) -> f64 {
        let mut queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = queue.len();
        queue.clear();
        self.shared.paused.store(false, Ordering::SeqCst);
        self.shared.drained.notify_all();
        dropped as f64 / f64::from(self.rate)
    }

    /// Plays silence from the next quantum on and keeps what is queued, until
    /// [`Playback::resume`] or [`Playback::stop`]. A wake word heard but not
    /// yet confirmed holds the answer this way: a barge-in is silent at the
    /// sink a chunk sooner, and one that is not confirmed costs a short pause.
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// Plays on what [`Playback::pause`] held.
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// Seconds of audio queued and not yet handed to PipeWire.
    pub fn queued_s(&self) -> f64 {
        self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()).len() as f64 / f64::from(self.rate)
    }

    /// Blocks until the queue is empty or `timeout` passes; whether it emptied.
    pub fn wait_drained(&self, timeout: Duration) -> bool {
        let queue = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let (queue, _) = self
            .shared
            .drained
            .wait_timeout_while(queue, timeout, |q| !q.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        queue.is_empty()
    }

    /// While HausKI speaks, other programs' playback streams are turned down
    /// to `level` (0–1); `None` leaves them alone (a profile's `duck_others`).
    pub fn set_ducking(&self, level: Option<f32>) {
        let bits = level.map_or(NO_DUCKING, |l| l.clamp(0.0, 1.0).to_bits());
        self.shared.duck_level.store(bits, Ordering::Relaxed);
    }

    /// Plays to `sink` from now on (a profile switch); nothing changes when
    /// it is the sink asked for already.
    pub fn set_sink(&self, sink: &str) {
        let mut target = self.target.lock().unwrap_or_else(|p| p.into_inner());
        if *target == sink {
            return;
        }
        *target = sink.to_string();
        self.shared.retargeting.store(true, Ordering::SeqCst);
        let _ = self.control.send(Control::Retarget(sink.to_string()));
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.control.send(Control::Quit);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    mut sink: String,
    rate: u32,
    remote: Option<&str>,
    shared: &Arc<Shared>,
    stop: &AtomicBool,
    control: pw::channel::Receiver<Control>,
) {
    let mut control = Some(control);
    // Whether the sink went away (vanished, or PipeWire itself went): its
    // return is then reported.
    let mut lost = false;
    while !stop.load(Ordering::Relaxed) {
        match Session::connect(remote) {
            Ok(session) => {
                let (kept, end) = play_session(&session, &sink, rate, shared, control.take(), lost);
                control = kept;
                match end {
                    SessionEnd::Quit => return,
                    // A new sink: reconnect at once.
                    SessionEnd::Retarget(next) => {
                        sink = next;
                        lost = false;
                        continue;
                    }
                    SessionEnd::Lost { attached } => {
                        // PipeWire went away (restarted, crashed): like a
                        // vanished sink, the rest of this answer is dropped.
                        // A sink that had vanished before was reported then.
                        lost = true;
                        if attached {
                            sink_lost(shared, &sink, rate);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "playback: PipeWire is not reachable; retrying"),
        }
        if !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Why a session's main loop ended.
enum SessionEnd {
    Quit,
    Retarget(String),
    /// The connection to PipeWire broke; `attached`: the stream to the sink
    /// was open until then.
    Lost {
        attached: bool,
    },
}

/// The stream to one sink; dropping it disconnects.
struct SinkStream {
    _stream: pw::stream::StreamRc,
    _listener: pw::stream::StreamListener<()>,
}

/// Opens the stream to `target`, or with `None` to PipeWire's default sink
/// (following it when the default changes).
fn open_stream(
    core: &pw::core::CoreRc,
    target: Option<&str>,
    rate: u32,
    shared: &Arc<Shared>,
    ducker: Option<std::rc::Rc<Ducker>>,
) -> Result<SinkStream, String> {
    let mut props = properties! {
        *pw::keys::MEDIA_TYPE => "Audio",
        *pw::keys::MEDIA_CATEGORY => "Playback",
        *pw::keys::MEDIA_ROLE => "Communication",
        *pw::keys::NODE_NAME => NODE_NAME,
        *pw::keys::APP_NAME => "HausKI",
        // A spoken answer should start (and stop, on barge-in) within a
        // few milliseconds of being queued, not a default quantum later.
        *pw::keys::NODE_LATENCY => super::LOW_LATENCY,
    };
    if let Some(sink) = target {
        props.insert(*pw::keys::TARGET_OBJECT, sink);
        // Play to this sink only: when it vanishes, never to another
        // behind our back (the session decides what plays instead).
        props.insert(*pw::keys::NODE_DONT_RECONNECT, "true");
    }
    let sink = target.unwrap_or(DEFAULT_SINK);
    let stream = pw::stream::StreamRc::new(core.clone(), "hauski-voice", props).map_err(|e| e.to_string())?;
    let fill = shared.clone();
    let listener = stream
        .add_local_listener_with_user_data(())
        .process(move |stream, _| {
            let Some(mut buffer) = stream.dequeue_buffer() else {
                return;
            };
            let requested = buffer.requested() as usize;
            let datas = buffer.datas_mut();
            let Some(data) = datas.first_mut() else { return };
            let Some(bytes) = data.data() else { return };
            let capacity = bytes.len() / 4;
            let frames = if requested > 0 {
                requested.min(capacity)
            } else {
                capacity
            };
            let mut queue = fill.queue.lock().unwrap_or_else(|p| p.into_inner());
            let had_audio = !queue.is_empty();
            let retargeting = fill.retargeting.load(Ordering::SeqCst);
            let hold = retargeting || fill.paused.load(Ordering::SeqCst);
            for frame in bytes[..frames * 4].chunks_exact_mut(4) {
                let sample = if hold {
                    0.0
                } else {
                    queue.pop_front().unwrap_or(0.0)
                };
                frame.copy_from_slice(&sample.to_le_bytes());
            }
            let now_empty = queue.is_empty();
            drop(queue);
            let chunk = data.chunk_mut();
            *chunk.offset_mut() = 0;
            *chunk.stride_mut() = 4;
            *chunk.size_mut() = (frames * 4) as u32;
            if had_audio && now_empty && !hold {
                fill.drained.notify_all();
                fill.event(PlaybackEvent::Drained);
            }
            // This callback runs on the main loop's thread (no RT_PROCESS),
            // where PipeWire proxies may be used.
            if let Some(ducker) = &ducker {
                // A pause is too short to let other streams up for.
                ducker.set(if had_audio && !retargeting {
                    fill.duck_level()
                } else {
                    None
                });
            }
        })
        .register()
        .map_err(|e| e.to_string())?;
    let format = mono_f32(rate).map_err(|e| e.to_string())?;
    let pod = spa::pod::Pod::from_bytes(&format).ok_or("format pod")?;
    let flags = pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS;
    stream
        .connect(spa::utils::Direction::Output, None, flags, &mut [pod])
        .map_err(|e| e.to_string())?;
    tracing::info!(%sink, "playing to sink");
    shared.retargeting.store(false, Ordering::SeqCst);
    Ok(SinkStream {
        _stream: stream,
        _listener: listener,
    })
}

/// Opens the playback stream to a named sink, or `None`: the default one.
type OpenStream = std::rc::Rc<dyn Fn(Option<&str>)>;

/// The profile value that means PipeWire's default sink.
pub const DEFAULT_SINK: &str = "default";

/// After the registry's first read, plays to the default sink if `sink` was
/// not among the nodes announced; the returned listener must be kept.
fn fall_back_if_absent(
    session: &Session,
    sink: &str,
    attached: std::rc::Rc<std::cell::Cell<bool>>,
    open: OpenStream,
) -> Option<pw::core::Listener> {
    let pending = session
        .core
        .sync(0)
        .map_err(|e| tracing::warn!(error = %e, "playback: cannot read the registry"))
        .ok()?;
    let sink = sink.to_string();
    let listener = session
        .core
        .add_listener_local()
        .done(move |id, seq| {
            if id == pw::core::PW_ID_CORE && seq == pending && !attached.get() {
                tracing::warn!(%sink, "the profile's sink does not exist here; playing to the default sink until it appears (`hauski audio sinks` lists the sinks)");
                open(None);
            }
        })
        .register();
    Some(listener)
}

/// Drops what is queued for a sink that is gone and reports it.
fn sink_lost(shared: &Shared, sink: &str, rate: u32) {
    let mut queue = shared.queue.lock().unwrap_or_else(|p| p.into_inner());
    let dropped_s = queue.len() as f64 / f64::from(rate);
    queue.clear();
    drop(queue);
    shared.drained.notify_all();
    tracing::warn!(%sink, dropped_s, "sink gone; the rest of this answer is dropped");
    shared.event(PlaybackEvent::SinkLost {
        sink: sink.to_string(),
        dropped_s,
    });
}

/// Plays to `sink` until told to stop, to retarget, or the connection breaks.
/// `default` is PipeWire's default sink. A named sink's stream opens when
/// the registry announces it; one that is not there once the registry has
/// been read (a profile naming a sink this machine lacks), or that vanishes,
/// is replaced by the default sink (said once in the log) until it appears,
/// so answers are never silent. When it vanishes, queued audio is dropped.
fn play_session(
    session: &Session,
    sink: &str,
    rate: u32,
    shared: &Arc<Shared>,
    control: Option<pw::channel::Receiver<Control>>,
    lost_before: bool,
) -> (Option<pw::channel::Receiver<Control>>, SessionEnd) {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    let stream: Rc<RefCell<Option<SinkStream>>> = Rc::new(RefCell::new(None));
    let ducker = Ducker::start(&session.core, NODE_NAME)
        .map_err(|e| tracing::warn!(error = %e, "playback: other streams will not be ducked"))
        .ok()
        .map(Rc::new);
    let open: OpenStream = {
        let stream = stream.clone();
        let shared = shared.clone();
        let core = session.core.clone();
        Rc::new(move |target: Option<&str>| {
            // The old stream goes first, so its node name is free.
            stream.borrow_mut().take();
            match open_stream(&core, target, rate, &shared, ducker.clone()) {
                Ok(s) => *stream.borrow_mut() = Some(s),
                Err(e) => {
                    tracing::error!(sink = target.unwrap_or(DEFAULT_SINK), error = %e, "playback: cannot open the stream")
                }
            }
        })
    };

    // `attached`: a stream to the named sink is open; `lost`: it went away before.
    let attached = Rc::new(Cell::new(false));
    let lost = Rc::new(Cell::new(lost_before));
    let mut _watch = None;
    let mut _registry_read = None;
    if sink == DEFAULT_SINK {
        open(None);
    } else {
        let (attached_a, attached_b) = (attached.clone(), attached.clone());
        let (lost_a, lost_b) = (lost.clone(), lost.clone());
        let shared_a = shared.clone();
        let shared_b = shared.clone();
        let (name_a, name_b) = (sink.to_string(), sink.to_string());
        let (open_a, open_b) = (open.clone(), open.clone());
        _watch = NodeWatch::start(
            &session.core,
            sink.to_string(),
            move || {
                if attached_a.replace(true) {
                    return;
                }
                open_a(Some(&name_a));
                if lost_a.replace(false) {
                    tracing::info!(sink = %name_a, "sink is back; playing to it again");
                    shared_a.event(PlaybackEvent::SinkBack { sink: name_a.clone() });
                }
            },
            move || {
                attached_b.set(false);
                lost_b.set(true);
                sink_lost(&shared_b, &name_b, rate);
                tracing::warn!(sink = %name_b, "playing to the default sink until it returns");
                open_b(None);
            },
        )
        .map_err(|e| tracing::warn!(error = %e, "playback: cannot watch the sink"))
        .ok();
        // Once the registry has announced everything there is (the core's
        // `done` for this sync), a sink not among it does not exist here.
        _registry_read = fall_back_if_absent(session, sink, attached.clone(), open.clone());
    }
    let Some(control) = control else {
        return (None, SessionEnd::Quit);
    };
    let end = Rc::new(RefCell::new(SessionEnd::Lost { attached: false }));
    let mainloop = session.mainloop.clone();
    let end_set = end.clone();
    let listening = control.attach(session.mainloop.loop_(), move |message| {
        *end_set.borrow_mut() = match message {
            Control::Quit => SessionEnd::Quit,
            Control::Retarget(sink) => SessionEnd::Retarget(sink),
        };
        mainloop.quit();
    });
    session.mainloop.run();
    stream.borrow_mut().take();
    let end = match end.replace(SessionEnd::Lost { attached: false }) {
        SessionEnd::Lost { .. } => SessionEnd::Lost {
            attached: attached.get(),
        },
        other => other,
    };
    (Some(listening.deattach()), end)
}
