//! The sponsor forest: built and checked with petgraph, then flattened into
//! dense arrays (parent, depth, parents-first order) that every later pass
//! walks iteratively. Nothing here recurses over the tree.

use petgraph::algo::{kosaraju_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, Result};
use crate::index::Packed;

/// Marker for "no parent" in the dense parent array.
pub(crate) const NONE: u32 = u32::MAX;

/// The sponsor forest as flat arrays, indexed by dense member index.
#[derive(Debug, Clone)]
pub(crate) struct Forest {
    /// Sponsor of each member, [`NONE`] for a root.
    pub parent: Vec<u32>,
    /// Distance from the member's root (a root has depth 0).
    pub depth: Vec<u32>,
    /// Every member, each after its sponsor.
    pub parents_first: Vec<u32>,
}

impl Forest {
    /// Build the forest from each member's sponsor index, rejecting cycles.
    /// `ids` names members in errors.
    pub fn build(parent: Vec<u32>, ids: &Packed) -> Result<Forest> {
        let n = parent.len();
        let mut g: DiGraph<(), (), u32> = DiGraph::with_capacity(n, n);
        for _ in 0..n {
            g.add_node(());
        }
        for (child, &p) in parent.iter().enumerate() {
            if p != NONE {
                g.add_edge(NodeIndex::new(p as usize), NodeIndex::new(child), ());
            }
        }
        let order = match toposort(&g, None) {
            Ok(order) => order,
            Err(_) => return Err(cycle_error(&g, ids)),
        };
        let mut depth = vec![0u32; n];
        let mut parents_first = Vec::with_capacity(n);
        for node in order {
            let m = node.index();
            let d = match parent.get(m) {
                Some(&p) if p != NONE => depth.get(p as usize).map_or(0, |d| d + 1),
                _ => 0,
            };
            if let Some(slot) = depth.get_mut(m) {
                *slot = d;
            }
            parents_first.push(node.index() as u32);
        }
        Ok(Forest {
            parent,
            depth,
            parents_first,
        })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// The sponsor of `m`, if any.
    #[inline]
    pub fn parent_of(&self, m: u32) -> Option<u32> {
        match self.parent.get(m as usize) {
            Some(&p) if p != NONE => Some(p),
            _ => None,
        }
    }

    /// Depth of `m`.
    #[inline]
    pub fn depth_of(&self, m: u32) -> u32 {
        self.depth.get(m as usize).copied().unwrap_or(0)
    }

    /// For every member, its nearest proper ancestor satisfying `pred`
    /// ([`NONE`] if none), in one parents-first pass. This is how rules skip
    /// over members in O(1) per step instead of walking to the root.
    pub fn nearest_ancestor(&self, pred: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut near = vec![NONE; self.len()];
        for &m in &self.parents_first {
            let Some(p) = self.parent_of(m) else { continue };
            let v = if pred(p) {
                p
            } else {
                near.get(p as usize).copied().unwrap_or(NONE)
            };
            if let Some(slot) = near.get_mut(m as usize) {
                *slot = v;
            }
        }
        near
    }
}

/// Name every member of the cycle whose smallest id is smallest, starting there,
/// in sponsor direction.
fn cycle_error(g: &DiGraph<(), (), u32>, ids: &Packed) -> Error {
    let name = |i: usize| ids.get(i as u32).to_owned();
    let mut best: Option<Vec<usize>> = None;
    for scc in kosaraju_scc(g) {
        if scc.len() < 2 {
            continue;
        }
        let Some(start) = scc
            .iter()
            .map(|n| n.index())
            .min_by(|a, b| name(*a).cmp(&name(*b)))
        else {
            continue;
        };
        // Each member has at most one sponsor, so the component is a single
        // cycle: follow sponsor edges (incoming edges) from the start.
        let mut cycle = vec![start];
        let mut cur = start;
        loop {
            let next = g
                .neighbors_directed(NodeIndex::new(cur), petgraph::Direction::Incoming)
                .next()
                .map(|n| n.index());
            match next {
                Some(nx) if nx != start && cycle.len() <= scc.len() => {
                    cycle.push(nx);
                    cur = nx;
                }
                _ => break,
            }
        }
        let better = match &best {
            None => true,
            Some(b) => b.first().map(|&i| name(i)) > Some(name(start)),
        };
        if better {
            best = Some(cycle);
        }
    }
    let cycle = best.unwrap_or_default();
    let first = cycle.first().copied().unwrap_or(0);
    Error::SponsorCycle {
        path: format!("members[{first}].sponsor"),
        cycle: cycle.into_iter().map(name).collect(),
    }
}
