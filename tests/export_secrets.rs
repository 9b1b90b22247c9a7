//! `rekube export --include-secrets` on the real local control plane: Secrets are left out by default,
//! refused without an age recipient, and otherwise written SOPS-encrypted (data and stringData only).
//! The real `sops --decrypt` (built pinned by tests/sops/build.sh) opens the files, and an apply of the
//! export with `--age-key-file` recreates the Secrets byte for byte. The secret values are searched for
//! in every output and every file written.

mod support;

#[path = "secrets/peer.rs"]
mod peer;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use support::{
    Rekube, assert_absent, cluster, code, files, kubectl, kubectl_piped, stderr, test_namespace,
    write,
};

/// Values planted in the live Secrets: none may appear in an output or an exported file.
const PASSWORD: &str = "canary-export-pw-3e9d";
const TOKEN: &str = "canary-export-token-b71f";
/// A binary value (not UTF-8), holding a canary too.
fn blob() -> Vec<u8> {
    let mut bytes = vec![0u8, 0x9f, 0x92, 0x96, 0xff, 0xfe, b'\n'];
    bytes.extend_from_slice(b"canary-export-blob-c55a");
    bytes
}

/// Every form a value could leak in: as it is, and base64-encoded (as `data` holds it).
fn canaries() -> Vec<String> {
    let mut out = Vec::new();
    for v in [PASSWORD.as_bytes(), TOKEN.as_bytes(), &blob()] {
        if let Ok(text) = std::str::from_utf8(v) {
            out.push(text.to_string());
        }
        out.push(STANDARD.encode(v));
    }
    out.push("canary-export-blob-c55a".into());
    out
}

fn assert_no_value(what: &str, text: &str) {
    assert_absent(what, text, &canaries());
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `data` of a live Secret (base64 values, as the API returns them).
fn live_data(kc: &Path, ns: &str, name: &str) -> Value {
    let out = kubectl(kc, &["get", "secret", name, "-n", ns, "-o", "json"]);
    let obj: Value = serde_json::from_slice(&out.stdout).expect("kubectl prints JSON");
    obj["data"].clone()
}

/// `sops --decrypt FILE` with the real sops and the key in `SOPS_AGE_KEY`.
fn sops_decrypt(file: &Path, secret_key: &str) -> Output {
    Command::new(peer::sops())
        .arg("--decrypt")
        .arg(file)
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", secret_key)
        .output()
        .expect("sops runs")
}

/// Two Secrets in a fresh namespace: one from `kubectl create` (with a binary value), one from
/// `kubectl apply` of `stringData` (its last-applied annotation holds the value in plain text).
async fn secrets_namespace(kc: &Path, work: &Path) -> String {
    let (_, ns) = test_namespace("export-secrets").await;
    let blob_file = work.join("blob.bin");
    std::fs::write(&blob_file, blob()).expect("write blob");
    let out = kubectl(
        kc,
        &[
            "create",
            "secret",
            "generic",
            "db",
            "-n",
            &ns,
            &format!("--from-literal=password={PASSWORD}"),
            &format!("--from-file=blob={}", blob_file.display()),
        ],
    );
    assert!(out.status.success(), "kubectl create secret");
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\n  namespace: {ns}\ntype: Opaque\nstringData:\n  token: {TOKEN}\n"
    );
    let (status, _, err) = kubectl_piped(kc, &["apply", "-f", "-"], &manifest);
    assert_eq!(status, 0, "kubectl apply: {err}");
    ns
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_exported_sops_encrypted_and_apply_back_byte_for_byte() {
    let kc = cluster().await.kubeconfig();
    let work = tempfile::tempdir().expect("tempdir");
    let ns = secrets_namespace(kc, work.path()).await;
    let original = [live_data(kc, &ns, "db"), live_data(kc, &ns, "api")];
    let on = Rekube::on(kc);

    // Without --include-secrets: left out, and the summary says how many and why.
    let none = work.path().join("none");
    let out = on.run(&["export", "-n", &ns, "--out", none.to_str().expect("utf-8")]);
    assert_eq!(code(&out), 0);
    let text = stderr(&out);
    assert!(
        text.contains("left out 2 object(s): a Secret (exported only with --include-secrets)"),
        "{text}"
    );
    assert!(files(&none).iter().all(|(p, _)| !p.contains("secret-")));

    // --include-secrets without a recipient: refused before anything is read or written.
    let refused = work.path().join("refused");
    let out = on.run(&[
        "export",
        "-n",
        &ns,
        "--include-secrets",
        "--out",
        refused.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&out), 2, "no recipient: exit 2");
    assert!(
        stderr(&out).contains("--allow-plain-secrets"),
        "says how to opt in"
    );
    assert!(!refused.exists(), "nothing written");

    // With a recipient: encrypted files, no value in them or in the output.
    let (secret_key, recipient) = peer::age_key();
    let exported = work.path().join("exported");
    let exported_s = exported.to_str().expect("utf-8");
    let out = on.run(&[
        "export",
        "-n",
        &ns,
        "--include-secrets",
        "--age-recipient",
        &recipient,
        "--out",
        exported_s,
    ]);
    assert_eq!(code(&out), 0, "export with --age-recipient");
    assert_no_value("export", &all_output(&out));
    assert!(
        stderr(&out).contains("2 Secret(s) encrypted with SOPS"),
        "{}",
        stderr(&out)
    );
    let written = files(&exported);
    for (path, text) in &written {
        assert_no_value(path, text);
    }
    let secret_files: Vec<&(String, String)> = written
        .iter()
        .filter(|(p, _)| p.contains("/secret-"))
        .collect();
    assert_eq!(secret_files.len(), 2, "{written:?}");
    for (path, text) in &secret_files {
        assert!(text.contains("ENC[AES256_GCM,"), "{path}:\n{text}");
        assert!(text.contains("encrypted_regex: ^(data|stringData)$"));
        assert!(
            !text.contains("last-applied-configuration"),
            "{path}:\n{text}"
        );
    }

    // The real sops decrypts each file to the live values.
    for (path, name, want) in [
        ("secret-db", "db", &original[0]),
        ("secret-api", "api", &original[1]),
    ] {
        let (rel, _) = secret_files
            .iter()
            .find(|(p, _)| p.contains(path))
            .expect("the Secret's file");
        let out = sops_decrypt(&exported.join(rel), &secret_key);
        assert!(
            out.status.success(),
            "sops --decrypt {rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plain: Value = serde_saphyr::from_str(&String::from_utf8_lossy(&out.stdout))
            .expect("sops prints YAML");
        assert_eq!(&plain["data"], want, "{name}: sops gives the original data");
        assert!(plain.get("sops").is_none());
    }

    // plan reads the export without a key, and shows no value.
    let out = support::rekube(&["plan", exported_s]);
    assert_eq!(code(&out), 0, "plan without a key");
    assert_no_value("plan", &all_output(&out));

    // Deleted from the cluster, the Secrets come back from the export, byte for byte.
    for name in ["db", "api"] {
        kubectl(kc, &["delete", "secret", name, "-n", &ns, "--wait"]);
    }
    let keys = peer::key_file(work.path(), "keys.txt", &secret_key);
    let inventory = support::unique_name("export-secrets");
    let out = on.run(&[
        "apply",
        exported_s,
        "--inventory",
        &inventory,
        "--age-key-file",
        keys.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&out), 0, "the export applies with the key");
    assert_no_value("apply", &all_output(&out));
    assert_eq!(live_data(kc, &ns, "db"), original[0], "db byte for byte");
    assert_eq!(live_data(kc, &ns, "api"), original[1], "api byte for byte");
    let blob_b64 = original[0]["blob"].as_str().expect("blob");
    assert_eq!(STANDARD.decode(blob_b64).expect("base64"), blob());

    // The opt-in writes plain text, and says so.
    let plain = work.path().join("plain");
    let out = on.run(&[
        "export",
        "-n",
        &ns,
        "--include-secrets",
        "--allow-plain-secrets",
        "--out",
        plain.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).contains("PLAIN TEXT"), "{}", stderr(&out));
    assert_no_value("export --allow-plain-secrets output", &all_output(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn add_to_encrypts_for_the_repository_sops_yaml() {
    let kc = cluster().await.kubeconfig();
    let work = tempfile::tempdir().expect("tempdir");
    let ns = secrets_namespace(kc, work.path()).await;
    let on = Rekube::on(kc);
    let (secret_key, recipient) = peer::age_key();
    let repo = work.path().join("repo");
    write(
        &repo,
        "cluster/namespace.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );

    // A .sops.yaml whose rules match no exported file: refused, nothing written.
    write(
        &repo,
        ".sops.yaml",
        &format!("creation_rules:\n  - path_regex: ^elsewhere/\n    age: {recipient}\n"),
    );
    let repo_s = repo.to_str().expect("utf-8");
    let args = ["export", "-n", &ns, "--include-secrets", "--add-to", repo_s];
    let out = on.run(&args);
    assert_eq!(code(&out), 2, "no matching creation rule");
    assert!(
        stderr(&out).contains("no creation rule of .sops.yaml matches"),
        "{}",
        stderr(&out)
    );
    assert!(!repo.join("imported").exists(), "nothing written");

    write(
        &repo,
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^imported/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {recipient}\n"
        ),
    );
    let out = on.run(&args);
    assert_eq!(code(&out), 0, "--add-to with the repository's .sops.yaml");
    assert_no_value("export --add-to", &all_output(&out));
    let added = files(&repo.join("imported"));
    let names: Vec<&str> = added.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{ns}/secret-api.yaml"),
            format!("{ns}/secret-db.yaml")
        ]
    );
    for (path, text) in &added {
        assert_no_value(path, text);
        let out = sops_decrypt(&repo.join("imported").join(path), &secret_key);
        assert!(
            out.status.success(),
            "sops --decrypt {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = support::rekube(&["plan", repo_s]);
    assert_eq!(code(&out), 0, "the extended repository plans");
}
