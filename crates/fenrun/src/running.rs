//! Rank timing `immediate` (立即升级, §13): the state of a period as its
//! events come, moved by each of them. Metrics are running sums and counts;
//! after each event the members it touched are evaluated children first
//! (upgrades only), their new ranks folded into their ancestors' counts;
//! each order is settled on the tree, ranks, activity and metrics as they
//! stand just before it. At the end, retention (§12.4) is applied once.
//!
//! An event touches what it changes: an order its seller, its buyer and,
//! when the policy reads team sales, those ancestors of the seller whose
//! team sales reached a point where their rank or activity could change
//! (found without walking the chain: [`Paths`]); a joining member or a new
//! rank its sponsor, and every ancestor when the policy reads a count by
//! rank that moved above the sponsor. No event costs a pass over the whole
//! tree, except a sponsor move, which lays the tree out anew (moves are
//! rare), and now and then a join (the joined tree laid out anew once
//! enough members joined since, [`crate::heavy::Layout::worn`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rust_decimal::Decimal;

use crate::batch::{Batch, Event, Joining, What};
use crate::condition::{Condition, Metric, Op};
use crate::error::{MemberAt, Missing, Must, Result};
use crate::graph::{Forest, NONE};
use crate::ids::RankIdx;
use crate::paths::Paths;
use crate::policy::{Needs, Policy};
use crate::rank::{self, Metrics, RankChange, Ranking, Shift};
use crate::upline::{Links, Row, Upline};

/// The ranks and activity of a batch's members with the metrics they rest
/// on, in the policy's rank timing: over the whole batch (`period_end`,
/// [`rank::evaluate`]), or the state after the last event (`immediate`).
/// In `immediate` timing, when no rule reads a metric as an order is
/// settled, also what each order walks ([`Walks`]), so that settling the
/// orders does not replay the period again.
pub(crate) fn ranking(policy: &Policy, batch: &Batch) -> Result<(Ranking, Option<Walks>)> {
    if !policy.is_immediate() {
        return Ok((rank::evaluate(policy, batch)?, None));
    }
    let mut running = Running::start(policy, batch, &Links::default())?;
    if policy.rules().iter().all(|r| r.kind.metrics().is_empty()) {
        running.record(batch)?;
    }
    for i in 0..batch.events.len() {
        running.before(batch, i)?;
        running.sale(batch, i)?;
    }
    let walks = running.walks.take();
    Ok((running.finish(batch)?, walks))
}

/// What the orders of a period in `immediate` timing walk (§13), as the
/// replay that ranked it left it: each member's row of the live table
/// ([`Upline::set`]) before the first event, and every change of a row
/// after, each with the first event whose lines see it.
#[derive(Debug, Default, Clone)]
pub(crate) struct Walks {
    changes: Vec<(u32, u32, Row)>,
    /// The tree the table is laid out on ([`Upline::lay`]) before the first
    /// event, and each move after, as (event, member, new sponsor).
    parent: Vec<u32>,
    moves: Vec<(u32, u32, u32)>,
}

impl Walks {
    /// The table before the first event, with the link columns of `links`.
    pub fn cursor(&self, n: usize, links: &Links) -> Cursor<'_> {
        Cursor {
            up: Upline::live(n, links),
            walks: self,
            next: 0,
            parent: self.parent.clone(),
            next_move: 0,
            laid: false,
        }
    }
}

/// A live table moved through a period's [`Walks`].
pub(crate) struct Cursor<'a> {
    up: Upline,
    walks: &'a Walks,
    next: usize,
    /// The tree as it stands at the cursor, and the next move to make.
    parent: Vec<u32>,
    next_move: usize,
    laid: bool,
}

impl Cursor<'_> {
    /// The table as the lines of event `i` see it.
    pub fn to(&mut self, i: usize) -> Result<&Upline> {
        while let Some(&(at, m, row)) = self.walks.changes.get(self.next) {
            if at as usize > i {
                break;
            }
            self.up.set_row(m, row)?;
            self.next += 1;
        }
        while let Some(&(at, m, to)) = self.walks.moves.get(self.next_move) {
            if at as usize > i {
                break;
            }
            *self
                .parent
                .get_mut(m as usize)
                .must(MemberAt(m), "sponsor")? = to;
            (self.next_move, self.laid) = (self.next_move + 1, false);
        }
        if !self.laid {
            self.up.lay(&self.parent)?;
            self.laid = true;
        }
        Ok(&self.up)
    }
}

/// One period's state in `immediate` timing, moved forward event by event.
#[derive(Clone)]
pub(crate) struct Running {
    /// A copy of the policy (a few hundred bytes): the state is kept across
    /// calls by whoever owns the batch, which each call lends.
    policy: Policy,
    metrics: Metrics,
    rank: Vec<RankIdx>,
    /// Each member's sponsor now (or, for one not joined yet, when it joins).
    parent: Vec<u32>,
    input_active: Vec<bool>,
    attrs: Vec<(u32, BTreeMap<String, Decimal>)>,
    /// The tree, ranks and activity as the order rules walk them.
    up: Upline,
    /// Members joined so far: members join in index order.
    live: usize,
    /// The next entry of the batch's log to apply.
    next: usize,
    changes: Vec<RankChange>,
    /// The members the current event touched, deepest first.
    queue: BinaryHeap<(u32, Reverse<u32>)>,
    /// `queued[m] == stamp`: m is in the queue; `chained[m] == stamp`: so
    /// are all its ancestors.
    queued: Vec<u32>,
    chained: Vec<u32>,
    stamp: u32,
    /// Per member, the team sales from which an order under it may change
    /// its rank or activity, and those down to which a refund under it may
    /// ([`Running::set_bound`]): its other metrics do not move while only
    /// orders and refunds under it come.
    bound: Vec<Decimal>,
    floor: Vec<Decimal>,
    /// Team sales and those triggers along the tree, when the policy reads team sales.
    paths: Option<Paths>,
    /// Scratch: the members an order's team sales made due.
    due: Vec<u32>,
    /// The rows the orders walk, when recorded ([`Running::record`]), and
    /// the event whose lines see a change made now.
    walks: Option<Walks>,
    seen_by: u32,
}

impl Running {
    /// The state before the first event: the batch's starting members and
    /// groups (the log undone), evaluated once children first, upgrades only
    /// (the changes reported without `after`).
    pub fn start(policy: &Policy, batch: &Batch, links: &Links) -> Result<Running> {
        let n = batch.ids.len();
        let mut parent = batch.forest.parent.clone();
        let mut input_active = batch.input_active.clone();
        let mut attrs = batch.attrs.clone();
        let mut groups = batch.groups.clone();
        let mut live = n;
        for c in batch.log.iter().rev() {
            match &c.what {
                What::Join(m) => live = live.min(*m as usize),
                What::Move { member, from, .. } => {
                    *parent
                        .get_mut(*member as usize)
                        .must(MemberAt(*member), "sponsor")? = *from;
                }
                What::Active { member, from, .. } => {
                    *input_active
                        .get_mut(*member as usize)
                        .must(MemberAt(*member), "active")? = *from;
                }
                What::Attrs { member, from, .. } => set_attrs(&mut attrs, *member, from.clone()),
                What::Group { group, from, .. } => match from {
                    Some(g) => {
                        *groups.get_mut(*group as usize).must("groups", "group")? = *g;
                    }
                    None => groups.truncate(*group as usize),
                },
            }
        }
        let start = parent
            .get(..live)
            .must("members", "starting members")?
            .to_vec();
        let forest = Forest::build(start, &batch.ids)?;
        let ranks = policy.ranks().len();
        let mut metrics = Metrics::empty(n, ranks, Needs::of(policy), &groups)?;
        let rules = policy.rules().iter().flat_map(|r| r.kind.metrics());
        let leaves = policy.conditions().flat_map(Condition::leaves);
        metrics.read_only(rules.chain(leaves.map(|l| &l.metric)));
        let mut rank = batch.input_rank.clone();
        let changes = rank::children_first(
            policy,
            &attrs,
            &forest,
            &batch.ids,
            &mut metrics,
            &mut rank,
            false,
        )?;
        let mut up = Upline::live(n, links);
        for (m, (&p, &d)) in (0u32..).zip(forest.parent.iter().zip(&forest.depth)) {
            let i = m as usize;
            let r = *rank.get(i).must(MemberAt(m), "rank")?;
            let input = *input_active.get(i).must(MemberAt(m), "active")?;
            let active = rank::active(policy, &attrs, &metrics, m, input)?;
            up.set(m, p, d, r, active)?;
        }
        // The members who join later are laid out as they join.
        let joined = parent.get(..live).must("members", "starting members")?;
        up.lay(joined)?;
        let paths = match metrics.needs().team_sales {
            true => Some(Paths::new(joined, policy.rounding().scale, floors(policy))?),
            false => None,
        };
        let mut running = Running {
            policy: policy.clone(),
            metrics,
            rank,
            parent,
            input_active,
            attrs,
            up,
            live,
            next: 0,
            changes,
            queue: BinaryHeap::new(),
            queued: vec![0; n],
            chained: vec![0; n],
            stamp: 1,
            bound: vec![Decimal::MAX; n],
            floor: vec![Decimal::MIN; n],
            paths,
            due: Vec::new(),
            walks: None,
            seen_by: 0,
        };
        for m in 0..running.live {
            let m = crate::ids::idx32(m);
            running.set_bound(m)?;
        }
        Ok(running)
    }

    /// Keep every change of the rows the orders walk from now on ([`Walks`]).
    pub fn record(&mut self, batch: &Batch) -> Result<()> {
        let mut walks = Walks {
            parent: self.parent.clone(),
            ..Walks::default()
        };
        for m in 0..batch.ids.len() {
            let m = crate::ids::idx32(m);
            walks.changes.push((0, m, self.up.row_of(m)?));
        }
        self.walks = Some(walks);
        Ok(())
    }

    /// Room for member `m`, the next index, about to join a period a
    /// ledger keeps live (§14), as its event gave it. The join itself is
    /// the log's ([`What::Join`]), applied by [`Running::before`].
    pub fn admit(&mut self, m: u32, joining: Joining) -> Result<()> {
        if m as usize != self.parent.len() {
            return Err(crate::Error::missing(
                &format!("members[{m}]"),
                "the next member to join",
            ));
        }
        self.parent.push(joining.sponsor);
        self.rank.push(joining.rank);
        self.input_active.push(joining.active);
        set_attrs(&mut self.attrs, m, joining.attrs);
        self.up.push_row();
        self.metrics.push_member();
        self.queued.push(0);
        self.chained.push(0);
        self.bound.push(Decimal::MAX);
        self.floor.push(Decimal::MIN);
        Ok(())
    }

    /// Set member `m`'s row of the live table, recording a change.
    fn put(&mut self, m: u32, p: u32, d: u32, r: RankIdx, active: bool) -> Result<()> {
        let before = self.up.row_of(m)?;
        self.up.set(m, p, d, r, active)?;
        if let Some(walks) = &mut self.walks {
            let row = self.up.row_of(m)?;
            if row != before {
                walks.changes.push((self.seen_by, m, row));
            }
        }
        Ok(())
    }

    /// The tree, ranks and activity now, as the order rules walk them.
    pub fn upline(&self) -> &Upline {
        &self.up
    }

    /// Member `m`'s value of `metric` now.
    pub fn value(&self, m: u32, metric: &Metric) -> Result<Decimal, Missing> {
        match (&self.paths, metric) {
            (Some(paths), Metric::TeamSales) => paths.team_sales(m),
            _ => self.metrics.value_in(&self.attrs, m, metric),
        }
    }

    /// Apply the member and group events that come before order or refund
    /// `i` (all the rest when `i` is past the last), each evaluated after it.
    pub fn before(&mut self, batch: &Batch, i: usize) -> Result<()> {
        self.seen_by = u32::try_from(i).unwrap_or(u32::MAX);
        while let Some(c) = batch.log.get(self.next) {
            if c.before as usize > i {
                break;
            }
            let event = &c.event;
            // Every change of one event, then its evaluation.
            while let Some(c) = batch.log.get(self.next) {
                if c.before as usize > i || c.event != *event {
                    break;
                }
                self.change(&c.what)?;
                self.next += 1;
            }
            self.settle(batch, Some(event))?;
        }
        Ok(())
    }

    /// Order or refund `i` is counted (after its lines were made), and the
    /// members it touched evaluated.
    pub fn sale(&mut self, batch: &Batch, i: usize) -> Result<()> {
        self.seen_by = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (seller, buyer, amount) = match batch.events.get(i) {
            Some(Event::Order(o)) => (o.seller, o.buyer, o.amount),
            Some(Event::Refund(r)) => match batch.events.get(r.order_event as usize) {
                Some(Event::Order(o)) => (o.seller, o.buyer, -r.amount),
                _ => {
                    return Err(crate::Error::missing(
                        &format!("events[{i}]"),
                        "refunded order",
                    ))
                }
            },
            None => return Err(crate::Error::missing(&format!("events[{i}]"), "event")),
        };
        // The next order's seller is read at once: ask for its rows now.
        if let Some(Event::Order(next)) = batch.events.get(i + 1) {
            self.metrics.prefetch_sums(next.seller);
            if let Some(paths) = &self.paths {
                paths.prefetch(next.seller);
            }
        }
        let path = || format!("events[{i}].amount");
        self.metrics.add_sale(seller, buyer, amount, &path)?;
        let id = batch.event_ids.get(crate::ids::idx32(i));
        if let Some(paths) = &mut self.paths {
            let mut due = std::mem::take(&mut self.due);
            due.clear();
            paths.sale(seller, amount, &mut due)?;
            for &m in &due {
                self.mark(m);
            }
            self.due = due;
        }
        // The seller's and buyer's sums, when read; team sales above.
        let needs = self.metrics.needs();
        if needs.sales {
            self.mark(seller);
        }
        if needs.purchases && buyer != NONE {
            self.mark(buyer);
        }
        self.settle(batch, Some(id))
    }

    /// Evaluate member `m` (upgrades only), fold a new rank into its
    /// ancestors' counts, and set its activity and bound; the change, if
    /// its rank moved, reported `after` an event.
    fn evaluate(
        &mut self,
        batch: &Batch,
        m: u32,
        after: Option<&str>,
    ) -> Result<Option<RankChange>> {
        if let Some(paths) = &self.paths {
            let t = paths.team_sales(m)?;
            *self
                .metrics
                .team_sales
                .get_mut(m as usize)
                .must(MemberAt(m), "team sales")? = t;
        }
        let r = self.rank_of(m)?;
        let mut change = None;
        if self.policy.evaluate_ranks() {
            let moved =
                rank::evaluate_member(&self.policy, &self.attrs, &self.metrics, m, r, false)?;
            if let Some(moved) = moved {
                self.rerank(m, r, moved.to)?;
                change = Some(moved.report(&self.policy, batch.ids.get(m), after)?);
            }
        }
        let r = self.rank_of(m)?;
        let input = *self
            .input_active
            .get(m as usize)
            .must(MemberAt(m), "active")?;
        let active = rank::active(&self.policy, &self.attrs, &self.metrics, m, input)?;
        let (p, d) = (self.sponsor(m), self.up.depth(m));
        self.put(m, p, d, r, active)?;
        self.set_bound(m)?;
        Ok(change)
    }

    /// Member `m`'s bound and floor. The bound: the least team sales at
    /// which an upgrade above its rank, or a change of its activity, could
    /// hold while only its team sales grow; the floor: the team sales down
    /// to which its activity could end while only they fall (its rank does
    /// not move down before the end, §13). The lowest bound and highest
    /// floor when that is not known (a `not`, or a team-sales leaf other
    /// than `gte`/`gt`); the highest bound and lowest floor when nothing can.
    fn set_bound(&mut self, m: u32) -> Result<()> {
        let (mut bound, mut floor) = (Decimal::MAX, Decimal::MIN);
        if self.policy.evaluate_ranks() {
            let r = usize::from(self.rank_of(m)?);
            for def in self.policy.ranks().iter().skip(r + 1) {
                if let Some(c) = &def.upgrade {
                    match self.need(m, c)? {
                        Some(t) => bound = bound.min(t),
                        None => (bound, floor) = (Decimal::MIN, Decimal::MAX),
                    }
                }
            }
        }
        if let Some(c) = self.policy.active_if() {
            let input = *self
                .input_active
                .get(m as usize)
                .must(MemberAt(m), "active")?;
            if input {
                match self.need(m, c)? {
                    None => (bound, floor) = (Decimal::MIN, Decimal::MAX),
                    // Active now: growing team sales keep it so, falling
                    // below the need ends it.
                    Some(t) if self.up.active(m) => floor = floor.max(t),
                    Some(t) => bound = bound.min(t),
                }
            }
        }
        *self.bound.get_mut(m as usize).must(MemberAt(m), "bound")? = bound;
        *self.floor.get_mut(m as usize).must(MemberAt(m), "floor")? = floor;
        if let Some(paths) = &mut self.paths {
            paths.set(m, bound, floor)?;
        }
        Ok(())
    }

    /// The least team sales of member `m` at which `c` can hold, its other
    /// metrics as they are (the lowest decimal: it holds already; the
    /// highest: never), or `None` when growing team sales could make it
    /// hold and fail again (`not`; a team-sales leaf with `lte`, `lt`, `eq`).
    fn need(&self, m: u32, c: &Condition) -> Result<Option<Decimal>, Missing> {
        Ok(match c {
            Condition::Leaf(l) if l.metric == Metric::TeamSales => match l.op {
                Op::Gte | Op::Gt => Some(l.threshold),
                _ => None,
            },
            Condition::Leaf(l) => Some(if l.op.holds(self.value(m, &l.metric)?, l.threshold) {
                Decimal::MIN
            } else {
                Decimal::MAX
            }),
            // All: the most any operand needs; any: the least.
            Condition::All(items) => self.fold_need(m, items, Decimal::MIN, Decimal::max)?,
            Condition::Any(items) => self.fold_need(m, items, Decimal::MAX, Decimal::min)?,
            Condition::Not(_) => None,
        })
    }

    /// [`Running::need`] of operands combined by `pick` from `start`;
    /// `None` if any operand's is.
    fn fold_need(
        &self,
        m: u32,
        items: &[Condition],
        start: Decimal,
        pick: fn(Decimal, Decimal) -> Decimal,
    ) -> Result<Option<Decimal>, Missing> {
        let mut acc = start;
        for x in items {
            match self.need(m, x)? {
                Some(t) => acc = pick(acc, t),
                None => return Ok(None),
            }
        }
        Ok(Some(acc))
    }

    /// The state at the end of the period: the last member and group events
    /// applied, then retention (§12.4) once on the final metrics, children
    /// first (the changes reported without `after`), and everyone's activity.
    pub fn finish(mut self, batch: &Batch) -> Result<Ranking> {
        self.before(batch, usize::MAX)?;
        self.exact()?;
        let retains = self.policy.ranks().iter().any(|r| r.retain.is_some());
        let mut last = Vec::new();
        if self.policy.evaluate_ranks() && retains {
            for &m in batch.forest.parents_first.iter().rev() {
                let r = *self.rank.get(m as usize).must(MemberAt(m), "rank")?;
                let moved =
                    rank::evaluate_member(&self.policy, &self.attrs, &self.metrics, m, r, true)?;
                if let Some(moved) = moved {
                    self.rerank(m, moved.from, moved.to)?;
                    last.push(moved.report(&self.policy, batch.ids.get(m), None)?);
                }
            }
        }
        last.sort_by(|a, b| a.member.cmp(&b.member));
        self.changes.extend(last);
        let mut active = Vec::with_capacity(self.live);
        for (m, &input) in (0u32..).zip(&self.input_active) {
            active.push(rank::active(
                &self.policy,
                &self.attrs,
                &self.metrics,
                m,
                input,
            )?);
        }
        Ok(Ranking {
            rank: self.rank,
            active,
            changes: self.changes,
            metrics: self.metrics,
        })
    }

    /// One change of a member or group event.
    fn change(&mut self, what: &What) -> Result<()> {
        let needs = self.metrics.needs();
        match what {
            What::Join(m) => {
                let m = *m;
                self.live = self.live.max(m as usize + 1);
                let p = self.sponsor(m);
                self.up.join(m, p)?;
                if let Some(paths) = &mut self.paths {
                    paths.join(m, p)?;
                }
                let depth = if p == NONE { 0 } else { self.up.depth(p) + 1 };
                let r = self.rank_of(m)?;
                self.put(m, p, depth, r, false)?;
                let zero = vec![0; self.policy.ranks().len()];
                let own = self.metrics.own(r);
                let counts = Shift {
                    before: &zero,
                    after: &own,
                    own_before: &zero,
                    own_after: &own,
                };
                self.shift(p, counts, 1, 1, Decimal::ZERO)?;
                self.mark(m);
                if needs.counts {
                    self.mark_upline(p, None, r);
                }
                if self.up.worn() || self.paths.as_ref().is_some_and(Paths::worn) {
                    self.relayout()?;
                }
            }
            What::Move { member, from, to } => {
                let m = *member;
                self.exact()?;
                let r = self.rank_of(m)?;
                let sub = self.metrics.subtree(m, r)?;
                let own = self.metrics.own(r);
                let zero = vec![0; own.len()];
                let (size, sales) = self.metrics.team_of(m);
                let out = Shift {
                    before: &sub,
                    after: &zero,
                    own_before: &own,
                    own_after: &zero,
                };
                self.shift(*from, out, -(size + 1), -1, -sales)?;
                *self
                    .parent
                    .get_mut(m as usize)
                    .must(MemberAt(m), "sponsor")? = *to;
                self.redepth()?;
                let joined = self.parent.get(..self.live).must("members", "joined")?;
                self.up.lay(joined)?;
                if let Some(walks) = &mut self.walks {
                    walks.moves.push((self.seen_by, m, *to));
                }
                let into = Shift {
                    before: &zero,
                    after: &sub,
                    own_before: &zero,
                    own_after: &own,
                };
                self.shift(*to, into, size + 1, 1, sales)?;
                if let Some(paths) = &mut self.paths {
                    let team = &self.metrics.team_sales;
                    let joined = self.parent.get(..self.live).must("members", "joined")?;
                    paths.layout(joined, team, &self.bound, &self.floor)?;
                }
                if needs.counts || needs.team_sales {
                    self.mark_chain(*from);
                    self.mark_chain(*to);
                }
            }
            What::Active { member, to, .. } => {
                *self
                    .input_active
                    .get_mut(*member as usize)
                    .must(MemberAt(*member), "active")? = *to;
                self.mark(*member);
            }
            What::Attrs { member, to, .. } => {
                set_attrs(&mut self.attrs, *member, to.clone());
                self.mark(*member);
            }
            What::Group { from, to, .. } => {
                self.metrics.set_group(*from, *to)?;
                self.mark(to.owner);
                if let Some(f) = from {
                    self.mark(f.owner);
                }
            }
        }
        Ok(())
    }

    /// Evaluate the members the event touched, deepest first, then report
    /// its rank changes (by member id) with `after`.
    fn settle(&mut self, batch: &Batch, after: Option<&str>) -> Result<()> {
        let mut now = Vec::new();
        while let Some((_, Reverse(m))) = self.queue.pop() {
            let from = self.rank_of(m)?;
            if let Some(change) = self.evaluate(batch, m, after)? {
                now.push(change);
                if self.metrics.needs().counts {
                    let (p, to) = (self.sponsor(m), self.rank_of(m)?);
                    self.mark_upline(p, Some(from), to);
                }
            }
        }
        now.sort_by(|a, b| a.member.cmp(&b.member));
        self.changes.extend(now);
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.queued.fill(0);
            self.chained.fill(0);
            self.stamp = 1;
        }
        Ok(())
    }

    /// Member `m`'s rank goes from `from` to `to`: its ancestors' counts by rank follow.
    fn rerank(&mut self, m: u32, from: RankIdx, to: RankIdx) -> Result<()> {
        let counts = (
            self.metrics.subtree(m, from)?,
            self.metrics.subtree(m, to)?,
            self.metrics.own(from),
            self.metrics.own(to),
        );
        let shift = Shift {
            before: &counts.0,
            after: &counts.1,
            own_before: &counts.2,
            own_after: &counts.3,
        };
        let p = self.sponsor(m);
        self.shift(p, shift, 0, 0, Decimal::ZERO)?;
        *self.rank.get_mut(m as usize).must(MemberAt(m), "rank")? = to;
        Ok(())
    }

    fn shift(
        &mut self,
        p: u32,
        counts: Shift<'_>,
        size: i64,
        children: i64,
        sales: Decimal,
    ) -> Result<()> {
        let parent = &self.parent;
        let up = |m: u32| parent.get(m as usize).copied().unwrap_or(NONE);
        self.metrics
            .shift(p, &up, &self.rank, counts, size, children, sales)
    }

    /// Every joined member's depth, after a move (one pass, each member's
    /// depth found from its nearest ancestor already known).
    fn redepth(&mut self) -> Result<()> {
        let mut known = vec![false; self.live];
        let mut path = Vec::new();
        for m in 0..self.live {
            let mut x = crate::ids::idx32(m);
            while x != NONE && !known.get(x as usize).copied().unwrap_or(true) {
                path.push(x);
                x = self.sponsor(x);
            }
            let mut depth = if x == NONE { 0 } else { self.up.depth(x) + 1 };
            while let Some(y) = path.pop() {
                let (p, r, a) = (self.sponsor(y), self.rank_of(y)?, self.up.active(y));
                self.put(y, p, depth, r, a)?;
                if let Some(k) = known.get_mut(y as usize) {
                    *k = true;
                }
                depth += 1;
            }
        }
        Ok(())
    }

    /// Lay the joined members' tree out anew on heavy paths, for the live
    /// table and the team sales, once enough members joined since the last
    /// time ([`Upline::worn`], [`Paths::worn`]).
    fn relayout(&mut self) -> Result<()> {
        self.exact()?;
        let joined = self.parent.get(..self.live).must("members", "joined")?;
        self.up.lay(joined)?;
        if let Some(paths) = &mut self.paths {
            let team = &self.metrics.team_sales;
            paths.layout(joined, team, &self.bound, &self.floor)?;
        }
        Ok(())
    }

    /// Every member's team sales, exact, into the metrics.
    fn exact(&mut self) -> Result<()> {
        if let Some(paths) = &self.paths {
            // Policies that read team sales keep the members' own sales.
            self.metrics.team_sales = paths.exact(&self.parent, &self.metrics.sales)?;
        }
        Ok(())
    }

    fn sponsor(&self, m: u32) -> u32 {
        self.parent.get(m as usize).copied().unwrap_or(NONE)
    }

    fn rank_of(&self, m: u32) -> Result<RankIdx, Missing> {
        self.rank.get(m as usize).copied().must(MemberAt(m), "rank")
    }

    /// Put `m` in the queue of the current event.
    fn mark(&mut self, m: u32) {
        if let Some(q) = self.queued.get_mut(m as usize) {
            if *q != self.stamp {
                *q = self.stamp;
                self.queue.push((self.up.depth(m), Reverse(m)));
            }
        }
    }

    /// A member under `p` joined at rank `to` (`from` is `None`) or moved
    /// up from rank `from` to `to`: the counts by rank of `p` and every
    /// ancestor of it changed for the ranks it now counts at. Only `p` is
    /// put in the queue (its referrals changed) unless the policy reads,
    /// above a sponsor, a count that moved: team size (of any rank a
    /// joining member counts for) or legs of such a rank.
    fn mark_upline(&mut self, p: u32, from: Option<RankIdx>, to: RankIdx) {
        match self.metrics.counted_above(from, to) {
            true => self.mark_chain(p),
            false => self.mark(p),
        }
    }

    /// Put `m` and every ancestor of it in the queue.
    fn mark_chain(&mut self, m: u32) {
        let mut x = m;
        while x != NONE {
            match self.chained.get_mut(x as usize) {
                Some(c) if *c != self.stamp => *c = self.stamp,
                _ => break,
            }
            self.mark(x);
            x = self.sponsor(x);
        }
    }
}

/// Whether [`Running::set_bound`] may give a member a floor: the policy has
/// `active_if`, or an upgrade whose need is not known ([`Running::need`]:
/// a `not`, or a team-sales leaf other than `gte`/`gt`).
fn floors(policy: &Policy) -> bool {
    if policy.active_if().is_some() {
        return true;
    }
    let mut stack: Vec<&Condition> = policy
        .ranks()
        .iter()
        .filter_map(|r| r.upgrade.as_ref())
        .collect();
    while let Some(c) = stack.pop() {
        match c {
            Condition::Leaf(l) if l.metric == Metric::TeamSales => {
                if !matches!(l.op, Op::Gte | Op::Gt) {
                    return true;
                }
            }
            Condition::Leaf(_) => {}
            Condition::All(items) | Condition::Any(items) => stack.extend(items),
            Condition::Not(_) => return true,
        }
    }
    false
}

/// Set member `m`'s attributes in a table by member (`None`: none).
fn set_attrs(
    attrs: &mut Vec<(u32, BTreeMap<String, Decimal>)>,
    m: u32,
    to: Option<BTreeMap<String, Decimal>>,
) {
    match (attrs.binary_search_by_key(&m, |(k, _)| *k), to) {
        (Ok(k), None) => {
            attrs.remove(k);
        }
        (Ok(k), Some(to)) => {
            if let Some(slot) = attrs.get_mut(k) {
                slot.1 = to;
            }
        }
        (Err(k), Some(to)) => attrs.insert(k, (m, to)),
        (Err(_), None) => {}
    }
}
