//! Metrics (§3), conditions and rank evaluation (§4), activity.
//!
//! One children-first pass over the forest (the reverse of its parents-first
//! order, no recursion) evaluates each member after its whole downline, and
//! accumulates the per-rank counts that `min_rank` metrics need into the
//! member's sponsor as it goes.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::batch::{attr_of, Batch, Event, Group};
use crate::condition::{Condition, Leaf, Metric};
use crate::error::{At, Error, MemberAt, Missing, Must, Result};
use crate::graph::NONE;
use crate::ids::RankIdx;
use crate::ids::{EventId, MemberId, RankId};
use crate::money::short_string;
use crate::policy::{Needs, Policy};

/// Attributes by member index (ascending), as a batch holds them.
pub(crate) type Attrs = [(u32, BTreeMap<String, Decimal>)];

/// Per-member metric inputs over the batch, net of refunds; only those the
/// policy reads ([`Needs`]) are computed, the others are left empty.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    needs: Needs,
    ranks: usize,
    pub sales: Vec<Decimal>,
    pub purchases: Vec<Decimal>,
    pub team_sales: Vec<Decimal>,
    /// Descendants (the member excluded).
    team_size: Vec<u32>,
    children: Vec<u32>,
    /// `desc_ge[m * ranks + r]`: descendants of m with rank ≥ r.
    desc_ge: Vec<u32>,
    /// `direct_ge[m * ranks + r]`: children of m with rank ≥ r.
    direct_ge: Vec<u32>,
    /// `legs_ge[m * ranks + r]`: children of m whose subtree holds rank ≥ r.
    legs_ge: Vec<u32>,
    /// Group sizes, grouped by owner: `group_sizes[group_start[m]..group_start[m+1]]`.
    group_start: Vec<u32>,
    group_sizes: Vec<u64>,
    /// The sizes of the groups of each owner who gained or lost a group
    /// since that index was built ([`Metrics::set_group`]), read instead of
    /// its entry there: `moved_groups[moved_at[m]]` (`moved_at` empty until
    /// the first such change, [`NONE`] for a member whose groups did not).
    moved_at: Vec<u32>,
    moved_groups: Vec<Vec<u64>>,
    /// The counts something reads ([`Metrics::read_only`]); `None`: all.
    count_reads: Option<CountReads>,
    /// Net sales of the whole batch.
    pub net_sales: Decimal,
}

/// Which counts of [`Metrics`] are read: team size, per rank r any count of
/// rank ≥ r, and among those the ones an ancestor above a sponsor has
/// (team size and legs of rank ≥ r; referrals are the sponsor's own).
#[derive(Debug, Clone)]
struct CountReads {
    size: bool,
    rank: Vec<bool>,
    above: Vec<bool>,
}

fn overflow(path: &str, what: &str) -> Error {
    Error::Overflow {
        path: path.to_owned(),
        detail: what.to_owned(),
    }
}

/// Row `child` of a table of `n` columns to read and row `parent` (another)
/// to add into.
fn rows(v: &mut [u32], child: usize, parent: usize, n: usize) -> Option<(&[u32], &mut [u32])> {
    if child < parent {
        let (low, high) = v.split_at_mut(parent * n);
        Some((low.get(child * n..(child + 1) * n)?, high.get_mut(..n)?))
    } else {
        let (low, high) = v.split_at_mut(child * n);
        Some((high.get(..n)?, low.get_mut(parent * n..(parent + 1) * n)?))
    }
}

/// Add `x` into `slot`; `path` names the record only if the sum overflows
/// (it is not formatted per event).
#[inline]
fn add(
    slot: Option<&mut Decimal>,
    x: Decimal,
    path: impl Fn() -> String,
    what: &str,
) -> Result<()> {
    let s = slot.ok_or_else(|| Error::missing(&path(), what))?;
    *s = s.checked_add(x).ok_or_else(|| overflow(&path(), what))?;
    Ok(())
}

/// Counts by rank of a subtree before and after a change ([`Metrics::shift`]).
#[derive(Clone, Copy)]
pub(crate) struct Shift<'a> {
    pub before: &'a [i64],
    pub after: &'a [i64],
    pub own_before: &'a [i64],
    pub own_after: &'a [i64],
}

/// Group sizes by owner as a compact index (a counting sort on owner):
/// `sizes[start[m]..start[m + 1]]` are the groups of member `m`.
fn group_index(n: usize, groups: &[Group]) -> Result<(Vec<u32>, Vec<u64>)> {
    let mut group_start = vec![0u32; n + 1];
    for (k, g) in groups.iter().enumerate() {
        *group_start
            .get_mut(g.owner as usize + 1)
            .must(At("groups", k), "owner")? += 1;
    }
    let mut sum = 0u32;
    for c in &mut group_start {
        sum += *c;
        *c = sum;
    }
    let mut fill = group_start.clone();
    let mut group_sizes = vec![0u64; groups.len()];
    for (k, g) in groups.iter().enumerate() {
        let pos = fill
            .get_mut(g.owner as usize)
            .must(At("groups", k), "owner")?;
        *group_sizes
            .get_mut(*pos as usize)
            .must(At("groups", k), "group place")? = g.size;
        *pos += 1;
    }
    Ok((group_start, group_sizes))
}

/// Net sales of the batch, with no per-member sums. An overflow is reported
/// as the per-member sums report it (a member's running sum never exceeds the
/// batch's, so theirs overflows first or never).
fn net_sales_only(batch: &Batch) -> Result<Decimal> {
    // In integers when every amount is kept in units (then it always fits).
    let units = batch.events.net_units();
    if let Some(net) = units.and_then(|(u, scale)| Decimal::try_from_i128_with_scale(u, scale).ok())
    {
        return Ok(net);
    }
    let mut net = Decimal::ZERO;
    for e in batch.events.iter() {
        let amount = match e {
            Event::Order(o) => o.amount,
            Event::Refund(r) => -r.amount,
        };
        match net.checked_add(amount) {
            Some(x) => net = x,
            None => return member_sums(batch).map(|(_, _, net)| net),
        }
    }
    Ok(net)
}

/// Sales and purchases per member (empty when the policy reads neither)
/// and net sales of a batch: the metrics the orders give (§3).
pub(crate) type Sums = (Vec<Decimal>, Vec<Decimal>, Decimal);

/// The [`Sums`] of `batch`'s orders and refunds, per member only when `needs` says so.
pub(crate) fn sums_of(batch: &Batch, needs: Needs) -> Result<Sums> {
    if needs.sums {
        member_sums(batch)
    } else {
        Ok((Vec::new(), Vec::new(), net_sales_only(batch)?))
    }
}

/// Sales and purchases per member and net sales of the batch.
pub(crate) fn member_sums(batch: &Batch) -> Result<(Vec<Decimal>, Vec<Decimal>, Decimal)> {
    let n = batch.ids.len();
    // In integers when every amount is kept in units: none of these sums can
    // overflow then (nor can the Decimal ones below, so no error is lost).
    if let Some(sums) = batch.events.unit_sums(n) {
        let money = |u: i128| {
            Decimal::try_from_i128_with_scale(u, sums.scale)
                .map_err(|_| overflow("events", "net sales of the batch"))
        };
        let all = |v: &[i128]| v.iter().map(|&u| money(u)).collect::<Result<Vec<_>>>();
        return Ok((all(&sums.sales)?, all(&sums.purchases)?, money(sums.net)?));
    }
    let mut sales = vec![Decimal::ZERO; n];
    let mut purchases = vec![Decimal::ZERO; n];
    let mut net_sales = Decimal::ZERO;
    for (i, e) in batch.events.iter().enumerate() {
        let path = || format!("events[{i}].amount");
        let (seller, buyer, amount) = match e {
            Event::Order(o) => (o.seller, o.buyer, o.amount),
            Event::Refund(r) => match batch.events.get(r.order_event as usize) {
                Some(Event::Order(o)) => (o.seller, o.buyer, -r.amount),
                _ => return Err(Error::missing(&path(), "refunded order")),
            },
        };
        add(
            sales.get_mut(seller as usize),
            amount,
            path,
            "seller's sales",
        )?;
        if buyer != NONE {
            add(
                purchases.get_mut(buyer as usize),
                amount,
                path,
                "buyer's purchases",
            )?;
        }
        net_sales = net_sales
            .checked_add(amount)
            .ok_or_else(|| overflow(&path(), "net sales of the batch"))?;
    }
    Ok((sales, purchases, net_sales))
}

impl Metrics {
    fn new(batch: &Batch, ranks: usize, needs: Needs) -> Result<Metrics> {
        let n = batch.ids.len();
        if needs.purchases && !batch.buyers {
            // Only a batch validated for another policy can get here.
            return Err(Error::InvalidValue {
                path: "policy".into(),
                detail: "the policy reads purchases, but the batch was validated for a policy that does not (its orders' buyers were not resolved to members); validate the batch for this policy".into(),
            });
        }
        Metrics::with_sums(n, ranks, needs, &batch.groups, sums_of(batch, needs)?)
    }

    /// The metrics of `batch`'s members and groups with the sales,
    /// purchases and net sales `sums` of orders settled elsewhere (§10.6).
    pub fn of_sums(batch: &Batch, ranks: usize, needs: Needs, sums: Sums) -> Result<Metrics> {
        Metrics::with_sums(batch.ids.len(), ranks, needs, &batch.groups, sums)
    }

    /// The metrics of `n` members before any event (§13): no sales, no
    /// member under another, the groups `groups`.
    pub fn empty(n: usize, ranks: usize, needs: Needs, groups: &[Group]) -> Result<Metrics> {
        let sums = || match needs.sums {
            true => vec![Decimal::ZERO; n],
            false => Vec::new(),
        };
        Metrics::with_sums(n, ranks, needs, groups, (sums(), sums(), Decimal::ZERO))
    }

    /// Metrics with these sales, purchases and net sales, team sales
    /// starting from the sales and counts from nothing (folded in by the
    /// caller), over the groups `groups`.
    fn with_sums(
        n: usize,
        ranks: usize,
        needs: Needs,
        groups: &[Group],
        (sales, purchases, net_sales): Sums,
    ) -> Result<Metrics> {
        let counts = |len: usize| match needs.counts {
            true => vec![0; len],
            false => Vec::new(),
        };
        let (group_start, group_sizes) = group_index(n, groups)?;
        let team_sales = match (needs.team_sales, sales.len() == n) {
            (false, _) => Vec::new(),
            (true, true) => sales.clone(),
            (true, false) => vec![Decimal::ZERO; n],
        };
        Ok(Metrics {
            needs,
            ranks,
            team_sales,
            sales,
            purchases,
            team_size: counts(n),
            children: counts(n),
            desc_ge: counts(n * ranks),
            direct_ge: counts(n * ranks),
            legs_ge: counts(n * ranks),
            group_start,
            group_sizes,
            moved_at: Vec::new(),
            moved_groups: Vec::new(),
            count_reads: None,
            net_sales,
        })
    }

    /// One more member (the next index) with no sales, counts or groups:
    /// a member joining a period a ledger keeps live (§14).
    pub fn push_member(&mut self) {
        if self.needs.sums {
            self.sales.push(Decimal::ZERO);
            self.purchases.push(Decimal::ZERO);
        }
        if self.needs.team_sales {
            self.team_sales.push(Decimal::ZERO);
        }
        if self.needs.counts {
            self.team_size.push(0);
            self.children.push(0);
            for counts in [&mut self.desc_ge, &mut self.direct_ge, &mut self.legs_ge] {
                counts.extend(std::iter::repeat_n(0, self.ranks));
            }
        }
        let end = self.group_start.last().copied().unwrap_or(0);
        self.group_start.push(end);
        if !self.moved_at.is_empty() {
            self.moved_at.push(NONE);
        }
    }

    /// A group event (§14) made a group `to` (`from`: what it was, `None`
    /// for a new group), in the owners' group counts, not the members': a
    /// size change in place, a new group or a change of owner by copying
    /// the owners' sizes out of the index by owner (once per member). A
    /// member's group metrics read its groups' sizes as a multiset (count,
    /// count at a size, sum, largest), so which group of a size is which
    /// does not matter.
    pub fn set_group(&mut self, from: Option<Group>, to: Group) -> Result<(), Missing> {
        match from {
            Some(f) if f.owner == to.owner => self.resize_group(f.owner, f.size, to.size)?,
            Some(f) => {
                let sizes = self.moved_of(f.owner)?;
                let k = sizes.iter().position(|&s| s == f.size);
                sizes.swap_remove(k.must(MemberAt(f.owner), "group")?);
                self.moved_of(to.owner)?.push(to.size);
            }
            None => self.moved_of(to.owner)?.push(to.size),
        }
        Ok(())
    }

    /// A group of member `m` of size `from` is now of size `to`.
    fn resize_group(&mut self, m: u32, from: u64, to: u64) -> Result<(), Missing> {
        let moved = self.moved_at.get(m as usize).copied().unwrap_or(NONE);
        let sizes = match self.moved_groups.get_mut(moved as usize) {
            Some(sizes) => sizes.as_mut_slice(),
            None => {
                let i = m as usize;
                let start = |i: usize| self.group_start.get(i).map(|&s| s as usize);
                let range = start(i).zip(start(i + 1)).map(|(a, b)| a..b);
                let range = range.must(MemberAt(m), "groups")?;
                self.group_sizes
                    .get_mut(range)
                    .must(MemberAt(m), "groups")?
            }
        };
        let slot = sizes.iter_mut().find(|s| **s == from);
        *slot.must(MemberAt(m), "group")? = to;
        Ok(())
    }

    /// Member `m`'s group sizes, copied out of the index by owner if they
    /// were not yet.
    fn moved_of(&mut self, m: u32) -> Result<&mut Vec<u64>, Missing> {
        if self.moved_at.is_empty() {
            self.moved_at = vec![NONE; self.group_start.len().saturating_sub(1)];
        }
        let at = self
            .moved_at
            .get_mut(m as usize)
            .must(MemberAt(m), "groups")?;
        if *at == NONE {
            *at = crate::ids::idx32(self.moved_groups.len());
            let sizes = self.index_groups_of(m)?.to_vec();
            self.moved_groups.push(sizes);
        }
        let at = self.moved_at.get(m as usize).copied().unwrap_or(NONE);
        self.moved_groups
            .get_mut(at as usize)
            .must(MemberAt(m), "groups")
    }

    /// What the policy reads of the metrics.
    pub fn needs(&self) -> Needs {
        self.needs
    }

    /// An order (or, `amount` negative, a refund) of `amount` sold by
    /// `seller` to `buyer` ([`NONE`]: no member) is counted (§13's running
    /// metrics): sales, purchases and net sales; team sales are the
    /// caller's, who knows the tree.
    pub fn add_sale(
        &mut self,
        seller: u32,
        buyer: u32,
        amount: Decimal,
        path: &dyn Fn() -> String,
    ) -> Result<()> {
        if self.needs.sums {
            add(
                self.sales.get_mut(seller as usize),
                amount,
                path,
                "seller's sales",
            )?;
            if buyer != NONE {
                add(
                    self.purchases.get_mut(buyer as usize),
                    amount,
                    path,
                    "buyer's purchases",
                )?;
            }
        }
        self.net_sales = self
            .net_sales
            .checked_add(amount)
            .ok_or_else(|| overflow(&path(), "net sales of the batch"))?;
        Ok(())
    }

    /// Only `metrics` will be read of these metrics (a policy's conditions
    /// and rules): the counts of team size and by rank that none of them
    /// reads are no longer kept up to date above a sponsor by
    /// [`Metrics::shift`], whose walk up the chain then ends where only
    /// those still move (a member joining, or an upgrade to a rank no count
    /// read looks at, touches its sponsor only).
    pub fn read_only<'m>(&mut self, metrics: impl Iterator<Item = &'m Metric>) {
        let none = vec![false; self.ranks];
        let mut reads = CountReads {
            size: false,
            rank: none.clone(),
            above: none,
        };
        for metric in metrics {
            let (r, above) = match metric {
                Metric::TeamSize(None) => {
                    reads.size = true;
                    continue;
                }
                Metric::TeamSize(Some(r)) | Metric::Legs(r) => (r, true),
                Metric::DirectReferrals(Some(r)) => (r, false),
                _ => continue,
            };
            if let Some(read) = reads.rank.get_mut(usize::from(*r)) {
                *read = true;
            }
            if let Some(read) = reads.above.get_mut(usize::from(*r)) {
                *read |= above;
            }
        }
        self.count_reads = Some(reads);
    }

    /// Whether a member under a sponsor joining at rank `to` (`from` is
    /// `None`), or moving up from rank `from` to `to`, moves a count that
    /// is read of an ancestor above that sponsor: team size, or team size or
    /// legs of a rank it now counts at.
    pub fn counted_above(&self, from: Option<RankIdx>, to: RankIdx) -> bool {
        let Some(reads) = &self.count_reads else {
            return true;
        };
        let now = |r: usize| from.is_none_or(|f| r > usize::from(f)) && r <= usize::from(to);
        (from.is_none() && reads.size)
            || (0..self.ranks).any(|r| now(r) && reads.above.get(r) == Some(&true))
    }

    /// Member `m`'s subtree changes as its ancestors see it (§13): under
    /// `p` (its sponsor, or the one it leaves or joins), the members of rank
    /// ≥ r in it go from `before[r]` to `after[r]`, `m` itself counts for
    /// rank ≥ r from `own_before[r]` to `own_after[r]` (0 or 1), and the
    /// subtree gains `size` members, `children` children of `p` and `sales`
    /// team sales. `rank` is every member's current rank; one walk up from
    /// `p`, each ancestor's counts by rank updated in place.
    #[allow(clippy::too_many_arguments)]
    pub fn shift(
        &mut self,
        p: u32,
        parent: &dyn Fn(u32) -> u32,
        rank: &[RankIdx],
        counts: Shift<'_>,
        size: i64,
        children: i64,
        sales: Decimal,
    ) -> Result<()> {
        let team = self.needs.team_sales && !sales.is_zero();
        if !self.needs.counts && !team {
            return Ok(());
        }
        let n = self.ranks;
        let bump = |c: &mut u32, d: i64| -> Result<()> {
            *c = u32::try_from(i64::from(*c) + d)
                .ok()
                .must("members", "a count of members")?;
            Ok(())
        };
        let delta: Vec<i64> = counts
            .after
            .iter()
            .zip(counts.before)
            .map(|(a, b)| a - b)
            .collect();
        let (mut before, mut after) = (counts.before.to_vec(), counts.after.to_vec());
        // What is kept up to date: counts no one reads are left as they
        // are, whole (never in part, so no later change takes them below 0).
        let (reads_size, read): (bool, &[bool]) = match &self.count_reads {
            Some(reads) => (reads.size, &reads.rank),
            None => (true, &[]),
        };
        let read_at = |r: usize| read.get(r).copied().unwrap_or(true);
        let mut x = p;
        let mut first = true;
        while x != NONE {
            let xi = x as usize;
            let path = || "members".to_owned();
            if team {
                add(self.team_sales.get_mut(xi), sales, path, "team sales")?;
            }
            if self.needs.counts {
                if reads_size {
                    bump(
                        self.team_size.get_mut(xi).must(MemberAt(x), "team size")?,
                        size,
                    )?;
                }
                let row = xi * n..(xi + 1) * n;
                if first {
                    bump(
                        self.children.get_mut(xi).must(MemberAt(x), "referrals")?,
                        children,
                    )?;
                    let direct = self
                        .direct_ge
                        .get_mut(row.clone())
                        .must(MemberAt(x), "counts by rank")?;
                    let own = counts.own_after.iter().zip(counts.own_before);
                    for (r, (d, (a, b))) in direct.iter_mut().zip(own).enumerate() {
                        if read_at(r) {
                            bump(d, a - b)?;
                        }
                    }
                }
                let legs = self
                    .legs_ge
                    .get_mut(row.clone())
                    .must(MemberAt(x), "counts by rank")?;
                for (r, ((l, a), b)) in legs.iter_mut().zip(&after).zip(&before).enumerate() {
                    if read_at(r) {
                        bump(l, i64::from(*a > 0) - i64::from(*b > 0))?;
                    }
                }
                let desc = self
                    .desc_ge
                    .get_mut(row)
                    .must(MemberAt(x), "counts by rank")?;
                let own = usize::from(*rank.get(xi).must(MemberAt(x), "rank")?);
                for (r, ((c, d), (a, b))) in desc
                    .iter_mut()
                    .zip(&delta)
                    .zip(after.iter_mut().zip(before.iter_mut()))
                    .enumerate()
                {
                    if read_at(r) {
                        bump(c, *d)?;
                    }
                    // As x's own sponsor sees x's subtree.
                    *a = i64::from(*c) + i64::from(own >= r);
                    *b = *a - d;
                }
            }
            first = false;
            // Above here only counts no one reads would move.
            let moved = (0..n).any(|r| read_at(r) && delta.get(r).is_some_and(|d| *d != 0));
            if !team && (size == 0 || !reads_size) && !moved {
                break;
            }
            x = parent(x);
        }
        Ok(())
    }

    /// The members of rank ≥ r in member `m`'s subtree, `m` (of rank
    /// `rank`) included, for every rank r.
    pub fn subtree(&self, m: u32, rank: RankIdx) -> Result<Vec<i64>, Missing> {
        let n = self.ranks;
        if !self.needs.counts {
            return Ok(vec![0; n]);
        }
        let row = self
            .desc_ge
            .get(m as usize * n..(m as usize + 1) * n)
            .must(MemberAt(m), "counts by rank")?;
        Ok(row
            .iter()
            .enumerate()
            .map(|(r, &c)| i64::from(c) + i64::from(usize::from(rank) >= r))
            .collect())
    }

    /// Member `m`'s own place in counts by rank: 1 for every rank r ≤ `rank`.
    pub fn own(&self, rank: RankIdx) -> Vec<i64> {
        (0..self.ranks)
            .map(|r| i64::from(usize::from(rank) >= r))
            .collect()
    }

    /// Member `m`'s team size and team sales (0 when not read).
    pub fn team_of(&self, m: u32) -> (i64, Decimal) {
        let size = self.team_size.get(m as usize).map_or(0, |&s| i64::from(s));
        let sales = self.team_sales.get(m as usize).copied().unwrap_or_default();
        (size, sales)
    }

    /// The sizes of the groups member `m` owns.
    fn groups_of(&self, m: u32) -> Result<&[u64], Missing> {
        let moved = self.moved_at.get(m as usize).copied().unwrap_or(NONE);
        match self.moved_groups.get(moved as usize) {
            Some(sizes) => Ok(sizes),
            None => self.index_groups_of(m),
        }
    }

    /// The sizes of the groups member `m` owned when the index by owner was built.
    fn index_groups_of(&self, m: u32) -> Result<&[u64], Missing> {
        let i = m as usize;
        let start = |i: usize| self.group_start.get(i).map(|&s| s as usize);
        let (a, b) = (start(i), start(i + 1));
        a.zip(b)
            .and_then(|(a, b)| self.group_sizes.get(a..b))
            .must(MemberAt(m), "groups")
    }

    /// Member `m`'s count at rank `r` in a per-member-and-rank table.
    fn at(&self, v: &[u32], m: u32, r: RankIdx) -> Result<u32, Missing> {
        v.get(m as usize * self.ranks + usize::from(r))
            .copied()
            .must(MemberAt(m), "count by rank")
    }

    /// The value of `metric` for member `m` (an absent attribute is 0, §3).
    #[inline]
    pub fn value(&self, batch: &Batch, m: u32, metric: &Metric) -> Result<Decimal, Missing> {
        self.value_in(&batch.attrs, m, metric)
    }

    /// [`Metrics::value`] with the members' attributes `attrs`.
    #[inline]
    pub fn value_in(&self, attrs: &Attrs, m: u32, metric: &Metric) -> Result<Decimal, Missing> {
        debug_assert!(self.needs.covers(metric), "{metric:?} was not computed");
        let i = m as usize;
        let path = || MemberAt(m);
        let dec = |v: Option<&Decimal>| v.copied().must(path(), metric.name());
        let count = |v: Option<&u32>| v.map(|&c| Decimal::from(c)).must(path(), metric.name());
        Ok(match metric {
            Metric::Sales => dec(self.sales.get(i))?,
            Metric::Purchases => dec(self.purchases.get(i))?,
            Metric::TeamSales => dec(self.team_sales.get(i))?,
            Metric::DirectReferrals(None) => count(self.children.get(i))?,
            Metric::DirectReferrals(Some(r)) => Decimal::from(self.at(&self.direct_ge, m, *r)?),
            Metric::TeamSize(None) => count(self.team_size.get(i))?,
            Metric::TeamSize(Some(r)) => Decimal::from(self.at(&self.desc_ge, m, *r)?),
            Metric::Legs(r) => Decimal::from(self.at(&self.legs_ge, m, *r)?),
            Metric::Groups(None) => Decimal::from(self.groups_of(m)?.len()),
            Metric::Groups(Some(min)) => {
                Decimal::from(self.groups_of(m)?.iter().filter(|s| **s >= *min).count())
            }
            Metric::GroupMembers => {
                // Sum in Decimal: head counts may add past u64 only in theory, never wrap.
                self.groups_of(m)?.iter().fold(Decimal::ZERO, |acc, s| {
                    acc.saturating_add(Decimal::from(*s))
                })
            }
            // No group: a largest group of 0 members (§3).
            Metric::LargestGroup => {
                Decimal::from(self.groups_of(m)?.iter().copied().max().unwrap_or(0))
            }
            Metric::Attr(name) => attr_of(attrs, m, name).unwrap_or_default(),
        })
    }

    /// Ask for member `m`'s own sales to be brought into the cache.
    pub fn prefetch_sums(&self, m: u32) {
        prefetch_index::prefetch_index(&self.sales, m as usize);
    }

    /// Ask for member `m`'s sums and counts to be brought into the cache,
    /// without waiting for them.
    fn prefetch(&self, m: u32) {
        let m = m as usize;
        prefetch_index::prefetch_index(&self.team_sales, m);
        prefetch_index::prefetch_index(&self.team_size, m);
        prefetch_index::prefetch_index(&self.children, m);
        if self.needs.counts {
            let k = m * self.ranks;
            prefetch_index::prefetch_index(&self.desc_ge, k);
            prefetch_index::prefetch_index(&self.direct_ge, k);
            prefetch_index::prefetch_index(&self.legs_ge, k);
        }
    }

    /// Fold a finished member `m` (rank `rank`) into its sponsor's counts.
    fn fold_into_parent(&mut self, m: u32, p: u32, rank: RankIdx) -> Result<()> {
        let (mi, pi) = (m as usize, p as usize);
        let path = || MemberAt(m);
        // Only the sums and counts the policy reads were made (`Needs`).
        if self.needs.team_sales {
            let ts = self
                .team_sales
                .get(mi)
                .copied()
                .must(path(), "team sales")?;
            add(
                self.team_sales.get_mut(pi),
                ts,
                || "members".to_owned(),
                "team sales",
            )?;
        }
        if !self.needs.counts {
            return Ok(());
        }
        let size = self.team_size.get(mi).copied().must(path(), "team size")?;
        *self
            .team_size
            .get_mut(pi)
            .must(path(), "sponsor's team size")? += size + 1;
        *self
            .children
            .get_mut(pi)
            .must(path(), "sponsor's referrals")? += 1;
        let n = self.ranks;
        let row = |p: usize| p * n..(p + 1) * n;
        let (below, desc) = rows(&mut self.desc_ge, mi, pi, n).must(path(), "counts by rank")?;
        let direct = self.direct_ge.get_mut(row(pi));
        let direct = direct.must(path(), "counts by rank")?;
        let legs = self
            .legs_ge
            .get_mut(row(pi))
            .must(path(), "counts by rank")?;
        let own = |r: usize| u32::from(usize::from(rank) >= r);
        for (r, (((&below, d), di), l)) in below.iter().zip(desc).zip(direct).zip(legs).enumerate()
        {
            *d += below + own(r);
            *di += own(r);
            *l += u32::from(below + own(r) > 0);
        }
        Ok(())
    }
}

/// One leaf that made a reached rank's condition hold (§11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Because {
    /// The metric's name.
    pub metric: String,
    /// The leaf's own parameters.
    pub params: Params,
    /// The member's value of the metric, shortest form.
    pub value: String,
    /// The comparison (`gte`, …).
    pub op: String,
    /// The threshold, shortest form.
    pub threshold: String,
}

/// The parameters of a leaf as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Params {
    /// `min_rank`, if the leaf has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_rank: Option<String>,
    /// `min_size`, if the leaf has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u64>,
    /// `name`, if the leaf has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Params {
    /// The parameters of `metric` as written.
    pub(crate) fn of(policy: &Policy, metric: &Metric) -> Result<Params, Missing> {
        let mut params = Params::default();
        match metric {
            Metric::DirectReferrals(Some(r)) | Metric::TeamSize(Some(r)) | Metric::Legs(r) => {
                params.min_rank = Some(policy.rank_id(*r)?.to_owned());
            }
            Metric::Groups(Some(s)) => params.min_size = Some(*s),
            Metric::Attr(name) => params.name = Some(name.clone()),
            _ => {}
        }
        Ok(params)
    }
}

/// A member whose rank changed in evaluation (§9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankChange {
    /// The member id.
    pub member: MemberId,
    /// Its input rank.
    pub from: RankId,
    /// Its evaluated rank.
    pub to: RankId,
    /// The leaves that made `to`'s condition hold.
    pub because: Vec<Because>,
    /// In `immediate` rank timing (§13), the event after which it happened;
    /// `None` for a change of the evaluation before the first event or at the
    /// end of the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<EventId>,
}

/// Ranks and activity of every member after evaluation, with the metrics they rest on.
#[derive(Debug, Clone)]
pub(crate) struct Ranking {
    pub rank: Vec<RankIdx>,
    pub active: Vec<bool>,
    pub changes: Vec<RankChange>,
    pub metrics: Metrics,
}

impl Ranking {
    /// Member `m`'s rank after evaluation.
    pub fn rank(&self, m: u32) -> Result<RankIdx, Missing> {
        self.rank.get(m as usize).copied().must(MemberAt(m), "rank")
    }

    /// Whether member `m` is active after `active_if`.
    pub fn active(&self, m: u32) -> Result<bool, Missing> {
        self.active
            .get(m as usize)
            .copied()
            .must(MemberAt(m), "activity")
    }
}

pub(crate) fn holds(
    attrs: &Attrs,
    metrics: &Metrics,
    m: u32,
    c: &Condition,
) -> Result<bool, Missing> {
    Ok(match c {
        Condition::All(items) => {
            for x in items {
                if !holds(attrs, metrics, m, x)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Any(items) => {
            for x in items {
                if holds(attrs, metrics, m, x)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(x) => !holds(attrs, metrics, m, x)?,
        Condition::Leaf(l) => {
            l.op.holds(metrics.value_in(attrs, m, &l.metric)?, l.threshold)
        }
    })
}

/// Collect the leaves that explain why `c` holds (§11): all operands of `all`,
/// the holding branches of `any`, every leaf under `not`.
fn because(
    policy: &Policy,
    attrs: &Attrs,
    metrics: &Metrics,
    m: u32,
    c: &Condition,
    every_leaf: bool,
    out: &mut Vec<Because>,
) -> Result<()> {
    match c {
        Condition::All(items) => {
            for x in items {
                because(policy, attrs, metrics, m, x, every_leaf, out)?;
            }
        }
        Condition::Any(items) => {
            for x in items {
                if every_leaf || holds(attrs, metrics, m, x)? {
                    because(policy, attrs, metrics, m, x, every_leaf, out)?;
                }
            }
        }
        Condition::Not(x) => because(policy, attrs, metrics, m, x, true, out)?,
        Condition::Leaf(l) => out.push(describe_leaf(policy, attrs, metrics, m, l)?),
    }
    Ok(())
}

fn describe_leaf(
    policy: &Policy,
    attrs: &Attrs,
    metrics: &Metrics,
    m: u32,
    l: &Leaf,
) -> Result<Because> {
    Ok(Because {
        metric: l.metric.name().to_owned(),
        params: Params::of(policy, &l.metric)?,
        value: short_string(metrics.value_in(attrs, m, &l.metric)?),
        op: l.op.name().to_owned(),
        threshold: short_string(l.threshold),
    })
}

/// A member's standing against the next rank's upgrade condition: what a
/// dashboard shows as "progress to the next rank".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// The member id.
    pub member: MemberId,
    /// Its rank after evaluation.
    pub rank: RankId,
    /// The next rank up; `None` at the top of the ladder.
    pub next: Option<RankId>,
    /// Every leaf of the next rank's `upgrade` condition, with the member's
    /// value and whether the leaf holds (empty when the next rank has no
    /// condition: it is only given, never reached).
    pub leaves: Vec<LeafProgress>,
}

/// One leaf of an upgrade condition against a member's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeafProgress {
    /// The leaf and the member's value (as in `because`).
    #[serde(flatten)]
    pub leaf: Because,
    /// Whether the leaf holds for the member.
    pub holds: bool,
}

/// The progress of member `m` towards the rank above its own.
pub(crate) fn progress(
    policy: &Policy,
    batch: &Batch,
    ranking: &Ranking,
    m: u32,
) -> Result<Progress> {
    let rank = ranking.rank(m)?;
    let rank_id = RankId::from(policy.rank_id(rank)?);
    let next = usize::from(rank) + 1;
    let mut leaves = Vec::new();
    if let Some(c) = policy.ranks().get(next).and_then(|r| r.upgrade.as_ref()) {
        let mut stack = vec![c];
        // Depth-first, left to right, without recursion.
        while let Some(c) = stack.pop() {
            match c {
                Condition::All(items) | Condition::Any(items) => stack.extend(items.iter().rev()),
                Condition::Not(x) => stack.push(x),
                Condition::Leaf(l) => leaves.push(LeafProgress {
                    leaf: describe_leaf(policy, &batch.attrs, &ranking.metrics, m, l)?,
                    holds: l
                        .op
                        .holds(ranking.metrics.value(batch, m, &l.metric)?, l.threshold),
                }),
            }
        }
    }
    Ok(Progress {
        member: MemberId::from(batch.id(m)),
        rank: rank_id,
        next: policy.ranks().get(next).map(|r| r.id.clone()),
        leaves,
    })
}

/// A member's rank moved by [`evaluate_member`].
#[derive(Debug)]
pub(crate) struct Moved {
    pub from: RankIdx,
    pub to: RankIdx,
    pub because: Vec<Because>,
}

impl Moved {
    /// The change as reported, for member `id`, made after event `after` (§13).
    pub fn report(self, policy: &Policy, id: &str, after: Option<&str>) -> Result<RankChange> {
        Ok(RankChange {
            member: MemberId::from(id),
            from: RankId::from(policy.rank_id(self.from)?),
            to: RankId::from(policy.rank_id(self.to)?),
            because: self.because,
            after: after.map(EventId::from),
        })
    }
}

/// Evaluate member `m`, of rank `input`, on `metrics` (§4): the highest
/// rank whose `upgrade` holds, never below the floor its `retain` leaves
/// (§12.4) when `retain` is asked, else never below `input` (only upgrades,
/// §13). `None` when the rank stays.
pub(crate) fn evaluate_member(
    policy: &Policy,
    attrs: &Attrs,
    metrics: &Metrics,
    m: u32,
    input: RankIdx,
    retain: bool,
) -> Result<Option<Moved>> {
    // The floor (§12.4): the input rank if it has no `retain` or its
    // `retain` holds, else the highest rank below it that has none or
    // whose `retain` holds (the lowest rank always does).
    let mut floor = usize::from(input);
    let mut kept = true;
    while retain && floor > 0 {
        let retain = policy.ranks().get(floor).and_then(|d| d.retain.as_ref());
        match retain {
            Some(c) if !holds(attrs, metrics, m, c)? => {
                kept = false;
                floor -= 1;
            }
            _ => break,
        }
    }
    // Then the highest rank above the floor whose upgrade holds.
    let mut reached = None;
    for (r, def) in policy.ranks().iter().enumerate().rev() {
        if r <= floor {
            break;
        }
        let Some(cond) = &def.upgrade else { continue };
        if holds(attrs, metrics, m, cond)? {
            reached = Some((r, cond));
            break;
        }
    }
    let new = reached.map_or(floor, |(r, _)| r);
    if new == usize::from(input) {
        return Ok(None);
    }
    let mut why = Vec::new();
    match reached {
        Some((r, cond)) if r > usize::from(input) => {
            because(policy, attrs, metrics, m, cond, false, &mut why)?;
        }
        // Moved down: every leaf of the input rank's failed retain.
        _ if !kept => {
            let retain = policy
                .ranks()
                .get(usize::from(input))
                .and_then(|d| d.retain.as_ref())
                .must("ranks", "retain")?;
            because(policy, attrs, metrics, m, retain, true, &mut why)?;
        }
        _ => {}
    }
    Ok(Some(Moved {
        from: input,
        to: RankIdx::try_from(new).ok().must("ranks", "rank index")?,
        because: why,
    }))
}

/// Whether member `m` is active (§4): its input `active`, and `active_if`
/// on `metrics` if the policy has one.
pub(crate) fn active(
    policy: &Policy,
    attrs: &Attrs,
    metrics: &Metrics,
    m: u32,
    input: bool,
) -> Result<bool, Missing> {
    match policy.active_if() {
        Some(c) if input => holds(attrs, metrics, m, c),
        _ => Ok(input),
    }
}

/// Members looked ahead of the one evaluated in [`evaluate`].
const AHEAD: usize = 8;

/// Evaluate ranks (when the policy says so) and activity for every member (§4, §11).
pub(crate) fn evaluate(policy: &Policy, batch: &Batch) -> Result<Ranking> {
    let metrics = Metrics::new(batch, policy.ranks().len(), Needs::of(policy))?;
    evaluate_on(policy, batch, metrics)
}

/// [`evaluate`] with the metrics given: those of `batch` or of orders
/// settled elsewhere ([`crate::Sums`]).
pub(crate) fn evaluate_on(policy: &Policy, batch: &Batch, mut metrics: Metrics) -> Result<Ranking> {
    let mut rank = batch.input_rank.clone();
    let changes = children_first(
        policy,
        &batch.attrs,
        &batch.forest,
        &batch.ids,
        &mut metrics,
        &mut rank,
        true,
    )?;
    let mut active = Vec::with_capacity(batch.ids.len());
    for (m, &input) in (0u32..).zip(&batch.input_active) {
        active.push(self::active(policy, &batch.attrs, &metrics, m, input)?);
    }
    Ok(Ranking {
        rank,
        active,
        changes,
        metrics,
    })
}

/// One pass over `forest`'s members, children first (§4): each member is
/// evaluated ([`evaluate_member`], with its `retain` when asked) after its
/// whole downline, then folded into its sponsor's sums and counts. Returns
/// the changes by member id.
pub(crate) fn children_first(
    policy: &Policy,
    attrs: &Attrs,
    forest: &crate::graph::Forest,
    ids: &crate::index::Packed,
    metrics: &mut Metrics,
    rank: &mut [RankIdx],
    retain: bool,
) -> Result<Vec<RankChange>> {
    let mut changes = Vec::new();
    let order = &forest.parents_first;
    for (j, &m) in order.iter().enumerate().rev() {
        // Members come in no order of their index: the sums of one a few
        // places on, and of its sponsor, are asked for now, so that their
        // cache misses overlap with this member's work.
        if let Some(&ahead) = j.checked_sub(AHEAD).and_then(|k| order.get(k)) {
            metrics.prefetch(ahead);
            if let Some(p) = forest.parent_of(ahead) {
                metrics.prefetch(p);
            }
        }
        let slot = rank.get_mut(m as usize).must(MemberAt(m), "rank")?;
        if policy.evaluate_ranks() {
            if let Some(change) = evaluate_member(policy, attrs, metrics, m, *slot, retain)? {
                *slot = change.to;
                changes.push(change.report(policy, ids.get(m), None)?);
            }
        }
        let final_rank = *slot;
        if let Some(p) = forest.parent_of(m) {
            metrics.fold_into_parent(m, p, final_rank)?;
        }
    }
    changes.sort_by(|a, b| a.member.cmp(&b.member));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::evaluate;
    use crate::policy::Needs;
    use crate::{Batch, Policy};

    const RANKS: &str = r#"[{"id": "member"}, {"id": "owner", "rate": "0.10"}"#;

    fn policy(extra_rank: &str, rest: &str) -> Policy {
        let text = format!(r#"{{"version": 1, "ranks": {RANKS}{extra_rank}]{rest}}}"#);
        Policy::from_json(&text).unwrap()
    }

    #[test]
    fn needs_come_from_conditions_and_pool_weights() {
        let none = policy(
            "",
            r#", "rules": [{"id": "l", "type": "levels", "rates": ["0.1"]}]"#,
        );
        assert_eq!(Needs::of(&none), Needs::default());
        // A sales leaf under `not` in an upgrade: the per-member sums, own
        // sales read as such.
        let upgrade = policy(
            r#", {"id": "lead", "rate": "0.2", "upgrade": {"not": {"metric": "sales", "gte": "1"}}}"#,
            "",
        );
        let sums = Needs {
            sums: true,
            ..Needs::default()
        };
        assert_eq!(
            Needs::of(&upgrade),
            Needs {
                sales: true,
                ..sums
            }
        );
        // Purchases: the sums, and the orders' buyers resolved to members.
        let bought = policy(
            r#", {"id": "lead", "rate": "0.2", "upgrade": {"metric": "purchases", "gte": "1"}}"#,
            "",
        );
        assert_eq!(
            Needs::of(&bought),
            Needs {
                purchases: true,
                ..sums
            }
        );
        // Counts from `active_if`, team sales from a pool's weights.
        let both = policy(
            "",
            r#", "active_if": {"any": [{"metric": "groups", "gte": "1"}, {"metric": "team_size", "gte": "2"}]},
               "rules": [{"id": "p", "type": "pool", "rate": "0.01", "split": {"weighted_by": "team_sales"}}]"#,
        );
        assert_eq!(
            Needs::of(&both),
            Needs {
                sums: true,
                sales: false,
                purchases: false,
                team_sales: true,
                counts: true
            }
        );
    }

    /// Without per-member sums, net sales and overflow errors are those of the
    /// full sums: the member's sum overflows first when one member holds it all,
    /// the batch's when two share it.
    #[test]
    fn net_sales_alone_agree_with_the_member_sums() {
        // Above half of Decimal's largest (7.9e28): two of them overflow.
        let half = "40000000000000000000000000000";
        let none = policy("", "");
        let sums = policy(
            r#", {"id": "lead", "rate": "0.2", "upgrade": {"metric": "sales", "gte": "1"}}"#,
            "",
        );
        let batch = |amounts: [(&str, &str); 3]| {
            let events: Vec<String> = amounts
                .iter()
                .enumerate()
                .map(|(i, (seller, amount))| {
                    format!(r#"{{"id": "o{i}", "seller": "{seller}", "buyer": "c", "amount": "{amount}"}}"#)
                })
                .collect();
            let text = format!(
                r#"{{"members": [{{"id": "m1"}}, {{"id": "m2"}}], "events": [{}, {{"id": "r", "refund_of": "o0", "amount": "1"}}]}}"#,
                events.join(", ")
            );
            Batch::from_json(&text, &none).unwrap()
        };
        let outcome = |p: &Policy, b: &Batch| match evaluate(p, b) {
            Ok(r) => Ok(r.metrics.net_sales),
            Err(e) => Err(e.to_string()),
        };
        let fits = batch([("m1", "10.5"), ("m2", "2.25"), ("m1", "1")]);
        // 10.5 + 2.25 + 1 - 1 (the refund of o0) = 12.75
        assert_eq!(outcome(&none, &fits), Ok("12.75".parse().unwrap()));
        assert_eq!(outcome(&sums, &fits), outcome(&none, &fits));
        let one = batch([("m1", half), ("m2", "1"), ("m1", half)]);
        let err = outcome(&none, &one).unwrap_err();
        assert!(
            err.contains("events[2].amount") && err.contains("seller's sales"),
            "{err}"
        );
        assert_eq!(outcome(&sums, &one), Err(err));
        let two = batch([("m1", half), ("m2", half), ("m1", "1")]);
        let err = outcome(&none, &two).unwrap_err();
        assert!(
            err.contains("events[1].amount") && err.contains("net sales"),
            "{err}"
        );
        assert_eq!(outcome(&sums, &two), Err(err));
    }

    /// Buyers are resolved to members when the policy reads purchases, and
    /// only then; a batch validated for a policy that does not cannot be
    /// evaluated by one that does (its purchases would read as zero).
    #[test]
    fn purchases_need_a_batch_validated_for_them() {
        let bought = policy(
            r#", {"id": "lead", "rate": "0.2", "upgrade": {"metric": "purchases", "gte": "5"}}"#,
            "",
        );
        let none = policy("", "");
        // m2 buys 3.00 + 4.00 from m1 and has 1.50 of it refunded: 5.50 >= 5.
        let text = r#"{"members": [{"id": "m1"}, {"id": "m2", "sponsor": "m1"}], "events": [
            {"id": "o1", "seller": "m1", "buyer": "m2", "amount": "3.00"},
            {"id": "o2", "seller": "m1", "buyer": "m2", "amount": "4.00"},
            {"id": "o3", "buyer": "m2", "amount": "9.00"},
            {"id": "r1", "refund_of": "o2", "amount": "1.50"}]}"#;
        let for_bought = Batch::from_json(text, &bought).unwrap();
        assert!(for_bought.buyers);
        let report = evaluate(&bought, &for_bought).unwrap();
        // m2's own order o3 (no seller: m2 sells it) adds 9.00 to both.
        assert_eq!(
            report.metrics.purchases,
            ["0".parse().unwrap(), "14.50".parse().unwrap()]
        );
        let for_none = Batch::from_json(text, &none).unwrap();
        assert!(!for_none.buyers);
        let err = evaluate(&bought, &for_none).unwrap_err();
        assert_eq!(err.code(), "invalid_value");
        assert!(err.to_string().contains("reads purchases"), "{err}");
    }

    proptest::proptest! {
        /// A run of group events (new groups, size changes, owner changes)
        /// applied one by one to the index by owner gives every member the
        /// group metrics of an index built from the groups as they end up.
        #[test]
        fn group_events_keep_the_index_by_owner_exact(
            steps in proptest::collection::vec((0usize..12, 0u32..6, 0u64..400), 1..60),
        ) {
            use super::{Group, Metric, Metrics};
            let n = 6;
            let needs = Needs::default();
            let mut groups: Vec<Group> = Vec::new();
            let mut metrics = Metrics::empty(n, 1, needs, &groups).unwrap();
            for (k, owner, size) in steps {
                let to = Group { owner, size };
                let from = groups.get(k).copied();
                match from {
                    Some(_) => groups[k] = to,
                    None => groups.push(to),
                }
                metrics.set_group(from, to).unwrap();
                let fresh = Metrics::empty(n, 1, needs, &groups).unwrap();
                for m in 0..6u32 {
                    for metric in [
                        Metric::Groups(None),
                        Metric::Groups(Some(100)),
                        Metric::GroupMembers,
                        Metric::LargestGroup,
                    ] {
                        let got = metrics.value_in(&[], m, &metric).unwrap();
                        let want = fresh.value_in(&[], m, &metric).unwrap();
                        proptest::prop_assert_eq!(got, want, "member {} {:?}", m, metric);
                    }
                }
            }
        }
    }
}
