//! `fenrun`: check policies, evaluate ranks, settle batches, explain payouts.
//!
//! Every failure prints `error[code]: path: message` on stderr and exits 1
//! (2 for a wrong command line).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fenrun::{Batch, Engine, Policy, Settlement};
use rust_decimal::Decimal;

#[derive(Parser)]
#[command(
    name = "fenrun",
    version,
    about = "Exact, explainable profit splits (分润) for community retail"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a policy; prints nothing but "ok" when it is valid.
    Check {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
    },
    /// Evaluate ranks and print the rank changes as JSON.
    Ranks {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// Batch JSON file (members, groups, events).
        #[arg(long)]
        batch: PathBuf,
    },
    /// Settle a batch: lines, totals, rank changes and summary.
    Settle {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// Batch JSON file (members, groups, events).
        #[arg(long)]
        batch: PathBuf,
        /// Output format: the §9 JSON document, or the lines as CSV.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the output to FILE and print a short summary table instead.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Stream the lines as CSV to FILE while settling (they are not kept in memory);
        /// the JSON document then carries totals, rank changes and summary, with no lines.
        #[arg(long, value_name = "FILE", conflicts_with = "no_lines")]
        lines_out: Option<PathBuf>,
        /// Compute totals, rank changes and summary only; write no lines.
        #[arg(long)]
        no_lines: bool,
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
        /// Output folder; `batch.json` is written there.
        #[arg(long)]
        out: PathBuf,
    },
    /// Explain in words what one order (and its refunds) paid, line by line.
    Explain {
        /// Policy JSON file.
        #[arg(long)]
        policy: PathBuf,
        /// Batch JSON file (members, groups, events).
        #[arg(long)]
        batch: PathBuf,
        /// The order id.
        #[arg(long)]
        order: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

/// A failure of the command: a fenrun error with its code, or an I/O problem.
enum Failure {
    Fenrun(fenrun::Error),
    Io(String),
}

impl From<fenrun::Error> for Failure {
    fn from(e: fenrun::Error) -> Self {
        Failure::Fenrun(e)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))
}

fn load(policy: &Path, batch: Option<&Path>) -> Result<(Policy, Option<Batch>), Failure> {
    let p = Policy::from_slice(&read(policy)?)?;
    let b = match batch {
        Some(path) => Some(Batch::from_slice(&read(path)?, &p)?),
        None => None,
    };
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

/// Stream the settlement JSON (plus a newline) to FILE or stdout.
fn write_json(s: &Settlement, out: Option<&Path>) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot write the settlement: {e}"));
    let mut w: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(fs::File::create(path).map_err(io)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    s.write_json(&mut w).map_err(io)?;
    w.write_all(b"\n").map_err(io)?;
    w.flush().map_err(io)
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Check { policy } => {
            let (p, _) = load(&policy, None)?;
            println!("ok: {} ranks, {} rules", p.ranks().len(), p.rules().len());
        }
        Command::Ranks { policy, batch } => {
            let (p, b) = load(&policy, Some(&batch))?;
            let b = b.ok_or_else(|| Failure::Io("no batch".into()))?;
            let engine = Engine::new(&p, &b)?;
            let text = format!("{}\n", engine.rank_changes_json());
            write_out(None, text.as_bytes())?;
        }
        Command::Settle {
            policy,
            batch,
            format,
            out,
            lines_out,
            no_lines,
        } => {
            let (p, b) = load(&policy, Some(&batch))?;
            let b = b.ok_or_else(|| Failure::Io("no batch".into()))?;
            let engine = Engine::new(&p, &b)?;
            let s = match (&lines_out, no_lines) {
                (Some(path), _) => stream_lines_csv(&engine, path)?,
                (None, true) => engine.settle_streaming(|_| Ok(()))?,
                (None, false) => engine.settle()?,
            };
            match format {
                Format::Json => write_json(&s, out.as_deref())?,
                Format::Csv => write_out(out.as_deref(), &lines_csv(&s)?)?,
            }
            if let Some(path) = &out {
                print_summary(&s, p.currency(), path);
            }
        }
        Command::Gen {
            members,
            orders,
            seed,
            out,
        } => {
            let io =
                |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", out.display()));
            fs::create_dir_all(&out).map_err(io)?;
            let generated = fenrun_testkit::gen::generate(members, orders, seed);
            let file = fs::File::create(out.join("batch.json")).map_err(io)?;
            let mut w = std::io::BufWriter::new(file);
            generated.write_json(&mut w).map_err(io)?;
            w.flush().map_err(io)?;
            println!(
                "{} members, {} groups, {} events written to {}",
                generated.members.len(),
                generated.groups.len(),
                generated.events.len(),
                out.join("batch.json").display()
            );
        }
        Command::Explain {
            policy,
            batch,
            order,
        } => {
            let (p, b) = load(&policy, Some(&batch))?;
            let b = b.ok_or_else(|| Failure::Io("no batch".into()))?;
            for line in Engine::new(&p, &b)?.explain(&order)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

const CSV_HEADER: [&str; 10] = [
    "order",
    "refund",
    "rule",
    "kind",
    "beneficiary",
    "level",
    "base",
    "rate",
    "weight",
    "amount",
];

/// Settle, streaming every line as a CSV row to `path`.
fn stream_lines_csv(engine: &Engine<'_>, path: &Path) -> Result<Settlement, Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", path.display()));
    let file = fs::File::create(path).map_err(io)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    w.write_record(CSV_HEADER).map_err(|e| io(e.into()))?;
    let scale = engine.scale();
    let mut buf = String::new();
    let s = engine
        .settle_streaming(|l| write_csv_line(&mut w, &mut buf, &l, scale).map_err(Into::into))?;
    w.flush().map_err(io)?;
    Ok(s)
}

/// One line as a CSV row, formatting decimals into a reused buffer.
fn write_csv_line<W: Write>(
    w: &mut csv::Writer<W>,
    buf: &mut String,
    l: &fenrun::LineView<'_>,
    scale: u32,
) -> csv::Result<()> {
    use std::fmt::Write as _;
    let mut field = |w: &mut csv::Writer<W>, f: &dyn Fn(&mut String)| {
        buf.clear();
        f(buf);
        w.write_field(buf.as_bytes())
    };
    w.write_field(l.order.unwrap_or_default())?;
    w.write_field(l.refund.unwrap_or_default())?;
    w.write_field(l.rule)?;
    w.write_field(l.kind)?;
    w.write_field(l.beneficiary)?;
    field(w, &|b| {
        if let Some(level) = l.level {
            let _ = write!(b, "{level}");
        }
    })?;
    field(w, &|b| b.push_str(&fenrun::money_string(l.base, scale)))?;
    field(w, &|b| {
        if let Some(r) = l.rate {
            b.push_str(&fenrun::short_string(r));
        }
    })?;
    field(w, &|b| {
        if let Some(x) = l.weight {
            b.push_str(&fenrun::short_string(x));
        }
    })?;
    field(w, &|b| b.push_str(&fenrun::money_string(l.amount, scale)))?;
    w.write_record(None::<&[u8]>)
}

fn lines_csv(s: &Settlement) -> Result<Vec<u8>, Failure> {
    let scale = s.scale();
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Failure::Io(format!("cannot write CSV: {e}"));
    w.write_record(CSV_HEADER).map_err(io)?;
    let mut buf = String::new();
    for l in s.lines() {
        write_csv_line(&mut w, &mut buf, &l, scale).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| Failure::Io(format!("cannot write CSV: {e}")))
}

fn print_summary(s: &Settlement, currency: Option<&str>, out: &Path) {
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
        .map(|r| format!("{:.2} %", r * Decimal::ONE_HUNDRED))
        .unwrap_or_else(|| "n/a".into());
    println!("{:<16} {:>18}", "payout ratio", ratio);
    println!("{:<16} {:>18}", "cap cut", money(s.cap_cut()));
    for (rule, b) in s.breakage() {
        if !b.is_zero() {
            println!("{:<16} {:>18}", format!("breakage {rule}"), money(b));
        }
    }
    let mut top: Vec<(&str, Decimal)> = s.totals().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    println!("top earners:");
    for (m, t) in top.iter().take(5) {
        println!("  {:<14} {:>18}", m, money(*t));
    }
    println!(
        "{} lines, {} beneficiaries; full settlement written to {}",
        s.line_count(),
        top.len(),
        out.display()
    );
}
