//! The bundled function template (`templates/function/`) and the deployment zip.
//!
//! The template is compiled into the binary so `apimfn function deploy` works from any directory.
//! Zips are built in memory and are deterministic — same files, same bytes — so that the package
//! hash identifies a deployment and an unchanged package need not be uploaded again.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::io::{Cursor, Write};
use std::path::Path;

/// The bundled template: (path inside the zip, contents).
pub const TEMPLATE: &[(&str, &[u8])] = &[
    (
        "function_app.py",
        include_bytes!("../templates/function/function_app.py"),
    ),
    (
        "host.json",
        include_bytes!("../templates/function/host.json"),
    ),
    (
        "requirements.txt",
        include_bytes!("../templates/function/requirements.txt"),
    ),
];

/// Files a Python function package must have at its root.
pub const REQUIRED_FILES: &[&str] = &["function_app.py", "host.json", "requirements.txt"];

/// Directories and files never shipped: local environments, caches, local secrets.
const EXCLUDED: &[&str] = &[
    ".venv",
    "venv",
    "__pycache__",
    ".git",
    ".vscode",
    ".python_packages",
    "local.settings.json",
];

/// A deployment package: the zip bytes and their SHA-256 (hex).
#[derive(Debug, Clone)]
pub struct Package {
    pub zip: Vec<u8>,
    pub sha256: String,
    /// Paths inside the zip, sorted.
    pub files: Vec<String>,
}

/// The package of the bundled template.
pub fn bundled_package() -> anyhow::Result<Package> {
    let files: Vec<(String, Vec<u8>)> = TEMPLATE
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_vec()))
        .collect();
    build_zip(files)
}

/// The package of a source directory (`--source DIR`).
pub fn package_dir(dir: &Path) -> anyhow::Result<Package> {
    if !dir.is_dir() {
        bail!(crate::exit::UsageError::invalid(
            "--source",
            &dir.display().to_string(),
            "must be a directory containing function_app.py, host.json and requirements.txt"
        ));
    }
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    for required in REQUIRED_FILES {
        if !files.iter().any(|(p, _)| p == required) {
            bail!(crate::exit::UsageError::invalid(
                "--source",
                &dir.display().to_string(),
                &format!(
                    "{required} is missing (a Python v2 function app needs function_app.py, host.json and requirements.txt at its root)"
                ),
            ));
        }
    }
    build_zip(files)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading directory {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading directory {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if EXCLUDED.contains(&name.as_str()) || name.ends_with(".pyc") {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?;
        if kind.is_dir() {
            collect(root, &path, out)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .with_context(|| format!("{} is outside {}", path.display(), root.display()))?;
            // Zip paths use forward slashes on every platform.
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let data =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push((rel, data));
        }
    }
    Ok(())
}

/// A deterministic zip: entries sorted by path, fixed timestamps and permissions.
pub fn build_zip(mut files: Vec<(String, Vec<u8>)>) -> anyhow::Result<Package> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (path, data) in &files {
        writer
            .start_file(path.as_str(), options)
            .with_context(|| format!("adding {path} to the package"))?;
        writer
            .write_all(data)
            .with_context(|| format!("adding {path} to the package"))?;
    }
    let zip = writer
        .finish()
        .context("finishing the package zip")?
        .into_inner();
    let sha256 = hex(&Sha256::digest(&zip));
    Ok(Package {
        zip,
        sha256,
        files: files.into_iter().map(|(p, _)| p).collect(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut out = Vec::new();
        for i in 0..archive.len() {
            let mut f = archive.by_index(i).expect("entry");
            let mut s = String::new();
            f.read_to_string(&mut s).expect("utf8");
            out.push((f.name().to_string(), s));
        }
        out
    }

    #[test]
    fn bundled_template_has_the_three_files_at_the_root() {
        let pkg = bundled_package().expect("package");
        assert_eq!(
            pkg.files,
            vec!["function_app.py", "host.json", "requirements.txt"]
        );
        let files = unzip(&pkg.zip);
        let app = &files[0].1;
        assert!(app.contains("route=\"HttpExample\""));
        assert!(app.contains("methods=[\"GET\", \"POST\"]"));
        assert!(app.contains("AuthLevel.ANONYMOUS"));
        assert!(app.contains("Hello, {name}."));
        let req = &files[2].1;
        let deps: Vec<&str> = req
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(deps, vec!["azure-functions"]);
        let host: serde_json::Value = serde_json::from_str(&files[1].1).expect("host.json");
        assert_eq!(host["version"], "2.0");
    }

    #[test]
    fn packages_are_deterministic() {
        let a = bundled_package().expect("a");
        let b = bundled_package().expect("b");
        assert_eq!(a.zip, b.zip);
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.sha256.len(), 64);
    }

    #[test]
    fn a_source_directory_skips_local_environments_and_needs_the_required_files() {
        let dir = tempfile::tempdir().expect("tmp");
        for (p, c) in TEMPLATE {
            std::fs::write(dir.path().join(p), c).expect("write");
        }
        std::fs::create_dir_all(dir.path().join(".venv/lib")).expect("mkdir");
        std::fs::write(dir.path().join(".venv/lib/x.py"), "x").expect("write");
        std::fs::write(dir.path().join("local.settings.json"), "{}").expect("write");
        std::fs::create_dir_all(dir.path().join("shared")).expect("mkdir");
        std::fs::write(dir.path().join("shared/util.py"), "y = 1").expect("write");
        let pkg = package_dir(dir.path()).expect("package");
        assert_eq!(
            pkg.files,
            vec![
                "function_app.py",
                "host.json",
                "requirements.txt",
                "shared/util.py"
            ]
        );

        std::fs::remove_file(dir.path().join("host.json")).expect("rm");
        let err = package_dir(dir.path()).expect_err("must fail");
        assert!(err.to_string().contains("host.json is missing"), "{err}");
        assert_eq!(crate::exit::code_for(&err), crate::exit::USAGE);
    }
}
