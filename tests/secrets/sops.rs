//! SOPS end to end: fixtures encrypted by the real sops, rebuilt into the real local control plane.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::peer::{age_key, encrypt, key_file};
use crate::support::{Rekube, cluster, code, kubectl, text, unique_name, write};

/// Secret values planted in the fixtures: none may appear in any output.
pub const PASSWORD: &str = "canary-password-7f3a";
pub const MODE: &str = "canary-mode-91bc";
pub const TOKEN: &str = "canary-token-55e0";
pub const API_KEY: &str = "canary-apikey-c4d2";

/// A repository: a Namespace, a Secret encrypted with `--encrypted-regex '^(data|stringData)$'`, a
/// ConfigMap encrypted whole, and a Kustomize folder with an encrypted resource and a secretGenerator
/// reading an encrypted dotenv file.
pub fn encrypted_repo(dir: &Path, ns: &str, recipient: &str) {
    write(
        dir,
        "cluster/namespace.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    let secret = write(
        dir,
        "apps/db-secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: {ns}\n  labels:\n    legacy: yes\ntype: Opaque\nstringData:\n  password: {PASSWORD}\n  port: \"5432\"\n"
        ),
    );
    encrypt(
        &secret,
        recipient,
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let config = write(
        dir,
        "apps/settings.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  mode: {MODE}\n  replicas: \"3\"\n"
        ),
    );
    encrypt(&config, recipient, &[]);
    write(
        dir,
        "apps/api/kustomization.yaml",
        &format!(
            "namespace: {ns}\nresources:\n  - api-secret.yaml\nsecretGenerator:\n  - name: generated\n    envs:\n      - creds.env\ngeneratorOptions:\n  disableNameSuffixHash: true\n"
        ),
    );
    let api = write(
        dir,
        "apps/api/api-secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n  key: {API_KEY}\n"
        ),
    );
    encrypt(
        &api,
        recipient,
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let env = write(dir, "apps/api/creds.env", &format!("TOKEN={TOKEN}\n"));
    encrypt(&env, recipient, &[]);
}

pub fn secret_value(kc: &Path, ns: &str, name: &str, key: &str) -> String {
    let out = kubectl(
        kc,
        &[
            "get",
            "secret",
            name,
            "-n",
            ns,
            "-o",
            &format!("jsonpath={{.data.{key}}}"),
        ],
    );
    let b64 = String::from_utf8_lossy(&out.stdout).to_string();
    String::from_utf8(STANDARD.decode(b64.trim()).expect("base64")).expect("utf-8")
}

/// True when no `rekube-sops-*` folder under `dir` holds a file with [`TOKEN`], the decrypted value of
/// a secretGenerator file.
fn no_plaintext_file(dir: &Path) -> bool {
    fn holds(path: &Path) -> bool {
        match std::fs::read_dir(path) {
            Ok(entries) => entries.flatten().any(|e| holds(&e.path())),
            Err(_) => std::fs::read_to_string(path).is_ok_and(|t| t.contains(TOKEN)),
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    !entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("rekube-sops-"))
        .any(|e| holds(&e.path()))
}

pub fn assert_no_plaintext(what: &str, output: &str) {
    for canary in [PASSWORD, MODE, TOKEN, API_KEY] {
        assert!(
            !output.contains(canary),
            "{what} shows the decrypted value {canary}:\n{output}"
        );
    }
}

#[tokio::test]
async fn encrypted_objects_rebuild_with_their_plaintext_in_the_cluster() {
    let kc = cluster().await.kubeconfig();
    let kcs = kc.to_str().expect("utf-8 path");
    let work = tempfile::tempdir().expect("temp dir");
    let repo = work.path().join("repo");
    let ns = unique_name("sops-rebuild");
    let (secret, recipient) = age_key();
    encrypted_repo(&repo, &ns, &recipient);
    let keys = key_file(work.path(), "keys.txt", &secret);
    let keys_env = [("SOPS_AGE_KEY_FILE", keys.to_str().expect("utf-8"))];
    let repo_s = repo.to_str().expect("utf-8");
    let rekube = Rekube::new();

    // plan needs no key, marks the encrypted objects, and its digest covers the ciphertext only.
    let plan = rekube.run(&["plan", repo_s]);
    assert_eq!(code(&plan), 0, "plan without a key");
    let plan_text = text(&plan);
    assert!(
        plan_text.contains(&format!("Secret/{ns}/db")) && plan_text.contains("(SOPS-encrypted)"),
        "{plan_text}"
    );
    assert!(
        plan_text.contains("apps/settings.yaml:1: SOPS-encrypted document whose apiVersion"),
        "{plan_text}"
    );
    assert_no_plaintext("plan", &plan_text);
    for format in ["json", "dot", "mermaid"] {
        let out = rekube.run_env(&["plan", repo_s, "-o", format], &keys_env);
        assert_eq!(code(&out), 0, "plan -o {format}");
        assert_no_plaintext(&format!("plan -o {format}"), &text(&out));
    }
    let with_key = rekube.run_env(&["plan", repo_s], &keys_env);
    let digest = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Plan sha256:"))
            .map(str::to_string)
    };
    assert_eq!(
        digest(&plan_text),
        digest(&text(&with_key)),
        "same plan with and without a key"
    );

    let inventory = unique_name("sops");
    let report = work.path().join("report.json");
    let rebuild = rekube.run_env(
        &[
            "rebuild",
            repo_s,
            "--kubeconfig",
            kcs,
            "--inventory",
            &inventory,
            "--report",
            report.to_str().expect("utf-8"),
        ],
        &keys_env,
    );
    assert_eq!(code(&rebuild), 0, "rebuild with the key");
    assert_no_plaintext("rebuild", &text(&rebuild));
    assert_no_plaintext(
        "the rebuild report",
        &std::fs::read_to_string(&report).expect("report"),
    );

    assert!(
        no_plaintext_file(Path::new("/dev/shm")),
        "decrypted generator files are removed"
    );
    assert!(
        no_plaintext_file(&std::env::temp_dir()),
        "decrypted generator files are removed"
    );
    let explain = rekube.run_env(
        &[
            "explain",
            &format!("secret/{ns}/generated"),
            repo_s,
            "--kubeconfig",
            kcs,
        ],
        &keys_env,
    );
    assert_eq!(code(&explain), 0, "explain");
    assert_no_plaintext("explain", &text(&explain));

    assert_eq!(secret_value(kc, &ns, "db", "password"), PASSWORD);
    assert_eq!(secret_value(kc, &ns, "db", "port"), "5432");
    assert_eq!(secret_value(kc, &ns, "api", "key"), API_KEY);
    assert_eq!(secret_value(kc, &ns, "generated", "TOKEN"), TOKEN);
    let mode = kubectl(
        kc,
        &[
            "get",
            "configmap",
            "settings",
            "-n",
            &ns,
            "-o",
            "jsonpath={.data.mode}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&mode.stdout), MODE);
    // The unencrypted `yes` label is text for sops (its MAC) and a boolean-looking string for kubectl.
    let label = kubectl(
        kc,
        &[
            "get",
            "secret",
            "db",
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.labels.legacy}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&label.stdout), "yes");

    let diff = rekube.run_env(
        &[
            "diff",
            repo_s,
            "--kubeconfig",
            kcs,
            "--inventory",
            &inventory,
        ],
        &keys_env,
    );
    assert_eq!(code(&diff), 0, "in sync after the rebuild");
    let drift = rekube.run_env(
        &[
            "drift",
            repo_s,
            "--kubeconfig",
            kcs,
            "--inventory",
            &inventory,
        ],
        &keys_env,
    );
    assert_eq!(code(&drift), 0, "no drift after the rebuild");

    // A changed decrypted value shows as changed, masked, in any kind of object.
    kubectl(
        kc,
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            &ns,
            "--type",
            "merge",
            "-p",
            r#"{"data":{"mode":"patched-by-hand"}}"#,
        ],
    );
    for output in ["text", "json", "junit"] {
        let drift = rekube.run_env(
            &[
                "drift",
                repo_s,
                "--kubeconfig",
                kcs,
                "--inventory",
                &inventory,
                "-o",
                output,
            ],
            &keys_env,
        );
        assert_eq!(code(&drift), 1, "drift -o {output}");
        let t = text(&drift);
        assert!(t.contains(&format!("ConfigMap/{ns}/settings")), "{t}");
        assert!(
            !t.contains("patched-by-hand"),
            "a value decrypted from SOPS is masked:\n{t}"
        );
        assert_no_plaintext(&format!("drift -o {output}"), &t);
    }
    let diff = rekube.run_env(
        &[
            "diff",
            repo_s,
            "--kubeconfig",
            kcs,
            "--inventory",
            &inventory,
        ],
        &keys_env,
    );
    assert_eq!(code(&diff), 1);
    let t = text(&diff);
    assert!(t.contains("*** (after)"), "{t}");
    assert!(!t.contains("patched-by-hand"), "{t}");
    assert_no_plaintext("diff", &t);
}
