//! Field checks shared by the policy, its conditions and its rules: a rate
//! within [0, 1], a rank id that names a rank of the ladder.

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
