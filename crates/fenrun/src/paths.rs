//! Team sales on a tree that grows and moves, for rank timing `immediate`
//! (§13): an order or refund adds its amount to the team sales of its
//! seller and of every ancestor, and the members whose team sales reached
//! the point where their rank or activity could change are found, in
//! O(log² n) per order instead of a walk up a chain that may be thousands
//! of members deep.
//!
//! The tree is cut into heavy paths ([`crate::heavy`]). Each path has a
//! segment tree over its members, top first, holding team sales added to
//! whole runs of them at once, in integer units of the policy scale
//! (amounts have at most its decimals), and per run the least distance of
//! any member to its triggers: `rise`,
//! its bound less its team sales (an upgrade or a new activity may hold
//! when it reaches 0), and `fall`, its team sales less its floor (its
//! activity may end when that reaches 0). Both triggers are conservative: a
//! member found is evaluated, and evaluating a member whose rank and
//! activity stay changes nothing.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, MemberAt, Missing, Must, Result};
use crate::graph::NONE;
use crate::heavy::{Layout, Place};

/// A distance no sum of amounts reaches: a trigger at `FAR` never fires,
/// one at `-FAR` always does.
const FAR: i128 = i128::MAX >> 3;

/// The heavy paths of a tree with team sales and triggers.
#[derive(Clone)]
pub(crate) struct Paths {
    scale: u32,
    /// The paths, and where each member sits on them.
    layout: Layout,
    /// The segment trees of all paths, one after another.
    nodes: Vec<Node>,
    /// Per node, the least `fall` under it, plus what the nodes above it
    /// hold in `add`; empty when no member can have a floor (the policy
    /// says so: [`Paths::new`]), so the trees stay half as wide.
    fall: Vec<i128>,
    /// Scratch for [`Paths::find`] and [`Paths::sale`].
    stack: Vec<(usize, i128)>,
    chain: Vec<(u32, Place)>,
}

/// A node of a path's segment tree; aligned so that a node never spans
/// two cache lines.
#[derive(Clone, Copy)]
#[repr(align(32))]
struct Node {
    /// Team sales, in units, added to every member under it.
    add: i128,
    /// The least `rise` under it, less what the nodes above it hold in `add`.
    rise: i128,
}

const FAR_NODE: Node = Node { add: 0, rise: FAR };

fn overflow(m: u32) -> Error {
    Error::Overflow {
        path: format!("members[{m}]"),
        detail: "team sales".to_owned(),
    }
}

/// `d` in units of `scale`, rounded by `strategy`, within ±[`FAR`].
fn units_of(d: Decimal, scale: u32, strategy: RoundingStrategy) -> i128 {
    let r = d.round_dp_with_strategy(scale, strategy);
    match crate::money::units_at(r, scale) {
        Some(u) => u.clamp(-FAR, FAR),
        None if d.is_sign_negative() => -FAR,
        None => FAR,
    }
}

fn node_at(nodes: &[Node], i: usize) -> Result<Node, Missing> {
    nodes.get(i).copied().must("members", "path node")
}

impl Paths {
    /// The paths of the tree `parent` (every member, joined or not), no
    /// team sales, no trigger set; amounts at most `scale` decimals;
    /// `floors`: whether a member may be given a floor.
    pub fn new(parent: &[u32], scale: u32, floors: bool) -> Result<Paths> {
        let n = parent.len();
        let mut paths = Paths {
            scale,
            layout: Layout::default(),
            nodes: Vec::new(),
            fall: Vec::new(),
            stack: Vec::new(),
            chain: Vec::new(),
        };
        let zero = vec![Decimal::ZERO; n];
        let never_up = vec![Decimal::MAX; n];
        let never_down = vec![Decimal::MIN; n];
        paths.fall = match floors {
            true => vec![FAR],
            false => Vec::new(),
        };
        paths.layout(parent, &zero, &never_up, &never_down)?;
        Ok(paths)
    }

    /// Cut the tree `parent` into paths anew (after a move), each member
    /// with its team sales `team`, bound and floor.
    pub fn layout(
        &mut self,
        parent: &[u32],
        team: &[Decimal],
        bound: &[Decimal],
        floor: &[Decimal],
    ) -> Result<()> {
        let layout = Layout::of(parent)?;
        let floors = !self.fall.is_empty();
        let mut nodes = vec![FAR_NODE; layout.nodes];
        let mut fall = match floors {
            true => vec![FAR; layout.nodes],
            false => Vec::new(),
        };
        for path in &layout.paths {
            let (base, width) = (path.base, path.width);
            for (index, &m) in layout.members(path).iter().enumerate() {
                let (t, b, f) = (
                    team.get(m as usize).must(MemberAt(m), "team sales")?,
                    bound.get(m as usize).must(MemberAt(m), "bound")?,
                    floor.get(m as usize).must(MemberAt(m), "floor")?,
                );
                let t = crate::money::units_at(*t, self.scale).ok_or_else(|| overflow(m))?;
                let leaf = base + width + index;
                *nodes.get_mut(leaf).must(MemberAt(m), "path node")? = Node {
                    add: t,
                    rise: self.rise_of(*b, t),
                };
                if floors {
                    *fall.get_mut(leaf).must(MemberAt(m), "path node")? = self.fall_of(*f, t);
                } else if *f != Decimal::MIN {
                    return Err(Error::missing("members", "paths with floors"));
                }
            }
            for i in (1..width).rev() {
                let (l, r) = (
                    node_at(&nodes, base + 2 * i)?,
                    node_at(&nodes, base + 2 * i + 1)?,
                );
                *nodes.get_mut(base + i).must("members", "path node")? = Node {
                    add: 0,
                    rise: l.rise.min(r.rise),
                };
                if floors {
                    let low = fall.get(base + 2 * i).min(fall.get(base + 2 * i + 1));
                    *fall.get_mut(base + i).must("members", "path node")? =
                        *low.must("members", "path node")?;
                }
            }
        }
        self.layout = layout;
        self.nodes = nodes;
        if floors {
            self.fall = fall;
        }
        Ok(())
    }

    /// Member `m`, the next one, joins under `hang` with no team sales
    /// and no trigger ([`Layout::append`]; [`Paths::worn`] says when to lay
    /// the tree out anew).
    pub fn join(&mut self, m: u32, hang: u32) -> Result<()> {
        self.layout.append(m, hang)?;
        self.nodes.extend([FAR_NODE; 2]);
        if !self.fall.is_empty() {
            self.fall.extend([FAR; 2]);
        }
        Ok(())
    }

    /// Whether enough members joined since the layout to lay it out anew.
    pub fn worn(&self) -> bool {
        self.layout.worn()
    }

    /// A leaf's `rise` for bound `b` and team sales `t` (units).
    fn rise_of(&self, b: Decimal, t: i128) -> i128 {
        units_of(b, self.scale, RoundingStrategy::ToPositiveInfinity).saturating_sub(t)
    }

    /// A leaf's `fall` for floor `f` and team sales `t` (units).
    fn fall_of(&self, f: Decimal, t: i128) -> i128 {
        t.saturating_sub(units_of(
            f,
            self.scale,
            RoundingStrategy::ToNegativeInfinity,
        ))
    }

    /// Ask for member `m`'s place to be brought into the cache.
    pub fn prefetch(&self, m: u32) {
        self.layout.prefetch(m);
    }

    fn place(&self, m: u32) -> Result<Place, Missing> {
        self.layout.place(m)
    }

    /// `amount` (negative: a refund) sold by `m`: the team sales of it and
    /// every ancestor; the members among them whose rank or activity may
    /// have changed with their team sales go to `due`.
    pub fn sale(&mut self, m: u32, amount: Decimal, due: &mut Vec<u32>) -> Result<()> {
        let d = crate::money::units_at(amount, self.scale).ok_or_else(|| overflow(m))?;
        // The pieces of the chain first; then every node the walks will
        // read is asked for at once (a walk's nodes follow from the piece's
        // length alone), so that their loads overlap rather than wait on
        // each other.
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        let mut x = m;
        while x != NONE {
            let p = self.place(x)?;
            chain.push((x, p));
            x = p.hang;
        }
        for (_, p) in &chain {
            let (k, mut i, mut lo, mut hi) = (p.index, 1, 0, p.width - 1);
            loop {
                prefetch_index::prefetch_index(&self.nodes, p.base + i);
                if k >= hi {
                    break;
                }
                let mid = lo + (hi - lo) / 2;
                if k <= mid {
                    (i, hi) = (2 * i, mid);
                } else {
                    (i, lo) = (2 * i + 1, mid + 1);
                }
            }
        }
        for &(x, p) in &chain {
            self.prefix(p, d, due)
                .map_err(|e| e.unwrap_or_else(|| overflow(x)))?;
        }
        self.chain = chain;
        Ok(())
    }

    /// Add `d` units to the members of `p`'s path from its top down to
    /// `p.index`, in one walk from the root of its tree to that leaf; the
    /// members whose triggers this reaches go to `due`. An error is a
    /// missing node, `None` an overflow.
    fn prefix(&mut self, p: Place, d: i128, due: &mut Vec<u32>) -> Result<(), Option<Error>> {
        let missing = |e: Missing| Some(Error::from(e));
        let (k, mut i, mut lo, mut hi, mut above) = (p.index, 1, 0, p.width - 1, 0i128);
        loop {
            if k >= hi {
                // All of node i's members are in the piece.
                self.apply(p.base + i, d)?;
                self.find(p, i, above, due).map_err(missing)?;
                break;
            }
            let mid = lo + (hi - lo) / 2;
            above = above.saturating_add(node_at(&self.nodes, p.base + i).map_err(missing)?.add);
            if k <= mid {
                (i, hi) = (2 * i, mid);
            } else {
                self.apply(p.base + 2 * i, d)?;
                self.find(p, 2 * i, above, due).map_err(missing)?;
                (i, lo) = (2 * i + 1, mid + 1);
            }
        }
        self.pull(p.base, i).map_err(missing)
    }

    fn apply(&mut self, i: usize, d: i128) -> Result<(), Option<Error>> {
        let node = self.nodes.get_mut(i).ok_or(None)?;
        node.add = node.add.checked_add(d).ok_or(None)?;
        node.rise = node.rise.saturating_sub(d);
        if let Some(f) = self.fall.get_mut(i) {
            *f = f.saturating_add(d);
        }
        Ok(())
    }

    /// Recompute the nodes above node `i` of the tree at `base`.
    fn pull(&mut self, base: usize, mut i: usize) -> Result<(), Missing> {
        while i > 1 {
            i >>= 1;
            let (l, r) = (
                node_at(&self.nodes, base + 2 * i)?,
                node_at(&self.nodes, base + 2 * i + 1)?,
            );
            let node = self.nodes.get_mut(base + i).must("members", "path node")?;
            node.rise = l.rise.min(r.rise).saturating_sub(node.add);
            let add = node.add;
            if !self.fall.is_empty() {
                let low = self
                    .fall
                    .get(base + 2 * i)
                    .min(self.fall.get(base + 2 * i + 1));
                let low = *low.must("members", "path node")?;
                *self.fall.get_mut(base + i).must("members", "path node")? =
                    low.saturating_add(add);
            }
        }
        Ok(())
    }

    /// The members under node `i` of `p`'s tree (`above`: what the nodes
    /// above it add) whose triggers are reached, into `due`.
    fn find(&mut self, p: Place, i: usize, above: i128, due: &mut Vec<u32>) -> Result<(), Missing> {
        let reached = |i: usize, above: i128| -> Result<bool, Missing> {
            let rise = node_at(&self.nodes, i)?.rise.saturating_sub(above);
            let fall = self.fall.get(i).map_or(FAR, |f| f.saturating_add(above));
            Ok(rise <= 0 || fall <= 0)
        };
        if !reached(p.base + i, above)? {
            return Ok(());
        }
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push((i, above));
        while let Some((i, above)) = stack.pop() {
            if !reached(p.base + i, above)? {
                continue;
            }
            let node = node_at(&self.nodes, p.base + i)?;
            if i >= p.width {
                due.push(
                    *self
                        .layout
                        .who
                        .get(p.base + i)
                        .must("members", "path node")?,
                );
                continue;
            }
            let above = above.saturating_add(node.add);
            stack.push((2 * i, above));
            stack.push((2 * i + 1, above));
        }
        self.stack = stack;
        Ok(())
    }

    /// Member `m`'s team sales now: its value, at the policy scale (or
    /// fewer decimals where a sum past 28 digits needs them, as decimal
    /// sums do).
    pub fn team_sales(&self, m: u32) -> Result<Decimal, Missing> {
        let p = self.place(m)?;
        let mut i = p.width + p.index;
        let mut t: i128 = 0;
        while i >= 1 {
            t = t.saturating_add(node_at(&self.nodes, p.base + i)?.add);
            i >>= 1;
        }
        let mut scale = self.scale;
        loop {
            match Decimal::try_from_i128_with_scale(t, scale) {
                Ok(d) => return Ok(d),
                Err(_) if scale > 0 => (t, scale) = (t / 10, scale - 1),
                Err(_) => return None.must(MemberAt(m), "team sales within a decimal"),
            }
        }
    }

    /// Member `m`'s triggers: evaluate it when its team sales reach `bound`
    /// or fall to `floor`.
    pub fn set(&mut self, m: u32, bound: Decimal, floor: Decimal) -> Result<()> {
        let p = self.place(m)?;
        let leaf = p.width + p.index;
        let t = node_at(&self.nodes, p.base + leaf)?.add;
        let (r, f) = (self.rise_of(bound, t), self.fall_of(floor, t));
        self.nodes
            .get_mut(p.base + leaf)
            .must(MemberAt(m), "path node")?
            .rise = r;
        match self.fall.get_mut(p.base + leaf) {
            Some(slot) => *slot = f,
            None if floor == Decimal::MIN => {}
            None => {
                return Err(Error::missing(
                    &format!("members[{m}]"),
                    "paths with floors",
                ))
            }
        }
        Ok(self.pull(p.base, leaf)?)
    }

    /// Every member's team sales, exact as decimal sums are (the scale the
    /// largest of the amounts under it), from each member's own net sales
    /// `sales`, on the tree `parent` laid out.
    pub fn exact(&self, parent: &[u32], sales: &[Decimal]) -> Result<Vec<Decimal>> {
        let mut team = sales.to_vec();
        for &m in self.layout.order.iter().rev() {
            let p = *parent.get(m as usize).must(MemberAt(m), "sponsor")?;
            if p != NONE {
                let t = *team.get(m as usize).must(MemberAt(m), "team sales")?;
                let slot = team.get_mut(p as usize).must(MemberAt(p), "team sales")?;
                *slot = slot.checked_add(t).ok_or_else(|| overflow(p))?;
            }
        }
        Ok(team)
    }
}
