//! apimfn-emulator: a local stand-in for the Azure services apimfn drives — ARM, Entra ID,
//! Microsoft Graph, the Kudu/SCM endpoint, the function host with Easy Auth, and the APIM gateway —
//! served over HTTPS on one loopback port and routed by Host header, like the real host names.
//!
//! It is written from the Azure REST contract (spec files, recorded sessions, documentation), never
//! from the client: this crate does not depend on the `apimfn` package and shares no model types
//! with it. It decides every outcome from the configuration it was sent.
//!
//! Module map:
//! - `server`: TLS listener, Host-header routing, request log, faults and throttling hooks;
//! - `tls`: the generated CA and the server certificate;
//! - `world`: the emulated state (persisted to `--state-dir`) and the seeded tenant;
//! - `jwt`: RS256 tokens signed with the tenant's key;
//! - `directory`: service principals and app registrations (Entra, Graph, managed identities);
//! - `clock`: wall time and the time scale of modelled durations;
//! - `admin`: `/.emulator/…` (request log, state, settings, faults, reset);
//! - `throttle`: ARM's token buckets and rate-limit headers; `faults`: fault injection;
//! - `http`: the request/response types every service handler uses, and ARM's error shapes;
//! - `entra`, `graph`, `arm/…`: the emulated services.

// Handlers return early with a finished HTTP response (`Result<T, Response>`); boxing every one
// would add noise for no gain on a local test server.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod arm;
pub mod build;
pub mod clock;
pub mod directory;
pub mod easyauth;
pub mod entra;
pub mod faults;
pub mod funchost;
pub mod gateway;
pub mod graph;
pub mod http;
pub mod index;
pub mod jwt;
pub mod scm;
pub mod server;
pub mod throttle;
pub mod tls;
pub mod world;

pub use server::{Config, Ready, Running, start};
