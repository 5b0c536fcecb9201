//! `ledger-sqlite DB POLICY open START.json | apply EVENTS.jsonl | settle`:
//! a period kept in a SQLite database (see the crate's documentation and
//! examples/ledger-sqlite/README.md).

use std::process::ExitCode;

use fenrun_example_ledger_sqlite::{Store, StoreError};

const USAGE: &str =
    "usage: ledger-sqlite DB POLICY (open START.json | apply EVENTS.jsonl | settle)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let [db, policy, command, rest @ ..] = args else {
        return Err(USAGE.into());
    };
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let policy = fenrun::Policy::from_json(&read(policy)?).map_err(|e| shown(e.into()))?;
    let db = rusqlite::Connection::open(db).map_err(|e| shown(e.into()))?;
    match (command.as_str(), rest) {
        ("open", [start]) => {
            let store = Store::open(db, &policy, Some(&read(start)?)).map_err(shown)?;
            println!("{} events in the period", store.ledger().len());
        }
        ("apply", [events]) => {
            let mut store = Store::open(db, &policy, None).map_err(shown)?;
            let tally = store.apply_lines(&read(events)?).map_err(shown)?;
            println!(
                "applied {}, duplicates {}; {} events in the period",
                tally.applied,
                tally.duplicates,
                store.ledger().len()
            );
        }
        ("settle", []) => {
            let store = Store::open(db, &policy, None).map_err(shown)?;
            println!("{}", store.settlement().map_err(shown)?.to_json());
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}

/// An error as the fenrun CLI shows it: `error[code]: path: message`.
fn shown(e: StoreError) -> String {
    match e {
        StoreError::Fenrun(e) => format!("error[{}]: {}: {e}", e.code(), e.path()),
        other => format!("error: {other}"),
    }
}
