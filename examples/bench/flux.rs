//! The Flux peer: `flux-apply` (tests/flux), Flux's apply engine `fluxcd/pkg/ssa` driven the way
//! kustomize-controller drives it. Its build, its scenarios (cold rebuild with readiness, no-op apply,
//! drift, diff after the 1% change), its table of ratios and its verdict row.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::report::{self, COLD, DIFF, DRIFT, NOOP, REKUBE, Results};
use crate::workload::Workload;
use crate::{Bench, Error, WAIT_TIMEOUT, cluster};

/// Column of the Flux peer.
pub const FLUX: &str = "flux";
/// Poll interval of the engine's status waits. kustomize-controller polls every 5 s; a short interval
/// measures the engine rather than the controller's poll period (in Flux's favour).
const POLL_INTERVAL: &str = "500ms";

/// Builds flux-apply with tests/flux/build.sh (a no-op when already built) and returns its path.
pub async fn build() -> Result<PathBuf, Error> {
    crate::setup::go_tool("tests/flux/build.sh").await
}

impl Bench {
    /// Cold rebuild (staged apply + WaitForSet), no-op apply, drift (its diff of the unchanged
    /// repository, as kustomize-controller's drift detection) and diff after the 1% change.
    pub(crate) async fn flux(&mut self, w: &mut Workload) -> Result<(), Error> {
        let n = w.repo.objects.len();
        let Some(flux) = self.flux.clone() else {
            return Ok(());
        };
        // The layers, as kubectl reads them (rekube.yaml is not a Kubernetes object).
        let dirs = [w.dir.join("cluster"), w.dir.join("apps")];
        let cmd = |verb: Option<&str>| -> Vec<String> {
            let mut v: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
            v.extend(self.kubeconfig_arg());
            v.extend(["--timeout", "15m", "--interval", POLL_INTERVAL, "--name"].map(String::from));
            v.push(w.prefix.clone());
            v.extend(dirs.iter().map(|d| d.display().to_string()));
            v
        };
        let (apply, diff) = (cmd(None), cmd(Some("diff")));

        let (s, _) = self.measured(w, &flux, &apply, "apply", &[0]).await?;
        self.results.add(n, COLD, FLUX, s);
        cluster::wait_available(&self.client, w, WAIT_TIMEOUT).await?;
        let (s, _) = self.measured(w, &flux, &apply, "apply-noop", &[0]).await?;
        self.results.add(n, NOOP, FLUX, s);
        // Drift: the engine's diff of the unchanged repository (exit 0: nothing differs).
        let (s, _) = self.measured(w, &flux, &diff, "drift", &[0]).await?;
        self.results.add(n, DRIFT, FLUX, s);

        let changed = w.change_one_percent()?;
        self.results.diff_changed.entry(n).or_insert(changed);
        // Exit 1: differences found, as kubectl diff.
        let (s, exit) = self.measured(w, &flux, &diff, "diff", &[1]).await?;
        let log = std::fs::read_to_string(&exit.log).unwrap_or_default();
        let want = format!("{changed} objects differ");
        if !log.contains(&want) {
            let note = format!(
                "flux-apply diff at {n} objects did not report \"{want}\" (log {})",
                exit.log.display()
            );
            self.results.notes.push(note);
        }
        self.results.add(n, DIFF, FLUX, s);
        Ok(())
    }
}

/// The Flux table: rekube and the engine side by side per scenario, ratios flux time / rekube time.
pub fn render(r: &Results) -> String {
    let mut out = String::from("\n### Flux's apply engine (seconds, median)\n\n");
    out.push_str("flux-apply (tests/flux) drives `fluxcd/pkg/ssa` as kustomize-controller does: ");
    out.push_str(
        "`ApplyAllStaged` (CRDs, Namespaces and other cluster definitions first, waited for), ",
    );
    out.push_str("field manager `kustomize-controller`, 4 concurrent drift checks, client QPS 50 / burst 300, ");
    let _ = write!(
        out,
        "then `WaitForSet` on every object (poll {POLL_INTERVAL}); diff: `ResourceManager.Diff` per object, 4 at a time. "
    );
    out.push_str(
        "Both tools wait for readiness in the cold rebuild. Ratios are flux time / rekube time ",
    );
    out.push_str("(above 1: rekube is faster).\n\n");
    out.push_str("| objects | cold: **rekube** | flux | vs flux | no-op: **rekube** | flux | flux writes / dry-run / reads | flux changed | vs flux | diff: **rekube** | flux | vs flux | flux peak MiB apply / diff |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for n in r.sizes() {
        let x = |s: &str| report::ratio(r.secs(n, s, FLUX), r.secs(n, s, REKUBE));
        let _ = writeln!(
            out,
            "| {n} | **{}** | {} | {} | **{}** | {} | {} | {} | {} | **{}** | {} | {} | {} / {} |",
            r.cell(n, COLD, REKUBE),
            r.cell(n, COLD, FLUX),
            x(COLD),
            r.cell(n, NOOP, REKUBE),
            r.cell(n, NOOP, FLUX),
            r.requests_cell(n, NOOP, FLUX),
            report::opt(r.rv(n, NOOP, FLUX), 0),
            x(NOOP),
            r.cell(n, DIFF, REKUBE),
            r.cell(n, DIFF, FLUX),
            x(DIFF),
            r.mem_cell(n, COLD, FLUX),
            r.mem_cell(n, DIFF, FLUX),
        );
    }
    out
}
