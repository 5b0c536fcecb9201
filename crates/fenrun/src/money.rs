//! Decimal input, rounding and output. No binary floating point anywhere.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Marker at the start of a serde error raised for a JSON float, so the
/// loader can give it its own code (`float_number`).
pub(crate) const FLOAT_MARK: &str = "\u{1}float:";
/// The serde error for a float where a decimal belongs: the number as JSON
/// text shows it and as a binding's float shows it (`63000` / `63000.0`),
/// so the loader can word it for where the document came from.
pub(crate) fn float_error<E: de::Error>(v: f64) -> E {
    E::custom(format!("{FLOAT_MARK}{v}{FLOAT_MARK}{v:?}"))
}

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
                Err(float_error(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Deserialize a [`Decimal`] with the strict rules of [`Dec`].
pub(crate) fn de_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Dec::deserialize(d).map(Dec::value)
}

/// Deserialize a map of name → [`Decimal`] with the strict rules of [`Dec`].
pub(crate) fn de_decimal_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, Decimal>, D::Error> {
    let map = std::collections::BTreeMap::<String, Dec>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
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

impl RoundingMode {
    /// Every mode, the default first.
    pub const ALL: [RoundingMode; 3] = [
        RoundingMode::HalfUp,
        RoundingMode::HalfEven,
        RoundingMode::Down,
    ];

    /// The mode's name as the policy writes it (`"half_up"`).
    pub fn name(self) -> &'static str {
        match self {
            RoundingMode::HalfUp => "half_up",
            RoundingMode::HalfEven => "half_even",
            RoundingMode::Down => "down",
        }
    }
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

/// Decimal places of a ratio ([`Rounding::ratio`]).
pub const RATIO_PLACES: u32 = 4;

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

    /// `num / den` rounded to [`RATIO_PLACES`] with the policy mode (the
    /// summary's `payout_ratio`, every ratio of the measures); `None` when
    /// `den` is zero.
    ///
    /// ```
    /// use fenrun::{Rounding, RoundingMode};
    /// use rust_decimal::Decimal;
    /// let r = Rounding { scale: 2, mode: RoundingMode::HalfUp };
    /// assert_eq!(r.ratio(Decimal::new(625, 1), Decimal::new(150, 0)).unwrap().to_string(), "0.4167");
    /// assert_eq!(r.ratio(Decimal::ONE, Decimal::ZERO), None);
    /// ```
    pub fn ratio(&self, num: Decimal, den: Decimal) -> Option<Decimal> {
        if den.is_zero() {
            return None;
        }
        num.checked_div(den).map(|r| self.round_to(r, RATIO_PLACES))
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

    /// `round(rate × units / 10^scale)` as a Decimal at the scale, computed in exact
    /// integers (`units` is an amount in whole units of the scale). `None` when the
    /// product leaves i128 (the caller then takes the Decimal path, which agrees).
    pub(crate) fn round_product(&self, rate: Decimal, units: i128) -> Option<Decimal> {
        let num = rate.mantissa().checked_mul(units)?;
        let div = 10i128.checked_pow(rate.scale())?;
        let q = div_round(num, div, self.mode);
        // Decimal holds 96-bit mantissas; anything larger goes the Decimal way.
        (q.unsigned_abs() < (1u128 << 96)).then(|| Decimal::from_i128_with_scale(q, self.scale))
    }

    /// `round(a × x / o)` for amounts at the scale (a line's amount, a
    /// refund, and the refund's order), computed exactly in integers of units.
    /// `None` unless `0 < o ≤ 10^12` units and `0 ≤ a, x ≤ o`; there it is the
    /// value the Decimal computation `round(a × x / o)` gives (the caller's
    /// other path): the product is exact in a Decimal, and the quotient, at
    /// most 13 integer digits of units, keeps at least 15 digits below the
    /// unit, while an exact quotient that is not itself on a rounding boundary
    /// lies at least `1 / (2o)` ≥ 5·10⁻¹³ units away from one.
    pub(crate) fn round_share(&self, a: Decimal, x: Decimal, o: Decimal) -> Option<Decimal> {
        const MAX_UNITS: i128 = SHARE_MAX_UNITS as i128;
        let (a, x, o) = (
            units(a, self.scale)?,
            units(x, self.scale)?,
            units(o, self.scale)?,
        );
        let fits = (1..=MAX_UNITS).contains(&o) && (0..=o).contains(&a) && (0..=o).contains(&x);
        fits.then(|| Decimal::from_i128_with_scale(div_round(a * x, o, self.mode), self.scale))
    }

    /// One unit of the last kept decimal (0.01 at scale 2).
    pub fn unit(&self) -> Decimal {
        Decimal::new(1, self.scale)
    }
}

/// The largest order, in units of the scale, whose refund shares
/// [`Rounding::round_share`] computes in integers (10^12: ten billion at
/// scale 2).
pub(crate) const SHARE_MAX_UNITS: i64 = 1_000_000_000_000;

macro_rules! div_round {
    ($(#[$doc:meta])* $name:ident, $t:ty) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(n: $t, d: $t, mode: RoundingMode) -> $t {
            let (q, r) = (n / d, n % d);
            if r == 0 {
                return q;
            }
            let away = if n < 0 { q - 1 } else { q + 1 };
            // Compare 2|r| with d without overflow: |r| < d, so d - |r| > 0.
            let rest = d - r.abs();
            match mode {
                RoundingMode::Down => q,
                RoundingMode::HalfUp => {
                    if r.abs() >= rest {
                        away
                    } else {
                        q
                    }
                }
                RoundingMode::HalfEven => match r.abs().cmp(&rest) {
                    std::cmp::Ordering::Greater => away,
                    std::cmp::Ordering::Less => q,
                    std::cmp::Ordering::Equal => {
                        if q % 2 == 0 {
                            q
                        } else {
                            away
                        }
                    }
                },
            }
        }
    };
}

div_round!(
    /// `n / d` rounded with `mode` (`d` > 0), in exact integers.
    div_round,
    i128
);
div_round!(
    /// [`div_round`] in i64, for the hot loop (i128 division is a library call).
    div_round_i64,
    i64
);

/// An amount in whole units of `scale` (12.30 at scale 2 → 1230), if it has no more
/// decimals than the scale.
pub(crate) fn units(amount: Decimal, scale: u32) -> Option<i128> {
    let s = amount.scale();
    if s == scale {
        // The kernel's amounts: no power of ten to work out.
        return Some(amount.mantissa());
    }
    if s > scale {
        return None;
    }
    amount
        .mantissa()
        .checked_mul(10i128.checked_pow(scale - s)?)
}

/// An amount in whole units of `scale` by value: zeros written past the
/// scale do not count (`1.230` at scale 2 → 123). `None` if it has more
/// decimals than the scale by value, or does not fit 128 bits.
///
/// ```
/// use rust_decimal::Decimal;
/// assert_eq!(fenrun::units_at(Decimal::new(1230, 3), 2), Some(123));
/// assert_eq!(fenrun::units_at(Decimal::new(5, 0), 2), Some(500));
/// assert_eq!(fenrun::units_at(Decimal::new(1234, 3), 2), None);
/// ```
pub fn units_at(amount: Decimal, scale: u32) -> Option<i128> {
    units(amount, scale).or_else(|| units(amount.normalize(), scale))
}

/// Money at the policy scale as fenrun writes it ("12.30", never "-0.00").
///
/// ```
/// use rust_decimal::Decimal;
/// assert_eq!(fenrun::money_string(Decimal::new(123, 1), 2), "12.30");
/// ```
pub fn money_string(d: Decimal, scale: u32) -> String {
    Money(d, scale).to_string()
}

/// A ratio (the summary's `payout_ratio`) as a percentage for people: two
/// decimals, half away from zero ("22.00 %"). The CLI's summary and the
/// playground show it so.
///
/// ```
/// use rust_decimal::Decimal;
/// assert_eq!(fenrun::percent_string(Decimal::new(22, 2)), "22.00 %");
/// assert_eq!(fenrun::percent_string(Decimal::new(123455, 6)), "12.35 %");
/// ```
pub fn percent_string(ratio: Decimal) -> String {
    let percent = ratio.saturating_mul(Decimal::ONE_HUNDRED);
    format!("{} %", money_string(percent, 2))
}

/// [`percent_string`] of a ratio written as a decimal string (the §9
/// summary's `payout_ratio`), for bindings that hold it as text; `None` if
/// `ratio` is not a plain decimal.
///
/// ```
/// assert_eq!(fenrun::percent_text("0.220013").as_deref(), Some("22.00 %"));
/// assert_eq!(fenrun::percent_text("n/a"), None);
/// ```
pub fn percent_text(ratio: &str) -> Option<String> {
    parse_decimal(ratio).ok().map(percent_string)
}

/// A non-money decimal (rate, weight, metric value) in shortest form ("0.1", "1200").
pub fn short_string(d: Decimal) -> String {
    Short(d).to_string()
}

/// Number of decimals of `d` counted by value ("12.300" has 1).
#[inline]
pub(crate) fn decimals_by_value(d: Decimal) -> u32 {
    d.normalize().scale()
}

/// Money at a scale, displayed without allocating ("12.30", never "-0.00").
#[derive(Clone, Copy)]
pub(crate) struct Money(pub Decimal, pub u32);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0;
        d.rescale(self.1);
        if d.is_zero() {
            d.set_sign_positive(true);
        }
        fmt::Display::fmt(&d, f)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A non-money decimal in shortest form ("0.1", "1200").
#[derive(Clone, Copy)]
pub(crate) struct Short(pub Decimal);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0.normalize();
        if d.is_zero() {
            d.set_sign_positive(true);
        }
        fmt::Display::fmt(&d, f)
    }
}

impl Serialize for Short {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
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

    proptest::proptest! {
        /// The integer path of `rate × amount` equals the Decimal path in every mode and scale.
        #[test]
        fn integer_product_equals_decimal(
            rate_m in 0i64..=1_000_000_000, rate_s in 0u32..=9,
            amount_m in 1i64..=i64::MAX, scale in 0u32..=8, mode in 0u8..3,
        ) {
            let rate = Decimal::new(rate_m, rate_s);
            let amount = Decimal::new(amount_m, scale);
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][usize::from(mode)];
            let r = Rounding { scale, mode };
            let units = units(amount, scale).unwrap();
            let via_decimal = rate.checked_mul(amount).map(|x| r.round(x));
            if let (Some(int), Some(dec)) = (r.round_product(rate, units), via_decimal) {
                proptest::prop_assert_eq!(int, dec);
                proptest::prop_assert_eq!(int.scale(), scale);
            }
        }

        /// The i64 rounding division equals the i128 one.
        #[test]
        fn div_round_i64_equals_i128(n in i64::MIN + 1..=i64::MAX, d_pow in 0u32..=18, mode in 0u8..3) {
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][usize::from(mode)];
            let d = 10i64.pow(d_pow);
            proptest::prop_assert_eq!(i128::from(div_round_i64(n, d, mode)), div_round(i128::from(n), i128::from(d), mode));
        }

        /// A refund's share in integers equals the Decimal computation it stands for.
        #[test]
        fn integer_share_equals_decimal(
            o in 1i64..=1_000_000_000_000,
            a_part in 0u32..=1000,
            x_part in 0u32..=1000,
            scale in 0u32..=8,
            mode in 0u8..3,
        ) {
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][usize::from(mode)];
            let r = Rounding { scale, mode };
            // a and x anywhere in 0..=o, the quotient anywhere in 0..=o units.
            let part = |k: u32| i64::try_from(i128::from(o) * i128::from(k) / 1000).unwrap_or(o);
            let (a, x, o) = (Decimal::new(part(a_part), scale), Decimal::new(part(x_part).max(1), scale), Decimal::new(o, scale));
            let decimal = r.round(a.checked_mul(x).and_then(|p| p.checked_div(o)).unwrap());
            proptest::prop_assert_eq!(r.round_share(a, x, o), Some(decimal));
        }

        /// Exact halves and negative numbers round the same way in both paths.
        #[test]
        fn div_round_matches_decimal_rounding(n in -10_000i64..10_000, d_pow in 0u32..4, mode in 0u8..3) {
            let mode = [RoundingMode::HalfUp, RoundingMode::HalfEven, RoundingMode::Down][usize::from(mode)];
            let d = 10i128.pow(d_pow);
            let want = Rounding { scale: 0, mode }.round(Decimal::new(n, d_pow));
            proptest::prop_assert_eq!(Decimal::from(div_round(i128::from(n), d, mode)), want);
        }
    }

    #[test]
    fn integer_shares_at_halves_and_past_their_range() {
        let r = |mode| Rounding { scale: 2, mode };
        let d = |units| Decimal::new(units, 2);
        // 0.01 × 0.01 / 0.02 = 0.005: exactly half a unit.
        for (mode, want) in [
            (RoundingMode::HalfUp, "0.01"),
            (RoundingMode::HalfEven, "0.00"),
            (RoundingMode::Down, "0.00"),
        ] {
            let got = r(mode).round_share(d(1), d(1), d(2)).map(|v| v.to_string());
            assert_eq!(got.as_deref(), Some(want), "{mode:?}");
        }
        // 0.03 × 0.05 / 0.10 = 0.015: half_even goes to 0.02.
        let even = r(RoundingMode::HalfEven).round_share(d(3), d(5), d(10));
        assert_eq!(even.map(|v| v.to_string()).as_deref(), Some("0.02"));
        // An order above 10^12 units, or a share larger than its order: the Decimal path's.
        let up = r(RoundingMode::HalfUp);
        assert_eq!(up.round_share(d(1), d(1), d(1_000_000_000_001)), None);
        assert_eq!(up.round_share(d(3), d(1), d(2)), None);
        assert_eq!(up.round_share(Decimal::new(1, 3), d(1), d(2)), None);
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
