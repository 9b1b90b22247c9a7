use super::*;
use crate::graph::testutil::{assert_golden, fixture};
use crate::graph::{GraphOptions, plan};

fn fixture_plan() -> Plan {
    let (layers, objects) = fixture();
    plan(&layers, &objects, &GraphOptions::default()).expect("fixture plans")
}

#[test]
fn golden_text() {
    assert_golden("fixture.txt", &render(&fixture_plan(), Format::Text));
}

#[test]
fn golden_json() {
    let out = render(&fixture_plan(), Format::Json);
    serde_json::from_str::<serde_json::Value>(&out).expect("valid JSON");
    assert_golden("fixture.json", &out);
}

#[test]
fn golden_dot() {
    assert_golden("fixture.dot", &render(&fixture_plan(), Format::Dot));
}

#[test]
fn golden_mermaid() {
    assert_golden("fixture.mmd", &render(&fixture_plan(), Format::Mermaid));
}
