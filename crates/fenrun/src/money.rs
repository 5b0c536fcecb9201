//! Decimal input, rounding and output. No binary floating point anywhere.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Marker at the start of a serde error raised for a JSON float, so the
/// loader can give it its own code (`float_number`).
pub(crate) const FLOAT_MARK: &str = "\u{1}float:";
/// Marker for a malformed decimal string (`invalid_decimal`).
pub(crate) const DECIMAL_MARK: &str = "\u{1}decimal:";

/// A decimal read from JSON: a string matching `-?[0-9]+(\.[0-9]+)?` or a JSON
/// integer. A JSON number with a fraction or exponent is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Dec(pub Decimal);

impl Dec {
    /// The decimal value.
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// Parse a decimal string of the strict form `-?[0-9]+(\.[0-9]+)?`.
pub(crate) fn parse_decimal(s: &str) -> Result<Decimal, String> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(format!(
            "\"{s}\" is not a plain decimal (digits, an optional '-' and one optional '.' between digits)"
        ));
    }
    Decimal::from_str_exact(s)
        .map_err(|_| format!("\"{s}\" is outside the exact decimal range (28 significant digits)"))
}

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string such as \"12.30\" or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
                parse_decimal(v)
                    .map(Dec)
                    .map_err(|m| E::custom(format!("{DECIMAL_MARK}{m}")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dec, E> {
                Ok(Dec(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dec, E> {
                Err(E::custom(format!("{FLOAT_MARK}the JSON number {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Rounding mode of the policy (§7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// 四舍五入: to nearest, .5 away from zero.
    #[default]
    HalfUp,
    /// To nearest, .5 to the even neighbour (banker's rounding).
    HalfEven,
    /// Toward zero.
    Down,
}

/// Rounding of every computed amount: a scale (decimals, 0..=8) and a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rounding {
    /// Decimals kept.
    pub scale: u32,
    /// How the dropped digits are rounded.
    pub mode: RoundingMode,
}

impl Default for Rounding {
    fn default() -> Self {
        Rounding {
            scale: 2,
            mode: RoundingMode::HalfUp,
        }
    }
}

impl Rounding {
    /// Round `d` to the policy scale with the policy mode.
    ///
    /// ```
    /// use fenrun::{Rounding, RoundingMode};
    /// use rust_decimal::Decimal;
    /// let r = Rounding { scale: 2, mode: RoundingMode::HalfEven };
    /// assert_eq!(r.round(Decimal::new(1225, 3)).to_string(), "1.22");
    /// ```
    pub fn round(&self, d: Decimal) -> Decimal {
        self.round_to(d, self.scale)
    }

    /// Round `d` to `scale` decimals with the policy mode, the result carrying exactly that scale.
    pub fn round_to(&self, d: Decimal, scale: u32) -> Decimal {
        let strategy = match self.mode {
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::Down => RoundingStrategy::ToZero,
        };
        let mut r = d.round_dp_with_strategy(scale, strategy);
        r.rescale(scale);
        if r.is_zero() {
            r.set_sign_positive(true);
        }
        r
    }

    /// One unit of the last kept decimal (0.01 at scale 2).
    pub fn unit(&self) -> Decimal {
        Decimal::new(1, self.scale)
    }
}

/// Money at the policy scale as fenrun writes it ("12.30", never "-0.00").
///
/// ```
/// use rust_decimal::Decimal;
/// assert_eq!(fenrun::money_string(Decimal::new(123, 1), 2), "12.30");
/// ```
pub fn money_string(d: Decimal, scale: u32) -> String {
    crate::output::Money(d, scale).to_string()
}

/// A non-money decimal (rate, weight, metric value) in shortest form ("0.1", "1200").
pub fn short_string(d: Decimal) -> String {
    crate::output::Short(d).to_string()
}

/// Number of decimals of `d` counted by value ("12.300" has 1).
pub(crate) fn decimals_by_value(d: Decimal) -> u32 {
    d.normalize().scale()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decimal_form() {
        for good in ["0", "12.30", "-1.5", "007"] {
            assert!(parse_decimal(good).is_ok(), "{good}");
        }
        for bad in [
            "", "+1", ".5", "5.", "1e5", " 1", "1 ", "1.2.3", "-", "abc", "1,5",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_are_refused_integers_accepted() {
        assert!(serde_json::from_str::<Dec>("12.5").is_err());
        assert!(serde_json::from_str::<Dec>("1e2").is_err());
        assert_eq!(
            serde_json::from_str::<Dec>("12").unwrap().0,
            Decimal::from(12)
        );
        assert_eq!(
            serde_json::from_str::<Dec>("\"12.50\"")
                .unwrap()
                .0
                .to_string(),
            "12.50"
        );
    }

    #[test]
    fn rounding_modes_at_half() {
        let d = Decimal::new(-125, 2); // -1.25
        let r = |mode| Rounding { scale: 1, mode }.round(d).to_string();
        assert_eq!(r(RoundingMode::HalfUp), "-1.3");
        assert_eq!(r(RoundingMode::HalfEven), "-1.2");
        assert_eq!(r(RoundingMode::Down), "-1.2");
    }

    #[test]
    fn output_forms() {
        assert_eq!(money_string(Decimal::new(123, 1), 2), "12.30");
        assert_eq!(money_string(-Decimal::ZERO, 2), "0.00");
        assert_eq!(short_string(Decimal::new(1200, 0)), "1200");
        assert_eq!(short_string(Decimal::new(100, 3)), "0.1");
        assert_eq!(decimals_by_value(Decimal::new(12300, 3)), 1);
    }
}
