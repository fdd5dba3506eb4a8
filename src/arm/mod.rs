//! The ARM REST client: one small client over reqwest that every command uses to talk to Azure
//! Resource Manager.
//!
//! - `client`: [`ArmClient`], the verbs (`get`, `put`, …), sending with auth, retries and logging;
//! - `request`: [`ArmRequest`] / [`ArmResponse`], the lower-level way to send with extra headers;
//! - `lro`: long-running operations — starting without waiting ([`Started`], [`Operation`]) and
//!   waiting with progress ([`LroStatus`]);
//! - `retry`: [`RetryPolicy`], what is retried and how long to wait;
//! - `error`: [`ArmError`], the one error type, and parsing of Azure's error bodies;
//! - `counter`: read/write request counts ([`RequestCounts`]).
//!
//! Why our own client rather than the azure_mgmt_* crates: see `docs/decisions.md`.

mod client;
mod counter;
mod error;
mod lro;
mod request;
mod retry;

pub use client::ArmClient;
pub use counter::{RequestCounter, RequestCounts, is_read_only_post, is_write};
pub use error::{
    ArmError, ErrorDetail, ErrorKind, ParsedError, parse_error_body, parse_error_value,
};
pub use lro::{
    FinalState, LroStatus, Operation, Phase, Poll, Started, classify_status, provisioning_state,
};
pub use request::{ArmRequest, ArmResponse};
pub use retry::{
    FINAL_CONFLICT_CODES, RETRYABLE_CONFLICT_CODES, RetryPolicy, Sleeper, is_retryable_conflict,
    parse_http_date, retry_after, should_retry_status, should_retry_transport, tokio_sleeper,
};
