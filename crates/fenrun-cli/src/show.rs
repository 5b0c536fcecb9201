//! What a person at a terminal sees while a long command works: after about
//! a second, the phase it is in, and while it settles a bar of the orders
//! settled. Nothing when stderr is not a terminal (a pipe, a log, CI) or
//! with `--quiet`; the output files and stdout never change.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Work shorter than this shows nothing.
const QUIET_FOR: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);

/// The progress display of one command.
pub struct Show {
    live: Option<Live>,
}

struct Live {
    bar: ProgressBar,
    /// The settlement's counter while it settles.
    settling: Arc<Mutex<Option<fenrun::SettleProgress>>>,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Show {
    /// A display on stderr if it is a terminal and `quiet` is not set.
    pub fn new(quiet: bool) -> Show {
        if quiet || !std::io::stderr().is_terminal() {
            return Show { live: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let settling = Arc::new(Mutex::new(None::<fenrun::SettleProgress>));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, settling, stop) = (bar.clone(), Arc::clone(&settling), Arc::clone(&stop));
            std::thread::spawn(move || tick(&bar, &settling, &stop))
        };
        Show {
            live: Some(Live {
                bar,
                settling,
                stop,
                ticker: Some(ticker),
            }),
        }
    }

    /// The phase now under way ("reading orders.parquet").
    pub fn phase(&self, what: &str) {
        if let Some(live) = &self.live {
            live.set_settling(None);
            live.bar.set_style(spinner());
            live.bar.set_message(what.to_owned());
        }
    }

    /// Settling: a bar of `progress`'s orders, until the next phase.
    pub fn settling(&self, progress: &fenrun::SettleProgress) {
        if let Some(live) = &self.live {
            live.bar.set_style(bar());
            live.bar.set_message("settling");
            live.set_settling(Some(progress.clone()));
        }
    }
}

impl Show {
    /// Stop and clear the display, before the command prints its result.
    pub fn done(&mut self) {
        if let Some(live) = self.live.take() {
            live.close();
        }
    }
}

impl Live {
    fn close(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }

    fn set_settling(&self, progress: Option<fenrun::SettleProgress>) {
        *self.settling.lock().unwrap_or_else(PoisonError::into_inner) = progress;
    }
}

impl Drop for Show {
    fn drop(&mut self) {
        self.done();
    }
}

/// The display's own thread: shows the bar once the command has run for
/// [`QUIET_FOR`], then redraws it every [`TICK`] with the settlement's count.
fn tick(bar: &ProgressBar, settling: &Mutex<Option<fenrun::SettleProgress>>, stop: &AtomicBool) {
    let started = Instant::now();
    let mut shown = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if !shown && started.elapsed() >= QUIET_FOR {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        let progress = settling
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match progress {
            Some(p) => {
                bar.set_length(p.total());
                bar.set_position(p.settled());
            }
            None => bar.tick(),
        }
    }
}

fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar() -> ProgressStyle {
    // The bar takes what the line leaves, so that the line never wraps.
    ProgressStyle::with_template(
        "{msg} [{wide_bar}] {human_pos}/{human_len} orders {elapsed} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}
