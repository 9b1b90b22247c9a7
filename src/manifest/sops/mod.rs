//! SOPS: objects encrypted by sops with age recipients, decrypted in memory with their MAC verified.
//!
//! 1. [`keys`]: age identities from `--age-key-file`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`, sops's default
//!    key file, or a Kubernetes Secret's `*.agekey` entries.
//! 2. [`metadata`]: the `sops` mapping: recipients, MAC, and the rules (`encrypted_regex`,
//!    `encrypted_suffix`, `unencrypted_suffix`, `unencrypted_regex`, `mac_only_encrypted`).
//! 3. `cipher`: the data key through `age`, each value through `aes-gcm`, sops's MAC bytes.
//! 4. `tree`: sops's walk over a document; `file`: the pass over the documents of one file;
//!    `rendered`: objects out of Kustomize, checked against the verified file they came from;
//!    `generator`: the files of a `secretGenerator`, decrypted before Kustomize reads them.
//! 5. [`encrypt`]: the way back, for `export`: a document encrypted as sops encrypts it; [`config`]:
//!    the age recipients a `.sops.yaml` creation rule names.
//!
//! Decrypted objects carry the annotation [`ANNOTATION`] listing their encrypted fields (JSON pointers),
//! so that diff and drift mask those like Secret values, on the live side too. `plan` never decrypts:
//! encrypted objects keep their ciphertext, so the plan digest covers it and stays the same with or
//! without a key.

mod cipher;
pub mod config;
pub mod encrypt;
pub mod file;
mod formats;
pub mod generator;
pub mod keys;
pub mod metadata;
pub mod rendered;
mod tree;

use std::sync::Arc;

use serde_json::Value;

use crate::manifest::documents::Doc;

pub use cipher::is_encrypted;
pub use keys::{AgeKeys, KeySources};

/// Annotation on objects that came from SOPS: the fields that were encrypted, comma-separated JSON
/// pointers (`/data`). Diff and drift mask their values.
pub const ANNOTATION: &str = "rekube.dev/sops";

/// What loading does with SOPS-encrypted documents.
#[derive(Debug, Clone)]
pub enum Sops {
    /// Keep the ciphertext and mark the objects (`plan`: no key needed, the digest covers ciphertext).
    Seal,
    /// Decrypt with these keys (none: every encrypted file is an error naming it).
    Decrypt(Arc<AgeKeys>),
}

impl Default for Sops {
    /// Decrypt, with no key: loading never hands ciphertext to an apply by accident.
    fn default() -> Self {
        Sops::Decrypt(Arc::new(AgeKeys::none()))
    }
}

/// Why a SOPS document could not be read. Messages never hold a decrypted value or a secret key.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    #[error("cannot read age keys from {origin}")]
    KeyFile {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: line {line} is not an age secret key (AGE-SECRET-KEY-1…)")]
    InvalidKey { origin: String, line: usize },
    #[error("{origin} holds no age secret key")]
    NoKeyIn { origin: String },
    #[error(
        "no age key to decrypt it (recipients {}): give one with --age-key-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY{}",
        recipients.join(", "),
        if problems.is_empty() { String::new() } else { format!(" ({problems})") }
    )]
    NoKey {
        recipients: Vec<String>,
        problems: String,
    },
    #[error(
        "none of the age keys given ({}) is a recipient of it ({})",
        have.join(", "),
        recipients.join(", ")
    )]
    WrongKey {
        recipients: Vec<String>,
        have: Vec<String>,
    },
    #[error("it has no age recipient ({}): rekube decrypts age only", if others.is_empty() { "no master key".to_string() } else { others.join(", ") })]
    NoAgeRecipient { others: Vec<String> },
    #[error("invalid sops metadata: {0}")]
    Metadata(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("malformed ENC[…] value")]
    Malformed,
    #[error("authentication failed (wrong data key, or the value was altered or moved)")]
    Authentication,
    #[error("the decrypted value is not a valid {0}")]
    BadPlaintext(&'static str),
    #[error("unknown value type {0:?}")]
    UnknownType(String),
    #[error("{0} should be encrypted but is not a string")]
    NotEncrypted(String),
    #[error("value {0} does not decrypt: {1}")]
    Value(String, #[source] Box<SopsError>),
    #[error("MAC mismatch: the file was altered after sops encrypted it")]
    MacMismatch,
    #[error("the stored MAC does not decrypt: the file was altered after sops encrypted it")]
    MacUnreadable,
    #[error("{0}")]
    Rendered(String),
    #[error("{0:?} is not an age recipient (age1…, as age-keygen -y prints it)")]
    NotRecipient(String),
    #[error("{0}")]
    Encrypt(String),
}

impl SopsError {
    /// The message for a diagnostic on the file: `cannot decrypt (SOPS): …` with the cause.
    pub fn in_file(&self) -> String {
        match self {
            SopsError::Value(path, cause) => {
                format!("cannot decrypt (SOPS): value {path} does not decrypt: {cause}")
            }
            e => format!("cannot decrypt (SOPS): {e}"),
        }
    }
}

/// A document after the SOPS pass, ready for validation. `Debug` shows no value.
pub struct Prepared {
    pub doc: Doc,
    /// `plan`: the body to keep (ciphertext) in place of the stand-in that was validated.
    pub sealed_body: Option<Value>,
    /// Decrypted strings: removed from this document's diagnostics.
    pub secrets: Redactor,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("index", &self.doc.index)
            .field("line", &self.doc.line)
            .field("sealed", &self.sealed_body.is_some())
            .field("secrets", &self.secrets)
            .finish()
    }
}

impl Prepared {
    pub fn plain(doc: Doc) -> Prepared {
        Prepared {
            doc,
            sealed_body: None,
            secrets: Redactor::default(),
        }
    }
}

/// Decrypted strings that must not appear in a message (a validation error may quote a value).
#[derive(Default, Clone)]
pub struct Redactor(Vec<String>);

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} values)", self.0.len())
    }
}

impl Redactor {
    pub(super) fn add(&mut self, value: &Value) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return,
        };
        // Shorter values would garble every message; a validation error quotes whole values.
        if text.chars().count() >= 3 {
            self.0.push(text);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `message` with every decrypted value replaced by `***`, longest first.
    pub fn scrub(&self, message: &str) -> String {
        let mut values: Vec<&String> = self.0.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut out = message.to_string();
        for v in values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }
}

/// A document sops encrypted: a top-level `sops` mapping with a MAC or a timestamp.
pub fn is_sops_document(value: &Value) -> bool {
    value
        .get("sops")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key("mac") || m.contains_key("lastmodified"))
}

/// `Kind/namespace/name` when apiVersion, kind, name (and namespace) are readable, `None` when any is
/// encrypted or missing.
pub fn identity_label(value: &Value) -> Option<String> {
    let text = |p: &str| {
        value
            .pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && !is_encrypted(s))
    };
    text("/apiVersion")?;
    let kind = text("/kind")?;
    let name = text("/metadata/name")?;
    match value.pointer("/metadata/namespace") {
        None | Some(Value::Null) => Some(format!("{kind}/{name}")),
        Some(_) => Some(format!("{kind}/{}/{name}", text("/metadata/namespace")?)),
    }
}

/// Adds [`ANNOTATION`] to `target`, listing the fields of `shape` under which every value was among
/// `encrypted`.
fn annotate(target: &mut Value, shape: &Value, encrypted: &[Vec<tree::Step>]) {
    let fields = tree::sensitive(shape, encrypted).join(",");
    let Some(meta) = target.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if !annotations.is_object() {
        *annotations = Value::Object(Default::default());
    }
    if let Some(map) = annotations.as_object_mut() {
        map.insert(ANNOTATION.to_string(), Value::String(fields));
    }
}

/// The fields [`ANNOTATION`] lists on `obj` (empty when absent): what diff and drift mask.
pub fn sensitive_fields(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
