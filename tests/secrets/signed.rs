//! `--verify-commit`: commits and tags signed by `git` with keys from `ssh-keygen` and `gpg`, accepted
//! with the right key (the signer's fingerprint printed with the commit), refused unsigned or with the
//! wrong key (exit 2 naming the commit, nothing applied).

use crate::peer::{GitRepo, Signer};
use crate::support::{Rekube, cluster, code, text, unique_name, write};

fn config_repo(repo: &GitRepo, ns: &str, value: &str) {
    write(
        repo.path(),
        "cluster/ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    );
    write(
        repo.path(),
        "apps/config.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\ndata:\n  value: \"{value}\"\n"
        ),
    );
}

/// Runs `rekube ARGS REPO --verify-commit MODE --verify-keys KEYS` with `extra` arguments.
fn verified(
    rekube: &Rekube,
    command: &str,
    repo: &str,
    mode: &str,
    keys: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        command,
        repo,
        "--verify-commit",
        mode,
        "--verify-keys",
        keys.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    rekube.run(&args)
}

fn signers(repo: &mut GitRepo) -> [(&'static str, Signer, Signer); 2] {
    [
        ("SSH", Signer::ssh(), Signer::ssh()),
        (
            "OpenPGP",
            Signer::openpgp(repo, "signer@example.com"),
            Signer::openpgp(repo, "stranger@example.com"),
        ),
    ]
}

#[test]
fn signed_commits_are_accepted_with_the_right_key_and_refused_otherwise() {
    let rekube = Rekube::new();
    let mut repo = GitRepo::new();
    for (kind, signer, stranger) in signers(&mut repo) {
        config_repo(&repo, "signed", kind);
        let good = repo.commit(&format!("signed with {kind}"), Some(&signer));
        let url = repo.url();
        // A local work tree read from disk and a Git URL at a ref are both verified.
        for (source, extra) in [
            (repo.path().to_str().expect("utf-8"), vec![]),
            (url.as_str(), vec!["--ref", "main"]),
        ] {
            let out = verified(&rekube, "plan", source, "head", &signer.trusted, &extra);
            assert_eq!(code(&out), 0, "{kind}: a commit signed by a trusted key");
            let t = text(&out);
            assert!(
                t.contains(&format!(
                    "at {good} (signed by {kind} key {}",
                    signer.fingerprint
                )),
                "{kind}: the signer's fingerprint is printed with the commit:\n{t}"
            );
        }

        let out = verified(
            &rekube,
            "plan",
            repo.path().to_str().expect("utf-8"),
            "head",
            &stranger.trusted,
            &[],
        );
        assert_eq!(code(&out), 2, "{kind}: signed by a key that is not trusted");
        let t = text(&out);
        assert!(
            t.contains(&format!("commit {good} is signed by {kind} key"))
                && t.contains("not a trusted key"),
            "{t}"
        );

        config_repo(&repo, "signed", &format!("{kind} unsigned"));
        let unsigned = repo.commit("unsigned", None);
        let out = verified(
            &rekube,
            "plan",
            repo.path().to_str().expect("utf-8"),
            "head",
            &signer.trusted,
            &[],
        );
        assert_eq!(code(&out), 2, "{kind}: unsigned");
        assert!(
            text(&out).contains(&format!("commit {unsigned} is not signed")),
            "{}",
            text(&out)
        );

        // A commit whose content was changed after signing: the signature no longer matches.
        let forged = forge(&repo, &good);
        let out = verified(
            &rekube,
            "plan",
            repo.path().to_str().expect("utf-8"),
            "head",
            &signer.trusted,
            &["--ref", &forged],
        );
        assert_eq!(code(&out), 2, "{kind}: a bad signature");
        assert!(
            text(&out).contains(&format!("commit {forged} has a bad signature")),
            "{}",
            text(&out)
        );
    }
}

/// A copy of `commit` with another message and the same signature: a bad signature.
fn forge(repo: &GitRepo, commit: &str) -> String {
    let raw = repo.git(&["cat-file", "commit", commit]);
    let forged = format!("{raw}\nforged\n");
    let file = repo.path().join(".git/forged");
    std::fs::write(&file, forged).expect("write");
    repo.git(&[
        "hash-object",
        "-t",
        "commit",
        "-w",
        file.to_str().expect("utf-8"),
    ])
}

#[test]
fn signed_tags_are_verified_in_tag_modes() {
    let rekube = Rekube::new();
    let mut repo = GitRepo::new();
    for (kind, signer, stranger) in signers(&mut repo) {
        config_repo(&repo, "tagged", kind);
        let commit = repo.commit("release", Some(&signer));
        let tag = format!("v1-{}", kind.to_lowercase());
        repo.tag(&tag, &signer);
        let path = repo.path().to_str().expect("utf-8");
        for mode in ["tag", "tag-and-head"] {
            let out = verified(
                &rekube,
                "plan",
                path,
                mode,
                &signer.trusted,
                &["--ref", &tag],
            );
            assert_eq!(code(&out), 0, "{kind} {mode}");
            let t = text(&out);
            assert!(
                t.contains(&format!(
                    "tag {tag} signed by {kind} key {}",
                    signer.fingerprint
                )),
                "{t}"
            );
            assert!(t.contains(&commit), "{t}");
        }
        let out = verified(
            &rekube,
            "plan",
            path,
            "tag",
            &stranger.trusted,
            &["--ref", &tag],
        );
        assert_eq!(code(&out), 2, "{kind}: tag signed by an untrusted key");
        assert!(
            text(&out).contains(&format!("tag {tag} is signed by {kind} key")),
            "{}",
            text(&out)
        );
        let out = verified(&rekube, "plan", path, "tag", &signer.trusted, &[]);
        assert_eq!(code(&out), 2, "tag mode without --ref");
        assert!(
            text(&out).contains("needs --ref naming a tag"),
            "{}",
            text(&out)
        );
    }
}

#[tokio::test]
async fn apply_refuses_an_unsigned_commit_and_applies_a_signed_one() {
    let kc = cluster().await.kubeconfig();
    let kcs = kc.to_str().expect("utf-8");
    let rekube = Rekube::new();
    let mut repo = GitRepo::new();
    let signer = Signer::openpgp(&mut repo, "signer@example.com");
    let ns = unique_name("signed-apply");
    config_repo(&repo, &ns, "unsigned");
    let unsigned = repo.commit("unsigned", None);
    let inventory = unique_name("signed");
    let path = repo.path().to_str().expect("utf-8");
    let apply = ["--kubeconfig", kcs, "--inventory", &inventory];
    let out = verified(&rekube, "apply", path, "head", &signer.trusted, &apply);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out).contains(&format!("commit {unsigned} is not signed")),
        "{}",
        text(&out)
    );
    let exists = std::process::Command::new("kubectl")
        .args(["--kubeconfig", kcs, "get", "namespace", &ns])
        .output()
        .expect("kubectl runs");
    assert!(!exists.status.success(), "nothing applied");

    config_repo(&repo, &ns, "signed");
    let signed = repo.commit("signed", Some(&signer));
    let out = verified(&rekube, "apply", path, "head", &signer.trusted, &apply);
    assert_eq!(code(&out), 0, "a signed commit applies");
    assert!(
        text(&out).contains(&format!(
            "{signed} (signed by OpenPGP key {}",
            signer.fingerprint
        )),
        "{}",
        text(&out)
    );
}
