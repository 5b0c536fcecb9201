//! Bounds on policy complexity, so hostile input cannot exhaust time or memory.
//! Each is documented in `docs/policy-reference.md` and reported as `limit_exceeded`.

use crate::error::{Error, Result};

/// Most ranks a ladder may have.
pub const MAX_RANKS: usize = 64;
/// Most rules a policy may have.
pub const MAX_RULES: usize = 64;
/// Most rates a `levels` rule may have.
pub const MAX_LEVELS: usize = 32;
/// Most generations a `peer` rule may pay.
pub const MAX_GENERATIONS: usize = 32;
/// Most steps a step table may have.
pub const MAX_STEPS: usize = 64;
/// Most categories a policy may name.
pub const MAX_CATEGORIES: usize = 4096;
/// Deepest nesting of `all`/`any`/`not`.
pub const MAX_CONDITION_DEPTH: usize = 32;

pub(crate) fn check_count(path: &str, n: usize, max: usize, what: &str) -> Result<()> {
    if n > max {
        return Err(Error::LimitExceeded {
            path: path.to_owned(),
            detail: format!("{n} {what} is above the limit of {max}"),
        });
    }
    Ok(())
}
