//! Field checks shared by the policy, its conditions and its rules: a rate
//! within [0, 1], a rank id that names a rank of the ladder, and what
//! validating a part needs to know of the whole policy ([`Cx`]).

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::ids::{RankId, RankIdx};
use crate::money::{short_string, Dec};

/// A rate as written, within [0, 1] (`rate_out_of_range` at `path` otherwise).
pub(crate) fn check_rate(d: Dec, path: &str) -> Result<Decimal> {
    let v = d.value();
    if v < Decimal::ZERO || v > Decimal::ONE {
        return Err(Error::RateOutOfRange {
            path: path.to_owned(),
            rate: short_string(v),
        });
    }
    Ok(v)
}

/// The index of rank `id` (`unknown_rank` at `path` if the ladder has none).
pub(crate) fn rank_ref(
    id: &RankId,
    path: &str,
    index: &HashMap<RankId, RankIdx>,
) -> Result<RankIdx> {
    index.get(id).copied().ok_or_else(|| Error::UnknownRank {
        path: path.to_owned(),
        rank: id.to_string(),
    })
}

/// What validating a policy's parts needs to know of the whole: its ladder,
/// its version, its money scale and the categories it names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cx<'a> {
    pub ranks: &'a HashMap<RankId, RankIdx>,
    /// The rank ids, lowest first.
    pub ladder: &'a [RankId],
    pub version: i64,
    pub scale: u32,
    /// Every category the policy names, sorted: category `categories[i]`
    /// has index `i + 1`.
    pub categories: &'a [String],
}

impl Cx<'_> {
    /// Refuse version-2 field `field` (at `path`) in a version-1 policy.
    pub fn v2(&self, path: &str, field: &str) -> Result<()> {
        if self.version < 2 {
            return Err(Error::NeedsVersion2 {
                path: path.to_owned(),
                field: field.to_owned(),
            });
        }
        Ok(())
    }

    /// An amount of money at `path`: not negative, within the policy's scale.
    pub fn money(&self, d: crate::money::Dec, path: &str) -> Result<Decimal> {
        let v = d.value();
        if v < Decimal::ZERO {
            return Err(Error::InvalidRule {
                path: path.to_owned(),
                detail: format!("amount {} is negative", short_string(v)),
            });
        }
        if v.normalize().scale() > self.scale {
            return Err(Error::InvalidRule {
                path: path.to_owned(),
                detail: format!(
                    "amount {} has more decimals than the policy's scale {}",
                    short_string(v),
                    self.scale
                ),
            });
        }
        Ok(v)
    }

    /// The index of category `name` (1-based), if the policy names it.
    pub fn category(&self, name: &str) -> Option<u16> {
        category_index(self.categories, name)
    }
}

/// The index of category `name` in the sorted `categories`, 1-based.
pub(crate) fn category_index(categories: &[String], name: &str) -> Option<u16> {
    categories
        .binary_search_by(|c| c.as_str().cmp(name))
        .ok()
        .and_then(|i| u16::try_from(i + 1).ok())
}
