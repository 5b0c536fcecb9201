//! The core's modules form layers: no module reaches, through `crate::`
//! paths, a module that reaches it back, and each says its job at its top.
//! (A rule kind's file and `rule/mod.rs` count as one module, `rule`.)

#![allow(clippy::unwrap_used)] // test code: a failed expectation is a test failure

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module of `src` with the modules its code (tests left out) names.
fn modules() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [src.clone(), src.join("rule")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == "lib.rs" {
            continue;
        }
        let name = match rel.split_once('/') {
            Some((dir, _)) => dir.to_owned(),
            None => rel.trim_end_matches(".rs").to_owned(),
        };
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("//! "),
            "{rel} does not begin with a line saying its job"
        );
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = graph.entry(name.clone()).or_default();
        for piece in code.split("crate::").skip(1) {
            let dep: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if dep != name && !dep.is_empty() {
                deps.insert(dep);
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    graph
}

#[test]
fn no_module_reaches_back() {
    let graph = modules();
    assert!(graph.len() > 20, "the core's modules were not found");
    // Peel off modules that depend on nothing left; what remains holds a circle.
    let mut left = graph.clone();
    loop {
        let free: Vec<String> = left
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| !left.contains_key(d)))
            .map(|(m, _)| m.clone())
            .collect();
        if free.is_empty() {
            break;
        }
        for m in free {
            left.remove(&m);
        }
    }
    assert!(
        left.is_empty(),
        "a circle of imports among (or below) these modules: {:?}",
        left.keys().collect::<Vec<_>>()
    );
}
