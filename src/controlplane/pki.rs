//! Certificates and keys for one control plane, generated fresh on every start with `rcgen`.
//!
//! One cluster CA signs the apiserver's serving certificate and every client certificate; a separate
//! front-proxy CA signs the aggregator's proxy client, as in a kubeadm cluster, so aggregated APIs can
//! tell proxied requests from direct ones. The service-account key signs and verifies tokens.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Where the PEM files of a [`Pki`] were written.
#[derive(Debug, Clone)]
pub(crate) struct PkiPaths {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub apiserver_cert: PathBuf,
    pub apiserver_key: PathBuf,
    pub front_proxy_ca_cert: PathBuf,
    pub front_proxy_client_cert: PathBuf,
    pub front_proxy_client_key: PathBuf,
    pub service_account_key: PathBuf,
    pub service_account_public_key: PathBuf,
}

impl PkiPaths {
    /// The file names inside `dir`.
    pub(crate) fn in_dir(dir: &Path) -> Self {
        Self {
            ca_cert: dir.join("ca.crt"),
            ca_key: dir.join("ca.key"),
            apiserver_cert: dir.join("apiserver.crt"),
            apiserver_key: dir.join("apiserver.key"),
            front_proxy_ca_cert: dir.join("front-proxy-ca.crt"),
            front_proxy_client_cert: dir.join("front-proxy-client.crt"),
            front_proxy_client_key: dir.join("front-proxy-client.key"),
            service_account_key: dir.join("sa.key"),
            service_account_public_key: dir.join("sa.pub"),
        }
    }
}

/// PEM-encoded certificates and keys of one control plane.
pub(crate) struct Pki {
    pub ca_cert: String,
    pub ca_key: String,
    pub apiserver_cert: String,
    pub apiserver_key: String,
    pub front_proxy_ca_cert: String,
    pub front_proxy_client_cert: String,
    pub front_proxy_client_key: String,
    pub admin_cert: String,
    pub admin_key: String,
    pub service_account_key: String,
    pub service_account_public_key: String,
}

/// The common name the apiserver accepts from the front proxy (`--requestheader-allowed-names`).
pub(crate) const FRONT_PROXY_CLIENT_CN: &str = "front-proxy-client";

impl Pki {
    /// Generates a fresh PKI whose serving certificate is valid for the loopback address and the
    /// in-cluster `kubernetes` Service at `service_ip`.
    pub(crate) fn generate(service_ip: IpAddr) -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate()?;
        let ca_key_pem = ca_key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params("rekube-ca")?, ca_key)?;

        let mut serving = CertificateParams::new(vec![
            "kubernetes".to_owned(),
            "kubernetes.default".to_owned(),
            "kubernetes.default.svc".to_owned(),
            "kubernetes.default.svc.cluster.local".to_owned(),
            "localhost".to_owned(),
        ])?;
        serving
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        serving
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(service_ip));
        serving
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        serving.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let serving_key = KeyPair::generate()?;
        let serving_cert = serving.signed_by(&serving_key, &ca)?;

        // O=system:masters: the admin is bound to cluster-admin by the bootstrap RBAC policy.
        let (admin_cert, admin_key) = client_cert("rekube-admin", Some("system:masters"), &ca)?;

        let front_proxy_ca = CertifiedIssuer::self_signed(
            ca_params("rekube-front-proxy-ca")?,
            KeyPair::generate()?,
        )?;
        let (front_proxy_client_cert, front_proxy_client_key) =
            client_cert(FRONT_PROXY_CLIENT_CN, None, &front_proxy_ca)?;

        // ECDSA P-256: the apiserver signs ES256 tokens with the private key (PKCS#8, also read by
        // the controller manager) and verifies them with the public one (PKIX; the apiserver does
        // not derive it from a PKCS#8 file).
        let service_account = KeyPair::generate()?;
        Ok(Self {
            ca_cert: ca.pem(),
            ca_key: ca_key_pem,
            apiserver_cert: serving_cert.pem(),
            apiserver_key: serving_key.serialize_pem(),
            front_proxy_ca_cert: front_proxy_ca.pem(),
            front_proxy_client_cert,
            front_proxy_client_key,
            admin_cert,
            admin_key,
            service_account_key: service_account.serialize_pem(),
            service_account_public_key: service_account.public_key_pem(),
        })
    }

    /// Writes the files the components read; the admin credentials go into the kubeconfig only.
    pub(crate) fn write(&self, paths: &PkiPaths) -> std::io::Result<()> {
        for (path, pem) in [
            (&paths.ca_cert, &self.ca_cert),
            (&paths.ca_key, &self.ca_key),
            (&paths.apiserver_cert, &self.apiserver_cert),
            (&paths.apiserver_key, &self.apiserver_key),
            (&paths.front_proxy_ca_cert, &self.front_proxy_ca_cert),
            (
                &paths.front_proxy_client_cert,
                &self.front_proxy_client_cert,
            ),
            (&paths.front_proxy_client_key, &self.front_proxy_client_key),
            (&paths.service_account_key, &self.service_account_key),
            (
                &paths.service_account_public_key,
                &self.service_account_public_key,
            ),
        ] {
            std::fs::write(path, pem)?;
        }
        Ok(())
    }

    /// An admin kubeconfig for `server`, with every credential embedded so the file can be copied.
    pub(crate) fn admin_kubeconfig(&self, server: &str) -> String {
        let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: rekube-local\n  \
               cluster:\n    \
                 server: {server}\n    \
                 certificate-authority-data: {ca}\n\
             users:\n\
             - name: rekube-admin\n  \
               user:\n    \
                 client-certificate-data: {cert}\n    \
                 client-key-data: {key}\n\
             contexts:\n\
             - name: rekube-local\n  \
               context:\n    \
                 cluster: rekube-local\n    \
                 user: rekube-admin\n\
             current-context: rekube-local\n",
            ca = b64(&self.ca_cert),
            cert = b64(&self.admin_cert),
            key = b64(&self.admin_key),
        )
    }
}

fn ca_params(common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// A client certificate (PEM) and its key (PEM) for `common_name` in `organization`, signed by `ca`.
fn client_cert(
    common_name: &str,
    organization: Option<&str>,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> Result<(String, String), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        params
            .distinguished_name
            .push(DnType::OrganizationName, org);
    }
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok((cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_embeds_credentials_and_points_at_the_server() {
        let pki = Pki::generate(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1))).unwrap();
        let text = pki.admin_kubeconfig("https://127.0.0.1:6443");
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        let cluster = kubeconfig.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert!(cluster.certificate_authority_data.is_some());
        assert_eq!(kubeconfig.current_context.as_deref(), Some("rekube-local"));
        let user = kubeconfig.auth_infos[0].auth_info.as_ref().unwrap();
        assert!(user.client_certificate_data.is_some());
        assert!(user.client_key_data.is_some());
    }

    #[test]
    fn keys_are_pkcs8_pem() {
        let pki = Pki::generate(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1))).unwrap();
        for key in [&pki.ca_key, &pki.apiserver_key, &pki.service_account_key] {
            assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
        }
        assert!(pki.ca_cert.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
