//! The `creation_rules` of a `.sops.yaml`: which age recipients sops would encrypt a new file for. The
//! first rule whose `path_regex` matches the file's path (relative to the `.sops.yaml`), or that has no
//! `path_regex`, applies, as in sops.

use regex::Regex;
use serde_json::Value;

use super::SopsError;

/// One creation rule: its path pattern and its age recipients (empty when it names other key types).
#[derive(Debug, Clone)]
struct Rule {
    path_regex: Option<Regex>,
    age: Vec<String>,
}

/// The creation rules of a `.sops.yaml`, in order.
#[derive(Debug, Clone, Default)]
pub struct CreationRules(Vec<Rule>);

/// What the rules say for one file.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleFor {
    /// The age recipients of the first matching rule.
    Age(Vec<String>),
    /// The matching rule (number `n`, from 1) names no age recipient.
    NoAge(usize),
    /// No rule matches the path.
    NoRule,
}

impl CreationRules {
    /// Reads a `.sops.yaml`. `age` is a comma-separated string or a list, as sops accepts both.
    ///
    /// # Errors
    /// Not YAML, `creation_rules` not a list, or an invalid `path_regex`.
    pub fn parse(text: &str) -> Result<CreationRules, SopsError> {
        let invalid = |m: String| SopsError::Metadata(format!(".sops.yaml: {m}"));
        let doc: Value = serde_saphyr::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let rules = match doc.get("creation_rules") {
            None | Some(Value::Null) => return Ok(CreationRules::default()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(invalid("creation_rules must be a list".into())),
        };
        let mut out = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let path_regex = match rule.get("path_regex") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(Regex::new(s).map_err(|e| {
                    invalid(format!("creation rule {}: path_regex {s:?}: {e}", i + 1))
                })?),
                Some(_) => {
                    return Err(invalid(format!(
                        "creation rule {}: path_regex must be a string",
                        i + 1
                    )));
                }
            };
            let age = match rule.get("age") {
                Some(Value::String(s)) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| s.trim().to_string())
                    .collect(),
                _ => Vec::new(),
            };
            out.push(Rule { path_regex, age });
        }
        Ok(CreationRules(out))
    }

    /// The recipients for the file at `path` (relative to the `.sops.yaml`, `/`-separated).
    pub fn for_path(&self, path: &str) -> RuleFor {
        let found = self
            .0
            .iter()
            .enumerate()
            .find(|(_, r)| r.path_regex.as_ref().is_none_or(|re| re.is_match(path)));
        match found {
            None => RuleFor::NoRule,
            Some((i, rule)) if rule.age.is_empty() => RuleFor::NoAge(i + 1),
            Some((_, rule)) => RuleFor::Age(rule.age.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_as_sops_picks_it() {
        let rules = CreationRules::parse(
            "creation_rules:\n  - path_regex: ^prod/.*\\.yaml$\n    pgp: ABC\n  - path_regex: \\.yaml$\n    age: age1aaa, age1bbb\n  - age: [age1ccc]\n",
        )
        .unwrap();
        assert_eq!(rules.for_path("prod/s.yaml"), RuleFor::NoAge(1));
        assert_eq!(
            rules.for_path("imported/ns/s.yaml"),
            RuleFor::Age(vec!["age1aaa".into(), "age1bbb".into()])
        );
        assert_eq!(
            rules.for_path("notes.txt"),
            RuleFor::Age(vec!["age1ccc".into()])
        );
        let only =
            CreationRules::parse("creation_rules:\n  - path_regex: ^x/\n    age: age1a\n").unwrap();
        assert_eq!(only.for_path("y/s.yaml"), RuleFor::NoRule);
        assert!(CreationRules::parse("creation_rules:\n  - path_regex: \"(\"\n").is_err());
        assert_eq!(
            CreationRules::parse("stores: {}\n")
                .unwrap()
                .for_path("a.yaml"),
            RuleFor::NoRule
        );
    }
}
