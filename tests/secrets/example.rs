//! The bundled examples/sops repository, rebuilt with its published example key.

use std::path::Path;

use crate::sops::secret_value;
use crate::support::{Rekube, cluster, code, kubectl, text};

#[tokio::test]
async fn the_sops_example_rebuilds_with_its_example_key() {
    let kc = cluster().await.kubeconfig();
    let kcs = kc.to_str().expect("utf-8 path");
    let rekube = Rekube::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sops");
    let example = example.to_str().expect("utf-8");
    let plan = rekube.run(&["plan", example]);
    assert_eq!(code(&plan), 0);
    assert!(
        text(&plan).contains("Secret/sops-example/db") && text(&plan).contains("(SOPS-encrypted)")
    );
    let key = Path::new(example).join("example-age-key.txt");
    let out = rekube.run_env(
        &[
            "rebuild",
            example,
            "--kubeconfig",
            kcs,
            "--inventory",
            "sops-example",
        ],
        &[("SOPS_AGE_KEY_FILE", key.to_str().expect("utf-8"))],
    );
    assert_eq!(code(&out), 0, "the example rebuilds");
    assert!(!text(&out).contains("example-password-not-secret"));
    assert_eq!(
        secret_value(kc, "sops-example", "db", "password"),
        "example-password-not-secret"
    );
    let generated = kubectl(kc, &["get", "secret", "-n", "sops-example", "-o", "name"]);
    let generated = String::from_utf8_lossy(&generated.stdout);
    let name = generated
        .lines()
        .find_map(|l| {
            l.strip_prefix("secret/")
                .filter(|n| n.starts_with("api-credentials-"))
        })
        .unwrap_or_else(|| panic!("the generated Secret: {generated}"));
    assert_eq!(
        secret_value(kc, "sops-example", name, "API_TOKEN"),
        "example-token-not-secret"
    );
}
