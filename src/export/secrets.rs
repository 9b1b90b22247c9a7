//! What an export does with Secrets: leave them out (the default), encrypt them with SOPS for age
//! recipients (given, or named by a `.sops.yaml` creation rule for the file's path), or, when the user
//! asked for exactly that, write them in plain text. Only `data` and `stringData` are encrypted
//! (`encrypted_regex: ^(data|stringData)$`), so the object stays readable and `plan` needs no key.

use crate::manifest::sops::SopsError;
use crate::manifest::sops::config::{CreationRules, RuleFor};
use crate::manifest::sops::encrypt::{Recipients, SECRET_FIELDS, encrypt_yaml};
use crate::object::ObjectId;

use super::ExportError;

/// How Secrets are exported.
#[derive(Debug, Clone, Default)]
pub enum Secrets {
    /// Not at all: each is named among what was left out.
    #[default]
    LeaveOut,
    /// In plain text (`--allow-plain-secrets`): the files must stay out of Git.
    Plain,
    /// SOPS-encrypted for age recipients.
    Encrypt(Encryption),
}

impl Secrets {
    pub fn included(&self) -> bool {
        !matches!(self, Secrets::LeaveOut)
    }
}

/// Encryption of exported Secrets.
#[derive(Debug, Clone)]
pub struct Encryption {
    pub recipients: RecipientSource,
    /// sops's `lastmodified` (RFC 3339): the MAC's additional data.
    pub lastmodified: String,
}

/// Where the age recipients come from.
#[derive(Debug, Clone)]
pub enum RecipientSource {
    /// `--age-recipient` or `SOPS_AGE_RECIPIENTS`: every Secret is encrypted for these.
    Given(Recipients),
    /// The creation rules of the repository's `.sops.yaml`, matched against each file's path.
    CreationRules(CreationRules),
}

/// `yaml` (one rendered Secret, written to `path`) encrypted with SOPS.
///
/// # Errors
/// No recipient for `path`, or the encryption fails. Messages never hold a value.
pub fn encrypt(
    id: &ObjectId,
    path: &str,
    yaml: &str,
    encryption: &Encryption,
) -> Result<String, ExportError> {
    let no_recipient = |reason: String| ExportError::NoRecipient {
        object: id.to_string(),
        path: path.to_string(),
        reason,
    };
    let failed = |source: SopsError| ExportError::Encrypt {
        object: id.to_string(),
        path: path.to_string(),
        source,
    };
    let recipients = match &encryption.recipients {
        RecipientSource::Given(r) => r.clone(),
        RecipientSource::CreationRules(rules) => match rules.for_path(path) {
            RuleFor::Age(list) => Recipients::parse(&list).map_err(failed)?,
            RuleFor::NoAge(n) => {
                return Err(no_recipient(format!(
                    "creation rule {n} of .sops.yaml, the first to match the path, names no age recipient"
                )));
            }
            RuleFor::NoRule => {
                return Err(no_recipient(
                    "no creation rule of .sops.yaml matches the path".into(),
                ));
            }
        },
    };
    let sealed =
        encrypt_yaml(yaml, &recipients, SECRET_FIELDS, &encryption.lastmodified).map_err(failed)?;
    serde_saphyr::to_string(&sealed).map_err(|source| ExportError::Render {
        object: id.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::export::{ExportOptions, export};
    use crate::manifest::sops::keys::generate;

    const VALUE: &str = "Y2FuYXJ5LXVuaXQtdGVzdA=="; // base64 of the canary

    fn live() -> BTreeMap<ObjectId, Value> {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "shop", "uid": "u", "managedFields": [
                {"manager": "kubectl-create", "operation": "Update", "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:data": {".": {}, "f:password": {}}, "f:type": {}}}]},
            "data": {"password": VALUE}
        });
        let id = ObjectId::new("", "Secret", Some("shop"), "db");
        BTreeMap::from([(id, secret)])
    }

    fn run(secrets: Secrets) -> Result<crate::export::Export, ExportError> {
        export(
            &live(),
            &ExportOptions {
                secrets,
                ..ExportOptions::default()
            },
        )
    }

    #[test]
    fn secrets_are_left_out_encrypted_or_plain_as_asked() {
        let left = run(Secrets::LeaveOut).unwrap();
        assert!(left.objects.is_empty());
        assert_eq!(
            left.left_out[0].reason,
            "a Secret (exported only with --include-secrets)"
        );

        let (_, recipient) = generate();
        let encryption = |recipients| {
            Secrets::Encrypt(Encryption {
                recipients,
                lastmodified: "2026-12-01T00:00:00Z".into(),
            })
        };
        let given = RecipientSource::Given(Recipients::parse(&[&recipient]).unwrap());
        let sealed = run(encryption(given)).unwrap();
        let text = &sealed.files["apps/shop/secret-db.yaml"];
        assert!(!text.contains(VALUE), "{text}");
        assert!(
            text.contains("ENC[AES256_GCM,") && text.contains(&recipient),
            "{text}"
        );
        assert_eq!(sealed.encrypted.len(), 1);

        let rules =
            CreationRules::parse("creation_rules:\n  - path_regex: ^tools/\n    age: x\n").unwrap();
        let e = run(encryption(RecipientSource::CreationRules(rules)))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("Secret/shop/db: no age recipient to encrypt apps/shop/secret-db.yaml"),
            "{e}"
        );

        let plain = run(Secrets::Plain).unwrap();
        assert!(plain.files["apps/shop/secret-db.yaml"].contains(VALUE));
        assert_eq!(plain.plain_secrets.len(), 1);
    }
}
