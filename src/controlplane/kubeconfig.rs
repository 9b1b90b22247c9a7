//! Adding and removing a local cluster's entries in the user's kubeconfig, kubectl's way: the file is
//! `$KUBECONFIG` (new entries go to its first file, removals look in every file) else `~/.kube/config`;
//! writes hold `<file>.lock`, as kubectl does; other entries are left as they are. The current context
//! is never changed: `--context rekube-NAME` names the local cluster explicitly.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::ControlPlaneError;

/// The files of `$KUBECONFIG` (in order, empty entries skipped), else `~/.kube/config`.
pub fn files() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let files: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !files.is_empty() {
            return files;
        }
    }
    std::env::var_os("HOME")
        .map(|home| vec![Path::new(&home).join(".kube").join("config")])
        .unwrap_or_default()
}

/// The entries of `admin` (the control plane's kubeconfig) as cluster, user and context `name`.
fn entries(admin: &Value, name: &str) -> Option<(Value, Value, Value)> {
    let cluster = admin.pointer("/clusters/0/cluster")?.clone();
    let user = admin.pointer("/users/0/user")?.clone();
    Some((
        json!({"name": name, "cluster": cluster}),
        json!({"name": name, "user": user}),
        json!({"name": name, "context": {"cluster": name, "user": name}}),
    ))
}

/// Adds (or replaces) cluster, user and context `name` from the admin kubeconfig text `admin` in the
/// first of `files` (see [`files`]); returns the file written.
///
/// # Errors
/// The admin kubeconfig is unreadable, or the user's file cannot be read, parsed or written.
pub fn merge(files: &[PathBuf], admin: &str, name: &str) -> Result<PathBuf, ControlPlaneError> {
    let path = files.first().cloned().ok_or(ControlPlaneError::NoHome)?;
    let admin: Value = serde_saphyr::from_str(admin).map_err(|e| {
        ControlPlaneError::io(
            "reading the control plane's kubeconfig",
            "",
            std::io::Error::other(e.to_string()),
        )
    })?;
    let (cluster, user, context) = entries(&admin, name).ok_or_else(|| {
        ControlPlaneError::io(
            "the control plane's kubeconfig has no cluster or user",
            "",
            std::io::Error::other("malformed"),
        )
    })?;
    edit(&path, |config| {
        for (key, entry) in [
            ("clusters", &cluster),
            ("users", &user),
            ("contexts", &context),
        ] {
            edit_list(config, key, |list| {
                list.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
                list.push(entry.clone());
            });
        }
        true
    })?;
    Ok(path)
}

/// Removes cluster, user and context `name` from every one of `files` that has them; returns the
/// files changed.
///
/// # Errors
/// A file cannot be read, parsed or written.
pub fn remove(files: &[PathBuf], name: &str) -> Result<Vec<PathBuf>, ControlPlaneError> {
    let mut changed = Vec::new();
    for path in files.iter().filter(|p| p.is_file()) {
        let removed = edit(path, |config| {
            let mut any = false;
            for key in ["clusters", "users", "contexts"] {
                edit_list(config, key, |list| {
                    let before = list.len();
                    list.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
                    any |= list.len() != before;
                });
            }
            if config.get("current-context").and_then(Value::as_str) == Some(name) {
                config["current-context"] = json!("");
                any = true;
            }
            any
        })?;
        if removed {
            changed.push(path.clone());
        }
    }
    Ok(changed)
}

/// Whether any of `files` has context `name`.
pub fn has_context(files: &[PathBuf], name: &str) -> bool {
    files.iter().filter(|p| p.is_file()).any(|path| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| parse(&text).ok())
            .and_then(|c| c.get("contexts").and_then(Value::as_array).cloned())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
            })
    })
}

/// Lets `change` edit the list under `key` (a missing or malformed one is empty).
fn edit_list(config: &mut Value, key: &str, change: impl FnOnce(&mut Vec<Value>)) {
    let mut list = match config.get_mut(key).map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    change(&mut list);
    config[key] = Value::Array(list);
}

fn parse(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(Value::Null) => Ok(json!({})),
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("not a mapping".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads `path` (absent: empty), lets `change` edit it, and writes it back if `change` says so.
fn edit(path: &Path, change: impl FnOnce(&mut Value) -> bool) -> Result<bool, ControlPlaneError> {
    let io = |what: &str, e: std::io::Error| ControlPlaneError::io(what, path, e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
    }
    let _lock = Lock::acquire(path).map_err(|e| io("locking", e))?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("reading", e)),
    };
    let mut config = parse(&text).map_err(|e| io("parsing", std::io::Error::other(e)))?;
    if !change(&mut config) {
        return Ok(false);
    }
    for (key, value) in [("apiVersion", "v1"), ("kind", "Config")] {
        if config.get(key).is_none() {
            config[key] = json!(value);
        }
    }
    let yaml = serde_saphyr::to_string(&config)
        .map_err(|e| io("serialising", std::io::Error::other(e.to_string())))?;
    // Written beside and renamed: a reader never sees half a file. It holds credentials: 0600.
    let tmp = path.with_extension("rekube-tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode_0600()
        .open(&tmp)
        .map_err(|e| io("writing", e))?;
    file.write_all(yaml.as_bytes())
        .map_err(|e| io("writing", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io("replacing", e))?;
    Ok(true)
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

/// `<file>.lock`, created exclusively, as kubectl locks a kubeconfig it writes.
struct Lock(PathBuf);

impl Lock {
    fn acquire(path: &Path) -> std::io::Result<Lock> {
        let mut lock = path.as_os_str().to_owned();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => return Ok(Lock(lock)),
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(std::io::Error::other(format!(
                        "{} exists: another program is writing the kubeconfig (remove the file if none is)",
                        lock.display()
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: rekube-local\n  cluster:\n    server: https://127.0.0.1:1234\n    certificate-authority-data: Q0E=\nusers:\n- name: rekube-admin\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\ncontexts:\n- name: rekube-local\n  context: {cluster: rekube-local, user: rekube-admin}\ncurrent-context: rekube-local\n";

    const EXISTING: &str = "apiVersion: v1\nkind: Config\npreferences: {colors: true}\nclusters:\n- name: prod\n  cluster: {server: 'https://prod:6443'}\nusers:\n- name: me\n  user: {token: t}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: me}\ncurrent-context: prod\n";

    #[test]
    fn merge_and_remove_keep_other_entries_and_the_current_context() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("config");
        let second = dir.path().join("other");
        std::fs::write(&first, EXISTING).unwrap();
        let files = [first.clone(), second.clone()];

        assert_eq!(merge(&files, ADMIN, "rekube-demo").unwrap(), first);
        assert_eq!(
            merge(&files, ADMIN, "rekube-demo").unwrap(),
            first,
            "idempotent"
        );
        let config = parse(&std::fs::read_to_string(&first).unwrap()).unwrap();
        assert_eq!(config["current-context"], "prod");
        assert_eq!(config["preferences"]["colors"], true);
        let names = |key: &str| -> Vec<String> {
            config[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names("contexts"), ["prod", "rekube-demo"]);
        assert_eq!(names("clusters"), ["prod", "rekube-demo"]);
        assert_eq!(
            config["clusters"][1]["cluster"]["server"],
            "https://127.0.0.1:1234"
        );
        assert_eq!(config["users"][1]["user"]["client-key-data"], "S0VZ");
        assert!(has_context(&files, "rekube-demo"));
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&first).unwrap().permissions().mode() & 0o777,
            0o600
        );

        assert_eq!(
            remove(&files, "rekube-demo").unwrap(),
            std::slice::from_ref(&first)
        );
        assert!(!has_context(&files, "rekube-demo"));
        assert_eq!(
            remove(&files, "rekube-demo").unwrap(),
            Vec::<PathBuf>::new()
        );
        let config = parse(&std::fs::read_to_string(&first).unwrap()).unwrap();
        assert_eq!(config["contexts"].as_array().unwrap().len(), 1);
        assert!(!second.exists(), "removal never creates files");
        assert!(!dir.path().join("config.lock").exists());
    }

    #[test]
    fn a_new_file_is_created_with_the_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kube/config");
        merge(std::slice::from_ref(&path), ADMIN, "rekube-x").unwrap();
        let config = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(config["kind"], "Config");
        assert_eq!(config["contexts"][0]["context"]["cluster"], "rekube-x");
    }
}
