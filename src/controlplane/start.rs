//! Starting a [`ControlPlane`]: processes in dependency order, each step raced against the deadline
//! and against any component exiting.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tracing::instrument::WithSubscriber as _;

use super::components::{self, Layout};
use super::pki::{Pki, PkiPaths};
use super::process::{self, Cleanup, Component};
use super::simulation;
use super::storage::StorageController;
use super::{
    Assets, CONTROL_PLANE_DIR_PREFIX, ControlPlane, ControlPlaneError, ControlPlaneOptions,
    ETCD_DIR_PREFIX, assets, nodes,
};

/// When the start must be done, and the limit that set it (for the message).
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    at: tokio::time::Instant,
    limit: Duration,
}

impl Deadline {
    pub(super) fn after(limit: Duration) -> Deadline {
        Deadline {
            at: tokio::time::Instant::now() + limit,
            limit,
        }
    }
}

impl ControlPlane {
    /// Starts a control plane and waits until it is ready (see the module docs for the steps).
    ///
    /// # Errors
    /// Missing binaries or Go toolchain, a failed build, a component exiting during the start (with
    /// the tail of its log), or the start taking longer than `options.start_timeout`.
    pub async fn start(options: ControlPlaneOptions) -> Result<Self, ControlPlaneError> {
        let explicit = options.assets.clone();
        let assets = tokio::task::spawn_blocking(move || assets::locate(explicit.as_deref()))
            .await
            .map_err(|join| {
                ControlPlaneError::io(
                    "locating the control plane binaries in",
                    "",
                    std::io::Error::other(join.to_string()),
                )
            })??;
        let deadline = Deadline::after(options.start_timeout);
        let mut attempts = 0;
        loop {
            let started = Instant::now();
            let mut cp = Self::prepare(assets.clone(), &options)?;
            match cp.boot(&options, deadline).await {
                Ok(()) => {
                    cp.ready_in = started.elapsed();
                    tracing::info!(
                        server = %cp.server_url,
                        ready_in = ?cp.ready_in,
                        folder = %cp.dir.display(),
                        "local control plane ready"
                    );
                    return Ok(cp);
                }
                // Free ports are found by binding and releasing them: another process can take
                // one before the component binds it. Fresh ports then, with a fresh folder.
                Err(err) if err.is_port_conflict() && options.apiserver_port.is_some() => {
                    cp.keep_logs = true;
                    return Err(err.into_port_taken(options.apiserver_port));
                }
                Err(err) if attempts < 2 && err.is_port_conflict() => {
                    attempts += 1;
                    tracing::info!("{err}; retrying on other ports");
                }
                Err(err) => {
                    // The logs explain the failure: keep them (where is printed when dropped).
                    cp.keep_logs = true;
                    return Err(err);
                }
            }
        }
    }

    /// Creates the folders, certificates and kubeconfig; starts nothing.
    fn prepare(assets: Assets, options: &ControlPlaneOptions) -> Result<Self, ControlPlaneError> {
        let [etcd_client_port, etcd_peer_port, apiserver_port] = loop {
            let [client, peer, free] = free_ports().map_err(|source| {
                ControlPlaneError::io("finding free ports on", "127.0.0.1", source)
            })?;
            // A port asked for is free now, so the probe may have picked it for etcd: probe again.
            match options.apiserver_port {
                Some(port) if port == client || port == peer => {}
                Some(port) => break [client, peer, port],
                None => break [client, peer, free],
            }
        };
        // The pid in the names lets a later start remove what a killed process left behind.
        let pid = std::process::id();
        process::sweep_orphans(&std::env::temp_dir(), CONTROL_PLANE_DIR_PREFIX);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{CONTROL_PLANE_DIR_PREFIX}{pid}-"))
            // It holds the CA key and the admin credentials.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|source| ControlPlaneError::io("creating a temp folder", "", source))?
            .keep();
        // etcd writes constantly: tmpfs keeps that off the disk when the machine has one.
        let shm = Path::new("/dev/shm");
        process::sweep_orphans(shm, ETCD_DIR_PREFIX);
        let etcd_data = match tempfile::Builder::new()
            .prefix(&format!("{ETCD_DIR_PREFIX}{pid}-"))
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(shm)
        {
            Ok(data) => data.keep(),
            Err(_) => dir.join("etcd"),
        };
        let cleanup = Cleanup::register(dir.clone(), vec![etcd_data.clone()]);
        let cp = Self {
            layout: Layout {
                etcd_data,
                etcd_client_port,
                etcd_peer_port,
                apiserver_port,
                pki: PkiPaths::in_dir(&dir.join("pki")),
                kubeconfig: dir.join("kubeconfig"),
                kwok_stages: assets.dir().join(assets::KWOK_STAGES),
            },
            server_url: format!("https://127.0.0.1:{apiserver_port}"),
            dir,
            assets,
            config: None,
            components: Vec::new(),
            cleanup,
            keep_logs: options.keep_logs,
            start_timeout: options.start_timeout,
            ready_in: Duration::ZERO,
            storage: None,
        };
        for sub in ["logs", "pki"] {
            let path = cp.dir.join(sub);
            std::fs::create_dir(&path)
                .map_err(|source| ControlPlaneError::io("creating", &path, source))?;
        }
        let service_ip = IpAddr::V4(Ipv4Addr::from(components::KUBERNETES_SERVICE_IP));
        let pki = Pki::generate(service_ip).map_err(ControlPlaneError::Certificates)?;
        pki.write(&cp.layout.pki)
            .map_err(|source| ControlPlaneError::io("writing certificates to", &cp.dir, source))?;
        std::fs::write(&cp.layout.kubeconfig, pki.admin_kubeconfig(&cp.server_url))
            .map_err(|source| ControlPlaneError::io("writing", &cp.layout.kubeconfig, source))?;
        Ok(cp)
    }

    /// Starts the components in order and waits until the control plane is ready.
    async fn boot(
        &mut self,
        options: &ControlPlaneOptions,
        deadline: Deadline,
    ) -> Result<(), ControlPlaneError> {
        self.spawn("etcd", components::etcd(&self.layout))?;
        let apiserver = components::with_extra(
            components::kube_apiserver(&self.layout),
            &options.apiserver_args,
        );
        self.spawn("kube-apiserver", apiserver)?;
        let config = load_kubeconfig(&self.layout.kubeconfig).await?;
        let client =
            kube::Client::try_from(config.clone()).map_err(|source| ControlPlaneError::Api {
                what: format!("creating a client for {}", self.server_url),
                source,
            })?;
        self.config = Some(config.clone());
        self.step(
            deadline,
            "kube-apiserver /readyz",
            wait_readyz(&client, self.layout.apiserver_port),
        )
        .await?;

        // The others only need the apiserver; their own start-up is the slow part, so they go
        // first and the Nodes are created while they come up.
        let kwok_ready = self.assets.binary("kwok").is_some() && self.layout.kwok_stages.is_file();
        for (name, args) in [
            (
                "kube-controller-manager",
                components::kube_controller_manager(&self.layout),
            ),
            ("kube-scheduler", components::kube_scheduler(&self.layout)),
            ("kwok", components::kwok(&self.layout)),
        ] {
            if name == "kwok" && !kwok_ready {
                tracing::warn!(
                    assets = %self.assets.dir().display(),
                    "no kwok binary or {} in the assets: no Node will become Ready",
                    assets::KWOK_STAGES
                );
                continue;
            }
            if self.assets.binary(name).is_none() {
                tracing::warn!(
                    assets = %self.assets.dir().display(),
                    "no {name} binary in the assets: Deployments will not become Available"
                );
                continue;
            }
            self.spawn(name, args)?;
        }

        let node_api: Api<Node> = Api::all(client.clone());
        let mut names = Vec::with_capacity(options.nodes);
        for index in 0..options.nodes {
            let node = nodes::fake_node(index).map_err(|err| {
                ControlPlaneError::io("building a fake Node", "", std::io::Error::other(err))
            })?;
            let name = node.metadata.name.clone().unwrap_or_default();
            let api = &node_api;
            self.step(deadline, "creating the fake Nodes", async move {
                api.create(&PostParams::default(), &node)
                    .await
                    .map(drop)
                    .map_err(|source| ControlPlaneError::Api {
                        what: format!(
                            "creating Node {}",
                            node.metadata.name.as_deref().unwrap_or_default()
                        ),
                        source,
                    })
            })
            .await?;
            names.push(name);
        }

        if self.assets.binary("kube-controller-manager").is_some() {
            let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
            let exists = kube::runtime::wait::await_condition(
                accounts,
                "default",
                |sa: Option<&ServiceAccount>| sa.is_some(),
            );
            self.step(deadline, "ServiceAccount default/default", async {
                exists
                    .await
                    .map(drop)
                    .map_err(|source| ControlPlaneError::Wait {
                        what: "ServiceAccount default/default".to_owned(),
                        source,
                    })
            })
            .await?;
        }
        if kwok_ready {
            for name in &names {
                let ready = kube::runtime::wait::await_condition(
                    node_api.clone(),
                    name,
                    nodes::is_node_ready,
                );
                let what = format!("Node {name} Ready");
                self.step(deadline, &what, async {
                    ready
                        .await
                        .map(drop)
                        .map_err(|source| ControlPlaneError::Wait {
                            what: what.clone(),
                            source,
                        })
                })
                .await?;
            }
        }
        self.step(
            deadline,
            "the simulation marker and the default StorageClass",
            simulation::prepare(&client),
        )
        .await?;
        let storage = StorageController::start(config).map_err(|source| {
            ControlPlaneError::io("starting the simulated storage", "", source)
        })?;
        self.storage = Some(storage);
        Ok(())
    }

    fn spawn(&mut self, name: &'static str, args: Vec<String>) -> Result<(), ControlPlaneError> {
        let binary = self
            .assets
            .binary(name)
            .ok_or_else(|| ControlPlaneError::MissingBinary {
                binary: name,
                dir: self.assets.dir().to_owned(),
            })?;
        let log = self.dir.join("logs").join(format!("{name}.log"));
        let component = Component::start(name, &binary, &args, log, &self.cleanup)
            .map_err(|source| ControlPlaneError::io("starting", &binary, source))?;
        self.components.push(component);
        Ok(())
    }

    /// Runs `work` until it finishes, a component exits, or the deadline passes.
    pub(super) async fn step<T>(
        &mut self,
        deadline: Deadline,
        waiting_for: &str,
        work: impl Future<Output = Result<T, ControlPlaneError>>,
    ) -> Result<T, ControlPlaneError> {
        tokio::select! {
            result = tokio::time::timeout_at(deadline.at, work) => result.unwrap_or_else(|_| {
                Err(ControlPlaneError::Timeout {
                    timeout: deadline.limit,
                    waiting_for: waiting_for.to_owned(),
                    logs: self.dir.join("logs"),
                })
            }),
            exited = self.first_exit() => Err(exited),
        }
    }

    /// Resolves when a component exits, with its status and the tail of its log.
    pub(super) async fn first_exit(&mut self) -> ControlPlaneError {
        loop {
            for component in &mut self.components {
                if let Some(status) = component.exited(&self.cleanup) {
                    return ControlPlaneError::ComponentExited {
                        component: component.name,
                        status,
                        log: component.log.clone(),
                        tail: process::log_tail(&component.log, 30),
                    };
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Three distinct free ports on 127.0.0.1 (held open together so they differ; another process
/// could still take one before the component binds it, which fails the start with that message).
fn free_ports() -> std::io::Result<[u16; 3]> {
    let listeners = [
        TcpListener::bind("127.0.0.1:0")?,
        TcpListener::bind("127.0.0.1:0")?,
        TcpListener::bind("127.0.0.1:0")?,
    ];
    let mut ports = [0; 3];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

async fn load_kubeconfig(path: &Path) -> Result<kube::Config, ControlPlaneError> {
    let kubeconfig =
        Kubeconfig::read_from(path).map_err(|source| ControlPlaneError::Kubeconfig {
            path: path.to_owned(),
            source,
        })?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|source| ControlPlaneError::Kubeconfig {
            path: path.to_owned(),
            source,
        })
}

/// Polls `/readyz` until it answers `ok`: before the apiserver listens there is nothing to watch.
pub(super) async fn wait_readyz(client: &kube::Client, port: u16) -> Result<(), ControlPlaneError> {
    // Plain TCP first: the client logs every refused connection as an error.
    while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let request = http::Request::get("/readyz").body(Vec::new());
        if let Ok(request) = request
            // The client logs each 500 (not ready yet) as an error: expected here, so muted.
            && let Ok(Ok(body)) = tokio::time::timeout(
                Duration::from_secs(2),
                client
                    .request_text(request)
                    .with_subscriber(tracing::subscriber::NoSubscriber::default()),
            )
            .await
            && body.trim() == "ok"
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
