//! How far a settlement has come: a counter the settlement adds to and
//! another thread (a progress bar, a binding's callback) reads.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// How far a settlement has come, readable from another thread while it
/// runs: the orders it will settle and those it has settled, counted in
/// steps of a few thousand (a counter the settlement only adds to; it never
/// waits on it). A CLI progress bar or a binding's callback polls it.
///
/// ```
/// # let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#)?;
/// # let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"},{"id":"o2","seller":"m1","amount":"20"}]}"#, &policy)?;
/// let engine = fenrun::Engine::new(&policy, batch)?;
/// let progress = fenrun::SettleProgress::new();
/// let watcher = progress.clone(); // another thread would poll this one
/// engine.settle_with(fenrun::SettleOptions::default().progress(progress))?;
/// assert_eq!((watcher.settled(), watcher.total()), (2, 2));
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SettleProgress(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    total: AtomicU64,
    settled: AtomicU64,
}

impl SettleProgress {
    /// A counter at zero, to hand to [`SettleOptions::progress`](crate::SettleOptions::progress).
    pub fn new() -> SettleProgress {
        SettleProgress::default()
    }

    /// The orders the settlement settles (0 until it starts).
    pub fn total(&self) -> u64 {
        self.0.total.load(Relaxed)
    }

    /// The orders settled so far; [`SettleProgress::total`] once it is done.
    pub fn settled(&self) -> u64 {
        self.0.settled.load(Relaxed)
    }

    /// Start counting to `total` from zero. The settlement does this itself;
    /// a reader of tables that shows its work with the same display does too.
    pub fn start(&self, total: u64) {
        self.0.total.store(total, Relaxed);
        self.0.settled.store(0, Relaxed);
    }

    /// `orders` (or rows, for a reader) more done.
    pub fn add(&self, orders: u64) {
        self.0.settled.fetch_add(orders, Relaxed);
    }
}

impl PartialEq for SettleProgress {
    /// The same counter.
    fn eq(&self, other: &SettleProgress) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SettleProgress {}

/// Orders settled by one thread, handed to a [`SettleProgress`] a few thousand at a
/// time and at the end.
pub(crate) struct Tick<'a> {
    progress: Option<&'a SettleProgress>,
    pending: u64,
}

impl<'a> Tick<'a> {
    const STEP: u64 = 4096;

    pub(crate) fn new(progress: Option<&'a SettleProgress>) -> Tick<'a> {
        Tick {
            progress,
            pending: 0,
        }
    }

    /// `orders` more settled.
    #[inline]
    pub(crate) fn add(&mut self, orders: u64) {
        self.pending += orders;
        if self.pending >= Self::STEP {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(p) = self.progress {
            p.add(self.pending);
        }
        self.pending = 0;
    }
}

impl Drop for Tick<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}
