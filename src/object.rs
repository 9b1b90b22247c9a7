//! The object model shared by every stage: an object's identity, where it was declared, and its body.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Identity of a Kubernetes object. `Ord` is the one total order used everywhere for determinism.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectId {
    /// API group, empty for the core group (not the version: versions do not change identity).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    pub fn new(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjectId {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// `kind.group`, as kubectl prints resource types (`deployment.apps`); just the kind for the core group.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

impl Ord for ObjectId {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.group, &self.kind, &self.namespace, &self.name).cmp(&(
            &other.group,
            &other.kind,
            &other.namespace,
            &other.name,
        ))
    }
}

impl PartialOrd for ObjectId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `Kind/namespace/name` (or `Kind/name` when cluster-scoped): the prefix of every message about an object.
impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where an object was declared in the repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLoc {
    /// Layer name (from `rekube.yaml`, or the folder name).
    pub layer: String,
    /// Path relative to the repository root, `/`-separated. For Kustomize output, the kustomization folder.
    pub path: String,
    /// 1-based line of the document's first line in `path` (1 for rendered Kustomize output).
    pub line: usize,
    /// 0-based index of the document in the file (or in the rendered output).
    pub document: usize,
}

impl SourceLoc {
    /// Value of the `rekube.dev/source` annotation: `layer/path#document`.
    pub fn annotation(&self) -> String {
        format!("{}/{}#{}", self.layer, self.path, self.document)
    }
}

/// `path:line`, the way compilers point at source.
impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path, self.line)
    }
}

/// One desired object, as loaded from Git. `Debug` masks Secret values and fields decrypted from SOPS.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    pub id: ObjectId,
    /// `group/version` or `version` for the core group, as written.
    pub api_version: String,
    /// The full object as a JSON value (namespace defaulted from the layer where needed).
    pub body: Value,
    pub source: SourceLoc,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("id", &self.id)
            .field("api_version", &self.api_version)
            .field("body", &crate::diff::mask_secrets(&self.body))
            .field("source", &self.source)
            .finish()
    }
}

impl Object {
    /// API version without the group (`v1` for `apps/v1`).
    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }

    pub fn kind(&self) -> &str {
        &self.id.kind
    }

    pub fn name(&self) -> &str {
        &self.id.name
    }

    pub fn namespace(&self) -> Option<&str> {
        self.id.namespace.as_deref()
    }

    /// Value at a JSON pointer (`/spec/template`), if present.
    pub fn get(&self, pointer: &str) -> Option<&Value> {
        self.body.pointer(pointer)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.body
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.body
            .pointer("/metadata/labels")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }
}

/// Splits `apiVersion` into (group, version): `apps/v1` → (`apps`, `v1`), `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// A layer of the repository: a folder whose objects wait for every object of the layers it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub name: String,
    /// Folder relative to the repository root, `/`-separated (`.` for the whole repository).
    pub path: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Namespace given to namespaced objects of this layer that declare none.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Which revision of the repository was read: always printed by every command.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Revision {
    /// What the user named: a folder or a Git URL.
    pub origin: String,
    /// The ref asked for with `--ref`, if any.
    pub reference: Option<String>,
    /// Full commit id, when the source is a Git repository.
    pub commit: Option<String>,
    /// True when a local work tree with uncommitted changes was read from disk.
    pub dirty: bool,
    /// With `--verify-commit`: who signed, by key fingerprint (`signed by SSH key SHA256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.commit {
            Some(c) if self.dirty => write!(f, "{c} (with uncommitted changes)")?,
            Some(c) => write!(f, "{c}")?,
            None => write!(f, "(not a Git repository)")?,
        }
        match &self.signer {
            Some(s) => write!(f, " ({s})"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_order() {
        let a = ObjectId::new("apps", "Deployment", Some("web"), "api");
        let b = ObjectId::new("", "Namespace", None, "web");
        assert_eq!(a.to_string(), "Deployment/web/api");
        assert_eq!(b.to_string(), "Namespace/web");
        assert_eq!(a.group_kind(), "Deployment.apps");
        assert!(b < a, "core group sorts first");
    }

    #[test]
    fn debug_never_shows_secret_values() {
        let secret = Object {
            id: ObjectId::new("", "Secret", Some("a"), "s"),
            api_version: "v1".into(),
            body: serde_json::json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"pw": "hunter2"}}),
            source: SourceLoc {
                layer: "l".into(),
                path: "p.yaml".into(),
                line: 1,
                document: 0,
            },
        };
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("hunter2") && debug.contains("pw"),
            "{debug}"
        );
    }

    #[test]
    fn api_version_split() {
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
    }
}

/// `pattern` with `*` matching any run of characters, else equal: how rule selectors match names.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut text) = text.strip_prefix(head) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('*').collect();
    let Some((last, middle)) = parts.split_last() else {
        return true;
    };
    for part in middle {
        match text.find(part) {
            Some(i) => text = &text[i + part.len()..],
            None => return false,
        }
    }
    text.len() >= last.len() && text.ends_with(last)
}

#[cfg(test)]
mod glob_tests {
    use super::glob_match;

    #[test]
    fn globs() {
        let cases = [
            ("apps", "apps", true),
            ("apps", "apps2", false),
            ("*", "", true),
            ("*.upbound.io", "s3.aws.upbound.io", true),
            ("*.upbound.io", "upbound.io", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("ab*ba", "aba", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(glob_match(pattern, text), want, "{pattern} ~ {text}");
        }
    }
}
