//! Capture: a PipeWire input stream → a bounded queue that the realtime side
//! never blocks on (a full queue drops the block and counts an overrun) → a
//! resampler thread → 16 kHz mono blocks for the voice loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use pipewire as pw;
use pw::properties::properties;
use pw::spa;

use super::session::{NodeWatch, Session};
use super::stream_format::mono_f32;
use super::stream_resampler::StreamResampler;
use crate::AudioError;

/// Blocks (about 10–20 ms each) the queue holds before it drops: ~2 s.
const QUEUE_BLOCKS: usize = 128;

#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Node name to capture from; `None` follows the default source.
    pub target: Option<String>,
    /// Capture what a sink plays (its monitor) instead of a source.
    pub monitor: bool,
    /// Rate asked of PipeWire; resampled to `output_rate` here.
    pub capture_rate: u32,
    pub output_rate: u32,
    /// The PipeWire daemon's socket; `None` is the user's (tests run their own).
    pub remote: Option<String>,
}

impl CaptureConfig {
    pub fn new(target: Option<String>, monitor: bool, output_rate: u32) -> Self {
        Self {
            target,
            monitor,
            capture_rate: 48_000,
            output_rate,
            remote: None,
        }
    }
}

/// A running capture. Dropping it stops the threads.
pub struct Capture {
    overruns: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    quit: pw::channel::Sender<()>,
    threads: Vec<JoinHandle<()>>,
}

impl Capture {
    /// Starts capturing; the receiver yields mono blocks at the output rate, in order.
    pub fn start(config: CaptureConfig) -> Result<(Self, Receiver<Vec<f32>>), AudioError> {
        super::init();
        let (raw_tx, raw_rx) = sync_channel::<Vec<f32>>(QUEUE_BLOCKS);
        let (out_tx, frames) = sync_channel::<Vec<f32>>(QUEUE_BLOCKS);
        let overruns = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (quit, quit_rx) = pw::channel::channel::<()>();
        let mut resampler = StreamResampler::new(config.capture_rate, config.output_rate)?;
        let resample_thread = std::thread::Builder::new()
            .name("capture-resample".into())
            .spawn(move || {
                while let Ok(block) = raw_rx.recv() {
                    let _span = tracing::trace_span!("resample").entered();
                    match resampler.push(&block) {
                        Ok(out) if !out.is_empty() => {
                            if out_tx.send(out).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "resampling the capture failed"),
                    }
                }
            })
            .map_err(|e| AudioError::Device(e.to_string()))?;
        let pw_overruns = overruns.clone();
        let pw_stop = stop.clone();
        let pw_thread = std::thread::Builder::new()
            .name("capture-pw".into())
            .spawn(move || run(&config, &raw_tx, &pw_overruns, &pw_stop, quit_rx))
            .map_err(|e| AudioError::Device(e.to_string()))?;
        Ok((
            Self {
                overruns,
                stop,
                quit,
                threads: vec![pw_thread, resample_thread],
            },
            frames,
        ))
    }

    /// Blocks dropped because the consumer fell behind.
    pub fn overruns(&self) -> u64 {
        self.overruns.load(Ordering::Relaxed)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.quit.send(());
        // The resampler thread ends when the PipeWire thread drops its sender
        // (or when the consumer drops the receiver).
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The PipeWire thread: connect, stream, and on a lost connection start over.
fn run(
    config: &CaptureConfig,
    raw_tx: &SyncSender<Vec<f32>>,
    overruns: &Arc<AtomicU64>,
    stop: &AtomicBool,
    quit_rx: pw::channel::Receiver<()>,
) {
    let mut quit_rx = Some(quit_rx);
    while !stop.load(Ordering::Relaxed) {
        match Session::connect(config.remote.as_deref()) {
            Ok(session) => {
                let receiver = quit_rx.take();
                let kept = stream_once(&session, config, raw_tx, overruns, receiver);
                quit_rx = kept;
            }
            Err(e) => tracing::warn!(error = %e, "capture: PipeWire is not reachable; retrying"),
        }
        if !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Streams until the main loop quits; hands the quit receiver back for the next session.
fn stream_once(
    session: &Session,
    config: &CaptureConfig,
    raw_tx: &SyncSender<Vec<f32>>,
    overruns: &Arc<AtomicU64>,
    quit_rx: Option<pw::channel::Receiver<()>>,
) -> Option<pw::channel::Receiver<()>> {
    let target = config.target.clone().unwrap_or_default();
    let mut props = properties! {
        *pw::keys::MEDIA_TYPE => "Audio",
        *pw::keys::MEDIA_CATEGORY => "Capture",
        *pw::keys::MEDIA_ROLE => "Communication",
        *pw::keys::NODE_NAME => "hauski-capture",
        *pw::keys::APP_NAME => "HausKI",
        // The end of speech is seen sooner with small blocks.
        *pw::keys::NODE_LATENCY => super::LOW_LATENCY,
    };
    if !target.is_empty() {
        props.insert(*pw::keys::TARGET_OBJECT, target.as_str());
        // Follow this node only: never be moved to another when it vanishes.
        props.insert(*pw::keys::NODE_DONT_RECONNECT, "true");
    }
    if config.monitor {
        props.insert(*pw::keys::STREAM_CAPTURE_SINK, "true");
    }
    let stream = match pw::stream::StreamRc::new(session.core.clone(), "hauski-capture", props) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "capture: cannot create the stream");
            return quit_rx;
        }
    };
    let sender = raw_tx.clone();
    let dropped = overruns.clone();
    let _listener = stream
        .add_local_listener_with_user_data(())
        .state_changed(|_, _, old, new| tracing::debug!(?old, ?new, "capture stream state"))
        .process(move |stream, _| {
            let Some(mut buffer) = stream.dequeue_buffer() else {
                return;
            };
            let datas = buffer.datas_mut();
            let Some(data) = datas.first_mut() else { return };
            let size = data.chunk().size() as usize;
            let Some(bytes) = data.data() else { return };
            let samples: Vec<f32> = bytes[..size.min(bytes.len())]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if samples.is_empty() {
                return;
            }
            // Never block PipeWire's thread: drop the block and count it.
            if let Err(TrySendError::Full(_)) = sender.try_send(samples) {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        })
        .register();
    let _listener = match _listener {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "capture: cannot listen to the stream");
            return quit_rx;
        }
    };
    let format = match mono_f32(config.capture_rate) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "capture: format");
            return quit_rx;
        }
    };
    let connect = {
        let stream = stream.clone();
        move || {
            let Some(pod) = spa::pod::Pod::from_bytes(&format) else {
                return;
            };
            let _ = stream.disconnect();
            let flags = pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS;
            if let Err(e) = stream.connect(spa::utils::Direction::Input, None, flags, &mut [pod]) {
                tracing::error!(error = %e, "capture: cannot connect the stream");
            }
        }
    };
    // The default source is there to connect to; a named one is connected
    // when the registry announces it (again, after it vanished or after a
    // PipeWire restart), never replaced by another.
    let _watch = if target.is_empty() {
        connect();
        None
    } else {
        let name = target.clone();
        let attached = std::rc::Rc::new(std::cell::Cell::new(false));
        let attached_too = attached.clone();
        match NodeWatch::start(
            &session.core,
            target.clone(),
            move || {
                if !attached.replace(true) {
                    tracing::info!(node = %name, "capture source present; attaching");
                    connect();
                }
            },
            move || {
                tracing::warn!("capture source vanished; waiting for it to come back");
                attached_too.set(false);
            },
        ) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "capture: cannot watch the source");
                None
            }
        }
    };
    let mainloop = session.mainloop.clone();
    let receiver = quit_rx?;
    let attached = receiver.attach(session.mainloop.loop_(), move |()| mainloop.quit());
    tracing::info!(target = %target, monitor = config.monitor, "capturing");
    session.mainloop.run();
    Some(attached.deattach())
}
