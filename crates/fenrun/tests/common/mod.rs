//! What the property tests share: the strategy that draws a random world.

use fenrun_testkit::world::World;
use proptest::prelude::*;

/// Random worlds of at most `members` members, `groups` groups and `orders`
/// orders; half of them version 1, half with version-2 features.
pub fn world(members: usize, groups: usize, orders: usize) -> impl Strategy<Value = World> {
    (
        prop::collection::vec(
            (any::<u32>(), 0u8..4, prop::bool::weighted(0.85), 0u8..10),
            1..members,
        ),
        prop::collection::vec((any::<u32>(), 0u16..250), 0..groups),
        prop::collection::vec(
            (any::<u32>(), 1u64..2_000_000, 0u8..4, any::<bool>()),
            0..orders,
        ),
        any::<u64>(),
        (0u8..8, any::<bool>(), 0u8..4, 1u8..4, any::<bool>(), 0u8..5),
        prop_oneof![Just(0u8), any::<u8>()],
    )
        .prop_map(|(members, groups, orders, shuffle, knobs, v2)| World {
            members,
            groups,
            orders,
            shuffle,
            knobs,
            v2,
        })
}
