//! Any bytes as a batch under the SPEC §8 policy: settles deterministically or fails with a listed code.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fenrun_testkit::fuzz::batch_bytes(data);
});
