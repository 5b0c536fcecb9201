//! What a person at a terminal sees while a long command works: after about
//! a second, the phase it is in, and a bar of the rows read and validated
//! while it reads tables, of the orders settled while it settles. Nothing
//! when stderr is not a terminal (a pipe, a log, CI) or with `--quiet`; the
//! output files and stdout never change.

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
    /// The counter of the phase under way, if it counts. The ticker redraws
    /// under this lock, and a phase changes its words, style and counter
    /// under it, so that no frame shows one phase's words with another's count.
    counter: Arc<Mutex<Option<fenrun::SettleProgress>>>,
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
        let counter = Arc::new(Mutex::new(None::<fenrun::SettleProgress>));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, counter, stop) = (bar.clone(), Arc::clone(&counter), Arc::clone(&stop));
            std::thread::spawn(move || tick(&bar, &counter, &stop))
        };
        Show {
            live: Some(Live {
                bar,
                counter,
                stop,
                ticker: Some(ticker),
            }),
        }
    }

    /// The phase now under way ("evaluating ranks"), shown with a spinner.
    pub fn phase(&self, what: &str) {
        if let Some(live) = &self.live {
            live.switch(what, spinner(), None);
        }
    }

    /// A phase that counts its work in `progress` (`unit`: "orders",
    /// "rows"), shown as a bar.
    pub fn counting(&self, what: &str, unit: &str, progress: &fenrun::SettleProgress) {
        if let Some(live) = &self.live {
            live.switch(what, bar(unit), Some(progress.clone()));
        }
    }

    /// Stop and clear the display, before the command prints its result.
    pub fn done(&mut self) {
        if let Some(live) = self.live.take() {
            live.close();
        }
    }
}

impl Live {
    fn switch(&self, what: &str, style: ProgressStyle, progress: Option<fenrun::SettleProgress>) {
        let mut counter = self.counter.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = &progress {
            self.bar.set_length(p.total());
            self.bar.set_position(p.settled());
        }
        self.bar.set_style(style);
        self.bar.set_message(what.to_owned());
        *counter = progress;
    }

    fn close(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for Show {
    fn drop(&mut self) {
        self.done();
    }
}

/// The display's own thread: shows the bar once the command has run for
/// [`QUIET_FOR`], then redraws it every [`TICK`] with the phase's count.
fn tick(bar: &ProgressBar, counter: &Mutex<Option<fenrun::SettleProgress>>, stop: &AtomicBool) {
    let started = Instant::now();
    let mut shown = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if !shown && started.elapsed() >= QUIET_FOR {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
        let counter = counter.lock().unwrap_or_else(PoisonError::into_inner);
        match &*counter {
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

fn bar(unit: &str) -> ProgressStyle {
    // The bar takes what the line leaves, so that the line never wraps.
    ProgressStyle::with_template(&format!(
        "{{msg}} [{{wide_bar}}] {{human_pos}}/{{human_len}} {unit} {{elapsed}} eta {{eta}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}
