//! The `sops` mapping sops adds to an encrypted document: master keys, MAC, and the rules that say
//! which values are encrypted, with sops's field names.

use regex::Regex;
use serde_json::{Map, Value};

use super::SopsError;

/// One age recipient and the data key encrypted for it (ASCII-armoured age file).
#[derive(Debug, Clone, PartialEq)]
pub struct AgeStanza {
    pub recipient: String,
    pub enc: String,
}

/// Which values sops encrypted (sops.go `shouldBeEncrypted`): at most one rule is set by sops.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<Regex>,
    pub encrypted_regex: Option<Regex>,
    /// The MAC covers only encrypted values (and starts from a fixed prefix).
    pub mac_only_encrypted: bool,
}

impl Rules {
    /// Whether the value at `path` (the mapping keys leading to it) is encrypted, as sops decides it:
    /// each rule, when set, looks at every key of the path.
    pub fn encrypted(&self, path: &[&str]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|k| k.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|k| k.ends_with(suffix.as_str()));
        }
        if let Some(re) = &self.unencrypted_regex
            && path.iter().any(|k| re.is_match(k))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_regex {
            encrypted = path.iter().any(|k| re.is_match(k));
        }
        encrypted
    }
}

/// The parsed `sops` mapping.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub age: Vec<AgeStanza>,
    /// Other master key types present (`pgp`, `kms`…): named when no age key can decrypt.
    pub other_keys: Vec<String>,
    pub lastmodified: String,
    /// `ENC[AES256_GCM,…]` of the MAC, with `lastmodified` as additional data.
    pub mac: String,
    pub rules: Rules,
}

/// Master key fields of sops besides `age`.
const OTHER_KEY_TYPES: [&str; 6] = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

impl Metadata {
    /// Reads the `sops` mapping of a document.
    ///
    /// # Errors
    /// A field of the wrong type, an invalid regular expression, or a feature rekube does not
    /// implement (key groups with Shamir secret sharing, comment-based rules).
    pub fn parse(sops: &Value) -> Result<Metadata, SopsError> {
        let map = sops
            .as_object()
            .ok_or_else(|| invalid("`sops` must be a mapping"))?;
        if map.get("key_groups").is_some_and(|v| !v.is_null()) {
            return Err(SopsError::Unsupported(
                "key groups (shamir_threshold): encrypt with plain age recipients".into(),
            ));
        }
        for field in ["encrypted_comment_regex", "unencrypted_comment_regex"] {
            if text(map, field)?.is_some() {
                return Err(SopsError::Unsupported(format!(
                    "{field}: rekube reads values, not comments; use encrypted_regex or a suffix"
                )));
            }
        }
        let age = match map.get("age") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    let m = item
                        .as_object()
                        .ok_or_else(|| invalid("sops.age entries must be mappings"))?;
                    Ok(AgeStanza {
                        recipient: text(m, "recipient")?.unwrap_or_default(),
                        enc: text(m, "enc")?
                            .ok_or_else(|| invalid("sops.age entry without enc"))?,
                    })
                })
                .collect::<Result<_, SopsError>>()?,
            Some(_) => return Err(invalid("sops.age must be a list")),
        };
        let other_keys = OTHER_KEY_TYPES
            .iter()
            .filter(|k| {
                map.get(**k)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            })
            .map(|k| k.to_string())
            .collect();
        let regex = |field: &str| -> Result<Option<Regex>, SopsError> {
            text(map, field)?
                .map(|re| {
                    Regex::new(&re).map_err(|e| invalid(&format!("sops.{field} {re:?}: {e}")))
                })
                .transpose()
        };
        let rules = Rules {
            unencrypted_suffix: text(map, "unencrypted_suffix")?,
            encrypted_suffix: text(map, "encrypted_suffix")?,
            unencrypted_regex: regex("unencrypted_regex")?,
            encrypted_regex: regex("encrypted_regex")?,
            mac_only_encrypted: match map.get("mac_only_encrypted") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                // The dotenv and INI stores flatten metadata into strings.
                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                Some(_) => return Err(invalid("sops.mac_only_encrypted must be a boolean")),
            },
        };
        Ok(Metadata {
            age,
            other_keys,
            lastmodified: text(map, "lastmodified")?
                .ok_or_else(|| invalid("sops.lastmodified is missing"))?,
            mac: text(map, "mac")?.unwrap_or_default(),
            rules,
        })
    }
}

fn invalid(message: &str) -> SopsError {
    SopsError::Metadata(message.to_string())
}

/// A string field; empty strings count as absent (sops omits empty fields).
fn text(map: &Map<String, Value>, field: &str) -> Result<Option<String>, SopsError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(&format!("sops.{field} must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(field: &str, value: &str) -> Rules {
        let meta = json!({"lastmodified": "t", "mac": "m", field: value});
        Metadata::parse(&meta).unwrap().rules
    }

    #[test]
    fn rules_as_sops_applies_them() {
        let cases: [(&str, Rules, &[&str], bool); 9] = [
            (
                "no rule: everything",
                Rules::default(),
                &["data", "a"],
                true,
            ),
            (
                "default suffix",
                rules("unencrypted_suffix", "_unencrypted"),
                &["a_unencrypted", "b"],
                false,
            ),
            (
                "suffix elsewhere",
                rules("unencrypted_suffix", "_unencrypted"),
                &["data", "a"],
                true,
            ),
            (
                "encrypted suffix",
                rules("encrypted_suffix", "_secret"),
                &["pw_secret"],
                true,
            ),
            (
                "encrypted suffix absent",
                rules("encrypted_suffix", "_secret"),
                &["pw"],
                false,
            ),
            (
                "regex on any key",
                rules("encrypted_regex", "^(data|stringData)$"),
                &["data", "password"],
                true,
            ),
            (
                "regex not matching",
                rules("encrypted_regex", "^(data|stringData)$"),
                &["metadata", "name"],
                false,
            ),
            (
                "regex is a search",
                rules("unencrypted_regex", "name"),
                &["metadata", "annotations", "x-name-y"],
                false,
            ),
            (
                "unencrypted regex miss",
                rules("unencrypted_regex", "^name$"),
                &["spec", "replicas"],
                true,
            ),
        ];
        for (name, rules, path, want) in cases {
            assert_eq!(rules.encrypted(path), want, "{name}");
        }
    }

    #[test]
    fn unsupported_features_are_named() {
        let groups = json!({"lastmodified": "t", "key_groups": [{"age": []}]});
        assert!(
            Metadata::parse(&groups)
                .unwrap_err()
                .to_string()
                .contains("key groups")
        );
        let comments = json!({"lastmodified": "t", "encrypted_comment_regex": "x"});
        assert!(
            Metadata::parse(&comments)
                .unwrap_err()
                .to_string()
                .contains("comment")
        );
        let bad = json!({"lastmodified": "t", "encrypted_regex": "("});
        assert!(Metadata::parse(&bad).is_err());
    }
}
