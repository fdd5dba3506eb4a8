//! The commands, one file each; the work itself lives in `steps`.

pub mod api;
pub mod apim;
pub mod auth;
pub mod common;
pub mod destroy;
pub mod emulator;
pub mod function;
pub mod setup;
pub mod status;
pub mod verify;
