//! Shared helpers of the cross-crate tests (work in progress).
