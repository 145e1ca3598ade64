//! What every command shares: its exit codes, its failure type, and the
//! default paths of its arguments.

use crate::model::error::Error;

/// Default watchlist: the demo brand.
pub const DEFAULT_WATCHLIST: &str = "watchlists/demo.toml";
/// Default recording: the seeds shipped with knockoff.
pub const DEFAULT_RECORDING: &str = "seeds";
/// Default data folder.
pub const DEFAULT_DATA_DIR: &str = "knockoff-data";

/// Process exit codes (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The command completed (a scan may still have met bad pages: see its summary).
    Ok = 0,
    /// A runtime failure: the store or index could not be written, an output failed.
    Failure = 1,
    /// Bad usage or input: arguments, watchlist, recording, config, unknown host.
    Usage = 2,
    /// A scan read no page at all (everything failed or was blocked).
    NothingRead = 3,
}

/// Maps an error to its exit code: input problems are usage errors.
pub fn exit_code_for(e: &Error) -> ExitCode {
    match e {
        Error::Watchlist { .. }
        | Error::Recording { .. }
        | Error::Config { .. }
        | Error::Url { .. }
        | Error::UnknownHost { .. }
        | Error::Input { .. } => ExitCode::Usage,
        _ => ExitCode::Failure,
    }
}

/// A command's failure: a library error, or stdout closed by the reader.
pub enum CliError {
    Knockoff(Error),
    BrokenPipe,
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Knockoff(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Knockoff(Error::io("<stdout>", e))
        }
    }
}

pub type CliResult = std::result::Result<ExitCode, CliError>;
