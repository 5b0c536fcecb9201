//! Any bytes as a policy: a `Policy` or an error with a listed code and a path.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fenrun_testkit::fuzz::policy_bytes(data);
});
