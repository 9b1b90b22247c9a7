//! A chart to render: declared under a layer's `charts:` in `rekube.yaml` ([`super::declare`]), or a
//! chart folder found in a layer.
//!
//! ```yaml
//! layers:
//!   - name: tools
//!     namespace: tools
//!     charts:
//!       - release: podinfo                 # release name (required)
//!         chart: tools/charts/podinfo      # a chart folder of the repository…
//!         valuesFiles: [tools/podinfo-values.yaml]
//!         values: {replicaCount: 2}        # inline values, applied after the files
//!       - release: ingress
//!         repository: https://kubernetes.github.io/ingress-nginx   # …or a remote chart
//!         chart: ingress-nginx
//!         version: 4.15.1                  # pinned by digest in rekube.lock
//!         namespace: ingress-nginx         # default: the layer's namespace, else `default`
//!         includeCRDs: true                # default
//!         skipTests: true                  # default
//! ```
//!
//! Paths are relative to the repository root, like layer paths.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helm::remote::RemoteChart;
use crate::manifest::diagnostics::Diagnostic;
use crate::object::Layer;

/// Where a chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartSource {
    /// A chart folder, relative to the repository root.
    Folder(String),
    Remote(RemoteChart),
}

/// One chart to render as a release.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    pub layer: String,
    pub release: String,
    pub source: ChartSource,
    /// The release namespace: as declared, else the layer's, else `default` (Helm's default).
    pub namespace: String,
    /// Values files, relative to the repository root.
    pub values_files: Vec<String>,
    pub values: Option<Value>,
    pub include_crds: bool,
    pub skip_tests: bool,
    /// Where the chart is declared, for errors: `rekube.yaml` and its line, or the chart folder.
    pub declared_in: String,
    pub line: Option<usize>,
}

impl ChartSpec {
    /// A chart folder found in a layer: its folder name as release, default values.
    pub fn found(layer: &Layer, rel: &str) -> ChartSpec {
        let release = rel.rsplit('/').next().unwrap_or(rel).to_string();
        ChartSpec {
            layer: layer.name.clone(),
            release,
            source: ChartSource::Folder(rel.to_string()),
            namespace: layer
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
            values_files: Vec::new(),
            values: None,
            include_crds: true,
            skip_tests: true,
            declared_in: rel.to_string(),
            line: None,
        }
    }

    /// An error about this chart, at its declaration.
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(&self.declared_in, message);
        match self.line {
            Some(l) => d.at(l, None),
            None => d,
        }
    }
}

/// What `rekube.yaml` declares about charts.
#[derive(Debug, Default)]
pub struct Declared {
    /// The valid chart entries, in declaration order.
    pub specs: Vec<ChartSpec>,
    /// A problem for each invalid entry.
    pub errors: Vec<Diagnostic>,
    /// Repository paths the entries name (chart folders, values files), valid or not: they are never
    /// read as manifests.
    pub claimed: BTreeSet<String>,
}
