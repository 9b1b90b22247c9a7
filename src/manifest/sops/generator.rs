//! Files of a Kustomize `secretGenerator` (`files:` and `envs:`) encrypted by sops, decrypted before
//! Kustomize reads them, as Flux does.
//!
//! Kustomize is another program and reads files, so the plaintext has to be a file for the length of
//! one `kustomize build`: the repository is copied into a private folder (mode 0700, on the RAM-backed
//! `/dev/shm` when there is one, so the plaintext never reaches a disk), the encrypted generator files
//! are replaced there by their plaintext (mode 0600), Kustomize renders the copy, and the folder is
//! removed as soon as it returns (also on error or panic). Without encrypted generator files, or in
//! `plan`, Kustomize reads the repository itself.
//!
//! Formats as sops writes them, chosen by extension as Flux does: YAML, JSON, dotenv (`.env`, and every
//! `envs:` file), and binary (any other extension: a JSON envelope whose `data` is the file).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::file::Pass;
use super::formats::{Format, decrypt};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::files::KUSTOMIZATION_FILES;
use crate::manifest::kustomize::{self, Kustomize};
use crate::manifest::yaml;

/// Renders the Kustomize folder `abs`, its encrypted `secretGenerator` files decrypted first.
///
/// # Errors
/// Kustomize fails, or an encrypted generator file cannot be decrypted (named with the kustomization).
pub fn render(
    tool: &Kustomize,
    root: &Path,
    abs: &Path,
    rel: &str,
    pass: Pass<'_>,
    max_file_size: u64,
    deadline: std::time::Duration,
) -> Result<String, Diagnostic> {
    let Pass::Decrypt(keys) = pass else {
        return kustomize::render(tool, root, abs, rel, deadline);
    };
    let encrypted: Vec<(PathBuf, Format)> = generator_files(root, abs)
        .into_iter()
        .filter_map(|(path, format)| {
            let meta = std::fs::metadata(&path).ok()?;
            if !meta.is_file() || meta.len() > max_file_size {
                return None;
            }
            let bytes = std::fs::read(&path).ok()?;
            format.is_encrypted(&bytes).then_some((path, format))
        })
        .collect();
    if encrypted.is_empty() {
        return kustomize::render(tool, root, abs, rel, deadline);
    }
    let fail = |path: &Path, message: String| {
        let file = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        Diagnostic::new(rel, format!("secretGenerator file {file}: {message}"))
    };
    let copy = private_dir().map_err(|e| {
        Diagnostic::new(
            rel,
            format!("cannot create a private folder for decrypted secretGenerator files: {e}"),
        )
    })?;
    copy_tree(root, copy.path()).map_err(|e| {
        Diagnostic::new(
            rel,
            format!("cannot copy the repository for Kustomize: {e}"),
        )
    })?;
    for (path, format) in &encrypted {
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(path, format!("cannot be read: {e}")))?;
        let plain = decrypt(&text, *format, keys).map_err(|e| fail(path, e.in_file()))?;
        let target = copy.path().join(path.strip_prefix(root).unwrap_or(path));
        write_private(&target, plain.as_bytes())
            .map_err(|e| fail(path, format!("cannot write its plaintext: {e}")))?;
    }
    let sub = abs.strip_prefix(root).unwrap_or(Path::new(""));
    let out = kustomize::render(tool, copy.path(), &copy.path().join(sub), rel, deadline);
    drop(copy);
    out
}

/// The files the `secretGenerator`s of `dir` and the kustomizations it includes read.
fn generator_files(root: &Path, dir: &Path) -> Vec<(PathBuf, Format)> {
    let mut out = Vec::new();
    let mut queue = vec![dir.to_path_buf()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(dir) = queue.pop() {
        let Ok(dir) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !dir.starts_with(root) || !seen.insert(dir.clone()) {
            continue;
        }
        let Some(text) = KUSTOMIZATION_FILES
            .iter()
            .find_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        else {
            continue;
        };
        let Ok(Some(tree)) = yaml::parse_single(&text) else {
            continue;
        };
        let k = tree.to_value();
        for key in ["resources", "bases", "components"] {
            for entry in strings(k.get(key)) {
                queue.push(dir.join(entry));
            }
        }
        for generator in k
            .get("secretGenerator")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for file in strings(generator.get("files")) {
                let (key, path) = file.split_once('=').unwrap_or((file, file));
                out.push((dir.join(path), Format::for_path(key)));
            }
            let envs =
                strings(generator.get("envs")).chain(generator.get("env").and_then(Value::as_str));
            for env in envs {
                let format = match Format::for_path(env) {
                    Format::Binary => Format::Dotenv,
                    f => f,
                };
                out.push((dir.join(env), format));
            }
        }
    }
    out.retain(|(p, _)| std::fs::canonicalize(p).is_ok_and(|p| p.starts_with(root)));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// A folder only this process can read, on RAM-backed storage when the system has it.
fn private_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("rekube-sops-");
        b
    };
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return Ok(dir);
    }
    builder.tempdir()
}

/// Copies the repository (not `.git`), keeping symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() == ".git" {
                continue;
            }
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Writes a file readable by its owner only, replacing the copy of the encrypted one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
