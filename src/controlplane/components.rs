//! Command lines of the five components: pure functions of a [`Layout`], tuned for a fast start.
//!
//! Everything listens on 127.0.0.1 only; the controller manager and the scheduler serve nothing
//! (`--secure-port=0`), and kwok's own server stays off, so only three ports are needed.

use std::path::PathBuf;

use super::pki::{FRONT_PROXY_CLIENT_CN, PkiPaths};

/// Services get ClusterIPs from this range; its first address is the `kubernetes` Service.
pub(crate) const SERVICE_CIDR: &str = "10.96.0.0/16";
/// The ClusterIP of the `kubernetes` Service in [`SERVICE_CIDR`], a SAN of the serving certificate.
pub(crate) const KUBERNETES_SERVICE_IP: [u8; 4] = [10, 96, 0, 1];
/// Pod IPs handed out by kwok: room for tens of thousands of pods.
pub(crate) const POD_CIDR: &str = "10.244.0.0/16";
/// The annotation that marks the Nodes kwok manages (kwok's own convention); other Nodes are left alone.
pub(crate) const KWOK_NODE_ANNOTATION: (&str, &str) = ("kwok.x-k8s.io/node", "fake");

/// Paths and ports of one control plane.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub etcd_data: PathBuf,
    pub etcd_client_port: u16,
    pub etcd_peer_port: u16,
    pub apiserver_port: u16,
    pub pki: PkiPaths,
    pub kubeconfig: PathBuf,
    pub kwok_stages: PathBuf,
}

fn flag(name: &str, value: impl std::fmt::Display) -> String {
    format!("--{name}={value}")
}

fn path(name: &str, value: &std::path::Path) -> String {
    format!("--{name}={}", value.display())
}

pub(crate) fn etcd(layout: &Layout) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", layout.etcd_client_port);
    let peer = format!("http://127.0.0.1:{}", layout.etcd_peer_port);
    vec![
        flag("name", "rekube"),
        path("data-dir", &layout.etcd_data),
        flag("listen-client-urls", &client),
        flag("advertise-client-urls", &client),
        flag("listen-peer-urls", &peer),
        flag("initial-advertise-peer-urls", &peer),
        flag("initial-cluster", format!("rekube={peer}")),
        flag("initial-cluster-state", "new"),
        // A throwaway cluster: durability buys nothing and fsync costs seconds under load.
        flag("unsafe-no-fsync", true),
        flag("log-level", "warn"),
    ]
}

/// `args` with `extra` after them, an extra flag replacing one of `args` with the same name.
pub(crate) fn with_extra(args: Vec<String>, extra: &[String]) -> Vec<String> {
    let name = |a: &str| a.split('=').next().unwrap_or(a).to_owned();
    let replaced: Vec<String> = extra.iter().map(|e| name(e)).collect();
    args.into_iter()
        .filter(|a| !replaced.contains(&name(a)))
        .chain(extra.iter().cloned())
        .collect()
}

pub(crate) fn kube_apiserver(layout: &Layout) -> Vec<String> {
    let pki = &layout.pki;
    vec![
        flag("bind-address", "127.0.0.1"),
        flag("advertise-address", "127.0.0.1"),
        flag("secure-port", layout.apiserver_port),
        flag(
            "etcd-servers",
            format!("http://127.0.0.1:{}", layout.etcd_client_port),
        ),
        path("tls-cert-file", &pki.apiserver_cert),
        path("tls-private-key-file", &pki.apiserver_key),
        path("client-ca-file", &pki.ca_cert),
        flag("service-cluster-ip-range", SERVICE_CIDR),
        flag(
            "service-account-issuer",
            "https://kubernetes.default.svc.cluster.local",
        ),
        path("service-account-key-file", &pki.service_account_public_key),
        path("service-account-signing-key-file", &pki.service_account_key),
        path("requestheader-client-ca-file", &pki.front_proxy_ca_cert),
        flag("requestheader-allowed-names", FRONT_PROXY_CLIENT_CN),
        flag("requestheader-username-headers", "X-Remote-User"),
        flag("requestheader-group-headers", "X-Remote-Group"),
        flag("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
        path("proxy-client-cert-file", &pki.front_proxy_client_cert),
        path("proxy-client-key-file", &pki.front_proxy_client_key),
        // Simulated mode: pods never run, so no webhook could answer; the apiserver does not call them.
        flag(
            "disable-admission-plugins",
            "ValidatingAdmissionWebhook,MutatingAdmissionWebhook",
        ),
        // RBAC as in real clusters, so bootstrap ClusterRoles exist and bindings mean something.
        flag("authorization-mode", "RBAC"),
        flag("allow-privileged", true),
        // Speed: API Priority and Fairness bootstraps its objects at start and queues requests
        // that tests fire in bursts; profiling endpoints are not needed.
        flag("enable-priority-and-fairness", false),
        flag("profiling", false),
        // Certificates are given; nothing should be written next to the binary.
        path(
            "cert-dir",
            layout
                .pki
                .ca_cert
                .parent()
                .unwrap_or(std::path::Path::new(".")),
        ),
    ]
}

pub(crate) fn kube_controller_manager(layout: &Layout) -> Vec<String> {
    let pki = &layout.pki;
    vec![
        path("kubeconfig", &layout.kubeconfig),
        flag("secure-port", 0),
        flag("leader-elect", false),
        flag("controllers", "*"),
        // Tokens and the root CA ConfigMap in every namespace, as on a real cluster.
        path("service-account-private-key-file", &pki.service_account_key),
        path("root-ca-file", &pki.ca_cert),
        path("cluster-signing-cert-file", &pki.ca_cert),
        path("cluster-signing-key-file", &pki.ca_key),
        flag("service-cluster-ip-range", SERVICE_CIDR),
        flag("profiling", false),
        // The default client rate (20/s) makes a thousand-replica rollout take a minute.
        flag("kube-api-qps", 500),
        flag("kube-api-burst", 1000),
    ]
}

pub(crate) fn kube_scheduler(layout: &Layout) -> Vec<String> {
    vec![
        path("kubeconfig", &layout.kubeconfig),
        flag("secure-port", 0),
        flag("leader-elect", false),
        flag("profiling", false),
        flag("kube-api-qps", 500),
        flag("kube-api-burst", 1000),
    ]
}

pub(crate) fn kwok(layout: &Layout) -> Vec<String> {
    let (key, value) = KWOK_NODE_ANNOTATION;
    vec![
        path("kubeconfig", &layout.kubeconfig),
        path("config", &layout.kwok_stages),
        flag("manage-all-nodes", false),
        flag(
            "manage-nodes-with-annotation-selector",
            format!("{key}={value}"),
        ),
        flag("cidr", POD_CIDR),
        // Leases keep the fake Nodes Ready for the node lifecycle controller (heartbeats alone
        // come every 10 minutes in kwok's default stages).
        flag("node-lease-duration-seconds", 40),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            etcd_data: "/shm/etcd".into(),
            etcd_client_port: 2379,
            etcd_peer_port: 2380,
            apiserver_port: 6443,
            pki: PkiPaths::in_dir("/cp/pki".as_ref()),
            kubeconfig: "/cp/kubeconfig".into(),
            kwok_stages: "/assets/kwok-stages.yaml".into(),
        }
    }

    #[test]
    fn everything_listens_on_loopback_only() {
        let layout = layout();
        let etcd = etcd(&layout);
        for url_flag in ["--listen-client-urls=", "--listen-peer-urls="] {
            let value = etcd.iter().find_map(|a| a.strip_prefix(url_flag)).unwrap();
            assert!(value.starts_with("http://127.0.0.1:"), "{value}");
        }
        assert!(kube_apiserver(&layout).contains(&"--bind-address=127.0.0.1".to_owned()));
        assert!(kube_controller_manager(&layout).contains(&"--secure-port=0".to_owned()));
        assert!(kube_scheduler(&layout).contains(&"--secure-port=0".to_owned()));
        assert!(
            !kwok(&layout)
                .iter()
                .any(|a| a.starts_with("--server-address"))
        );
    }

    #[test]
    fn apiserver_talks_to_etcd_on_its_client_port() {
        let args = kube_apiserver(&layout());
        assert!(args.contains(&"--etcd-servers=http://127.0.0.1:2379".to_owned()));
        assert!(args.contains(&"--secure-port=6443".to_owned()));
        assert!(args.contains(&"--cert-dir=/cp/pki".to_owned()));
    }

    #[test]
    fn extra_flags_replace_rekubes_own() {
        let args = vec!["--a=1".to_string(), "--b=x,y".to_string()];
        let extra = vec!["--b=".to_string(), "--c=3".to_string()];
        assert_eq!(with_extra(args, &extra), ["--a=1", "--b=", "--c=3"]);
    }

    #[test]
    fn the_apiserver_never_calls_admission_webhooks() {
        let args = kube_apiserver(&layout());
        assert!(
            args.contains(
                &"--disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook"
                    .to_owned()
            )
        );
    }

    #[test]
    fn kwok_manages_annotated_nodes_only() {
        let args = kwok(&layout());
        assert!(args.contains(&"--manage-all-nodes=false".to_owned()));
        assert!(args.contains(
            &"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".to_owned()
        ));
    }
}
