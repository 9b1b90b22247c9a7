//! The outputs of one command run for several clusters, put together: text one after the other, one
//! JSON document, one JUnit document; and the worst exit code.

use std::fmt::Write;
use std::future::Future;

use serde_json::{Value, json};

use super::Run;
use crate::commands::{CommandError, EXIT_ERROR, render_error};
use crate::report::escape;

/// How a command's outputs of several clusters are put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One after the other under a `# cluster NAME (role)` line.
    Text,
    /// `{"clusters": [{"cluster", "role", "exitCode", "report"}]}`.
    Json,
    /// One `<testsuites>` document holding every cluster's suites, named after their cluster.
    Junit,
    /// Graphviz / Mermaid: one after the other under a comment line.
    Comment(&'static str),
}

/// What a comparison of the clusters' results adds after their outputs ([`each_with`]).
#[derive(Debug, Clone)]
pub struct Epilogue {
    /// Its exit code, folded into the worst.
    pub code: i32,
    /// Printed after the clusters' text outputs.
    pub text: String,
    /// A key next to `clusters` in the JSON document.
    pub json: (&'static str, Value),
    /// `<testsuite>` elements added to the JUnit document.
    pub junit: String,
}

/// A run and what it handed back (`None` when it failed).
#[derive(Debug)]
pub struct Done<T> {
    pub run: Run,
    pub value: Option<T>,
}

/// Runs `one` for every run, in order; a failing cluster does not stop the others. Returns the worst exit
/// code. An unnamed run behaves as the command did before clusters: its output as it is, its error
/// returned.
///
/// # Errors
/// The error of an unnamed run.
pub async fn each<F, Fut>(runs: Vec<Run>, format: Format, mut one: F) -> Result<i32, CommandError>
where
    F: FnMut(Run) -> Fut,
    Fut: Future<Output = Result<(i32, String), CommandError>>,
{
    let with_unit = |run| {
        let fut = one(run);
        async move { fut.await.map(|(code, out)| (code, out, ())) }
    };
    each_with(runs, format, with_unit, |_: Vec<Done<()>>| None).await
}

/// [`each`], where each run also hands back a value, and `after` turns the values of the named runs
/// into an [`Epilogue`] (drift compares the clusters with each other).
///
/// # Errors
/// The error of an unnamed run.
pub async fn each_with<T, F, Fut, A>(
    runs: Vec<Run>,
    format: Format,
    mut one: F,
    after: A,
) -> Result<i32, CommandError>
where
    F: FnMut(Run) -> Fut,
    Fut: Future<Output = Result<(i32, String, T), CommandError>>,
    A: FnOnce(Vec<Done<T>>) -> Option<Epilogue>,
{
    if let [run] = runs.as_slice()
        && run.name.is_none()
    {
        let (code, out, _) = one(run.clone()).await?;
        print!("{out}");
        return Ok(code);
    }
    let mut worst = 0;
    let mut parts = Vec::new();
    let mut done = Vec::new();
    for run in runs {
        let name = run.name.clone().unwrap_or_default();
        let role = run
            .spec
            .as_ref()
            .map_or_else(String::new, |s| s.role.describe());
        eprintln!("cluster {name}: {role}");
        let (code, out, error, value) = match one(run.clone()).await {
            Ok((code, out, value)) => (code, out, None, Some(value)),
            Err(e) => {
                let message = render_error(e.as_ref());
                eprintln!("error: cluster {name}: {message}");
                (EXIT_ERROR, String::new(), Some(message), None)
            }
        };
        done.push(Done { run, value });
        worst = worst.max(code);
        match format {
            Format::Text => print!("# cluster {name} ({role})\n{out}"),
            Format::Comment(mark) => print!("{mark} cluster {name} ({role})\n{out}"),
            Format::Json | Format::Junit => parts.push((name, role, code, out, error)),
        }
    }
    let epilogue = after(done);
    if let Some(e) = &epilogue {
        worst = worst.max(e.code);
    }
    match format {
        Format::Json => {
            let clusters: Vec<Value> = parts
                .into_iter()
                .map(|(name, role, code, out, error)| {
                    let report = serde_json::from_str::<Value>(&out).unwrap_or(Value::Null);
                    let mut v =
                        json!({"cluster": name, "role": role, "exitCode": code, "report": report});
                    if let Some(e) = error {
                        v["error"] = Value::String(e);
                    }
                    v
                })
                .collect();
            let mut doc = json!({ "clusters": clusters });
            if let Some(Epilogue {
                json: (key, value), ..
            }) = epilogue
            {
                doc[key] = value;
            }
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Junit => {
            let extra = epilogue.map(|e| e.junit).unwrap_or_default();
            print!("{}", junit(&parts, &extra));
        }
        Format::Text => {
            if let Some(e) = epilogue {
                print!("{}", e.text);
            }
        }
        Format::Comment(_) => {}
    }
    Ok(worst)
}

type Part = (String, String, i32, String, Option<String>);

/// The `<testsuite>` elements of every cluster's document in one `<testsuites>`, each suite's name
/// prefixed with its cluster; a cluster that failed to run is a suite with one error; then `extra`
/// suites.
fn junit(parts: &[Part], extra: &str) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rekube\">\n");
    for (name, _, _, doc, error) in parts {
        if let Some(e) = error {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase name=\"{}\"><error message=\"{}\"/></testcase>\n  </testsuite>",
                escape(name),
                escape(name),
                escape(e)
            );
            continue;
        }
        let mut rest = doc.as_str();
        while let Some(start) = rest.find("<testsuite ") {
            let Some(len) = rest[start..].find("</testsuite>") else {
                break;
            };
            let end = start + len + "</testsuite>".len();
            let suite = rest[start..end].replacen(
                "<testsuite name=\"",
                &format!("<testsuite name=\"{}: ", escape(name)),
                1,
            );
            let _ = writeln!(out, "  {suite}");
            rest = &rest[end..];
        }
    }
    out.push_str(extra);
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_suites_of_clusters_go_in_one_document() {
        let doc = "<?xml version=\"1.0\"?>\n<testsuites name=\"rekube drift\">\n  <testsuite name=\"drift inv\" tests=\"1\">\n    <testcase name=\"a\"/>\n  </testsuite>\n</testsuites>\n";
        let parts = vec![
            ("eu".into(), "primary".into(), 0, doc.to_string(), None),
            (
                "us".into(),
                "standby".into(),
                2,
                String::new(),
                Some("no <route>".into()),
            ),
        ];
        let out = junit(&parts, "");
        assert!(
            out.contains("<testsuite name=\"eu: drift inv\" tests=\"1\">"),
            "{out}"
        );
        assert!(
            out.contains("<error message=\"no &lt;route&gt;\"/>"),
            "{out}"
        );
        assert_eq!(out.matches("<testsuites").count(), 1, "{out}");
    }
}
