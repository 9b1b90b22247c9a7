//! `rekube plan`: load, validate and order the repository offline.

use crate::cli::PlanArgs;

use super::CommandError;

pub async fn run(_args: PlanArgs) -> Result<i32, CommandError> {
    Err("plan is being wired".into())
}
