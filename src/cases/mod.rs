//! Complaint cases: states and their history, platform deadlines in
//! business days, and the `knockoff cases` command.

use crate::cli::CliResult;
use std::io::Write;
use std::path::PathBuf;

/// `knockoff cases` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct CasesArgs {
    /// Data folder.
    #[arg(long, default_value = crate::cli::DEFAULT_DATA_DIR)]
    pub data: PathBuf,
}

/// Runs `knockoff cases`.
pub fn run(args: CasesArgs, out: &mut dyn Write) -> CliResult {
    let _ = (args, out);
    Err(crate::Error::Other("cases are not built yet".into()).into())
}
