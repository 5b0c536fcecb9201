//! A tree cut into heavy paths, each member's largest child continuing its
//! path: a chain from any member up to its root is then at most log₂ n
//! pieces, each the start of a path down to a member of it. Each path is
//! given room for a segment tree over its members, top first (node k of it
//! is `base + k`, 1 the root, `width + i` the leaf of the path's member i),
//! all the paths' trees one after another in one array: what `paths.rs` keeps
//! team sales in and `upline.rs` the ranks the links look for,
//! in O(log² n) per chain instead of a walk up a chain that may be
//! thousands of members deep.

use crate::error::{Error, MemberAt, Must, Result};
use crate::graph::NONE;

/// A member's place: its path's segment tree and its index on the path;
/// `hang` is the sponsor of the path's first member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub base: usize,
    pub width: usize,
    pub index: usize,
    pub hang: u32,
}

/// A [`Place`] as the layout stores it, in 16 bytes so that four share a
/// cache line: a chain's places are loaded one after another, each from
/// the one before.
#[derive(Clone, Copy, Debug)]
struct Spot {
    /// `base / 2` (every path's tree starts at an even node).
    half: u32,
    index: u32,
    hang: u32,
    /// `width` is `1 << shift`.
    shift: u8,
}

impl Spot {
    fn of(p: Place) -> Option<Spot> {
        (p.base.is_multiple_of(2) && p.width.is_power_of_two()).then_some(())?;
        Some(Spot {
            half: u32::try_from(p.base / 2).ok()?,
            index: u32::try_from(p.index).ok()?,
            hang: p.hang,
            shift: u8::try_from(p.width.trailing_zeros()).ok()?,
        })
    }

    fn place(self) -> Place {
        Place {
            base: self.half as usize * 2,
            width: 1 << self.shift,
            index: self.index as usize,
            hang: self.hang,
        }
    }
}

/// One path: its tree's first node and width (a power of two), and its
/// members (top first) as a range of [`Layout::along`].
#[derive(Clone, Debug)]
pub(crate) struct Path {
    pub base: usize,
    pub width: usize,
    pub members: std::ops::Range<usize>,
}

/// The heavy paths of a tree.
#[derive(Debug, Default, Clone)]
pub(crate) struct Layout {
    /// Every member, each after its sponsor.
    pub order: Vec<u32>,
    /// Where each member sits ([`Layout::place`]).
    place: Vec<Spot>,
    /// The paths, in order of their first member in `order`.
    pub paths: Vec<Path>,
    /// The members of every path, path after path, each top first.
    pub along: Vec<u32>,
    /// Nodes of all the paths' trees together.
    pub nodes: usize,
    /// The member at each leaf node ([`NONE`] elsewhere).
    pub who: Vec<u32>,
    /// Members laid out by [`Layout::of`]; those after them joined later
    /// ([`Layout::append`]), each with the number of appended paths on its
    /// chain, and the most of any.
    laid: usize,
    appended: Vec<u32>,
    deepest: u32,
}

impl Layout {
    /// The heavy paths of the tree `parent` ([`NONE`] for a root); an
    /// error if it has a cycle.
    pub fn of(parent: &[u32]) -> Result<Layout> {
        let n = parent.len();
        // Children in one table, then every member after its sponsor.
        let mut start = vec![0u32; n + 1];
        for &p in parent {
            if p != NONE {
                *start.get_mut(p as usize + 1).must("members", "sponsor")? += 1;
            }
        }
        for i in 0..n {
            let s = *start.get(i).must("members", "children")?;
            *start.get_mut(i + 1).must("members", "children")? += s;
        }
        let mut fill = start.clone();
        let mut kids = vec![0u32; n];
        for (m, &p) in (0u32..).zip(parent) {
            if p != NONE {
                let slot = fill.get_mut(p as usize).must(MemberAt(p), "children")?;
                *kids.get_mut(*slot as usize).must(MemberAt(p), "children")? = m;
                *slot += 1;
            }
        }
        let mut order: Vec<u32> = (0u32..)
            .zip(parent)
            .filter(|(_, &p)| p == NONE)
            .map(|(m, _)| m)
            .collect();
        let mut k = 0;
        while let Some(&m) = order.get(k) {
            let a = *start.get(m as usize).must(MemberAt(m), "children")? as usize;
            let b = *start.get(m as usize + 1).must(MemberAt(m), "children")? as usize;
            order.extend_from_slice(kids.get(a..b).must(MemberAt(m), "children")?);
            k += 1;
        }
        if order.len() != n {
            return Err(Error::missing("members", "tree without cycles"));
        }
        // Subtree sizes, children first; each member's largest child.
        let mut size = vec![1u32; n];
        let mut heavy = vec![NONE; n];
        for &m in order.iter().rev() {
            let p = *parent.get(m as usize).must(MemberAt(m), "sponsor")?;
            if p == NONE {
                continue;
            }
            let s = *size.get(m as usize).must(MemberAt(m), "size")?;
            *size.get_mut(p as usize).must(MemberAt(p), "size")? += s;
            let h = heavy.get_mut(p as usize).must(MemberAt(p), "heavy child")?;
            let best = match *h {
                NONE => 0,
                c => *size.get(c as usize).must(MemberAt(c), "size")?,
            };
            if s > best {
                *h = m;
            }
        }
        // A path starts at each root and each child that is not its
        // sponsor's largest, and follows the largest children down.
        let far = Spot {
            half: 0,
            index: 0,
            hang: NONE,
            shift: 0,
        };
        let mut layout = Layout {
            order: Vec::new(),
            place: vec![far; n],
            paths: Vec::new(),
            along: Vec::with_capacity(n),
            nodes: 0,
            who: Vec::new(),
            laid: n,
            appended: Vec::new(),
            deepest: 0,
        };
        for &h in &order {
            let p = *parent.get(h as usize).must(MemberAt(h), "sponsor")?;
            if p != NONE && *heavy.get(p as usize).must(MemberAt(p), "heavy child")? == h {
                continue;
            }
            let first = layout.along.len();
            let mut x = h;
            while x != NONE {
                layout.along.push(x);
                x = *heavy.get(x as usize).must(MemberAt(x), "heavy child")?;
            }
            let members = first..layout.along.len();
            let (base, width) = (layout.nodes, members.len().next_power_of_two());
            layout.nodes = base + 2 * width;
            layout.who.resize(layout.nodes, NONE);
            for (index, &m) in (0..).zip(layout.along.get(members.clone()).unwrap_or(&[])) {
                let spot = Spot::of(Place {
                    base,
                    width,
                    index,
                    hang: p,
                });
                // Beyond 2^31 members the nodes would pass 2^33.
                let spot = spot.ok_or_else(|| Error::Overflow {
                    path: "members".to_owned(),
                    detail: "more members than a tree of heavy paths holds".to_owned(),
                })?;
                *layout
                    .place
                    .get_mut(m as usize)
                    .must(MemberAt(m), "place")? = spot;
                *layout
                    .who
                    .get_mut(base + width + index)
                    .must(MemberAt(m), "leaf")? = m;
            }
            layout.paths.push(Path {
                base,
                width,
                members,
            });
        }
        layout.order = order;
        Ok(layout)
    }

    /// Member `m`, the next one, joins under `hang` ([`NONE`]: a root) as a
    /// path of its own: its chain crosses one more piece than it would
    /// laid out, and so do those of the members who join under it, until
    /// the tree is laid out anew ([`Layout::worn`]).
    pub fn append(&mut self, m: u32, hang: u32) -> Result<()> {
        if m as usize != self.place.len() {
            return Err(Error::missing(
                &format!("members[{m}]"),
                "the next member to join",
            ));
        }
        let base = self.nodes;
        let spot = Spot::of(Place {
            base,
            width: 1,
            index: 0,
            hang,
        });
        let spot = spot.ok_or_else(|| Error::Overflow {
            path: "members".to_owned(),
            detail: "more members than a tree of heavy paths holds".to_owned(),
        })?;
        let above = match (hang as usize).checked_sub(self.laid) {
            Some(k) if hang != NONE => *self.appended.get(k).must(MemberAt(hang), "place")?,
            _ => 0,
        };
        self.place.push(spot);
        self.who.extend([NONE, m]);
        self.nodes = base + 2;
        let at = self.along.len();
        self.paths.push(Path {
            base,
            width: 1,
            members: at..at + 1,
        });
        self.along.push(m);
        self.order.push(m);
        self.appended.push(above + 1);
        self.deepest = self.deepest.max(above + 1);
        Ok(())
    }

    /// Whether the members appended since the layout are enough that
    /// laying the tree out anew pays: more than a quarter of those laid
    /// out (so the layouts of a period cost a few times one of its whole
    /// tree), or a chain crossing more than 32 appended paths once more
    /// than 1/64 of them joined (so a chain crosses at most log₂ n pieces
    /// of the layout and 32 appended ones, or those of 1/64 of the tree).
    pub fn worn(&self) -> bool {
        let joined = self.appended.len();
        joined > self.laid / 4 + 16 || (self.deepest > 32 && joined > self.laid / 64)
    }

    /// Member `m`'s place.
    pub fn place(&self, m: u32) -> Result<Place, crate::error::Missing> {
        self.place
            .get(m as usize)
            .map(|s| s.place())
            .must(MemberAt(m), "place")
    }

    /// Ask for member `m`'s place to be brought into the cache.
    pub fn prefetch(&self, m: u32) {
        prefetch_index::prefetch_index(&self.place, m as usize);
    }

    /// The members of `path`, top first.
    pub fn members(&self, path: &Path) -> &[u32] {
        self.along.get(path.members.clone()).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::{Place, Spot, NONE};

    fn place(base: usize, width: usize, index: usize) -> Place {
        Place {
            base,
            width,
            index,
            hang: NONE,
        }
    }

    #[test]
    fn a_spot_keeps_its_place_in_16_bytes() {
        assert_eq!(std::mem::size_of::<Spot>(), 16);
        let largest = 2 * u32::MAX as usize;
        for p in [place(0, 1, 0), place(6, 8, 7), place(largest, 1 << 31, 5)] {
            assert_eq!(Spot::of(p).map(Spot::place), Some(p));
        }
        // Past 2^33 nodes, an odd base or a width not a power of two: no spot.
        for p in [place(largest + 2, 1, 0), place(3, 1, 0), place(0, 6, 0)] {
            assert!(Spot::of(p).is_none(), "{p:?}");
        }
    }
}
