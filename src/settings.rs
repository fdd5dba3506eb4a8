//! Settings: flags, environment and the TOML config file merged in one place (precedence
//! flag > environment > file > default), validated against Azure's rules, and the derived names.

use crate::exit::UsageError;
use std::fmt;
use std::str::FromStr;

/// How to sign in (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// Client secret from the environment, then workload identity, managed identity, Azure CLI.
    #[default]
    Auto,
    Cli,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
    AzurePipelines,
}

impl AuthMode {
    pub const ALL: [AuthMode; 6] = [
        AuthMode::Auto,
        AuthMode::Cli,
        AuthMode::ClientSecret,
        AuthMode::WorkloadIdentity,
        AuthMode::ManagedIdentity,
        AuthMode::AzurePipelines,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Auto => "auto",
            AuthMode::Cli => "cli",
            AuthMode::ClientSecret => "client-secret",
            AuthMode::WorkloadIdentity => "workload-identity",
            AuthMode::ManagedIdentity => "managed-identity",
            AuthMode::AzurePipelines => "azure-pipelines",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMode {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AuthMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                UsageError::invalid(
                    "--auth",
                    s,
                    "must be one of auto, cli, client-secret, workload-identity, managed-identity, azure-pipelines",
                )
            })
    }
}

/// Which Azure cloud (`--cloud`), named as `az cloud list` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum CloudName {
    #[default]
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
}

impl CloudName {
    pub fn as_str(self) -> &'static str {
        match self {
            CloudName::AzureCloud => "AzureCloud",
            CloudName::AzureChinaCloud => "AzureChinaCloud",
            CloudName::AzureUSGovernment => "AzureUSGovernment",
        }
    }
}

impl fmt::Display for CloudName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CloudName {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // az accepts these names case-insensitively; so do we.
        [
            CloudName::AzureCloud,
            CloudName::AzureChinaCloud,
            CloudName::AzureUSGovernment,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            UsageError::invalid(
                "--cloud",
                s,
                "must be one of AzureCloud, AzureChinaCloud, AzureUSGovernment",
            )
        })
    }
}
