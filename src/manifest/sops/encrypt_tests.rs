//! Encryption round trips through rekube's own loader (which verifies the MAC); the end-to-end test in
//! tests/export_secrets.rs has the real `sops --decrypt` open the same files.

use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use super::*;
use crate::manifest::documents::{Origin, parse_yaml_documents};
use crate::manifest::sops::cipher::{Plain, decrypt};
use crate::manifest::sops::file::{Pass, prepare};
use crate::manifest::sops::keys::{AgeKeys, generate};
use crate::manifest::sops::metadata::Metadata;
use crate::manifest::sops::{ANNOTATION, cipher};

const LASTMODIFIED: &str = "2026-12-01T04:30:00Z";
const PASSWORD: &str = "canary-Zx81-password";

fn secret_yaml() -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n  labels:\n    legacy: \"yes\"\n    tier: \"3\"\ndata:\n  password: {}\n  empty: \"\"\nimmutable: true\nstringData:\n  port: \"5432\"\ntype: Opaque\n",
        base64_of(PASSWORD)
    )
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn keys(secret: &str) -> AgeKeys {
    let mut keys = AgeKeys::none();
    keys.add_text(secret, "test").unwrap();
    keys
}

/// Loads `text` as a repository file with `keys`: the decrypted documents, or the error messages.
fn load(text: &str, keys: &AgeKeys) -> Result<Vec<Value>, Vec<String>> {
    let (docs, syntax) = parse_yaml_documents(text, "s.yaml", Origin::File);
    assert!(syntax.is_empty(), "{syntax:?}");
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let out = prepare(
        text,
        "s.yaml",
        false,
        docs,
        Pass::Decrypt(keys),
        &mut errors,
        &mut warnings,
    );
    if errors.is_empty() {
        Ok(out.into_iter().map(|p| p.doc.value).collect())
    } else {
        Err(errors.iter().map(ToString::to_string).collect())
    }
}

fn encrypted(recipients: &[&str]) -> String {
    let recipients = Recipients::parse(recipients).unwrap();
    let value = encrypt_yaml(&secret_yaml(), &recipients, SECRET_FIELDS, LASTMODIFIED).unwrap();
    serde_saphyr::to_string(&value).unwrap()
}

#[test]
fn an_encrypted_secret_loads_back_to_the_original() {
    let (secret, recipient) = generate();
    let (other_secret, other) = generate();
    let text = encrypted(&[&format!("{recipient}, {other}")]);
    assert!(!text.contains(PASSWORD) && !text.contains(&base64_of(PASSWORD)));
    assert!(
        !text.contains("5432"),
        "stringData is encrypted too:\n{text}"
    );
    assert!(text.contains("name: db") && text.contains("legacy: \"yes\""));
    let plain: Value = serde_saphyr::from_str(&secret_yaml()).unwrap();
    for key in [&secret, &other_secret] {
        let mut docs = load(&text, &keys(key)).expect("decrypts with either key");
        let annotations = docs[0]["metadata"]["annotations"].as_object_mut().unwrap();
        assert_eq!(
            annotations.remove(ANNOTATION),
            Some(json!("/data,/stringData"))
        );
        assert!(annotations.is_empty());
        docs[0]["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        assert_eq!(docs[0], plain, "byte for byte the same object");
    }
    let (stranger, _) = generate();
    let errors = load(&text, &keys(&stranger)).unwrap_err();
    assert!(errors[0].contains("none of the age keys"), "{errors:?}");
}

#[test]
fn the_mac_is_sha512_over_every_value_in_order_sealed_under_lastmodified() {
    let (secret, recipient) = generate();
    let text = encrypted(&[&recipient]);
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let meta = Metadata::parse(&doc["sops"]).unwrap();
    assert_eq!(meta.lastmodified, LASTMODIFIED);
    assert_eq!(
        meta.rules.encrypted_regex.as_ref().unwrap().as_str(),
        SECRET_FIELDS
    );
    assert!(!meta.rules.mac_only_encrypted);
    let key = cipher::data_key(&meta, &keys(&secret)).unwrap();
    let mut hash = Sha512::new();
    let password = base64_of(PASSWORD);
    for v in [
        "v1",
        "Secret",
        "db",
        "shop",
        "yes",
        "3",
        password.as_str(),
        "",
        "True",
        "5432",
        "Opaque",
    ] {
        hash.update(v);
    }
    assert_eq!(
        cipher::stored_mac(&meta, &key).unwrap(),
        hex::encode_upper(hash.finalize())
    );
    // Each value is sealed under its own path: `data:password:`.
    let sealed = doc["data"]["password"].as_str().unwrap();
    assert_eq!(
        decrypt(sealed, &key, "data:password:").unwrap(),
        Plain::Value(json!(base64_of(PASSWORD)))
    );
    assert_eq!(
        doc["data"]["empty"], "",
        "sops leaves empty values as they are"
    );
    assert_eq!(doc["immutable"], true);
}

#[test]
fn a_changed_plain_value_or_moved_secret_is_refused() {
    let (secret, recipient) = generate();
    let text = encrypted(&[&recipient]);
    let tampered = text.replace("name: db", "name: dc");
    assert_ne!(tampered, text);
    let errors = load(&tampered, &keys(&secret)).unwrap_err();
    assert!(errors[0].contains("MAC mismatch"), "{errors:?}");
    let mut doc: Value = serde_saphyr::from_str(&text).unwrap();
    let password = doc["data"]["password"].take();
    doc["data"]["other"] = password;
    let moved = serde_saphyr::to_string(&doc).unwrap();
    let errors = load(&moved, &keys(&secret)).unwrap_err();
    assert!(
        errors[0].contains("data.other does not decrypt"),
        "{errors:?}"
    );
}

#[test]
fn two_encryptions_differ_and_bad_recipients_are_named() {
    let (_, recipient) = generate();
    assert_ne!(encrypted(&[&recipient]), encrypted(&[&recipient]));
    let e = Recipients::parse(&["age1nope"]).unwrap_err().to_string();
    assert!(e.contains("\"age1nope\" is not an age recipient"), "{e}");
    assert!(Recipients::parse::<&str>(&[]).unwrap().is_empty());
    let none = encrypt_yaml(&secret_yaml(), &Recipients::default(), SECRET_FIELDS, "t");
    assert!(none.is_err());
}
