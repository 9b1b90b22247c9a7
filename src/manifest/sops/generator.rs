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

use serde_json::{Map, Value};

use super::file::{Pass, yaml12_values};
use super::keys::AgeKeys;
use super::metadata::Metadata;
use super::tree::{self};
use super::{SopsError, cipher};
use crate::manifest::diagnostics::Diagnostic;
use crate::manifest::documents::{self, Origin};
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
) -> Result<String, Diagnostic> {
    let Pass::Decrypt(keys) = pass else {
        return kustomize::render(tool, root, abs, rel);
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
        return kustomize::render(tool, root, abs, rel);
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
    let out = kustomize::render(tool, copy.path(), &copy.path().join(sub), rel);
    drop(copy);
    out
}

/// How sops stored a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// Flux's `formatForPath`.
    fn for_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        match lower.rsplit_once('.').map(|(_, e)| e) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// sops's marker bytes of an encrypted file of this format.
    fn is_encrypted(self, bytes: &[u8]) -> bool {
        let marker: &[u8] = match self {
            Format::Yaml => b"mac: ENC[",
            Format::Json | Format::Binary => b"\"mac\": \"ENC[",
            Format::Dotenv => b"sops_mac=ENC[",
            Format::Ini => b"[sops]",
        };
        bytes.windows(marker.len()).any(|w| w == marker)
    }
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

/// The plaintext of a sops file, in its own format (MAC verified).
///
/// # Errors
/// No usable key, a tampered file, or a format rekube does not read (INI).
pub fn decrypt(text: &str, format: Format, keys: &AgeKeys) -> Result<String, SopsError> {
    match format {
        Format::Ini => Err(SopsError::Unsupported(
            "INI files: store the secret as YAML, JSON, dotenv or binary".into(),
        )),
        Format::Dotenv => {
            let (items, meta) = parse_dotenv(text)?;
            let doc = Value::Object(items);
            let opened = open(&[&doc], &meta, keys)?;
            let mut plain = doc;
            apply(&mut plain, opened.into_iter().next().unwrap_or_default());
            let mut out = String::new();
            for (k, v) in plain.as_object().into_iter().flatten() {
                let v = match v {
                    Value::String(s) => s.replace('\n', "\\n"),
                    other => cipher::mac_bytes(other)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                };
                out.push_str(&format!("{k}={v}\n"));
            }
            Ok(out)
        }
        Format::Json | Format::Binary => {
            let docs = documents::parse_json_documents(text, "")
                .0
                .into_iter()
                .map(|d| d.value)
                .collect::<Vec<_>>();
            let doc = docs
                .first()
                .ok_or(SopsError::Metadata("empty file".into()))?;
            let meta = Metadata::parse(doc.get("sops").unwrap_or(&Value::Null))?;
            let opened = open(&[doc], &meta, keys)?;
            let mut plain = doc.clone();
            apply(&mut plain, opened.into_iter().next().unwrap_or_default());
            if let Value::Object(m) = &mut plain {
                m.shift_remove("sops");
            }
            if format == Format::Binary {
                return match plain.get("data") {
                    Some(Value::String(s)) => Ok(s.clone()),
                    _ => Err(SopsError::Metadata(
                        "a binary file needs a string `data`".into(),
                    )),
                };
            }
            serde_json::to_string_pretty(&plain).map_err(|e| SopsError::Metadata(e.to_string()))
        }
        Format::Yaml => {
            let docs: Vec<Value> = documents::parse_yaml_documents(text, "", Origin::File)
                .0
                .into_iter()
                .map(|d| d.value)
                .collect();
            let strict: Vec<Value> = yaml12_values(text).into_iter().flatten().collect();
            let originals: Vec<&Value> = if strict.len() == docs.len() {
                strict.iter().collect()
            } else {
                docs.iter().collect()
            };
            let first = docs
                .first()
                .ok_or(SopsError::Metadata("empty file".into()))?;
            let meta = Metadata::parse(first.get("sops").unwrap_or(&Value::Null))?;
            let opened = open(&originals, &meta, keys)?;
            let mut out = String::new();
            for (mut doc, leaves) in docs.into_iter().zip(opened) {
                apply(&mut doc, leaves);
                if let Value::Object(m) = &mut doc {
                    m.shift_remove("sops");
                }
                if !out.is_empty() {
                    out.push_str("---\n");
                }
                out.push_str(
                    &serde_saphyr::to_string(&doc)
                        .map_err(|e| SopsError::Metadata(e.to_string()))?,
                );
            }
            Ok(out)
        }
    }
}

type Leaves = Vec<(Vec<tree::Step>, Value)>;

fn open(docs: &[&Value], meta: &Metadata, keys: &AgeKeys) -> Result<Vec<Leaves>, SopsError> {
    let key = cipher::data_key(meta, keys)?;
    Ok(tree::open(docs, meta, &key)?.documents)
}

fn apply(doc: &mut Value, leaves: Leaves) {
    for (pointer, value) in leaves {
        tree::set(doc, &pointer, value);
    }
}

/// sops's dotenv store: `KEY=VALUE` lines (`\n` escaped), `#` comments, metadata flattened into
/// `sops_*` keys (`sops_age__list_0__map_enc`).
fn parse_dotenv(text: &str) -> Result<(Map<String, Value>, Metadata), SopsError> {
    let mut items = Map::new();
    let mut sops = Value::Object(Map::new());
    for line in text.split('\n') {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(SopsError::Metadata("a dotenv line without `=`".into()))?;
        let value = Value::String(value.replace("\\n", "\n"));
        match key.strip_prefix("sops_") {
            Some(path) => place(&mut sops, path, value),
            None => {
                items.insert(key.to_string(), value);
            }
        }
    }
    Ok((items, Metadata::parse(&sops)?))
}

/// Puts `value` at a flattened path (`age__list_0__map_enc`) of `root`.
fn place(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut rest = path;
    let first_end = rest.find("__").unwrap_or(rest.len());
    let mut step = tree::Step::Key(rest[..first_end].to_string());
    rest = &rest[first_end..];
    loop {
        let next = if let Some(r) = rest.strip_prefix("__map_") {
            let end = r.find("__").unwrap_or(r.len());
            rest = &r[end..];
            Some(tree::Step::Key(r[..end].to_string()))
        } else if let Some(r) = rest.strip_prefix("__list_") {
            let end = r.find("__").unwrap_or(r.len());
            let index = r[..end].parse().unwrap_or(0);
            rest = &r[end..];
            Some(tree::Step::Index(index))
        } else {
            None
        };
        let child = match (&step, &next) {
            (_, None) => value.clone(),
            (_, Some(tree::Step::Index(_))) => Value::Array(Vec::new()),
            (_, Some(tree::Step::Key(_))) => Value::Object(Map::new()),
        };
        node = match step {
            tree::Step::Key(k) => {
                let Some(map) = node.as_object_mut() else {
                    return;
                };
                if next.is_none() {
                    map.insert(k, value);
                    return;
                }
                map.entry(k).or_insert(child)
            }
            tree::Step::Index(i) => {
                let Some(list) = node.as_array_mut() else {
                    return;
                };
                while list.len() <= i {
                    list.push(child.clone());
                }
                if next.is_none() {
                    list[i] = value;
                    return;
                }
                &mut list[i]
            }
        };
        match next {
            Some(s) => step = s,
            None => return,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_metadata_unflattens() {
        let mut root = Value::Object(Map::new());
        place(&mut root, "age__list_0__map_recipient", "age1x".into());
        place(&mut root, "age__list_0__map_enc", "E".into());
        place(&mut root, "mac", "M".into());
        assert_eq!(
            root,
            serde_json::json!({"age": [{"recipient": "age1x", "enc": "E"}], "mac": "M"})
        );
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::for_path("a.YAML"), Format::Yaml);
        assert_eq!(Format::for_path("x.env"), Format::Dotenv);
        assert_eq!(Format::for_path("tls.key"), Format::Binary);
        assert!(Format::Dotenv.is_encrypted(b"A=1\nsops_mac=ENC[x]\n"));
    }
}
