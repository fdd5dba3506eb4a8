//! apimfn: API Management in front of a Flex Consumption Python function app, secured with Easy
//! Auth so that only APIM's managed identity gets in — provisioned over ARM REST.
//!
//! Module map (a newcomer finds things by file name):
//! - `cli`: the clap definitions of every command and flag;
//! - `settings`: flags, environment and config file merged in one place, validated, names derived;
//! - `cloud`: endpoints and host suffixes per Azure cloud;
//! - `transport`: the one HTTP client (emulator redirection and CA trust live here);
//! - `credentials`: sign-in through azure_identity, one mode or `auto`;
//! - `arm`: the ARM REST client (long-running operations, retries, errors, request counts);
//! - `azure`: the connection (cloud + HTTP client + credential + ARM client) built from settings;
//! - `models`: small serde models of the resources apimfn touches, wire names exact;
//! - `template`: the bundled function template and the deployment zip;
//! - `output`: the printer (stdout results, stderr progress, redaction);
//! - `commands`: one file per command;
//! - `exit`: exit codes and the error kinds that map to them;
//! - `inflight`: what is running right now, for Ctrl-C and timeouts.

pub mod arm;
pub mod azure;
pub mod cli;
pub mod cloud;
pub mod commands;
pub mod credentials;
pub mod embedded;
pub mod exit;
pub mod inflight;
pub mod models;
pub mod output;
pub mod run;
pub mod scm;
pub mod settings;
pub mod steps;
pub mod template;
pub mod transport;
