//! Export: from a live cluster to a repository that `rekube rebuild` restores. Pure; the listing is
//! [`crate::ops::export`]'s.
//!
//! 1. [`layout::left_out`]: objects owned by another object, written by controllers, token Secrets,
//!    Helm release records and (without `--include-secrets`) Secrets are left out, each with its reason.
//! 2. [`declared`]: each object is cut down to what people declared (fields owned by non-controller
//!    field managers), without status, server-populated metadata or the cluster's defaults and
//!    assigned values; an object nobody declared is left out.
//! 3. [`layout`]: every object gets a layer (`cluster/`, `tools/`, `apps/`) and one file; a
//!    `rekube.yaml` lists the layers.
//! 4. [`secrets`]: Secrets, when included, are SOPS-encrypted for age recipients (or, when the user
//!    asked for it, written in plain text).
//!
//! The same live objects always give the same files, byte for byte, except encrypted Secrets: each
//! encryption draws a new data key and new nonces, as sops does.

mod declared;
mod defaults;
pub mod layout;
pub mod secrets;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::manifest::sops::SopsError;
use crate::object::ObjectId;

pub use declared::{CONTROLLER_MANAGERS, declared, is_controller};
pub use secrets::{Encryption, RecipientSource, Secrets};

/// Options of [`export`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Whether and how Secrets are exported.
    pub secrets: Secrets,
    /// Namespace → layer, overriding the rule of [`layout`].
    pub layers: BTreeMap<String, String>,
    /// Put every object in this one layer (`--add-to`), instead of `cluster/`, `tools/`, `apps/`.
    pub single_layer: Option<String>,
    /// Where the objects came from, for the header of `rekube.yaml`.
    pub origin: String,
}

/// An object not exported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    pub id: ObjectId,
    pub reason: String,
}

/// The repository an export writes: relative path → file content.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Export {
    pub files: BTreeMap<String, String>,
    /// Exported objects and their files, in object order.
    pub objects: Vec<(ObjectId, String)>,
    pub left_out: Vec<LeftOut>,
    /// Secrets written SOPS-encrypted, and in plain text.
    pub encrypted: Vec<ObjectId>,
    pub plain_secrets: Vec<ObjectId>,
}

/// An object could not be written. Messages never hold a Secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{object}: cannot render as YAML")]
    Render {
        object: String,
        #[source]
        source: serde_saphyr::SerializeError,
    },
    #[error("{object}: cannot encrypt {path} with SOPS")]
    Encrypt {
        object: String,
        path: String,
        #[source]
        source: SopsError,
    },
    #[error(
        "{object}: no age recipient to encrypt {path} for: {reason}; give --age-recipient \
         (nothing was written)"
    )]
    NoRecipient {
        object: String,
        path: String,
        reason: String,
    },
}

/// Builds the repository from the live objects.
///
/// # Errors
/// An object cannot be rendered as YAML.
pub fn export(
    live: &BTreeMap<ObjectId, Value>,
    opts: &ExportOptions,
) -> Result<Export, ExportError> {
    let mut out = Export::default();
    let mut kept: BTreeMap<ObjectId, Value> = BTreeMap::new();
    for (id, obj) in live {
        if let Some(reason) = layout::left_out(id, obj, opts.secrets.included()) {
            out.left_out.push(LeftOut {
                id: id.clone(),
                reason,
            });
            continue;
        }
        match declared(obj) {
            Some(d) => {
                kept.insert(id.clone(), d);
            }
            None => out.left_out.push(LeftOut {
                id: id.clone(),
                reason: "made by the cluster: no field of it was set by a person or a tool".into(),
            }),
        }
    }
    let namespaces = layout::namespace_layers(&kept, &opts.layers);
    let mut layers = BTreeSet::new();
    for (id, body) in &kept {
        let layer = match &opts.single_layer {
            Some(l) => l.clone(),
            None => layout::layer_of(id, body, &namespaces),
        };
        let path = layout::file_path(&layer, id);
        let mut yaml = render(body).map_err(|source| ExportError::Render {
            object: id.to_string(),
            source,
        })?;
        if id.group.is_empty() && id.kind == "Secret" {
            match &opts.secrets {
                Secrets::Encrypt(e) => {
                    yaml = secrets::encrypt(id, &path, &yaml, e)?;
                    out.encrypted.push(id.clone());
                }
                _ => out.plain_secrets.push(id.clone()),
            }
        }
        layers.insert(layer);
        out.objects.push((id.clone(), path.clone()));
        out.files.insert(path, yaml);
    }
    if opts.single_layer.is_none() && !layers.is_empty() {
        out.files.insert(
            "rekube.yaml".into(),
            layout::rekube_yaml(&layers, &opts.origin),
        );
    }
    Ok(out)
}

/// YAML with `apiVersion`, `kind`, `metadata` first and every other key in byte order.
fn render(obj: &Value) -> Result<String, serde_saphyr::SerializeError> {
    let canonical = crate::diff::canonical(obj);
    let mut ordered = Map::new();
    if let Value::Object(map) = canonical {
        for key in ["apiVersion", "kind", "metadata"] {
            if let Some(v) = map.get(key) {
                ordered.insert(key.to_string(), v.clone());
            }
        }
        for (k, v) in map {
            if !ordered.contains_key(&k) {
                ordered.insert(k, v);
            }
        }
    }
    serde_saphyr::to_string(&Value::Object(ordered))
}
