//! Building the pinned Helm. The Go module and build script in `tests/helm/` are embedded with
//! `include_str!`, so that an installed rekube, far from its source tree, can build its own Helm (as it
//! builds its own control plane). The script decides whether a build is needed: it answers at once
//! when the binary for these exact sources is already in the cache.

use std::path::PathBuf;

use super::HelmError;

/// The Go sources and build script, by their path under `tests/helm/`.
pub(crate) const SOURCES: &[(&str, &str)] = &[
    ("build.sh", include_str!("../../tests/helm/build.sh")),
    ("go.mod", include_str!("../../tests/helm/go.mod")),
    ("go.sum", include_str!("../../tests/helm/go.sum")),
    (
        "kustomize/go.mod",
        include_str!("../../tests/helm/kustomize/go.mod"),
    ),
    (
        "kustomize/go.sum",
        include_str!("../../tests/helm/kustomize/go.sum"),
    ),
];

/// Runs the embedded build script and returns the binary it printed on its last line. Its progress
/// goes to stderr as it happens (a cold build takes minutes, the user should see why).
pub(crate) fn build() -> Result<PathBuf, HelmError> {
    use crate::controlplane::build_script::{Failure, run};
    run("rekube-helm-src-", SOURCES, "helm build: ").map_err(|f| match f {
        Failure::Io(what, path, source) => HelmError::io(what, path, source),
        Failure::GoMissing(message) => HelmError::Missing { message },
        Failure::Build(status, tail) => HelmError::Build { status, tail },
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every file of the Go module must be embedded, or an installed rekube would build without it.
    #[test]
    fn every_helm_source_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm");
        crate::controlplane::build_script::assert_all_embedded(&root, SOURCES);
    }

    /// The version the binary reports is the one go.mod pins.
    #[test]
    fn pinned_version_matches_go_mod() {
        let go_mod = SOURCES.iter().find(|(n, _)| *n == "go.mod").unwrap().1;
        let pinned = go_mod
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("helm.sh/helm/v4 "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        assert_eq!(pinned, super::super::PINNED_VERSION);
    }
}
