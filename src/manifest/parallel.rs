//! The plain files of a load read and parsed on every core: YAML parsing is about half of loading a large
//! repository, and files parse independently. The rest of the load stays in file order, and takes the
//! files from a [`Prefetch`] that parses a window ahead of it, so that only a window of parsed files
//! (with their position trees) is held at once.

use std::collections::HashMap;
use std::path::PathBuf;

use super::diagnostics::Diagnostic;
use super::documents::{self, Doc, Origin};
use super::files::read_text;

/// Files parsed at once, ahead of the load: enough to keep every core busy, few enough that the parsed
/// documents of a large repository are not all held at the same time.
const WINDOW: usize = 512;

/// The plain files of a load, in the order the load takes them, parsed a window at a time.
pub struct Prefetch {
    files: Vec<(String, PathBuf)>,
    next: usize,
    ready: HashMap<String, Result<Parsed, Diagnostic>>,
    limit: u64,
    stack: usize,
}

impl Prefetch {
    pub fn new(files: Vec<(String, PathBuf)>, limit: u64, stack: usize) -> Prefetch {
        Prefetch {
            files,
            next: 0,
            ready: HashMap::new(),
            limit,
            stack,
        }
    }

    /// The file `rel` (at `abs`), parsed; the next window is parsed when it is not ready yet.
    pub fn take(&mut self, rel: &str, abs: &std::path::Path) -> Result<Parsed, Diagnostic> {
        while !self.ready.contains_key(rel) && self.next < self.files.len() {
            let end = (self.next + WINDOW).min(self.files.len());
            let window = self.files[self.next..end].to_vec();
            self.next = end;
            self.ready
                .extend(parse_files(window, self.limit, self.stack));
        }
        match self.ready.remove(rel) {
            Some(parsed) => parsed,
            None => parse(rel.to_string(), abs, self.limit).1,
        }
    }
}

/// One file, read and split into documents.
pub struct Parsed {
    pub text: String,
    pub json: bool,
    pub docs: Vec<Doc>,
    pub errors: Vec<Diagnostic>,
}

/// Files per worker below which a second thread is not worth starting.
const MIN_PER_WORKER: usize = 32;

/// Reads and parses `files` (relative path, absolute path), keyed by relative path. Workers run on
/// threads of `stack` bytes: parsing recurses once per nesting level of a document.
pub fn parse_files(
    files: Vec<(String, PathBuf)>,
    limit: u64,
    stack: usize,
) -> HashMap<String, Result<Parsed, Diagnostic>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(files.len() / MIN_PER_WORKER).max(1);
    if workers == 1 {
        return files
            .into_iter()
            .map(|(rel, abs)| parse(rel, &abs, limit))
            .collect();
    }
    // Interleaved, so that each worker gets files of every size.
    let mut shares: Vec<Vec<(String, PathBuf)>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, file) in files.into_iter().enumerate() {
        shares[i % workers].push(file);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let work = move || {
                    share
                        .into_iter()
                        .map(|(rel, abs)| parse(rel, &abs, limit))
                        .collect::<Vec<_>>()
                };
                std::thread::Builder::new()
                    .name("rekube-parse".into())
                    .stack_size(stack)
                    .spawn_scoped(scope, work)
            })
            .collect();
        let mut out = HashMap::new();
        // A worker that could not start leaves its files to be parsed where the load reaches them.
        for h in handles.into_iter().flatten() {
            out.extend(
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        out
    })
}

fn parse(rel: String, abs: &std::path::Path, limit: u64) -> (String, Result<Parsed, Diagnostic>) {
    let parsed = read_text(abs, &rel, limit).map(|text| {
        let json = rel.to_ascii_lowercase().ends_with(".json");
        let (docs, errors) = if json {
            documents::parse_json_documents(&text, &rel)
        } else {
            documents::parse_yaml_documents(&text, &rel, Origin::File)
        };
        Parsed {
            text,
            json,
            docs,
            errors,
        }
    });
    (rel, parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_parsed_once_whatever_the_workers() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut files = Vec::new();
        for i in 0..100 {
            let rel = format!("f{i}.yaml");
            let text = if i == 7 {
                "a: [\n".to_string()
            } else {
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n")
            };
            std::fs::write(dir.path().join(&rel), text).expect("write");
            files.push((rel.clone(), dir.path().join(&rel)));
        }
        files.push(("missing.yaml".into(), dir.path().join("missing.yaml")));
        let out = parse_files(files, 1 << 20, 8 << 20);
        assert_eq!(out.len(), 101);
        let ok = |rel: &str| {
            out[rel]
                .as_ref()
                .ok()
                .map(|p| (p.docs.len(), p.errors.len()))
        };
        assert_eq!(ok("f0.yaml"), Some((1, 0)));
        assert_eq!(ok("f99.yaml"), Some((1, 0)));
        assert_eq!(
            ok("f7.yaml").map(|(_, e)| e),
            Some(1),
            "a syntax error is kept"
        );
        assert!(out["missing.yaml"].is_err());
    }

    #[test]
    fn the_prefetch_hands_out_each_file_in_windows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files: Vec<(String, PathBuf)> = (0..1200)
            .map(|i| {
                let rel = format!("f{i}.yaml");
                let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n");
                std::fs::write(dir.path().join(&rel), text).expect("write");
                (rel.clone(), dir.path().join(&rel))
            })
            .collect();
        let mut prefetch = Prefetch::new(files.clone(), 1 << 20, 8 << 20);
        for (n, (rel, abs)) in files.iter().enumerate() {
            let parsed = prefetch.take(rel, abs).expect("parsed");
            assert_eq!(parsed.docs[0].value["metadata"]["name"], format!("c{n}"));
            assert!(prefetch.ready.len() <= WINDOW, "at most a window is held");
        }
    }
}
