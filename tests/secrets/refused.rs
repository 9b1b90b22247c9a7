//! SOPS refusals: a tampered file, a wrong key or no key exit 2 naming each file, nothing applied; a
//! validation error never quotes a decrypted value.

use std::path::Path;

use crate::peer::{age_key, encrypt, key_file};
use crate::sops::{assert_no_plaintext, encrypted_repo};
use crate::support::{Rekube, cluster, code, text, unique_name, write};

#[tokio::test]
async fn tampered_wrong_or_missing_key_fail_with_nothing_applied() {
    let kc = cluster().await.kubeconfig();
    let kcs = kc.to_str().expect("utf-8 path");
    let work = tempfile::tempdir().expect("temp dir");
    let rekube = Rekube::new();
    let (secret, recipient) = age_key();
    let (other, _) = age_key();
    let good = key_file(work.path(), "good.txt", &secret);
    let wrong = key_file(work.path(), "wrong.txt", &other);

    let ns = unique_name("sops-refused");
    let repo = work.path().join("repo");
    encrypted_repo(&repo, &ns, &recipient);
    let tampered = work.path().join("tampered");
    encrypted_repo(&tampered, &ns, &recipient);
    // Change a value the MAC covers but that is not encrypted: only the MAC can tell.
    let file = tampered.join("apps/db-secret.yaml");
    let edited = std::fs::read_to_string(&file)
        .expect("read")
        .replace("legacy: \"yes\"", "legacy: \"no\"");
    assert!(
        edited.contains("legacy: \"no\""),
        "fixture as sops writes it:\n{edited}"
    );
    std::fs::write(&file, edited).expect("write");

    let cases: [(&str, &Path, Vec<&str>, Vec<&str>); 3] = [
        (
            "tampered MAC",
            &tampered,
            vec!["--age-key-file", good.to_str().expect("utf-8")],
            vec!["apps/db-secret.yaml:1: Secret/", "MAC mismatch"],
        ),
        (
            "wrong key",
            &repo,
            vec!["--age-key-file", wrong.to_str().expect("utf-8")],
            vec![
                "apps/db-secret.yaml:1",
                "apps/settings.yaml:1",
                "apps/api",
                "is a recipient of it",
            ],
        ),
        (
            "missing key",
            &repo,
            vec![],
            vec![
                "apps/db-secret.yaml:1",
                "apps/settings.yaml:1",
                "apps/api",
                "no age key to decrypt it",
            ],
        ),
    ];
    for (name, repo, keys, wants) in cases {
        let mut args = vec![
            "apply",
            repo.to_str().expect("utf-8"),
            "--kubeconfig",
            kcs,
            "--inventory",
            "sops-refused",
        ];
        args.extend(keys);
        let out = rekube.run(&args);
        assert_eq!(code(&out), 2, "{name}: exit 2");
        let t = text(&out);
        for want in wants {
            assert!(t.contains(want), "{name}: missing {want:?} in\n{t}");
        }
        assert!(t.contains("nothing was applied"), "{name}:\n{t}");
        assert_no_plaintext(name, &t);
        let ns_exists = std::process::Command::new("kubectl")
            .args(["--kubeconfig", kcs, "get", "namespace", &ns])
            .output()
            .expect("kubectl runs");
        assert!(
            !ns_exists.status.success(),
            "{name}: nothing applied, not even the Namespace"
        );
    }
}

#[test]
fn validation_errors_never_quote_a_decrypted_value() {
    let work = tempfile::tempdir().expect("temp dir");
    let (secret, recipient) = age_key();
    let keys = key_file(work.path(), "keys.txt", &secret);
    let file = write(
        work.path(),
        "repo/pin.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin\n  namespace: x\nstringData:\n  pin: 987654321\n",
    );
    encrypt(
        &file,
        &recipient,
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let repo = work.path().join("repo");
    let out = Rekube::new().run_env(
        &[
            "apply",
            repo.to_str().expect("utf-8"),
            "--kubeconfig",
            "/nonexistent",
        ],
        &[("SOPS_AGE_KEY_FILE", keys.to_str().expect("utf-8"))],
    );
    assert_eq!(code(&out), 2);
    let t = text(&out);
    assert!(
        t.contains("pin.yaml") && t.contains("stringData.pin"),
        "{t}"
    );
    assert!(
        !t.contains("987654321"),
        "the decrypted value is scrubbed:\n{t}"
    );
}
