//! `inventory:` in `rekube.yaml`: the name of the repository's inventory (its ApplySet), when the
//! repository declares one. It wins over the name derived from the repository's identity, so that every
//! checkout and the in-cluster reconciler agree whatever the remote's URL looks like.
//!
//! ```yaml
//! inventory: platform
//! layers: [...]
//! ```

use std::path::Path;

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::field::{FieldPath, Locate};
use super::files::read_text;
use super::layers::CONFIG_FILE;
use super::names::dns1123_label;
use super::yaml;

const CONFIG_LIMIT: u64 = 1024 * 1024;

/// The inventory name `rekube.yaml` at `root` declares; `None` without the file or the key.
///
/// # Errors
/// The value is not a string or not a DNS-1123 label (the parent Secret is `rekube-<name>`), with the
/// line. A file that cannot be read or parsed is reported by [`super::layers`], not here.
pub fn declared(root: &Path) -> Result<Option<String>, Diagnostic> {
    let config = root.join(CONFIG_FILE);
    if config.symlink_metadata().is_err() {
        return Ok(None);
    }
    let Ok(text) = read_text(&config, CONFIG_FILE, CONFIG_LIMIT) else {
        return Ok(None);
    };
    let Ok(Some(tree)) = yaml::parse_single(&text) else {
        return Ok(None);
    };
    let at = FieldPath::default().key("inventory");
    let error = |message: String| {
        let pos = tree.locate(&at).unwrap_or(tree.pos());
        Diagnostic::new(CONFIG_FILE, message).at(pos.line, Some(pos.column))
    };
    match tree.to_value().get("inventory") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => match dns1123_label(name) {
            Ok(()) => Ok(Some(name.clone())),
            Err(e) => Err(error(format!("inventory: {e}"))),
        },
        Some(_) => Err(error("inventory: must be a name (a string)".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared_in(text: &str) -> Result<Option<String>, Diagnostic> {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(CONFIG_FILE), text).expect("write");
        declared(dir.path())
    }

    #[test]
    fn reads_a_valid_name_and_points_at_a_bad_one() {
        let layers = "layers:\n  - {name: apps, path: apps}\n";
        assert_eq!(declared_in(layers).unwrap(), None);
        assert_eq!(
            declared_in(&format!("inventory: platform\n{layers}")).unwrap(),
            Some("platform".into())
        );
        let bad = declared_in(&format!("{layers}inventory: Platform_1\n")).unwrap_err();
        assert_eq!(bad.line, Some(3));
        assert!(bad.message.contains("DNS-1123"), "{}", bad.message);
        let bad = declared_in("inventory: [a]\n").unwrap_err();
        assert!(bad.message.contains("a string"), "{}", bad.message);
        assert_eq!(declared(Path::new("/nonexistent")).unwrap(), None);
    }
}
