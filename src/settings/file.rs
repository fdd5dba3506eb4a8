//! The TOML config file: every key is a setting's long flag name in snake_case, every value a
//! string. Unknown keys and wrong types are errors, so that a typo never goes unnoticed.

use super::Key;
use crate::exit::UsageError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A config file that parsed and passed the key check.
#[derive(Debug, Default, Clone)]
pub(super) struct ConfigFile {
    pub path: PathBuf,
    pub values: BTreeMap<Key, String>,
}

impl ConfigFile {
    /// The directory that relative paths in the file are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// Flags that are accepted on the command line only (they steer this process' terminal, not
/// the deployment).
const FLAG_ONLY: [&str; 4] = ["config", "no_progress", "quiet", "verbose"];

/// Read and check the file at `path`; `origin` says where the path came from, e.g. `--config`
/// or `APIMFN_CONFIG`.
pub(super) fn load(path: &Path, origin: &str) -> Result<ConfigFile, UsageError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError::new(format!(
            "cannot read config file '{shown}' (from {origin}): {e}"
        ))
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let (line, column) = line_column(&text, span.start);
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        UsageError::new(format!(
            "malformed config file '{shown}' (from {origin}){at}: {}",
            e.message().trim_end()
        ))
    })?;
    let mut values = BTreeMap::new();
    for (k, v) in table {
        let Some(key) = Key::ALL
            .into_iter()
            .find(|key| key.file_key() == Some(k.as_str()))
        else {
            return Err(unknown_key(&k, &shown.to_string(), origin));
        };
        let toml::Value::String(s) = v else {
            return Err(UsageError::new(format!(
                "key '{k}' in config file '{shown}' (from {origin}) must be a string, found {} {v}",
                v.type_str()
            )));
        };
        values.insert(key, s);
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        values,
    })
}

fn unknown_key(k: &str, shown: &str, origin: &str) -> UsageError {
    if FLAG_ONLY.contains(&k) {
        return UsageError::new(format!(
            "key '{k}' in config file '{shown}' (from {origin}) is not accepted in a config file: it is a command-line option only"
        ));
    }
    let known: Vec<&str> = Key::ALL.iter().filter_map(|key| key.file_key()).collect();
    let hint = known
        .iter()
        .map(|candidate| (edit_distance(k, candidate), candidate))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, c)| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default();
    UsageError::new(format!(
        "unknown key '{k}' in config file '{shown}' (from {origin}){hint}; known keys: {}",
        known.join(", ")
    ))
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Levenshtein distance, for "did you mean" on a mistyped key.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("apimfn.toml");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn reads_known_string_keys() {
        let (_d, path) = write("name = \"demo\"\nresource_group = \"rg1\"\n");
        let f = load(&path, "--config").expect("load");
        assert_eq!(f.values.get(&Key::Name).map(String::as_str), Some("demo"));
        assert_eq!(
            f.values.get(&Key::ResourceGroup).map(String::as_str),
            Some("rg1")
        );
        assert_eq!(f.dir(), path.parent().expect("parent"));
    }

    #[test]
    fn unknown_key_is_named_with_the_file_and_a_suggestion() {
        let (_d, path) = write("subscripton = \"x\"\n");
        let err = load(&path, "--config").unwrap_err().message;
        assert!(err.contains("unknown key 'subscripton'"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("did you mean 'subscription'?"), "{err}");
    }

    #[test]
    fn flag_only_keys_are_refused_with_a_reason() {
        let (_d, path) = write("quiet = \"true\"\n");
        let err = load(&path, "--config").unwrap_err().message;
        assert!(err.contains("command-line option only"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key_and_the_type() {
        let (_d, path) = write("name = 5\n");
        let err = load(&path, "APIMFN_CONFIG").unwrap_err().message;
        assert!(err.contains("key 'name'"), "{err}");
        assert!(err.contains("must be a string, found integer 5"), "{err}");
        assert!(err.contains("(from APIMFN_CONFIG)"), "{err}");
    }

    #[test]
    fn malformed_toml_has_line_and_column() {
        let (_d, path) = write("name = \"demo\"\nlocation = japaneast\n");
        let err = load(&path, "--config").unwrap_err().message;
        assert!(err.contains("malformed config file"), "{err}");
        assert!(err.contains("at line 2, column 12"), "{err}");
    }

    #[test]
    fn unreadable_file_names_the_path_and_the_os_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("missing.toml");
        let err = load(&path, "--config").unwrap_err().message;
        assert!(err.contains("cannot read config file"), "{err}");
        assert!(err.contains("missing.toml"), "{err}");
        assert!(err.contains("os error"), "{err}");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("x", 0), (1, 1));
    }
}
