//! `fenrun`: check policies, evaluate ranks, settle batches, explain payouts.
//!
//! Every failure prints `error[code]: path: message` on stderr and exits 1
//! (2 for a wrong command line; `fenrun lint` exits 3 when it finds an
//! error-level finding).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod gen_tables;
mod ledger;
mod show;

use clap::{Args, Parser, Subcommand, ValueEnum};
use fenrun::{Batch, Engine, Policy, Settlement};
use rust_decimal::Decimal;

#[derive(Parser)]
#[command(
    name = "fenrun",
    version,
    about = "Exact, explainable profit splits (分润) for community retail"
)]
struct Cli {
    /// Print the time of each phase (read, convert, validate, ranks, settle, write) on stderr.
    #[arg(long, global = true)]
    timings: bool,
    /// Show no progress (a terminal otherwise sees the phase, and a bar while
    /// settling, for work of more than about a second).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Phase timer for `--timings` (each lap prints the time since the
/// previous one) and the progress display.
struct Clock {
    on: bool,
    last: std::time::Instant,
    show: show::Show,
}

impl Clock {
    fn lap(&mut self, phase: &str) {
        if self.on {
            let now = std::time::Instant::now();
            eprintln!(
                "timing {phase:<10} {:>9.3} s",
                (now - self.last).as_secs_f64()
            );
            self.last = now;
        }
    }
}

/// Where the batch comes from: one JSON document, or tables (Parquet or CSV
/// files). A command that needs a batch refuses to run without one.
#[derive(Args)]
#[group(multiple = true)]
struct Input {
    /// Batch JSON file (members, groups, events).
    #[arg(long, conflicts_with_all = ["members", "orders", "groups", "refunds"])]
    batch: Option<PathBuf>,
    /// Members table (.parquet or .csv): id, sponsor, rank, active, attrs.NAME.
    #[arg(long, requires = "orders")]
    members: Option<PathBuf>,
    /// Orders table: id, seller, buyer, amount, at, refund_of (a row with refund_of is a
    /// refund), and in version 2 category and quantity.
    #[arg(long, requires = "members")]
    orders: Option<PathBuf>,
    /// Groups table: id, owner, size.
    #[arg(long, requires = "members")]
    groups: Option<PathBuf>,
    /// Refunds table: id, refund_of, amount, at (settled after every order).
    #[arg(long, requires = "members")]
    refunds: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a policy; prints nothing but "ok" when it is valid.
    Check {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
    },
    /// Print the policy grammar (rule kinds and their fields, metrics,
    /// operators, rounding modes, error families) as JSON.
    Schema,
    /// Evaluate ranks and print the rank changes as JSON.
    Ranks {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        input: Input,
    },
    /// Settle a batch: lines, totals, rank changes and summary.
    Settle {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        input: Input,
        /// Output format: the §9 JSON document, or the lines as CSV.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the output to FILE and print a short summary table instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Stream the lines to FILE (.parquet or .csv) while settling (they are not kept
        /// in memory); the JSON document then carries totals, rank changes and summary.
        #[arg(long, value_name = "FILE", conflicts_with = "no_lines")]
        lines_out: Option<PathBuf>,
        /// Write the totals per beneficiary to FILE (.parquet or .csv).
        #[arg(long, value_name = "FILE")]
        totals_out: Option<PathBuf>,
        /// Compute totals, rank changes and summary only; write no lines.
        #[arg(long)]
        no_lines: bool,
        /// Validate tables and settle on N threads (sellers and buyers resolved
        /// while event ids are indexed; order chunks settled apart and merged,
        /// exactly; with --totals-out, the two output files written at once);
        /// with --lines-out, each block of lines encoded and written while the
        /// next is settled (the same bytes). With --no-lines or --lines-out
        /// only. One thread is the default and the headline.
        #[arg(long, value_name = "N", default_value_t = 1)]
        threads: usize,
        /// Add the distribution measures to the summary: Gini coefficient,
        /// top 1 % and 10 % shares, payouts by rank, money by source (own
        /// sales, downline's sales, pools). JSON document only.
        #[arg(long)]
        stats: bool,
        /// Write each member's earnings by source to FILE (.parquet or .csv):
        /// member, rank, total, own, team, pool, member_cap, own_sales.
        #[arg(long, value_name = "FILE")]
        earnings_out: Option<PathBuf>,
        /// Split every total into what is available and what is still held
        /// at time T (RFC 3339, inclusive) under the policy's hold period
        /// (冻结期): totals become {net, available, pending}. One thread.
        #[arg(long, value_name = "T", conflicts_with = "threads")]
        as_of: Option<String>,
    },
    /// Settle one batch under two policies and compare them member by member
    /// (the largest change first), with each side's summary and measures.
    Diff {
        /// Policy A, then policy B (JSON files): `--policy A.json --policy B.json`.
        #[arg(long, num_args = 1, required = true, value_name = "FILE")]
        policy: Vec<PathBuf>,
        #[command(flatten)]
        input: Input,
        /// Output format: the comparison as JSON, or the member rows as CSV.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the output to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Read a policy (and with a batch, its settlement) against a compliance
    /// profile. Exits 3 when a finding is error-level. Not legal advice.
    Lint {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        input: Input,
        /// The rules to read it against.
        #[arg(long, value_enum)]
        profile: LintProfile,
        /// Output format.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,
        /// Fail (exit 3) on warnings too: `--deny warnings`, for CI.
        #[arg(long, value_enum, value_name = "LEVEL")]
        deny: Option<Deny>,
    },
    /// Generate a seeded synthetic batch (realistic forest, groups, orders, refunds).
    Gen {
        /// Number of members.
        #[arg(long)]
        members: usize,
        /// Number of orders (refunds come on top).
        #[arg(long)]
        orders: usize,
        /// Random seed: the same seed gives the same batch.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// What to write: `json` (batch.json), `parquet` and `csv` (members, groups
        /// and orders tables; refunds are rows of orders with refund_of).
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [GenFormat::Json, GenFormat::Parquet, GenFormat::Csv])]
        format: Vec<GenFormat>,
        /// Give every order one of this many product categories (fresh,
        /// beauty, household, snacks, gift, then cat-5, …), for version-2
        /// policies; 0 (the default) writes none.
        #[arg(long, default_value_t = 0)]
        categories: usize,
    },
    /// Keep an open period in a state file and apply events as they come
    /// (SPEC §14): `open`, `apply`, `settle`.
    Ledger {
        #[command(subcommand)]
        action: LedgerCommand,
    },
    /// Explain in words what one order (and its refunds) paid, line by line.
    Explain {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        #[command(flatten)]
        input: Input,
        /// The order id.
        #[arg(long)]
        order: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Start a period in a new state file with its starting members and
    /// groups (a batch's events, if any, are applied too). Refuses to
    /// overwrite an existing state file.
    Open {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// The state file to create (a ledger snapshot, docs/ledger.md).
        #[arg(long)]
        state: PathBuf,
        /// Batch JSON file: members, groups, and events to apply.
        #[arg(long, conflicts_with_all = ["members", "groups"])]
        batch: Option<PathBuf>,
        /// Members table (.parquet or .csv).
        #[arg(long)]
        members: Option<PathBuf>,
        /// Groups table (.parquet or .csv).
        #[arg(long, requires = "members")]
        groups: Option<PathBuf>,
    },
    /// Apply the events of a JSON Lines file in order to the period in the
    /// state file (a new, empty period if it does not exist), then write it
    /// back atomically. An event applied before is a duplicate and changes
    /// nothing, so a run that was killed can be run again. A refused event
    /// stops the run with its error; the state then holds every event before it.
    Apply {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// The state file.
        #[arg(long)]
        state: PathBuf,
        /// Events, one JSON object a line.
        #[arg(long)]
        events: PathBuf,
        /// Write the lines of the events this run applied (order lines and
        /// reversals, one canonical JSON object a line) to FILE. Final in
        /// rank timing immediate; in period_end they stand as the period
        /// does now and may change until it closes.
        #[arg(long, value_name = "FILE")]
        lines_out: Option<PathBuf>,
    },
    /// The settlement of the period so far (the period stays open): the
    /// document of `fenrun settle`.
    Settle {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// The state file.
        #[arg(long)]
        state: PathBuf,
        /// Output format: the §9 JSON document, or the lines as CSV.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the output to FILE and print a short summary table instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Split every total into available and pending at time T (RFC
        /// 3339, inclusive) under the policy's hold period (冻结期).
        #[arg(long, value_name = "T")]
        as_of: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum LintProfile {
    CnDistribution,
    CnDirectSelling,
    Ftc,
}

impl LintProfile {
    fn profile(self) -> fenrun::Profile {
        match self {
            LintProfile::CnDistribution => fenrun::Profile::CnDistribution,
            LintProfile::CnDirectSelling => fenrun::Profile::CnDirectSelling,
            LintProfile::Ftc => fenrun::Profile::Ftc,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Deny {
    Warnings,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GenFormat {
    Json,
    Parquet,
    Csv,
}

/// A failure of the command: a fenrun error with its code, or an I/O problem.
enum Failure {
    Fenrun(fenrun::Error),
    Io(String),
    /// A command line clap cannot refuse by itself (exit 2).
    Usage(String),
    /// `fenrun lint` found what it fails on (exit 3); the findings are printed.
    Findings,
}

impl From<fenrun::Error> for Failure {
    fn from(e: fenrun::Error) -> Self {
        Failure::Fenrun(e)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))
}

fn load_policy(policy: &Path) -> Result<Policy, Failure> {
    Policy::from_slice(&read(policy)?)
        .map_err(|e| Failure::Fenrun(e.in_document(&policy.display().to_string())))
}

/// Read and validate a batch; tables are validated on up to `threads` threads.
fn load(
    policy: &Path,
    input: &Input,
    threads: usize,
    clock: &mut Clock,
) -> Result<(Policy, Batch), Failure> {
    let p = load_policy(policy)?;
    let b = match (&input.batch, &input.members, &input.orders) {
        (Some(path), _, _) => {
            clock.show.phase(&format!("reading {}", path.display()));
            let bytes = read(path)?;
            clock.show.phase(&format!("validating {}", path.display()));
            clock.lap("read");
            Batch::from_slice(&bytes, &p)
                .map_err(|e| Failure::Fenrun(e.in_document(&path.display().to_string())))?
        }
        (None, Some(members), Some(orders)) => {
            // The orders are read a chunk at a time, each validated as it comes.
            let files = fenrun_arrow::TableFiles {
                members,
                groups: input.groups.as_deref(),
                orders,
                refunds: input.refunds.as_deref(),
            };
            let opts = fenrun_arrow::ReadOptions::default();
            let read = fenrun::SettleProgress::new();
            let what = format!("reading {}", orders.display());
            clock.show.counting(&what, "rows", &read);
            let b = fenrun_arrow::validate_files_counted(&p, &files, &opts, threads, &read)?;
            clock.lap("read+validate");
            return Ok((p, b));
        }
        _ => {
            return Err(Failure::Usage(
                "give --batch, or --members and --orders".into(),
            ))
        }
    };
    clock.lap("validate");
    Ok((p, b))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Fenrun(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::FAILURE
        }
        Err(Failure::Io(msg)) => {
            eprintln!("error[io]: {msg}");
            ExitCode::FAILURE
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Findings) => ExitCode::from(3),
    }
}

fn write_out(out: Option<&Path>, text: &[u8]) -> Result<(), Failure> {
    match out {
        Some(path) => fs::write(path, text)
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display()))),
        None => std::io::stdout()
            .write_all(text)
            .map_err(|e| Failure::Io(format!("cannot write to stdout: {e}"))),
    }
}

/// Stream the settlement JSON (plus a newline, with the measures in its
/// summary when given) to FILE or stdout.
fn write_json(
    s: &Settlement,
    stats: Option<&fenrun::Stats>,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot write the settlement: {e}"));
    let mut w: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(fs::File::create(path).map_err(io)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match stats {
        Some(stats) => s.write_json_with_stats(stats, &mut w),
        None => s.write_json(&mut w),
    }
    .map_err(io)?;
    w.write_all(b"\n").map_err(io)?;
    w.flush().map_err(io)
}

fn run(cli: Cli) -> Result<(), Failure> {
    let clock = &mut Clock {
        on: cli.timings,
        last: std::time::Instant::now(),
        show: show::Show::new(cli.quiet),
    };
    match cli.command {
        Command::Check { policy } => {
            let p = load_policy(&policy)?;
            println!("ok: {} ranks, {} rules", p.ranks().len(), p.rules().len());
        }
        Command::Schema => {
            let text = format!("{}\n", fenrun::schema().to_json());
            write_out(None, text.as_bytes())?;
        }
        Command::Ranks { policy, input } => {
            let (p, b) = load(&policy, &input, 1, clock)?;
            let engine = Engine::new(&p, b)?;
            let text = format!("{}\n", engine.rank_changes_json());
            write_out(None, text.as_bytes())?;
        }
        Command::Settle {
            policy,
            input,
            format,
            out,
            lines_out,
            totals_out,
            no_lines,
            threads,
            stats,
            earnings_out,
            as_of,
        } => {
            let as_of = as_of
                .as_deref()
                .map(fenrun::Timestamp::parse_as_of)
                .transpose()?;
            if threads > 1 && !no_lines && lines_out.is_none() {
                return Err(Failure::Usage(
                    "--threads settles totals only (--no-lines) or streams lines to a file \
                     (--lines-out); the lines of the document are made in order on one thread"
                        .into(),
                ));
            }
            if stats && matches!(format, Format::Csv) {
                return Err(Failure::Usage(
                    "--stats adds the measures to the JSON document; use it with --format json"
                        .into(),
                ));
            }
            let (p, b) = load(&policy, &input, threads, clock)?;
            clock.show.phase("evaluating ranks");
            let engine = Engine::new(&p, b)?;
            clock.lap("ranks");
            let progress = fenrun::SettleProgress::new();
            clock.show.counting("settling", "orders", &progress);
            let mut options = fenrun::SettleOptions::default().progress(progress);
            if let Some(t) = as_of {
                options = options.as_of(t);
            }
            let s = match (&lines_out, no_lines) {
                (Some(path), _) => {
                    fenrun_arrow::settle_lines_to_file(&engine, path, options.threads(threads))?
                }
                (None, no_lines) => {
                    let lines = fenrun::Lines::kept(!no_lines);
                    engine.settle_with(options.lines(lines).threads(threads))?
                }
            };
            clock.lap("settle");
            let stats = if stats || earnings_out.is_some() {
                clock.show.phase("measuring");
                let earnings = engine.earnings(&s)?;
                if let Some(path) = &earnings_out {
                    fenrun_arrow::write_earnings(&earnings, path)?;
                }
                let measured = if stats { Some(earnings.stats()?) } else { None };
                clock.lap("stats");
                measured
            } else {
                None
            };
            clock.show.phase("writing");
            // The settlement names members and events by shared ids: the
            // batch's event rows and the engine's tables can go before the
            // output is written (a month of a large platform: 200 MB).
            drop(engine);
            let document = || match format {
                Format::Json => write_json(&s, stats.as_ref(), out.as_deref()),
                Format::Csv => write_out(out.as_deref(), &lines_csv(&s, &p)?),
            };
            let totals = || match &totals_out {
                Some(path) => fenrun_arrow::write_totals(&s, path).map_err(Failure::from),
                None => Ok(()),
            };
            if threads > 1 && totals_out.is_some() {
                // Two files, one per thread; the document's error comes first.
                let (doc, tot) = std::thread::scope(|scope| {
                    let t = scope.spawn(totals);
                    let doc = document();
                    let tot = t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                    (doc, tot)
                });
                doc?;
                tot?;
            } else {
                document()?;
                totals()?;
            }
            clock.lap("write");
            clock.show.done();
            if let Some(path) = &out {
                let lines = lines_note(&s, lines_out.as_deref(), no_lines);
                print_summary(&s, p.currency(), &lines, path);
                if let Some(stats) = &stats {
                    print_stats(stats);
                }
            }
        }
        Command::Diff {
            policy,
            input,
            format,
            out,
        } => {
            let [a, b] = policy.as_slice() else {
                return Err(Failure::Usage(format!(
                    "give two policies, --policy A.json --policy B.json ({} given)",
                    policy.len()
                )));
            };
            let side = |path: &Path, clock: &mut Clock| -> Result<(Engine, Settlement), Failure> {
                let named = |e: fenrun::Error| {
                    let file = path.display().to_string();
                    if e.code() == "invalid_json" {
                        e
                    } else {
                        e.map_path(|p| format!("{file}: {p}"))
                    }
                };
                let (p, batch) = load(path, &input, 1, clock).map_err(|f| match f {
                    Failure::Fenrun(e) => Failure::Fenrun(named(e)),
                    other => other,
                })?;
                clock
                    .show
                    .phase(&format!("settling under {}", path.display()));
                let engine = Engine::new(&p, batch).map_err(named)?;
                let options = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
                let settled = engine.settle_with(options).map_err(named)?;
                clock.lap("settle");
                Ok((engine, settled))
            };
            let (engine_a, settled_a) = side(a, clock)?;
            let (engine_b, settled_b) = side(b, clock)?;
            clock.show.phase("comparing");
            let comparison = fenrun::compare(&engine_a, &settled_a, &engine_b, &settled_b)?;
            clock.lap("compare");
            clock.show.done();
            let text = match format {
                Format::Json => format!("{}\n", comparison.to_json()).into_bytes(),
                Format::Csv => {
                    let mut buf = Vec::new();
                    fenrun_arrow::write::batch_csv(
                        &fenrun_arrow::comparison_batch(&comparison)?,
                        &mut buf,
                    )
                    .map_err(|e| Failure::Io(format!("cannot write CSV: {e}")))?;
                    buf
                }
            };
            write_out(out.as_deref(), &text)?;
        }
        Command::Lint {
            policy,
            input,
            profile,
            format,
            deny,
        } => {
            let profile = profile.profile();
            let given = input.batch.is_some() || input.members.is_some();
            let lint = if given {
                let (p, b) = load(&policy, &input, 1, clock)?;
                let engine = Engine::new(&p, b)?;
                let options = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
                let settled = engine.settle_with(options)?;
                clock.show.done();
                engine.lint(&settled, profile)?
            } else {
                fenrun::lint(&load_policy(&policy)?, profile)
            };
            let text = match format {
                LintFormat::Text => lint.to_text(),
                LintFormat::Json => format!("{}\n", lint.to_json()),
            };
            write_out(None, text.as_bytes())?;
            let errors = lint.count(fenrun::Severity::Error);
            let warnings = lint.count(fenrun::Severity::Warning);
            if errors > 0 || (deny.is_some() && warnings > 0) {
                return Err(Failure::Findings);
            }
        }
        Command::Gen {
            members,
            orders,
            seed,
            out,
            format,
            categories,
        } => {
            let io =
                |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", out.display()));
            fs::create_dir_all(&out).map_err(io)?;
            let generated = fenrun_gen::generate(members, orders, seed).with_categories(categories);
            let mut written = Vec::new();
            if format.contains(&GenFormat::Json) {
                let file = fs::File::create(out.join("batch.json")).map_err(io)?;
                let mut w = std::io::BufWriter::new(file);
                generated.write_json(&mut w).map_err(io)?;
                w.flush().map_err(io)?;
                written.push("batch.json".to_owned());
            }
            for (f, table_format) in [
                (GenFormat::Parquet, fenrun_arrow::TableFormat::Parquet),
                (GenFormat::Csv, fenrun_arrow::TableFormat::Csv),
            ] {
                if format.contains(&f) {
                    written.extend(gen_tables::write(&generated, &out, table_format)?);
                }
            }
            println!(
                "{} members, {} groups, {} events written to {}: {}",
                generated.members.len(),
                generated.groups.len(),
                generated.events.len(),
                out.display(),
                written.join(", ")
            );
        }
        Command::Ledger { action } => ledger::run(action)?,
        Command::Explain {
            policy,
            input,
            order,
        } => {
            let (p, b) = load(&policy, &input, 1, clock)?;
            for line in Engine::new(&p, b)?.explain(&order)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

fn print_stats(stats: &fenrun::Stats) {
    let ratio = |r: Option<Decimal>| r.map_or_else(|| "n/a".into(), fenrun::percent_string);
    let gini = stats.gini.map_or_else(|| "n/a".into(), |g| g.to_string());
    println!("{:<16} {:>18}", "gini", gini);
    println!(
        "{:<16} {:>18}",
        "top 1 % share",
        ratio(stats.top_1_percent_share)
    );
    println!(
        "{:<16} {:>18}",
        "top 10 % share",
        ratio(stats.top_10_percent_share)
    );
    println!(
        "{:<16} {:>18}",
        "from own sales",
        ratio(stats.sources.own_share)
    );
    println!(
        "{:<16} {:>18}",
        "from downline",
        ratio(stats.sources.team_share)
    );
    println!(
        "{:<16} {:>18}",
        "from pools",
        ratio(stats.sources.pool_share)
    );
}

fn lines_csv(s: &Settlement, policy: &Policy) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    fenrun_arrow::write::lines_csv(s, &mut buf, fenrun_arrow::LineColumns::of(policy))
        .map_err(|e| Failure::Io(format!("cannot write CSV: {e}")))?;
    Ok(buf)
}

/// Where a settlement's lines went, for its summary: counted in the
/// document, streamed to a file, or not made.
fn lines_note(s: &Settlement, lines_out: Option<&Path>, no_lines: bool) -> String {
    match (lines_out, no_lines) {
        (Some(file), _) => format!("lines streamed to {}", file.display()),
        (None, true) => "no lines (--no-lines)".to_owned(),
        (None, false) => format!("{} lines", s.line_count()),
    }
}

/// The summary table after a settlement written to `out`; `lines` says
/// where the lines went ([`lines_note`]).
fn print_summary(s: &Settlement, currency: Option<&str>, lines: &str, out: &Path) {
    let cur = currency.unwrap_or("");
    let scale = s.scale();
    let money = |d: Decimal| {
        format!("{} {cur}", fenrun::money_string(d, scale))
            .trim_end()
            .to_owned()
    };
    println!("{:<16} {:>18}", "net sales", money(s.net_sales()));
    println!("{:<16} {:>18}", "total paid", money(s.total_paid()));
    let ratio = s
        .payout_ratio()
        .map_or_else(|| "n/a".into(), fenrun::percent_string);
    println!("{:<16} {:>18}", "payout ratio", ratio);
    println!("{:<16} {:>18}", "cap cut", money(s.cap_cut()));
    if let Some(cut) = s.member_cap_cut() {
        println!("{:<16} {:>18}", "member cap cut", money(cut));
    }
    for (rule, b) in s.breakage() {
        if !b.is_zero() {
            println!("{:<16} {:>18}", format!("breakage {rule}"), money(b));
        }
    }
    let beneficiaries = s.totals().count();
    println!("top earners:");
    for (m, t) in &s.top_earners(5) {
        println!("  {:<14} {:>18}", m, money(*t));
    }
    println!(
        "{lines}, {beneficiaries} beneficiaries; settlement written to {}",
        out.display()
    );
}
