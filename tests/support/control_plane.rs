//! The real local control plane the integration tests run against.
//!
//! Each test binary (`tests/*.rs` with `mod support;`) starts one control plane, lazily, the first
//! time a test asks for it; every `#[tokio::test]` then gets its own `kube::Client` (each test has its
//! own runtime, and a client belongs to the runtime that built it) and, for isolation, its own
//! Namespace. A missing prerequisite (Go to build the binaries) fails the tests with what to install:
//! they never skip silently. When any test fails, the control plane's logs are kept and their folder
//! is printed at exit.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::{Client, runtime::wait::await_condition};
use rekube::controlplane::{ControlPlane, ControlPlaneOptions};
use tokio::sync::OnceCell;

use super::{chain, unique_name};

/// The control plane shared by the tests of one test binary.
pub struct Shared {
    control_plane: ControlPlane,
}

impl Shared {
    /// A new client, bound to the calling test's runtime.
    pub fn client(&self) -> Client {
        match self.control_plane.client() {
            Ok(client) => client,
            Err(err) => panic!("client for the local control plane: {}", chain(&err)),
        }
    }

    /// The admin kubeconfig, for kubectl and for code under test.
    pub fn kubeconfig(&self) -> &Path {
        self.control_plane.kubeconfig()
    }

    pub fn server_url(&self) -> &str {
        self.control_plane.server_url()
    }

    pub fn control_plane(&self) -> &ControlPlane {
        &self.control_plane
    }
}

/// A failed start is remembered, so the other tests fail at once with the same message.
static CLUSTER: OnceCell<Result<Shared, String>> = OnceCell::const_new();

/// The shared control plane, started on first use.
///
/// # Panics
/// If the control plane cannot start: the message says why (for instance, which Go to install).
pub async fn cluster() -> &'static Shared {
    let started = CLUSTER
        .get_or_init(|| async {
            keep_logs_when_a_test_fails();
            match ControlPlane::start(ControlPlaneOptions::default()).await {
                Ok(control_plane) => {
                    eprintln!(
                        "local control plane {} ready in {:.1?} (kubeconfig {})",
                        control_plane.server_url(),
                        control_plane.ready_in(),
                        control_plane.kubeconfig().display()
                    );
                    Ok(Shared { control_plane })
                }
                Err(err) => Err(chain(&err)),
            }
        })
        .await;
    match started {
        Ok(shared) => shared,
        Err(message) => panic!("the local control plane did not start: {message}"),
    }
}

/// A second control plane for the tests of one binary that need two clusters (a primary and a standby,
/// two active sites): started on first use, like [`cluster`].
///
/// # Panics
/// If it cannot start.
pub async fn second() -> &'static Shared {
    static SECOND: OnceCell<Result<Shared, String>> = OnceCell::const_new();
    let started = SECOND
        .get_or_init(|| async {
            match ControlPlane::start(ControlPlaneOptions::default()).await {
                Ok(control_plane) => Ok(Shared { control_plane }),
                Err(err) => Err(chain(&err)),
            }
        })
        .await;
    match started {
        Ok(shared) => shared,
        Err(message) => panic!("the second local control plane did not start: {message}"),
    }
}

/// A client and a fresh Namespace named `<prefix>-<n>`, whose `default` ServiceAccount exists (so
/// pods can be created at once).
pub async fn test_namespace(prefix: &str) -> (Client, String) {
    let client = cluster().await.client();
    let name = unique_name(prefix);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let namespace: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"rekube.dev/test": "true"}}
    }))
    .expect("a static Namespace is valid");
    if let Err(err) = namespaces.create(&PostParams::default(), &namespace).await {
        panic!("creating Namespace {name}: {}", chain(&err));
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
    let exists = await_condition(accounts, "default", |sa: Option<&ServiceAccount>| {
        sa.is_some()
    });
    match tokio::time::timeout(std::time::Duration::from_secs(60), exists).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => panic!("waiting for ServiceAccount {name}/default: {}", chain(&err)),
        Err(_) => panic!("ServiceAccount {name}/default not created within 60 s"),
    }
    (client, name)
}

/// Test failures are panics: the hook marks the shared control plane's logs as kept (it is never
/// dropped, so it is cleaned up at exit, where the kept folder is printed).
fn keep_logs_when_a_test_fails() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(Ok(shared)) = CLUSTER.get() {
            shared.control_plane.keep_logs();
        }
        previous(info);
    }));
}

/// The folder of the control plane's binaries (a `KUBEBUILDER_ASSETS` layout, the one the shared control
/// plane runs), for the control planes a test starts through `rekube --fresh local` or `rekube local up`:
/// they need not be found or built again. Built from the embedded sources when missing (a no-op when
/// cached).
///
/// # Panics
/// When they cannot be found or built: the message says why.
pub fn assets() -> &'static Path {
    static ASSETS: OnceLock<PathBuf> = OnceLock::new();
    ASSETS.get_or_init(|| match rekube::controlplane::locate(None) {
        Ok(a) => a.dir().to_path_buf(),
        Err(e) => panic!(
            "the local control plane binaries are needed: {}",
            rekube::error::render(&e)
        ),
    })
}
