//! The local Azure emulator (filled by the emulator issues).
//!
//! It is written from the Azure REST contract (spec, recordings, documentation), never from the
//! client: this crate does not depend on the `apimfn` package.
