//! Splitting like kubectl, parsing like sigs.k8s.io/yaml, and the positions errors point at.

use super::*;

#[test]
fn splits_like_kubectl() {
    let text = "a: 1\n---\nb: 2\n--- # comment\n\n# only a comment\n---\nc: 3\n---x: 4\n";
    let chunks = split_documents(text);
    let starts: Vec<_> = chunks.iter().map(|c| c.start_line).collect();
    assert_eq!(starts, [1, 3, 5, 8]);
    let content: Vec<_> = chunks.iter().map(Chunk::content_line).collect();
    assert_eq!(content, [Some(1), Some(3), None, Some(8)]);
    // `---x` is not a separator: it stays in the document.
    assert!(chunks[3].text.contains("---x"));
}

#[test]
fn positions_are_relative_to_the_file() {
    let text = "a: 1\n---\n# header\nkind: Pod\nspec:\n  containers:\n  - name: x\n    imagee: y\n";
    let chunks = split_documents(text);
    let tree = parse_document(&chunks[1]).unwrap().unwrap();
    let path = FieldPath::default()
        .key("spec")
        .key("containers")
        .index(0)
        .key("imagee");
    assert_eq!(tree.locate(&path), Some(Pos { line: 8, column: 5 }));
    let missing = FieldPath::default().key("spec").key("nope");
    assert_eq!(tree.locate(&missing), None);
}

#[test]
fn yaml_1_1_scalars_like_kubectl() {
    let tree = parse_single("mode: 0644\nflag: yes\nname: '0644'\n")
        .unwrap()
        .unwrap();
    assert_eq!(
        tree.to_value(),
        serde_json::json!({"mode": 420, "flag": true, "name": "0644"})
    );
}

#[test]
fn errors_point_into_the_file() {
    let cases = [
        ("a: 1\n---\nkind: x\n  bad: [\n", 4, "mapping values"),
        ("a: 1\na: 2\n", 2, "duplicate"),
    ];
    for (text, line, msg) in cases {
        let chunks = split_documents(text);
        let err = chunks.iter().find_map(|c| parse_document(c).err()).unwrap();
        assert_eq!(err.pos.map(|p| p.line), Some(line), "{text}");
        assert!(err.message.contains(msg), "{}", err.message);
    }
}

#[test]
fn alias_bomb_fails_fast() {
    let mut text = String::from("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let err = parse_single(&text).unwrap_err();
    assert!(err.message.contains("alias"), "{}", err.message);
}

#[test]
fn empty_and_null_documents_are_skipped() {
    for text in ["", "# c\n", "~\n", "null\n"] {
        assert!(parse_single(text).unwrap().is_none(), "{text:?}");
    }
}
