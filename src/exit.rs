//! Exit codes (CONTRACT §5) and the error kinds that map to them.
//!
//! Errors travel as `anyhow::Error`; the exit code is decided once, in `main`, by looking for one
//! of the marker errors below in the chain. Anything unmarked is an Azure operation failure (1).

use std::fmt;

/// Success.
pub const SUCCESS: i32 = 0;
/// An Azure operation failed or timed out.
pub const AZURE_FAILED: i32 = 1;
/// Invalid input or usage.
pub const USAGE: i32 = 2;
/// Verification failed.
pub const VERIFY_FAILED: i32 = 3;
/// `plan --detailed-exitcode` with pending changes.
pub const CHANGES_PENDING: i32 = 4;
/// Interrupted (Ctrl-C).
pub const INTERRUPTED: i32 = 130;

/// Invalid input: which setting, which rule, which value. Exit 2, before any network call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// A setting whose value breaks a rule: `invalid value 'X' for --flag: rule`.
    pub fn invalid(setting: &str, value: &str, rule: &str) -> Self {
        Self::new(format!("invalid value '{value}' for {setting}: {rule}"))
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// The verification found the backend reachable around APIM, or the gateway path failing. Exit 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailed {
    pub message: String,
}

impl fmt::Display for VerifyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VerifyFailed {}

/// The run was interrupted by the user. Exit 130.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// What was in flight when the interrupt arrived.
    pub in_flight: Vec<String>,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")?;
        if !self.in_flight.is_empty() {
            write!(f, " while {} was in flight", self.in_flight.join(", "))?;
        }
        f.write_str("; Azure keeps what was accepted, and running the same command again resumes")
    }
}

impl std::error::Error for Interrupted {}

/// The exit code for an error chain.
pub fn code_for(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return USAGE;
        }
        if cause.is::<VerifyFailed>() {
            return VERIFY_FAILED;
        }
        if cause.is::<Interrupted>() {
            return INTERRUPTED;
        }
    }
    AZURE_FAILED
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn exit_codes_follow_the_marker_anywhere_in_the_chain() {
        let usage = anyhow::Error::new(UsageError::new("bad")).context("reading settings");
        assert_eq!(code_for(&usage), USAGE);
        let verify: anyhow::Error = VerifyFailed {
            message: "direct call answered 200".into(),
        }
        .into();
        assert_eq!(code_for(&verify), VERIFY_FAILED);
        let int: anyhow::Error = Interrupted { in_flight: vec![] }.into();
        assert_eq!(code_for(&int), INTERRUPTED);
        let other = Err::<(), _>(std::io::Error::other("boom"))
            .context("PUT failed")
            .unwrap_err();
        assert_eq!(code_for(&other), AZURE_FAILED);
    }
}
