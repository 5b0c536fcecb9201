//! Hold periods (冻结期, §14.1): when an order's commission becomes
//! available, and the instants of the input that say so.
//!
//! A hold is a property of the policy; the instants are the batch's (each
//! order's and refund's `at`, each order's `received` time). A line's
//! `available_at` is worked out from them when the line is read
//! ([`Times::available_at`]), so a line carries no time of its own.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};

/// Seconds in a day of a hold (§14.1: a day is 86,400 s, whatever the calendar).
const DAY: i64 = 86_400;

/// Where a hold period starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldFrom {
    /// The order's own `at` (paid).
    Paid,
    /// The `at` of the order's `received` event.
    Received,
}

/// A policy's hold period (`"hold": {"days": 7, "from": "paid"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Whole days the lines of an order stay pending.
    pub days: u32,
    /// Where the days are counted from.
    pub from: HoldFrom,
    /// A refund of lines already available reverses them (§14.1); `false`
    /// (§12.5, CRMEB): it reverses nothing and the money stays paid.
    pub clawback: bool,
}

impl Hold {
    /// The hold as written in a policy, checked (path `hold`).
    pub(crate) fn of(days: i64, from: HoldFrom, clawback: bool) -> Result<Hold> {
        let days = u32::try_from(days)
            .ok()
            .filter(|&d| i64::from(d) * DAY <= Timestamp::SPAN)
            .ok_or_else(|| Error::InvalidValue {
                path: "hold.days".into(),
                detail: format!(
                    "a hold of {days} days: a hold is a whole number of days from 0 to {}",
                    Timestamp::SPAN / DAY
                ),
            })?;
        Ok(Hold {
            days,
            from,
            clawback,
        })
    }
}

/// An instant of the input (an `at`, or a settlement's `as_of`), to the
/// nanosecond, in UTC, remembering how many digits of a second's fraction
/// it was written with. It is written back as `YYYY-MM-DDTHH:MM:SSZ` with
/// those fraction digits, if it had any (§14.1); two timestamps compare as
/// instants.
///
/// ```
/// let t = fenrun::Timestamp::parse("2026-11-01T18:30:00.50+08:00").unwrap();
/// assert_eq!(t.to_string(), "2026-11-01T10:30:00.50Z");
/// let u = fenrun::Timestamp::parse("2026-11-01T10:30:00.5Z").unwrap();
/// assert_eq!(t, u);
/// assert!(fenrun::Timestamp::parse("2026-02-30T00:00:00Z").is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    secs: i64,
    nanos: u32,
    /// Fraction digits written (0 to 9).
    digits: u8,
}

impl Timestamp {
    /// The last second that is written with four digits of year
    /// (9999-12-31T23:59:59Z) less the first (0000-01-01T00:00:00Z): no
    /// hold may be longer.
    const SPAN: i64 = 253_402_300_799 + 62_167_219_200;
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in Unix seconds.
    const FIRST: i64 = -62_167_219_200;
    const LAST: i64 = 253_402_300_799;

    /// Parse an RFC 3339 date-time (calendar-valid; any UTC offset). The
    /// error says what is wrong with it. A fraction beyond nine digits is
    /// cut to the nanosecond; a leap second (`:60`) is read as the last
    /// nanosecond of the second before it.
    pub fn parse(text: &str) -> std::result::Result<Timestamp, String> {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())?;
        let secs = t.unix_timestamp();
        if !(Timestamp::FIRST..=Timestamp::LAST).contains(&secs) {
            return Err("it is outside the years 0000 to 9999 in UTC".into());
        }
        // "YYYY-MM-DDTHH:MM:SS" is 19 bytes; a fraction follows a '.'.
        let digits = match text.as_bytes().get(19) {
            Some(b'.') => text
                .bytes()
                .skip(20)
                .take_while(u8::is_ascii_digit)
                .count()
                .min(9),
            _ => 0,
        };
        let digits = u8::try_from(digits).unwrap_or(9);
        let nanos = t.nanosecond();
        // A leap second's stand-in has nine digits whatever was written.
        let exact = nanos % 10u32.pow(9 - u32::from(digits)) == 0;
        Ok(Timestamp {
            secs,
            nanos,
            digits: if exact { digits } else { 9 },
        })
    }

    /// The `as_of` time of a settlement (§14.1), given as RFC 3339 text by
    /// a caller: its error is `invalid_value` at `as_of`.
    ///
    /// ```
    /// let err = fenrun::Timestamp::parse_as_of("2026-11-31").unwrap_err();
    /// assert_eq!((err.code(), err.path()), ("invalid_value", "as_of"));
    /// ```
    pub fn parse_as_of(text: &str) -> Result<Timestamp> {
        Timestamp::parse(text).map_err(|detail| Error::InvalidValue {
            path: "as_of".into(),
            detail: format!("\"{text}\" is not an RFC 3339 date-time: {detail}"),
        })
    }

    /// This instant `days` days later; `None` past 9999-12-31T23:59:59Z.
    pub(crate) fn plus_days(self, days: u32) -> Option<Timestamp> {
        let secs = self.secs.checked_add(i64::from(days) * DAY)?;
        (secs <= Timestamp::LAST).then_some(Timestamp { secs, ..self })
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Timestamp) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Timestamp) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Timestamp) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parsing checked the range, so the instant is a date-time.
        let t = time::OffsetDateTime::from_unix_timestamp(self.secs).map_err(|_| fmt::Error)?;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        if self.digits > 0 {
            let all = format!("{:09}", self.nanos);
            f.write_str(".")?;
            f.write_str(all.get(..usize::from(self.digits)).unwrap_or(&all))?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The instants a batch holds for its policy's hold: each order's and
/// refund's `at` (by event index), and the time each received order was
/// received. A batch has them only when its policy has a hold.
#[derive(Debug, Clone)]
pub(crate) struct Times {
    pub hold: Hold,
    /// `at` of every order and refund, by event index.
    pub at: Vec<Timestamp>,
    /// When each received order (by event index) was received; kept only
    /// for a hold from receipt.
    pub received: HashMap<u32, Timestamp, foldhash::fast::RandomState>,
}

impl Times {
    pub(crate) fn new(hold: Hold) -> Times {
        Times {
            hold,
            at: Vec::new(),
            received: HashMap::default(),
        }
    }

    /// When the lines of order `order` become available: its `at` or its
    /// receipt plus the hold; `None` while it is not received (a hold from
    /// receipt).
    pub(crate) fn order_available(&self, order: u32) -> Option<Timestamp> {
        let start = match self.hold.from {
            HoldFrom::Paid => self.at.get(order as usize).copied(),
            HoldFrom::Received => self.received.get(&order).copied(),
        };
        // Checked representable when the start was taken in.
        start.and_then(|t| t.plus_days(self.hold.days))
    }

    /// A line's `available_at` (§14.1): its order's, and for a reversal by
    /// `refund` the later of that and the refund's `at`: a reversal of a
    /// line still pending at the refund is a void, available with the line;
    /// one of a line available by then is a clawback, at the refund.
    pub(crate) fn available_at(&self, order: u32, refund: Option<u32>) -> Option<Timestamp> {
        match refund {
            None => self.order_available(order),
            Some(r) => match self.reversal(order, r) {
                Reversal::Void(at) => at,
                Reversal::Clawback(at) => Some(at),
            },
        }
    }

    /// The start of a hold at `start` checked: its end must be a date-time
    /// of four-digit years (path `path`, the event's `at`).
    pub(crate) fn check_end(
        &self,
        start: Timestamp,
        path: impl FnOnce() -> String,
        event: impl FnOnce() -> String,
        text: &str,
    ) -> Result<()> {
        match start.plus_days(self.hold.days) {
            Some(_) => Ok(()),
            None => Err(Error::InvalidTimestamp {
                path: path(),
                event: event(),
                at: text.to_owned(),
                detail: format!(
                    "{} days of hold from it end after 9999-12-31T23:59:59Z",
                    self.hold.days
                ),
            }),
        }
    }

    /// What refund `refund` of order `order` is under the hold (§14.1).
    pub(crate) fn reversal(&self, order: u32, refund: u32) -> Reversal {
        let line = self.order_available(order);
        match (line, self.at.get(refund as usize)) {
            (Some(line), Some(&r)) if line <= r => Reversal::Clawback(r),
            _ => Reversal::Void(line),
        }
    }

    /// The hold of order `order` in words, for an explanation.
    pub(crate) fn words(&self, order: u32) -> String {
        let days = self.hold.days;
        match (self.hold.from, self.order_available(order)) {
            (HoldFrom::Paid, Some(t)) => {
                format!("held {days} days from payment: its lines are available at {t}")
            }
            (HoldFrom::Received, Some(t)) => {
                let received = self.received.get(&order).map(ToString::to_string);
                let received = received.unwrap_or_default();
                format!("held {days} days from receipt (received at {received}): its lines are available at {t}")
            }
            (_, None) => {
                format!("held {days} days from receipt: not received, its lines stay pending")
            }
        }
    }
}

/// A reversal under a hold (§14.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reversal {
    /// Of a line still pending at the refund's time: it goes with the line
    /// (its time, `None` while the line has none).
    Void(Option<Timestamp>),
    /// Of a line available by the refund's time: deducted at that time.
    Clawback(Timestamp),
}

impl Reversal {
    /// The reversal in words, for an explanation.
    pub(crate) fn words(self) -> String {
        match self {
            Reversal::Void(Some(t)) => format!("a void: the line was still held; with it at {t}"),
            Reversal::Void(None) => "a void: the line was still held; pending with it".into(),
            Reversal::Clawback(t) => format!("a clawback: the line was available; deducted at {t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Hold, HoldFrom, Times, Timestamp};

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn offsets_are_converted_and_fractions_kept_as_written() {
        assert_eq!(
            t("2026-11-01T02:00:00+08:00").to_string(),
            "2026-10-31T18:00:00Z"
        );
        assert_eq!(
            t("2026-11-01T10:00:00.120Z").to_string(),
            "2026-11-01T10:00:00.120Z"
        );
        assert_eq!(
            t("2026-12-31T23:30:00-01:00").to_string(),
            "2027-01-01T00:30:00Z"
        );
        // Cut to the nanosecond.
        assert_eq!(
            t("2026-11-01T10:00:00.1234567891Z").to_string(),
            "2026-11-01T10:00:00.123456789Z"
        );
        // A leap second is the last nanosecond before the next second.
        assert_eq!(
            t("2016-12-31T23:59:60Z").to_string(),
            "2016-12-31T23:59:59.999999999Z"
        );
        assert!(t("2026-11-01T10:00:00.5Z") < t("2026-11-01T10:00:00.51Z"));
        assert_eq!(t("2026-11-01T10:00:00Z"), t("2026-11-01T10:00:00.000Z"));
    }

    #[test]
    fn days_are_86400_seconds_and_end_in_year_9999() {
        let a = t("2026-03-28T12:00:00+01:00");
        assert_eq!(a.plus_days(7).unwrap().to_string(), "2026-04-04T11:00:00Z");
        assert_eq!(
            t("9999-12-24T23:59:59Z").plus_days(7).unwrap().to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert!(t("9999-12-25T00:00:00Z").plus_days(7).is_none());
        assert!(Timestamp::parse("0000-01-01T00:00:00+00:01").is_err());
        assert_eq!(
            Hold::of(-1, HoldFrom::Paid, true).unwrap_err().code(),
            "invalid_value"
        );
        assert!(Hold::of(3_652_424, HoldFrom::Paid, true).is_ok());
        assert!(Hold::of(3_652_425, HoldFrom::Paid, true).is_err());
    }

    #[test]
    fn a_reversal_is_a_void_before_the_line_is_available_and_a_clawback_after() {
        let mut times = Times::new(Hold::of(7, HoldFrom::Paid, true).unwrap());
        times.at = vec![
            t("2026-11-01T10:00:00Z"), // order 0: available 11-08 10:00
            t("2026-11-03T09:00:00Z"), // refund 1 inside the window: void
            t("2026-11-09T00:00:00Z"), // refund 2 after it: clawback
        ];
        let at = |r| times.available_at(0, r).unwrap().to_string();
        assert_eq!(at(None), "2026-11-08T10:00:00Z");
        assert_eq!(at(Some(1)), "2026-11-08T10:00:00Z");
        assert_eq!(at(Some(2)), "2026-11-09T00:00:00Z");
        let mut received = Times::new(Hold::of(0, HoldFrom::Received, true).unwrap());
        received.at = times.at.clone();
        assert_eq!(received.available_at(0, Some(1)), None);
        received.received.insert(0, t("2026-11-05T00:00:00Z"));
        assert_eq!(
            received.available_at(0, Some(1)).unwrap().to_string(),
            "2026-11-05T00:00:00Z"
        );
    }
}
