//! The peers of the secrets tests: the real `sops` (built pinned from the Go module proxy by
//! tests/sops/build.sh into the cache beside the control plane), `git` signing with keys from
//! `ssh-keygen` and `gpg` (Debian's openssh-client and gpg). The `rekube` binary is run by
//! [`crate::support::Rekube`].
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::build_tool;

/// The real sops binary, built on first use (the build is a no-op once cached).
///
/// # Panics
/// When it cannot be built: the message says what to install.
pub fn sops() -> &'static Path {
    static SOPS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = SOPS.get_or_init(|| {
        build_tool("tests/sops/build.sh").map_err(|message| {
            format!("the SOPS tests need the real sops, built from Go modules: {message}")
        })
    });
    match built {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// A throwaway age key: (secret key file content, public recipient).
pub fn age_key() -> (String, String) {
    rekube::manifest::sops::keys::generate()
}

/// Writes an age key file into `dir` and returns its path.
pub fn key_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("# throwaway test key\n{secret}\n")).expect("write key file");
    path
}

/// `sops --encrypt --age RECIPIENT ARGS -i FILE`, with the real sops.
pub fn encrypt(file: &Path, recipient: &str, args: &[&str]) {
    let out = Command::new(sops())
        .args(["--encrypt", "--age", recipient])
        .args(args)
        .arg("--in-place")
        .arg(file)
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY")
        .output()
        .expect("sops runs");
    assert!(
        out.status.success(),
        "sops --encrypt {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Git work tree whose commits can be signed by `git` itself.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
    /// GNUPGHOME of the OpenPGP keys, when one was made.
    pub gnupg: Option<tempfile::TempDir>,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = GitRepo { dir, gnupg: None };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// `git ARGS` in the work tree, with a fixed identity and no user configuration.
    pub fn git(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .args([
                "-c",
                "user.name=rekube test",
                "-c",
                "user.email=test@example.com",
            ])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        if let Some(home) = &self.gnupg {
            cmd.env("GNUPGHOME", home.path());
        }
        let out = cmd.output().expect("git runs");
        assert!(
            out.status.success(),
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Commits everything; `sign` holds `git -c` settings that make `-S` sign (or `None`: unsigned).
    pub fn commit(&self, message: &str, sign: Option<&Signer>) -> String {
        self.git(&["add", "-A"]);
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = sign {
            args.extend(s.config());
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", message].map(String::from));
        if sign.is_some() {
            args.push("-S".into());
        }
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
        self.git(&["rev-parse", "HEAD"])
    }

    /// An annotated tag, signed by `sign`.
    pub fn tag(&self, name: &str, sign: &Signer) {
        let mut args = sign.config();
        args.extend(["tag", "-s", name, "-m", name].map(String::from));
        self.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

/// A signing key and how git uses it.
pub struct Signer {
    pub format: &'static str,
    /// The private key file (SSH) or the key fingerprint (OpenPGP).
    pub signing_key: String,
    /// The file to give `--verify-keys`.
    pub trusted: PathBuf,
    /// What rekube prints as the signer.
    pub fingerprint: String,
    _dir: tempfile::TempDir,
}

impl Signer {
    fn config(&self) -> Vec<String> {
        [
            "-c".to_string(),
            format!("gpg.format={}", self.format),
            "-c".to_string(),
            format!("user.signingkey={}", self.signing_key),
        ]
        .to_vec()
    }

    /// An ed25519 key from `ssh-keygen`, trusted through an allowed-signers file.
    pub fn ssh() -> Signer {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("id_ed25519");
        key_tool(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "signer@example.com",
                "-f",
            ],
            Some(&key),
            None,
        );
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
        let trusted = dir.path().join("allowed_signers");
        std::fs::write(&trusted, format!("signer@example.com {public}")).expect("allowed signers");
        let listing = key_tool(
            "ssh-keygen",
            &["-l", "-E", "sha256", "-f"],
            Some(&key.with_extension("pub")),
            None,
        );
        let fingerprint = listing
            .split_whitespace()
            .nth(1)
            .expect("a fingerprint")
            .to_string();
        Signer {
            format: "ssh",
            signing_key: key.display().to_string(),
            trusted,
            fingerprint,
            _dir: dir,
        }
    }

    /// An OpenPGP key from `gpg` (no passphrase) in the repository's own GNUPGHOME, trusted through its
    /// ASCII-armoured export.
    pub fn openpgp(repo: &mut GitRepo, email: &str) -> Signer {
        let home = repo
            .gnupg
            .get_or_insert_with(|| tempfile::tempdir().expect("gnupg home"));
        let home_path = home.path().to_path_buf();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&home_path, std::fs::Permissions::from_mode(0o700));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = dir.path().join("key.spec");
        std::fs::write(
            &spec,
            format!(
                "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nName-Real: rekube test\nName-Email: {email}\nExpire-Date: 0\n%commit\n"
            ),
        )
        .expect("key spec");
        key_tool(
            "gpg",
            &["--batch", "--quiet", "--gen-key"],
            Some(&spec),
            Some(&home_path),
        );
        let listing = key_tool(
            "gpg",
            &["--batch", "--with-colons", "--list-secret-keys", email],
            None,
            Some(&home_path),
        );
        let fingerprint = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("a fingerprint")
            .to_string();
        let armour = key_tool(
            "gpg",
            &["--batch", "--armor", "--export", &fingerprint],
            None,
            Some(&home_path),
        );
        let trusted = dir.path().join("key.asc");
        std::fs::write(&trusted, armour).expect("public key");
        Signer {
            format: "openpgp",
            signing_key: fingerprint.clone(),
            trusted,
            fingerprint,
            _dir: dir,
        }
    }
}

/// Runs a key tool (`ssh-keygen`, `gpg`; with a trailing path argument, and `GNUPGHOME`), failing the
/// test with its stderr.
fn key_tool(program: &str, args: &[&str], path: Option<&Path>, gnupg: Option<&Path>) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args);
    if let Some(p) = path {
        cmd.arg(p);
    }
    if let Some(home) = gnupg {
        cmd.env("GNUPGHOME", home);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{program} is required (Debian packages openssh-client and gpg): {e}")
    });
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
