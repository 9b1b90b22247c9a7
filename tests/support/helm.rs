//! Helm for the chart tests: the pinned Helm, built by `tests/helm/build.sh` exactly as rekube builds it
//! (a no-op once the cache holds it), and the charts of the public corpus (`REKUBE_CORPUS`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{Rekube, build_tool};

/// The pinned Helm binary (Kustomize beside it). Built on first use; a build failure fails the test
/// with the script's output (Go missing says which Go to install).
pub fn helm() -> &'static Path {
    static HELM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = HELM.get_or_init(|| build_tool("tests/helm/build.sh"));
    match built {
        Ok(path) => path,
        Err(message) => panic!("the pinned Helm is needed by this test: {message}"),
    }
}

/// `charts/<name>` of the public corpus (`REKUBE_CORPUS`): a real chart, used by path. Tests that use it
/// carry `#[cfg_attr(not(rekube_corpus), ignore = "…")]` like every corpus test.
pub fn corpus_chart(name: &str) -> PathBuf {
    let dir = super::corpus().join("charts").join(name);
    assert!(
        dir.join("Chart.yaml").is_file(),
        "{} is missing: REKUBE_CORPUS does not name the public corpus",
        dir.display()
    );
    dir
}

impl Rekube {
    /// Runs with the pinned Helm (`REKUBE_HELM`).
    pub fn with_helm(self) -> Rekube {
        self.env("REKUBE_HELM", helm())
    }
}

/// The documents of `helm template` for a release: `(kind, namespace, name)` of every object that is
/// neither a hook nor a test, namespaces defaulted to the release's as Helm's install does.
pub fn helm_template_objects(
    chart: &Path,
    release: &str,
    namespace: &str,
    values: &[&Path],
) -> std::collections::BTreeSet<(String, String, String)> {
    let mut cmd = Command::new(helm());
    cmd.args(["template", release]).arg(chart).args([
        "--namespace",
        namespace,
        "--kube-version",
        "1.34.4",
        "--include-crds",
        "--skip-tests",
    ]);
    for v in values {
        cmd.arg("--values").arg(v);
    }
    let out = cmd.output().expect("helm runs");
    assert!(
        out.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = std::collections::BTreeSet::new();
    for doc in text.split("\n---") {
        let value: serde_json::Value = match serde_saphyr::from_str(doc) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if value.is_null()
            || value
                .pointer("/metadata/annotations/helm.sh~1hook")
                .is_some()
        {
            continue;
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let name = value["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ns = match value["metadata"]["namespace"].as_str() {
            Some(ns) => ns.to_string(),
            None if CLUSTER_SCOPED.contains(&kind.as_str()) => String::new(),
            None => namespace.to_string(),
        };
        set.insert((kind, ns, name));
    }
    set
}

/// Cluster-scoped kinds the corpus charts render.
const CLUSTER_SCOPED: [&str; 6] = [
    "ClusterRole",
    "ClusterRoleBinding",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
    "Namespace",
];

/// Serves the files of `dir` over plain HTTP on a loopback port (a chart repository: `index.yaml` and
/// packaged charts), read at each request so a test can change what is served. Returns the base URL.
pub fn serve_folder(dir: &Path) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("address").port();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // The headers end at the first empty line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header.trim() != "" {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let mut stream = &stream;
            match std::fs::read(&file) {
                Ok(body) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                }
                Err(_) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// `helm package CHART` into `dest`, then `helm repo index dest --url URL`: a chart repository.
pub fn package_into_repository(chart: &Path, dest: &Path, url: &str) {
    for args in [
        vec![
            "package".to_string(),
            chart.display().to_string(),
            "--destination".into(),
            dest.display().to_string(),
        ],
        vec![
            "repo".into(),
            "index".into(),
            dest.display().to_string(),
            "--url".into(),
            url.to_string(),
        ],
    ] {
        let out = Command::new(helm())
            .args(&args)
            .output()
            .expect("helm runs");
        assert!(
            out.status.success(),
            "helm {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A local OCI registry (distribution's, built by `tests/oci-registry/build.sh`), stopped when dropped.
pub struct Registry {
    child: std::process::Child,
    _data: tempfile::TempDir,
    /// `oci://127.0.0.1:PORT`
    pub url: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a registry on a free loopback port and waits until it answers.
pub fn oci_registry() -> Registry {
    let binary = build_tool("tests/oci-registry/build.sh")
        .unwrap_or_else(|message| panic!("the OCI registry is needed by this test: {message}"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let data = tempfile::tempdir().expect("temp");
    let config = data.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            data.path().join("blobs").display()
        ),
    )
    .expect("config");
    let child = Command::new(binary)
        .args(["serve"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the registry starts");
    let registry = Registry {
        child,
        _data: data,
        url: format!("oci://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return registry;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the OCI registry did not listen on 127.0.0.1:{port}");
}

/// `helm package CHART` and `helm push` it to `oci_path` (plain HTTP: a loopback registry).
pub fn push_chart(chart: &Path, oci_path: &str) {
    let pkg = tempfile::tempdir().expect("temp");
    let out = Command::new(helm())
        .arg("package")
        .arg(chart)
        .arg("--destination")
        .arg(pkg.path())
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in std::fs::read_dir(pkg.path()).expect("packaged") {
        let out = Command::new(helm())
            .arg("push")
            .arg(entry.expect("entry").path())
            .args([oci_path, "--plain-http"])
            .output()
            .expect("helm runs");
        assert!(
            out.status.success(),
            "helm push: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
