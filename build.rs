//! `REKUBE_CORPUS` set (to the public corpus folder) enables `cfg(rekube_corpus)`: the acceptance tests
//! over that corpus run; without it `cargo test` lists them as ignored, saying how to run them.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=REKUBE_CORPUS");
    println!("cargo::rustc-check-cfg=cfg(rekube_corpus)");
    if std::env::var_os("REKUBE_CORPUS").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=rekube_corpus");
    }
}
