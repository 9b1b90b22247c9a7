//! `rekube init [PATH]`: write a `rekube.yaml` from the folders found (layers, namespaces, charts,
//! overlays) for the user to edit; print it. Exit 0, or 2 when one exists (without `--force`) or nothing
//! was found.

use crate::cli::InitArgs;
use crate::manifest::init::{InitOptions, write};

use super::{CommandError, EXIT_OK};

pub async fn run(args: InitArgs) -> Result<i32, CommandError> {
    let text = write(&args.path, &InitOptions { force: args.force })?;
    print!("{text}");
    eprintln!(
        "wrote {}: check it, then `rekube plan {}`",
        args.path
            .join(crate::manifest::layers::CONFIG_FILE)
            .display(),
        args.path.display()
    );
    Ok(EXIT_OK)
}
