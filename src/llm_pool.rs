//! The LLM behind the daemon: a few worker threads, each owning one llama.cpp
//! context (and so its own prompt cache), fed from a bounded queue.
//!
//! Why threads and not `spawn_blocking`: a context is tens of MB of KV cache
//! and warm prefixes; making one per request would throw the prompt cache
//! away. A full queue is refused at once (the API turns it into 429) instead
//! of letting requests pile up behind a 2-core box.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use hauski_brain::{BrainError, ChatMessage, GenerationParams, GenerationStats, LanguageModel};
use tokio::sync::mpsc;

/// What a worker reports while it answers one job.
#[derive(Debug)]
pub enum GenerationEvent {
    Text(String),
    Done(Result<GenerationStats, BrainError>),
}

/// A job's handle for the caller: the events, and a switch that cancels it.
pub struct Generation {
    pub events: mpsc::Receiver<GenerationEvent>,
    cancel: Arc<AtomicBool>,
}

impl Generation {
    /// Stops generation at the next token (timeouts, barge-in).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// A generation whose events a test sends, and whether it was cancelled.
    #[cfg(test)]
    pub(crate) fn fed_by_test() -> (Self, mpsc::Sender<GenerationEvent>, Arc<AtomicBool>) {
        let (events, receiver) = mpsc::channel(16);
        let cancel = Arc::new(AtomicBool::new(false));
        let generation = Self {
            events: receiver,
            cancel: cancel.clone(),
        };
        (generation, events, cancel)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("all {workers} generation slots are busy and the queue of {queue} is full; retry shortly")]
    Busy { workers: usize, queue: usize },
    #[error("the LLM workers have stopped")]
    Stopped,
}

struct Job {
    messages: Vec<ChatMessage>,
    params: GenerationParams,
    events: mpsc::Sender<GenerationEvent>,
    cancel: Arc<AtomicBool>,
}

/// Hears of every finished generation, including those whose caller left
/// (metrics count tokens and cancellations there).
pub type OnFinished = Arc<dyn Fn(&GenerationStats) + Send + Sync>;

pub struct LlmPool {
    model_id: String,
    jobs: SyncSender<Job>,
    workers: usize,
    queue: usize,
    load: Arc<Load>,
}

/// Jobs queued and jobs being generated, for `/metrics` and `hauski top`.
#[derive(Debug, Default)]
struct Load {
    waiting: AtomicUsize,
    busy: AtomicUsize,
}

impl LlmPool {
    /// Starts `workers` threads over `model`. The model lives as long as the
    /// process: a daemon loads it once, and contexts borrow it.
    pub fn start(
        model: LanguageModel,
        model_id: String,
        workers: usize,
        queue: usize,
        on_finished: OnFinished,
    ) -> Result<Self, BrainError> {
        let model: &'static LanguageModel = Box::leak(Box::new(model));
        let (jobs, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = workers.max(1);
        let load = Arc::new(Load::default());
        for index in 0..workers {
            // Contexts are made here, so a failure shows at start-up.
            let conversation = model.conversation()?;
            let receiver = receiver.clone();
            let on_finished = on_finished.clone();
            let load = load.clone();
            std::thread::Builder::new()
                .name(format!("llm-{index}"))
                .spawn(move || work(conversation, &receiver, &*on_finished, &load))
                .map_err(|e| BrainError::engine("starting an LLM worker", e))?;
        }
        Ok(Self {
            model_id,
            jobs,
            workers,
            queue,
            load,
        })
    }

    /// Chats waiting for a worker.
    pub fn waiting(&self) -> usize {
        self.load.waiting.load(Ordering::Relaxed)
    }

    /// Chats being generated now.
    pub fn busy(&self) -> usize {
        self.load.busy.load(Ordering::Relaxed)
    }

    /// The models.yml id of the loaded model.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Queues a chat; refused at once when every worker is busy and the queue is full.
    pub fn submit(
        &self,
        messages: Vec<ChatMessage>,
        params: GenerationParams,
    ) -> Result<Generation, SubmitError> {
        // Small: a reader that stops reading (a stalled client) pauses its
        // generation instead of buffering the whole answer.
        let (events, receiver) = mpsc::channel(16);
        let cancel = Arc::new(AtomicBool::new(false));
        let job = Job {
            messages,
            params,
            events,
            cancel: cancel.clone(),
        };
        // Counted before it is sent, so a worker's decrement never comes first.
        self.load.waiting.fetch_add(1, Ordering::Relaxed);
        let sent = self.jobs.try_send(job);
        if sent.is_err() {
            self.load.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        match sent {
            Ok(()) => Ok(Generation {
                events: receiver,
                cancel,
            }),
            Err(TrySendError::Full(_)) => Err(SubmitError::Busy {
                workers: self.workers,
                queue: self.queue,
            }),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }
}

fn work(
    mut conversation: hauski_brain::Conversation<'static>,
    receiver: &Mutex<Receiver<Job>>,
    on_finished: &(dyn Fn(&GenerationStats) + Send + Sync),
    load: &Load,
) {
    loop {
        let job = {
            let receiver = receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        load.waiting.fetch_sub(1, Ordering::Relaxed);
        load.busy.fetch_add(1, Ordering::Relaxed);
        let _span = tracing::info_span!("llm_job", messages = job.messages.len()).entered();
        let result = conversation.generate_chat(&job.messages, &job.params, |piece| {
            if job.cancel.load(Ordering::Relaxed) {
                return ControlFlow::Break(());
            }
            // A dropped receiver means the client is gone: stop generating.
            match job.events.blocking_send(GenerationEvent::Text(piece.to_string())) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            }
        });
        if let Ok(stats) = &result {
            if stats.finish == hauski_brain::FinishReason::Cancelled {
                tracing::info!(tokens = stats.completion_tokens, "generation cancelled");
            }
            on_finished(stats);
        }
        load.busy.fetch_sub(1, Ordering::Relaxed);
        let _ = job.events.blocking_send(GenerationEvent::Done(result));
    }
}
