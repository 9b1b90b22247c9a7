//! Object name rules, as the API server applies them (k8s.io/apimachinery/pkg/util/validation).

/// Which rule the API server applies to `metadata.name` of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// DNS-1123 subdomain: the default for most kinds.
    Subdomain,
    /// DNS-1123 label: Namespace.
    Label,
    /// DNS-1035 label (starts with a letter): Service.
    Dns1035Label,
    /// Path segment: anything but `.`, `..`, `/` and `%` (RBAC kinds, e.g. `system:controller:x`).
    PathSegment,
}

/// The rule for `metadata.name` of `group`/`kind`.
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035Label,
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// Checks `name` against `rule`; the error says what is wrong, as kubectl would.
pub fn check_name(rule: NameRule, name: &str) -> Result<(), String> {
    match rule {
        NameRule::Subdomain => dns1123_subdomain(name),
        NameRule::Label => dns1123_label(name),
        NameRule::Dns1035Label => dns1035_label(name),
        NameRule::PathSegment => path_segment(name),
    }
}

const LABEL_MAX: usize = 63;
const SUBDOMAIN_MAX: usize = 253;

fn is_label_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Lowercase alphanumerics and `-`, starting and ending alphanumeric, at most 63 characters.
pub fn dns1123_label(name: &str) -> Result<(), String> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > LABEL_MAX {
        return Err(format!(
            "{name:?} must be 1 to {LABEL_MAX} characters (a DNS-1123 label)"
        ));
    }
    if !b.iter().all(|&c| is_label_char(c)) || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return Err(format!(
            "{name:?} is not a valid DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// Like a label, but starting with a letter.
pub fn dns1035_label(name: &str) -> Result<(), String> {
    dns1123_label(name).map_err(|e| e.replace("DNS-1123", "DNS-1035"))?;
    if !name.as_bytes()[0].is_ascii_lowercase() {
        return Err(format!(
            "{name:?} is not a valid DNS-1035 label: it must start with a lowercase letter"
        ));
    }
    Ok(())
}

/// Dot-separated DNS-1123 labels, at most 253 characters.
pub fn dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > SUBDOMAIN_MAX {
        return Err(format!(
            "{name:?} must be 1 to {SUBDOMAIN_MAX} characters (a DNS-1123 subdomain)"
        ));
    }
    if name.split('.').any(|part| dns1123_label(part).is_err()) {
        return Err(format!(
            "{name:?} is not a valid DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn path_segment(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("{name:?} is not a valid name"));
    }
    if name.contains(['/', '%']) {
        return Err(format!("{name:?} must not contain '/' or '%'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_by_kind() {
        let long_label = "a".repeat(64);
        let cases: &[(&str, &str, &str, bool)] = &[
            ("apps", "Deployment", "web-api.v2", true),
            ("apps", "Deployment", "Web", false),
            ("apps", "Deployment", "web_api", false),
            ("apps", "Deployment", "-web", false),
            ("", "Namespace", "team-a", true),
            ("", "Namespace", "team.a", false),
            ("", "Namespace", &long_label, false),
            ("", "Service", "1st", false),
            ("", "Service", "api", true),
            (
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "system:controller:x",
                true,
            ),
            ("rbac.authorization.k8s.io", "ClusterRole", "a/b", false),
            ("example.com", "Widget", "w.1", true),
        ];
        for (group, kind, name, ok) in cases {
            let got = check_name(name_rule(group, kind), name);
            assert_eq!(got.is_ok(), *ok, "{kind} {name}: {got:?}");
        }
    }
}
