//! The sponsor forest: built and checked with petgraph, then flattened into
//! dense arrays (parent, depth, parents-first order) that every later pass
//! walks iteratively. Nothing here recurses over the tree. Members listed
//! sponsors first (as they joined) need no graph: the list is the order.

use petgraph::algo::{kosaraju_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, Result};
use crate::ids::idx32;
use crate::index::Packed;

/// Marker for "no parent" in the dense parent array.
pub(crate) const NONE: u32 = u32::MAX;

/// Chains climbed ahead of their use, so that their loads wait on nothing:
/// a member comes in `N` steps before its chain is read, and at each step
/// every member in flight moves one up (reading what was asked for a step
/// before) and asks for the data of where it is now. By its turn, a
/// member's first `N` chain entries have been asked for, a step apart,
/// instead of being loaded one after another while its reader waits. Asking
/// changes nothing: data that change meanwhile are read as they are then.
#[derive(Debug)]
pub(crate) struct Ahead<const N: usize> {
    ring: [u32; N],
    at: usize,
}

impl<const N: usize> Default for Ahead<N> {
    fn default() -> Ahead<N> {
        Ahead {
            ring: [NONE; N],
            at: 0,
        }
    }
}

impl<const N: usize> Ahead<N> {
    /// One step: every member in flight moves to `up` of it and `fetch` is
    /// asked for it; `next` ([`NONE`]: none) comes in and is fetched.
    #[inline]
    pub fn step(&mut self, next: u32, up: impl Fn(u32) -> u32, fetch: impl Fn(u32)) {
        for x in &mut self.ring {
            if *x != NONE {
                *x = up(*x);
                fetch(*x);
            }
        }
        if let Some(slot) = self.ring.get_mut(self.at) {
            *slot = next;
            fetch(next);
        }
        self.at = (self.at + 1) % N.max(1);
    }
}

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
    ///
    /// Members listed sponsors first, as members exported in the order they
    /// joined are, are their own parents-first order: such a list has no
    /// cycle (a cycle would need a sponsor listed after its member), so it
    /// needs neither a graph nor a sort, and later passes walk the members in
    /// list order, reading arrays by member front to back instead of at
    /// random. Any other list is sorted and checked with petgraph.
    pub fn build(parent: Vec<u32>, ids: &Packed) -> Result<Forest> {
        let listed_sponsors_first = parent
            .iter()
            .enumerate()
            .all(|(i, &p)| p == NONE || (p as usize) < i);
        let parents_first = if listed_sponsors_first {
            (0..idx32(parent.len())).collect()
        } else {
            sorted_parents_first(&parent, ids)?
        };
        let mut depth = vec![0u32; parent.len()];
        for &m in &parents_first {
            let d = match parent.get(m as usize) {
                Some(&p) if p != NONE => depth.get(p as usize).map_or(0, |d| d + 1),
                _ => 0,
            };
            if let Some(slot) = depth.get_mut(m as usize) {
                *slot = d;
            }
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
}

/// Every member after its sponsor, by petgraph's `toposort`; a cycle is
/// named (see [`cycle_error`]).
fn sorted_parents_first(parent: &[u32], ids: &Packed) -> Result<Vec<u32>> {
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
    match toposort(&g, None) {
        Ok(order) => Ok(order.into_iter().map(|node| idx32(node.index())).collect()),
        Err(_) => Err(cycle_error(&g, ids)),
    }
}

/// Name every member of the cycle whose smallest id is smallest, starting there,
/// in sponsor direction.
fn cycle_error(g: &DiGraph<(), (), u32>, ids: &Packed) -> Error {
    let name = |i: usize| ids.get(idx32(i)).to_owned();
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

#[cfg(test)]
mod tests {
    use super::{Ahead, Forest, NONE};
    use crate::index::Packed;

    /// A member that came in `N` steps before its turn has had itself and
    /// its first `N` ancestors fetched, each once, by its turn; a chain that
    /// ends sooner stops there.
    #[test]
    fn ahead_fetches_a_chain_before_its_turn() {
        // A chain 0 <- 1 <- ... <- 99.
        let up = |x: u32| if x == 0 { NONE } else { x - 1 };
        let fetched = std::cell::RefCell::new(Vec::new());
        let fetch = |x: u32| {
            if x != NONE {
                fetched.borrow_mut().push(x);
            }
        };
        let mut ahead = Ahead::<4>::default();
        ahead.step(50, up, fetch);
        ahead.step(2, up, fetch);
        for _ in 0..3 {
            ahead.step(NONE, up, fetch);
        }
        // 50 came in at the first step: its turn comes after the fifth, 4
        // steps later, and by then 50, 49, 48, 47 and 46 were asked for; 2
        // climbed to the top and stopped.
        let mut got = fetched.borrow().clone();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2, 46, 47, 48, 49, 50]);
        // A slot is reused once its member's turn has come.
        ahead.step(7, up, fetch);
        assert!(fetched.borrow().contains(&7));
    }

    /// Every member comes after its sponsor in `parents_first`, exactly once.
    fn parents_first_holds(f: &Forest) {
        let mut seen = vec![false; f.len()];
        for &m in &f.parents_first {
            if let Some(p) = f.parent_of(m) {
                assert!(seen[p as usize], "{m} before its sponsor {p}");
            }
            assert!(!std::mem::replace(&mut seen[m as usize], true), "{m} twice");
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn sponsors_first_lists_and_others_give_the_same_depths() {
        // 0 ← 1 ← 2 ← 4, 0 ← 3; 5 a root.
        let first = vec![NONE, 0, 1, 0, 2, NONE];
        let ids = Packed::new(["a", "b", "c", "d", "e", "f"].into_iter());
        let a = Forest::build(first, &ids).unwrap();
        assert_eq!(a.parents_first, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(a.depth, vec![0, 1, 2, 1, 3, 0]);
        parents_first_holds(&a);
        // The same tree listed with members before their sponsors:
        // old 4, 2, 1, 0, 3, 5 at new positions 0..6.
        let later = vec![1, 2, 3, NONE, 3, NONE];
        let ids = Packed::new(["e", "c", "b", "a", "d", "f"].into_iter());
        let b = Forest::build(later, &ids).unwrap();
        assert_eq!(b.depth, vec![3, 2, 1, 0, 1, 0]);
        parents_first_holds(&b);
    }

    #[test]
    fn a_cycle_is_named_whatever_the_order() {
        // a's sponsor is b, b's c, c's a: no listing puts sponsors first.
        let ids = Packed::new(["a", "b", "c", "d"].into_iter());
        let err = Forest::build(vec![1, 2, 0, NONE], &ids).unwrap_err();
        assert_eq!(err.code(), "sponsor_cycle");
        assert_eq!(
            err.to_string(),
            r#"members[0].sponsor: sponsor cycle "a" → "b" → "c" → "a""#
        );
    }
}
