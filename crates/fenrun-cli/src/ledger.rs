//! `fenrun ledger`: an open period kept in a state file (a ledger snapshot),
//! the way a small service or a cron job keeps one.

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;

use fenrun::{Engine, Ledger, Policy};

use crate::{
    load_policy, print_summary, read, write_json, write_out, Failure, Format, LedgerCommand,
};

pub(crate) fn run(action: LedgerCommand) -> Result<(), Failure> {
    match action {
        LedgerCommand::Open {
            policy,
            state,
            batch,
            members,
            groups,
        } => {
            let p = load_policy(&policy)?;
            if state.exists() {
                return Err(Failure::Io(format!(
                    "{} exists: a period is open there (remove it to start anew)",
                    state.display()
                )));
            }
            let ledger = match (&batch, &members) {
                (Some(path), _) => {
                    let text = String::from_utf8(read(path)?).map_err(|_| {
                        Failure::Io(format!("{} is not UTF-8 text", path.display()))
                    })?;
                    Ledger::open_json(&p, &text)
                        .map_err(|e| e.in_document(&path.display().to_string()))?
                }
                (None, Some(members)) => {
                    let tables = fenrun_arrow::Tables {
                        members: fenrun_arrow::read_table(members, "members")?.into(),
                        groups: match &groups {
                            Some(g) => fenrun_arrow::read_table(g, "groups")?.into(),
                            None => fenrun_arrow::Rows::default(),
                        },
                        ..fenrun_arrow::Tables::default()
                    };
                    let (records, _) = tables.into_records()?;
                    Ledger::open(&p, records.members, records.groups)?
                }
                (None, None) => Ledger::open(&p, Vec::new(), Vec::new())?,
            };
            save(&ledger, &state)?;
            println!(
                "opened {}: {} events applied",
                state.display(),
                ledger.len()
            );
        }
        LedgerCommand::Apply {
            policy,
            state,
            events,
            lines_out,
        } => {
            let p = load_policy(&policy)?;
            let mut ledger = restore(&p, &state)?;
            let from = ledger.len();
            let file = fs::File::open(&events)
                .map_err(|e| Failure::Io(format!("cannot read {}: {e}", events.display())))?;
            let name = events.display().to_string();
            let mut tally = fenrun::Tally::default();
            let mut failed = None;
            for (k, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| Failure::Io(format!("cannot read {name}: {e}")))?;
                if line.trim().is_empty() {
                    continue;
                }
                // Settled together below: faster than one by one.
                match ledger.take_json(&line) {
                    Ok(a) => tally.count(&a),
                    Err(e) => {
                        // The stream position becomes the file's line.
                        let at = format!("{name} line {}", k + 1);
                        // `events[3].seller` becomes `today.jsonl line 4: seller`.
                        failed = Some(e.map_path(|p| {
                            fenrun::input::map_event_index(p, |_| at.clone()).replacen(
                                &format!("{at}."),
                                &format!("{at}: "),
                                1,
                            )
                        }));
                        break;
                    }
                }
            }
            // Every event before a refused one is kept, and settled in
            // `immediate` timing; the refused one's error comes first.
            let caught = ledger.catch_up();
            save(&ledger, &state)?;
            // The period's rank changes so far (its evaluation now), from
            // the settlement the lines come from when they are asked for: an
            // error there comes after a refused event's. In `immediate`
            // timing the events' lines are those the catch-up settled.
            let (caught, settled) = match caught {
                Ok(lines) => (Ok(()), lines),
                Err(e) => (Err(e), None),
            };
            let (changes, lines) = match (&lines_out, settled) {
                (Some(_), Some(lines)) => (
                    ledger.rank_changes().map(|c| c.len()),
                    Some(lines.json_lines()),
                ),
                (Some(_), None) => match ledger.lines_since(from) {
                    Ok((s, lines)) => (Ok(s.rank_changes().len()), Some(lines)),
                    Err(e) => (Err(e), None),
                },
                (None, _) => (ledger.rank_changes().map(|c| c.len()), None),
            };
            println!(
                "applied {}, duplicates {}; {} events in the period; rank changes so far: {}",
                tally.applied,
                tally.duplicates,
                ledger.len(),
                changes
                    .as_ref()
                    .map_or_else(|_| "?".to_owned(), ToString::to_string)
            );
            if let (Some(path), Some(text)) = (&lines_out, lines) {
                fs::write(path, text)
                    .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))?;
            }
            if let Some(e) = failed {
                return Err(Failure::Fenrun(e));
            }
            caught?;
            changes?;
        }
        LedgerCommand::Settle {
            policy,
            state,
            format,
            out,
            as_of,
        } => {
            let p = load_policy(&policy)?;
            let mut options = fenrun::SettleOptions::default();
            if let Some(t) = as_of.as_deref() {
                options = options.as_of(fenrun::Timestamp::parse_as_of(t)?);
            }
            if !state.exists() {
                return Err(Failure::Io(format!(
                    "cannot read {}: no such file (open the period first)",
                    state.display()
                )));
            }
            let engine: Engine = restore(&p, &state)?.into_engine()?;
            let s = engine.settle_with(options)?;
            drop(engine);
            match format {
                Format::Json => write_json(&s, None, out.as_deref())?,
                Format::Csv => write_out(out.as_deref(), &crate::lines_csv(&s, &p)?)?,
            }
            if let Some(path) = &out {
                let lines = crate::lines_note(&s, None, false);
                print_summary(&s, p.currency(), &lines, path);
            }
        }
    }
    Ok(())
}

/// The period in `state`, or a new, empty one when the file does not exist.
fn restore(policy: &Policy, state: &Path) -> Result<Ledger, Failure> {
    if !state.exists() {
        return Ok(Ledger::open(policy, Vec::new(), Vec::new())?);
    }
    Ledger::restore(policy, &read(state)?)
        .map_err(|e| Failure::Fenrun(e.map_path(|p| format!("{}: {p}", state.display()))))
}

/// Write the ledger's snapshot to `state` atomically: a temporary file
/// beside it, written and synced, then renamed over it (and the folder
/// synced), so that a reader, or a run killed at any moment, finds the old
/// state or the new one, never a part.
fn save(ledger: &Ledger, state: &Path) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", state.display()));
    let mut tmp = state.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut file = fs::File::create(&tmp).map_err(io)?;
        file.write_all(&ledger.snapshot()).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    fs::rename(&tmp, state).map_err(io)?;
    let dir = state.parent().filter(|d| !d.as_os_str().is_empty());
    if let Ok(dir) = fs::File::open(dir.unwrap_or(Path::new("."))) {
        // Not every platform syncs a folder; the rename is done either way.
        let _ = dir.sync_all();
    }
    Ok(())
}
