//! From file text to documents: YAML split and parsed with positions, JSON streams, `kind: List` expanded,
//! empty documents skipped.

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::json::parse_json;
use super::yaml::{self, SyntaxError, Tree};

/// One object-to-be: a document of a file, or an item of a `kind: List` document.
#[derive(Debug)]
pub struct Doc {
    /// 0-based index of the document among the non-empty documents of the file (List items share it).
    pub index: usize,
    /// 1-based line of the document's first content line (an item's own line inside a List).
    pub line: usize,
    pub value: Value,
    /// Positions of the YAML nodes, to point errors at fields (`None` for JSON).
    pub tree: Option<Tree>,
}

/// Where the text came from: a file of the repository, or the output of `kustomize build` or of
/// `helm template` (one template's document), whose lines mean nothing to the user (errors then name
/// the document instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    Rendered,
    Chart,
}

impl Origin {
    /// How errors name a document of rendered output; `None` for files (they have lines).
    pub fn rendered_by(self) -> Option<&'static str> {
        match self {
            Origin::File => None,
            Origin::Rendered => Some("kustomize output"),
            Origin::Chart => Some("helm output"),
        }
    }
}

/// The documents of a YAML text; every syntax error is collected, other documents still load.
pub fn parse_yaml(text: &str, rel: &str, origin: Origin) -> (Vec<Doc>, Vec<Diagnostic>) {
    let (docs, errors) = parse_yaml_documents(text, rel, origin);
    (expand_all(docs), errors)
}

/// The documents of a file, `kind: List` expanded.
pub fn expand_all(docs: Vec<Doc>) -> Vec<Doc> {
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        expand(doc, &mut out);
    }
    out
}

/// [`parse_yaml`] without expanding `kind: List` documents (SOPS encrypts whole documents).
pub fn parse_yaml_documents(text: &str, rel: &str, origin: Origin) -> (Vec<Doc>, Vec<Diagnostic>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    for chunk in yaml::split_documents(text) {
        let Some(line) = chunk.content_line() else {
            continue;
        };
        match yaml::parse_document(&chunk) {
            Ok(None) => {}
            Ok(Some(tree)) => {
                let value = tree.to_value();
                docs.push(Doc {
                    index,
                    line,
                    value,
                    tree: Some(tree),
                });
                index += 1;
            }
            Err(e) => {
                errors.push(syntax_diagnostic(rel, "YAML", e, origin, index));
                index += 1;
            }
        }
    }
    (docs, errors)
}

/// The values of a JSON file (one value, or a stream of values as kubectl accepts).
pub fn parse_json_file(text: &str, rel: &str) -> (Vec<Doc>, Vec<Diagnostic>) {
    let (docs, errors) = parse_json_documents(text, rel);
    (expand_all(docs), errors)
}

/// [`parse_json_file`] without expanding `kind: List` values.
pub fn parse_json_documents(text: &str, rel: &str) -> (Vec<Doc>, Vec<Diagnostic>) {
    match parse_json(text) {
        Ok(values) => {
            let docs = values
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .enumerate()
                .map(|(index, (line, value))| Doc {
                    index,
                    line,
                    value,
                    tree: None,
                })
                .collect();
            (docs, Vec::new())
        }
        Err(e) => (
            Vec::new(),
            vec![syntax_diagnostic(rel, "JSON", e, Origin::File, 0)],
        ),
    }
}

fn syntax_diagnostic(
    rel: &str,
    what: &str,
    e: SyntaxError,
    origin: Origin,
    index: usize,
) -> Diagnostic {
    match (origin.rendered_by(), e.pos) {
        (None, Some(p)) => Diagnostic::new(rel, format!("invalid {what}: {}", e.message))
            .at(p.line, Some(p.column)),
        (None, None) => Diagnostic::new(rel, format!("invalid {what}: {}", e.message)),
        (Some(by), _) => Diagnostic::new(
            rel,
            format!("invalid {what} in {by} document #{index}: {}", e.message),
        ),
    }
}

/// `kind: List` (and `FooList` with `items`) becomes its items, each keeping its own position.
fn expand(doc: Doc, out: &mut Vec<Doc>) {
    if !is_list(&doc.value) {
        out.push(doc);
        return;
    }
    let Doc {
        index,
        line,
        value,
        tree,
    } = doc;
    let items = match value {
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut trees = tree.map(Tree::into_items).unwrap_or_default().into_iter();
    for value in items {
        let tree = trees.next();
        let line = tree.as_ref().map_or(line, |t| t.pos().line);
        out.push(Doc {
            index,
            line,
            value,
            tree,
        });
    }
}

fn is_list(value: &Value) -> bool {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    kind == "List" || (kind.ends_with("List") && value.get("items").is_some_and(Value::is_array))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_expand_with_item_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  metadata: {name: b}\n";
        let (docs, errors) = parse_yaml(text, "l.yaml", Origin::File);
        assert!(errors.is_empty());
        let got: Vec<_> = docs
            .iter()
            .map(|d| (d.index, d.line, d.value["kind"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(got, [(0, 4, "A"), (0, 6, "B")]);
    }

    #[test]
    fn errors_do_not_stop_other_documents() {
        let text = "a: [\n---\nkind: B\n---\n\n---\nkind: C\n";
        let (docs, errors) = parse_yaml(text, "m.yaml", Origin::File);
        assert_eq!(errors.len(), 1);
        let got: Vec<_> = docs.iter().map(|d| (d.index, d.line)).collect();
        assert_eq!(got, [(1, 3), (2, 7)]);
    }

    #[test]
    fn json_streams() {
        let (docs, errors) = parse_json_file(
            "{\"kind\": \"A\"}\n{\"kind\": \"List\", \"items\": [{\"kind\": \"B\"}]}\n",
            "x.json",
        );
        assert!(errors.is_empty());
        let got: Vec<_> = docs.iter().map(|d| (d.index, d.line)).collect();
        assert_eq!(got, [(0, 1), (1, 2)]);
    }
}
