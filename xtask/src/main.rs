//! `cargo xtask …`: chores run on demand, kept out of the product binary.
//!
//! - `man [--out DIR]`: the man pages, generated from the clap definitions (`apimfn.1` and one
//!   page per subcommand, `apimfn-setup.1`, …), so they can never disagree with `--help`.

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
    }
}
