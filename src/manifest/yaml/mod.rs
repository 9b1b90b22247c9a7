//! YAML: split a file into documents the way kubectl does (`---` separator lines), parse each with
//! serde-saphyr into a tree that keeps every node's position, so errors can point at a field's line.
//!
//! Parsing follows sigs.k8s.io/yaml (YAML 1.1 flavour, what kubectl uses): `yes`/`on` are booleans,
//! `0644` is octal, merge keys (`<<`) are expanded, and duplicate keys are an error. Alias expansion is
//! capped so that a "billion laughs" document fails fast instead of eating memory.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{DuplicateKeyPolicy, MessageFormatter, Spanned, UserMessageFormatter};

use super::field::{FieldPath, Locate, Pos, Segment};

/// One document of a file: its text and the 1-based line where that text starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    pub start_line: usize,
}

impl Chunk<'_> {
    /// Line of the first content line (not blank, not a comment), `None` for an empty document.
    pub fn content_line(&self) -> Option<usize> {
        self.text
            .lines()
            .position(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            })
            .map(|i| self.start_line + i)
    }
}

/// Splits on lines that start with `---` followed only by blanks or a comment (kubectl's YAMLReader).
pub fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let (mut start, mut start_line, mut pos) = (0, 1, 0);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if is_separator(line) {
            chunks.push(Chunk {
                text: &text[start..pos],
                start_line,
            });
            start = pos + line.len();
            start_line = i + 2;
        }
        pos += line.len();
    }
    chunks.push(Chunk {
        text: &text[start..],
        start_line,
    });
    chunks
}

fn is_separator(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

/// A YAML syntax or limit error, positioned in the file (not in the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// A parsed document: the tree with positions relative to the file.
#[derive(Debug)]
pub struct Tree {
    root: Spanned<Node>,
    /// Lines before the document in its file.
    line_offset: usize,
}

/// Parses one document; `Ok(None)` for a document that holds only comments or `null`.
pub fn parse_document(chunk: &Chunk<'_>) -> Result<Option<Tree>, SyntaxError> {
    parse_with(chunk, options())
}

/// Parses one document the way sops's YAML library (go-yaml v3) reads scalars: only `true`/`false` are
/// booleans (`yes` stays text). sops's MAC covers the values as it read them.
pub fn parse_document_yaml12(chunk: &Chunk<'_>) -> Result<Option<Tree>, SyntaxError> {
    let mut options = options();
    options.strict_booleans = true;
    parse_with(chunk, options)
}

fn parse_with(
    chunk: &Chunk<'_>,
    options: serde_saphyr::Options,
) -> Result<Option<Tree>, SyntaxError> {
    if chunk.content_line().is_none() {
        return Ok(None);
    }
    let line_offset = chunk.start_line - 1;
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(chunk.text, options).map_err(|e| SyntaxError {
            pos: e.location().map(|l| Pos {
                line: l.line() as usize + line_offset,
                column: l.column() as usize,
            }),
            message: message(&e),
        })?;
    if matches!(root.value, Node::Null) {
        return Ok(None);
    }
    Ok(Some(Tree { root, line_offset }))
}

/// Parses a whole small YAML file that must hold one document (rekube.yaml).
pub fn parse_single(text: &str) -> Result<Option<Tree>, SyntaxError> {
    parse_document(&Chunk {
        text,
        start_line: 1,
    })
}

/// Deepest nesting accepted; CustomResourceDefinition schemas are the deepest real documents (~60).
const MAX_DEPTH: usize = 128;

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        duplicate_keys: DuplicateKeyPolicy::Error,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: 10_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 32,
        },
    }
}

/// The parser's message without its position (the diagnostic carries it), on one line; limit breaches
/// say why the limit exists.
fn message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    let mut inner = e.without_snippet();
    if let E::AliasError { error, .. } = inner {
        inner = error;
    }
    let text: String = UserMessageFormatter
        .format_message(inner)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match inner {
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => {
            format!("aliases expand beyond the limit (an alias bomb?): {text}")
        }
        E::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
            ..
        } => format!("the document is nested more than {MAX_DEPTH} levels deep"),
        E::Budget { .. } => {
            format!("{text} (parser limits guard against alias bombs and huge documents)")
        }
        _ => text,
    }
}

impl Tree {
    pub fn to_value(&self) -> Value {
        self.root.value.to_value()
    }

    /// Position of the document's root node.
    pub fn pos(&self) -> Pos {
        self.pos_of(&self.root)
    }

    fn pos_of<T>(&self, s: &Spanned<T>) -> Pos {
        Pos {
            line: s.referenced.line() as usize + self.line_offset,
            column: s.referenced.column() as usize,
        }
    }

    /// Splits a `kind: List` document into one tree per item, keeping positions.
    pub fn into_items(self) -> Vec<Tree> {
        let Node::Map(entries) = self.root.value else {
            return Vec::new();
        };
        let offset = self.line_offset;
        entries
            .into_iter()
            .find(|(k, _)| k.value == "items")
            .map(|(_, v)| match v.value {
                Node::Seq(items) => items
                    .into_iter()
                    .map(|root| Tree {
                        root,
                        line_offset: offset,
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default()
    }
}

impl Locate for Tree {
    fn locate(&self, path: &FieldPath) -> Option<Pos> {
        let mut node = &self.root;
        let mut best = self.pos_of(node);
        for seg in path.segments() {
            match (&node.value, seg) {
                (Node::Map(entries), Segment::Key(k)) => {
                    let (key, value) = entries.iter().find(|(key, _)| &key.value == k)?;
                    best = self.pos_of(key);
                    node = value;
                }
                (Node::Seq(items), Segment::Index(i)) => {
                    node = items.get(*i)?;
                    best = self.pos_of(node);
                }
                _ => break,
            }
        }
        Some(best)
    }
}

/// A YAML node; children keep their positions.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::UInt(u) => Value::from(*u),
            // Non-finite floats are rejected by the parser; `from_f64` only fails for them.
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|i| i.value.to_value()).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.value.to_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests;
