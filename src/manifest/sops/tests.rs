//! The SOPS pass on documents sealed here the way sops seals them (the end-to-end tests use the real
//! sops): decryption, the MAC over every value or only the encrypted ones, `plan`'s sealed view.

use std::io::Write;

use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use super::cipher::DataKey;
use super::file::{Pass, prepare};
use super::keys::{AgeKeys, generate};
use super::{ANNOTATION, sensitive_fields};
use crate::manifest::documents::{Doc, Origin, parse_yaml_documents};

const LASTMODIFIED: &str = "2026-01-01T00:00:00Z";

/// The data key sealed for `recipient` as sops stores it (an ASCII-armoured age file).
fn age_stanza(key: &[u8; 32], recipient: &str) -> String {
    let recipient: age::x25519::Recipient = recipient.parse().expect("recipient");
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("encryptor");
    let mut out = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor).unwrap();
    let mut w = encryptor.wrap_output(armor).expect("wrap");
    w.write_all(key).expect("write");
    w.finish().and_then(|a| a.finish()).expect("finish");
    String::from_utf8(out).expect("armour is text")
}

/// A Secret with `stringData.pw` encrypted (`encrypted_regex: ^stringData$`), MAC over `mac_values`.
fn sealed_secret(recipient: &str, mac_only_encrypted: bool) -> Value {
    let raw = [3u8; 32];
    let key = DataKey::from_bytes(raw);
    let pw = key.seal_fixed("hunter2", "stringData:pw:", "str", [4; 32]);
    let mut hash = Sha512::new();
    if mac_only_encrypted {
        hash.update(super::tree::MAC_ONLY_ENCRYPTED_INIT);
    } else {
        for v in ["v1", "Secret", "s", "yes"] {
            hash.update(v);
        }
    }
    hash.update("hunter2");
    let mac = key.seal_fixed(
        &hex::encode_upper(hash.finalize()),
        LASTMODIFIED,
        "str",
        [5; 32],
    );
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "labels": {"legacy": "yes"}},
        "stringData": {"pw": pw},
        "sops": {
            "age": [{"recipient": recipient, "enc": age_stanza(&raw, recipient)}],
            "lastmodified": LASTMODIFIED, "mac": mac,
            "encrypted_regex": "^stringData$", "mac_only_encrypted": mac_only_encrypted,
            "version": "3.13.3"
        }
    })
}

fn doc(value: Value) -> Doc {
    Doc {
        index: 0,
        line: 1,
        value,
        tree: None,
    }
}

fn keys(secret: &str) -> AgeKeys {
    let mut keys = AgeKeys::none();
    keys.add_text(secret, "test").unwrap();
    keys
}

fn run(value: Value, pass: Pass<'_>) -> (Vec<super::Prepared>, Vec<String>, Vec<String>) {
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let text = serde_json::to_string(&value).unwrap();
    let out = prepare(
        &text,
        "s.json",
        true,
        vec![doc(value)],
        pass,
        &mut errors,
        &mut warnings,
    );
    let s = |d: Vec<crate::manifest::Diagnostic>| d.iter().map(ToString::to_string).collect();
    (out, s(errors), s(warnings))
}

#[test]
fn decrypts_and_verifies_the_mac_over_all_or_only_encrypted_values() {
    let (secret, recipient) = generate();
    for only in [false, true] {
        let (out, errors, _) = run(
            sealed_secret(&recipient, only),
            Pass::Decrypt(&keys(&secret)),
        );
        assert!(errors.is_empty(), "mac_only_encrypted={only}: {errors:?}");
        let body = &out[0].doc.value;
        assert_eq!(body["stringData"]["pw"], "hunter2");
        assert!(body.get("sops").is_none());
        assert_eq!(sensitive_fields(body), ["/stringData"]);
        assert_eq!(out[0].secrets.scrub("bad hunter2!"), "bad ***!");
    }
}

#[test]
fn a_changed_value_the_mac_covers_is_refused() {
    let (secret, recipient) = generate();
    let mut tampered = sealed_secret(&recipient, false);
    tampered["metadata"]["labels"]["legacy"] = json!("no");
    let (out, errors, _) = run(tampered, Pass::Decrypt(&keys(&secret)));
    assert!(out.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("s.json:1: Secret/s: cannot decrypt (SOPS): MAC mismatch"),
        "{errors:?}"
    );
    // With mac_only_encrypted, unencrypted values are not covered: sops accepts the change too.
    let mut loose = sealed_secret(&recipient, true);
    loose["metadata"]["labels"]["legacy"] = json!("no");
    assert!(run(loose, Pass::Decrypt(&keys(&secret))).1.is_empty());
}

#[test]
fn missing_and_wrong_keys_name_the_recipients_and_never_a_secret() {
    let (_, recipient) = generate();
    let (other, other_recipient) = generate();
    let (_, errors, _) = run(
        sealed_secret(&recipient, false),
        Pass::Decrypt(&AgeKeys::none()),
    );
    assert!(
        errors[0].contains("no age key") && errors[0].contains(&recipient),
        "{errors:?}"
    );
    let (_, errors, _) = run(
        sealed_secret(&recipient, false),
        Pass::Decrypt(&keys(&other)),
    );
    assert!(
        errors[0].contains(&other_recipient) && !errors[0].contains(&other),
        "{errors:?}"
    );
}

#[test]
fn plan_keeps_the_ciphertext_and_validates_a_stand_in() {
    let (_, recipient) = generate();
    let sealed = sealed_secret(&recipient, false);
    let ciphertext = sealed["stringData"]["pw"].clone();
    let (out, errors, warnings) = run(sealed, Pass::Seal);
    assert!(errors.is_empty() && warnings.is_empty());
    assert_eq!(
        out[0].doc.value["stringData"]["pw"], "",
        "validated stand-in"
    );
    let body = out[0].sealed_body.as_ref().expect("sealed body");
    assert_eq!(body["stringData"]["pw"], ciphertext);
    assert!(body.get("sops").is_none());
    assert_eq!(body["metadata"]["annotations"][ANNOTATION], "/stringData");

    // An encrypted identity cannot be planned: warned about, left out.
    let (_, recipient) = generate();
    let mut whole = sealed_secret(&recipient, false);
    whole["kind"] = json!("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]");
    let (out, _, warnings) = run(whole, Pass::Seal);
    assert!(
        out.is_empty() && warnings[0].contains("left out of the plan"),
        "{warnings:?}"
    );
}

#[test]
fn plain_documents_pass_through() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: yes}\n";
    let (docs, _) = parse_yaml_documents(text, "c.yaml", Origin::File);
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let keys = AgeKeys::none();
    let out = prepare(
        text,
        "c.yaml",
        false,
        docs,
        Pass::Decrypt(&keys),
        &mut errors,
        &mut warnings,
    );
    assert_eq!(out.len(), 1);
    assert!(out[0].secrets.is_empty() && errors.is_empty());
}
