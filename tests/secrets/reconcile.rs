//! `rekube reconcile` with secrets: its age key read from an in-cluster Secret, and commits refused
//! when they are not signed by a trusted key (the last good state kept; an Event, a metric and
//! `/readyz` say why).

use std::time::Duration;

use crate::harness::Reconciler;
use crate::peer::{GitRepo, Signer, age_key, encrypt};
use crate::sops::{MODE, PASSWORD};
use crate::support::{
    Repo, cluster, eventually, jsonpath, kubectl, test_namespace, unique_name, write,
};

fn secret_data(kc: &std::path::Path, ns: &str, name: &str, key: &str) -> Option<String> {
    use base64::Engine;
    let b64 = jsonpath(kc, &["secret", name, "-n", ns], &format!("{{.data.{key}}}"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[tokio::test]
async fn reconcile_reads_its_age_key_from_a_secret() {
    let kc = cluster().await.kubeconfig();
    let (_, keys_ns) = test_namespace("sops-keys").await;
    let (secret, recipient) = age_key();
    let key_text = format!("# throwaway test key\n{secret}\n");
    // Flux's convention: the `*.agekey` entries of a Secret.
    kubectl(
        kc,
        &[
            "create",
            "secret",
            "generic",
            "sops-age",
            "-n",
            &keys_ns,
            &format!("--from-literal=age.agekey={key_text}"),
        ],
    );

    let ns = unique_name("sops-rc");
    let repo = Repo::new();
    repo.write(
        "cluster/ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    let file = write(
        repo.path(),
        "apps/db-secret.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: {ns}\nstringData:\n  password: {PASSWORD}\n"
        ),
    );
    encrypt(
        &file,
        &recipient,
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let config = write(
        repo.path(),
        "apps/settings.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  mode: {MODE}\n"
        ),
    );
    encrypt(&config, &recipient, &[]);
    let commit = repo.commit("encrypted secrets").to_string();

    let inventory = unique_name("sops-rc");
    let decryption = format!("{keys_ns}/sops-age");
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "sops-rc-0",
        &[
            "--inventory",
            &inventory,
            "--interval",
            "1s",
            "--decryption-secret",
            &decryption,
        ],
    );
    eventually(
        Duration::from_secs(60),
        "the decrypted Secret is applied",
        || secret_data(kc, &ns, "db", "password"),
    )
    .await;
    assert_eq!(
        secret_data(kc, &ns, "db", "password").as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(
        jsonpath(kc, &["configmap", "settings", "-n", &ns], "{.data.mode}").as_deref(),
        Some(MODE)
    );
    eventually(
        Duration::from_secs(30),
        "the commit is recorded as applied",
        || (r.applied().as_deref() == Some(commit.as_str())).then_some(()),
    )
    .await;
    let events = kubectl(kc, &["get", "events.events.k8s.io", "-A", "-o", "json"]);
    for (what, output) in [
        ("the reconciler's log", r.log()),
        ("/metrics", r.metrics()),
        ("/readyz", r.get("/readyz").1),
        (
            "Events",
            String::from_utf8_lossy(&events.stdout).into_owned(),
        ),
    ] {
        for canary in [PASSWORD, MODE] {
            assert!(
                !output.contains(canary),
                "{what} shows a decrypted value:\n{output}"
            );
        }
    }
}

#[tokio::test]
async fn reconcile_refuses_commits_not_signed_by_a_trusted_key() {
    let kc = cluster().await.kubeconfig();
    let signer = Signer::ssh();
    let stranger = Signer::ssh();
    let ns = unique_name("signed-rc");
    let repo = GitRepo::new();
    let config = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  value: \"{value}\"\n"
        )
    };
    write(
        repo.path(),
        "cluster/ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    write(repo.path(), "apps/config.yaml", &config("signed"));
    let good = repo.commit("signed", Some(&signer));

    let inventory = unique_name("signed-rc");
    let trusted = signer.trusted.to_str().expect("utf-8");
    let r = Reconciler::start(
        kc,
        &repo.url(),
        "signed-rc-0",
        &[
            "--inventory",
            &inventory,
            "--interval",
            "1s",
            "--verify-commit",
            "head",
            "--verify-keys",
            trusted,
        ],
    );
    let value = || jsonpath(kc, &["configmap", "settings", "-n", &ns], "{.data.value}");
    eventually(
        Duration::from_secs(60),
        "the signed commit is applied",
        || (r.applied().as_deref() == Some(good.as_str())).then_some(()),
    )
    .await;
    assert_eq!(value().as_deref(), Some("signed"));
    assert!(
        r.log().contains(&format!(
            "commit {} signed by SSH key {}",
            &good[..12],
            signer.fingerprint
        )),
        "{}",
        r.log()
    );

    // An unsigned commit on the branch: refused, the last good state kept.
    write(repo.path(), "apps/config.yaml", &config("unsigned"));
    let unsigned = repo.commit("unsigned", None);
    eventually(
        Duration::from_secs(30),
        "the unsigned commit is refused",
        || {
            r.log()
                .contains(&format!("commit {} rejected", &unsigned[..12]))
                .then_some(())
        },
    )
    .await;
    assert!(r.log().contains("is not signed"), "{}", r.log());
    assert_eq!(r.metric("rekube_untrusted_revisions_total"), Some(1.0));
    let (code, body) = r.get("/readyz");
    assert_eq!(code, 503, "/readyz: {body}");
    assert!(
        body.contains(&format!("commit {unsigned} is not signed")),
        "/readyz: {body}"
    );
    let events = kubectl(
        kc,
        &[
            "get",
            "events.events.k8s.io",
            "-n",
            "rekube-system",
            "-o",
            "json",
        ],
    );
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(
        events.contains("UntrustedRevision") && events.contains(&unsigned),
        "{events}"
    );
    assert_eq!(
        value().as_deref(),
        Some("signed"),
        "nothing of the unsigned commit applied"
    );
    assert_eq!(r.applied().as_deref(), Some(good.as_str()));

    // Signed by a key that is not trusted: refused too.
    write(repo.path(), "apps/config.yaml", &config("stranger"));
    let foreign = repo.commit("stranger", Some(&stranger));
    eventually(
        Duration::from_secs(30),
        "the commit of an unknown signer is refused",
        || {
            r.log()
                .contains(&format!("commit {} rejected", &foreign[..12]))
                .then_some(())
        },
    )
    .await;
    assert!(
        r.log().contains(&format!(
            "signed by SSH key {}, which is not a trusted key",
            stranger.fingerprint
        )),
        "{}",
        r.log()
    );
    assert_eq!(value().as_deref(), Some("signed"));

    // A trusted signature again: applied, ready again.
    write(repo.path(), "apps/config.yaml", &config("signed-again"));
    let fixed = repo.commit("signed again", Some(&signer));
    eventually(
        Duration::from_secs(30),
        "the signed commit is applied",
        || (r.applied().as_deref() == Some(fixed.as_str())).then_some(()),
    )
    .await;
    assert_eq!(value().as_deref(), Some("signed-again"));
    assert_eq!(r.get("/readyz").0, 200);
}
