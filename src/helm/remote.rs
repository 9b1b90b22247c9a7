//! Remote charts: `helm pull` from an `https://` chart repository (its `index.yaml`) or an `oci://`
//! registry, once, into the cache by digest. Loopback repositories may use plain `http://` (as Docker
//! treats `127.0.0.0/8` registries as insecure by default), for local mirrors and tests.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::{Helm, HelmError, cache};

/// A chart of a remote repository, at a pinned version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RemoteChart {
    /// `https://charts.example` (an index) or `oci://registry.example/charts` (without the chart name).
    pub repository: String,
    pub chart: String,
    pub version: String,
}

impl RemoteChart {
    pub fn is_oci(&self) -> bool {
        self.repository.starts_with("oci://")
    }

    /// `oci://registry.example/charts/web:1.2.3`, or `web 1.2.3 from https://charts.example`.
    pub fn reference(&self) -> String {
        if self.is_oci() {
            format!(
                "{}/{}:{}",
                self.repository.trim_end_matches('/'),
                self.chart,
                self.version
            )
        } else {
            format!("{} {} from {}", self.chart, self.version, self.repository)
        }
    }
}

/// Why a repository URL is refused, or `None` when rekube can pull from it.
pub fn check_repository(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    let loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
    match scheme {
        "https" | "oci" if !host.is_empty() => None,
        "http" if loopback => None,
        "http" => Some(format!(
            "{url}: plain http is only accepted for loopback repositories, use https://"
        )),
        _ => Some(format!(
            "{url}: a chart repository is an https:// URL (an index.yaml) or an oci:// registry path"
        )),
    }
}

/// Whether Helm must speak plain HTTP to the registry (loopback `oci://`).
fn plain_http(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    url.starts_with("oci://") && (host == "localhost" || host.starts_with("127."))
}

/// Where the cache keeps the chart of `digest`.
fn cached_path(digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    cache::dir().map(|d| d.join("charts").join(format!("{hex}.tgz")))
}

fn file_digest(path: &std::path::Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
}

/// The packaged chart of `chart` pinned at `digest`: from the cache, else pulled, checked and cached.
///
/// # Errors
/// The pull fails, or what the repository serves has another digest (the message says both, and how
/// to accept the new one).
pub fn fetch(helm: &Helm, chart: &RemoteChart, digest: &str) -> Result<PathBuf, HelmError> {
    if let Some(path) = cached_path(digest)
        && file_digest(&path).is_ok_and(|d| d == digest)
    {
        return Ok(path);
    }
    let (pulled, found) = pull(helm, chart)?;
    if found != digest {
        return Err(HelmError::Command {
            message: format!(
                "{}: the repository serves a chart with digest {found}, but rekube.lock pins {digest}; \
                 the chart changed upstream under the same version. If the change is expected, run \
                 `rekube lock` and commit rekube.lock",
                chart.reference()
            ),
        });
    }
    Ok(pulled)
}

/// Pulls `chart` and returns it (in the cache) with its digest, whatever it is (`rekube lock`).
///
/// # Errors
/// Helm cannot pull it (the message is Helm's).
pub fn pull(helm: &Helm, chart: &RemoteChart) -> Result<(PathBuf, String), HelmError> {
    if let Some(why) = check_repository(&chart.repository) {
        return Err(HelmError::Command { message: why });
    }
    let scratch = tempfile::Builder::new()
        .prefix("rekube-helm-pull-")
        .tempdir()
        .map_err(|e| HelmError::io("creating a temp folder", "", e))?;
    let dest = scratch.path().join("out");
    std::fs::create_dir_all(&dest).map_err(|e| HelmError::io("creating", &dest, e))?;
    let mut cmd = if chart.is_oci() {
        let url = format!("{}/{}", chart.repository.trim_end_matches('/'), chart.chart);
        let mut cmd = helm.command(["pull", &url, "--version", &chart.version]);
        if plain_http(&chart.repository) {
            cmd.arg("--plain-http");
        }
        cmd
    } else {
        helm.command([
            "pull",
            &chart.chart,
            "--repo",
            &chart.repository,
            "--version",
            &chart.version,
        ])
    };
    cmd.arg("--destination").arg(&dest);
    // The user's repository list and index cache play no part: the repository is named explicitly.
    cmd.env("HELM_CACHE_HOME", scratch.path().join("cache"))
        .env(
            "HELM_REPOSITORY_CONFIG",
            scratch.path().join("repositories.yaml"),
        )
        .env("HELM_REPOSITORY_CACHE", scratch.path().join("repository"));
    let output = cmd
        .output()
        .map_err(|e| HelmError::io("cannot run", helm.path(), e))?;
    if !output.status.success() {
        let err = super::template::parse_error(&String::from_utf8_lossy(&output.stderr));
        return Err(HelmError::Command {
            message: format!("cannot pull {}: {}", chart.reference(), err.message),
        });
    }
    let archive = std::fs::read_dir(&dest)
        .map_err(|e| HelmError::io("reading", &dest, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| super::template::is_archive(p))
        .ok_or_else(|| HelmError::Command {
            message: format!(
                "cannot pull {}: helm pull wrote no chart archive",
                chart.reference()
            ),
        })?;
    let digest = file_digest(&archive).map_err(|e| HelmError::io("reading", &archive, e))?;
    let Some(target) = cached_path(&digest) else {
        return Err(HelmError::Command {
            message: "no cache folder for pulled charts: set REKUBE_CACHE_DIR or HOME".into(),
        });
    };
    let bytes = std::fs::read(&archive).map_err(|e| HelmError::io("reading", &archive, e))?;
    cache::write_atomic(&target, &bytes).map_err(|e| HelmError::io("writing", &target, e))?;
    Ok((target, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_rekube_pulls_from() {
        for (url, ok) in [
            ("https://charts.example", true),
            ("oci://ghcr.io/org/charts", true),
            ("http://127.0.0.1:8080", true),
            ("http://localhost:8080/charts", true),
            ("http://charts.example", false),
            ("ftp://charts.example", false),
            ("charts.example", false),
        ] {
            assert_eq!(check_repository(url).is_none(), ok, "{url}");
        }
    }

    #[test]
    fn references_name_chart_and_version() {
        let oci = RemoteChart {
            repository: "oci://ghcr.io/org/charts/".into(),
            chart: "web".into(),
            version: "1.2.3".into(),
        };
        assert_eq!(oci.reference(), "oci://ghcr.io/org/charts/web:1.2.3");
        assert!(plain_http("oci://127.0.0.1:5000/charts"));
        assert!(!plain_http("oci://ghcr.io/org"));
    }
}
