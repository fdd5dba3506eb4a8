//! Man pages from `apimfn::cli::Cli`: the top page and one per subcommand (nested ones too, e.g.
//! `apimfn-function-deploy.1`), as `git` and `cargo` ship them.

use anyhow::Context;
use clap::CommandFactory;
use std::path::{Path, PathBuf};

pub fn write_all(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut cmd = apimfn::cli::Cli::command();
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, "apimfn", out, &mut written)?;
    Ok(written)
}

fn write_tree(
    cmd: &clap::Command,
    name: &str,
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let page = cmd.clone().name(name.to_string());
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .with_context(|| format!("rendering the man page of {name}"))?;
    let path = out.join(format!("{name}.1"));
    std::fs::write(&path, roff).with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_tree(sub, &format!("{name}-{}", sub.get_name()), out, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_gets_a_page_that_names_its_flags() {
        let dir = std::env::temp_dir().join(format!("apimfn-man-{}", std::process::id()));
        let written = super::write_all(&dir).expect("pages");
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
            .collect();
        for want in [
            "apimfn.1",
            "apimfn-setup.1",
            "apimfn-plan.1",
            "apimfn-function-deploy.1",
            "apimfn-emulator.1",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        let setup = std::fs::read_to_string(dir.join("apimfn-setup.1")).expect("setup page");
        assert!(setup.contains("dry\\-run"), "{setup}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
