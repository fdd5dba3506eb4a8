//! `cargo xtask …`: chores run on demand, kept out of the product binary.
//!
//! - `man [--out DIR]`: the man pages, generated from the clap definitions (`apimfn.1` and one
//!   page per subcommand, `apimfn-setup.1`, …), so they can never disagree with `--help`.
//! - `bench [--runs N] [--quick] [--only NAME] [--build]`: the benchmarks against the emulator,
//!   written to `docs/performance.md` (see `bench/mod.rs`).

mod bench;
mod man;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "apimfn's project chores")]
struct Xtask {
    #[command(subcommand)]
    command: Chore,
}

#[derive(Subcommand)]
enum Chore {
    /// Write the man pages (roff) generated from the CLI definition
    Man {
        /// Where to write them
        #[arg(long, default_value = "target/man")]
        out: PathBuf,
    },
    /// Measure apimfn against the emulator (release build) and write docs/performance.md
    Bench {
        /// Runs per figure (medians are reported; the scale benchmark uses at most 3)
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// One run of everything, small N, no warm build: a smoke test for CI
        #[arg(long)]
        quick: bool,
        /// Run one benchmark only
        #[arg(long, value_parser = bench::BENCHES)]
        only: Option<String>,
        /// Also measure a cold release build in a fresh target directory (takes minutes)
        #[arg(long)]
        build: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Xtask::parse().command {
        Chore::Man { out } => {
            let written = man::write_all(&out)?;
            for p in written {
                println!("{}", p.display());
            }
            Ok(())
        }
        Chore::Bench {
            runs,
            quick,
            only,
            build,
        } => bench::run(&bench::Options {
            runs,
            quick,
            only,
            build,
        }),
    }
}
