//! JSON files: one value or a stream of values (as kubectl accepts), each with the line it starts on.

use serde_json::Value;

use super::field::Pos;
use super::yaml::SyntaxError;

/// The values of a JSON file with their 1-based start lines, or the first syntax error.
pub fn parse_json(text: &str) -> Result<Vec<(usize, Value)>, SyntaxError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => return Ok(out),
            Some(Ok(value)) => {
                // The value starts at the first non-blank byte after the previous one.
                let skipped = text[start..]
                    .find(|c: char| !c.is_ascii_whitespace())
                    .unwrap_or(0);
                let line = 1 + text[..start + skipped].matches('\n').count();
                out.push((line, value));
            }
            Some(Err(e)) => {
                return Err(SyntaxError {
                    pos: (e.line() > 0).then(|| Pos {
                        line: e.line(),
                        column: e.column(),
                    }),
                    message: strip_position(&e.to_string()),
                });
            }
        }
    }
}

/// serde_json appends " at line L column C"; the diagnostic already carries the position.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_with_lines() {
        let docs = parse_json("{\"a\": 1}\n\n  {\"b\":\n 2}\n").unwrap();
        let lines: Vec<_> = docs.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn errors_have_positions() {
        let err = parse_json("{\n  \"a\": 1,\n  \"b\": }\n").unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(3));
        assert!(!err.message.contains("at line"), "{}", err.message);
    }
}
