//! Arbitrary forests, policies and event streams: every SPEC §10 invariant holds.
#![no_main]
libfuzzer_sys::fuzz_target!(|w: fenrun_testkit::world::World| {
    fenrun_testkit::fuzz::world(&w);
});
