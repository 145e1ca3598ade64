//! The crate's error type: every variant names the file, URL or field it is about.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside knockoff.
///
/// Variants carry the thing they are about (path, URL, field) so that the
/// message alone tells a user what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at run time (a full disk, a store
    /// or export folder that cannot be written): exit code 1.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An input the user named could not be read (a watchlist, config,
    /// recording manifest, holiday list, page to parse, folder to
    /// verify): a usage error, exit code 2.
    #[error("{path}: {source}")]
    Input {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A watchlist could not be parsed or failed validation.
    #[error("{path}:{line}:{column}: field `{field}`: {message}")]
    Watchlist {
        path: PathBuf,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    /// A recording's manifest is malformed.
    #[error("{path}: {message}")]
    Recording { path: PathBuf, message: String },
    /// A config file is malformed.
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// A URL could not be parsed or used.
    #[error("{url}: {message}")]
    Url { url: String, message: String },
    /// Fetching a URL failed.
    #[error("fetching {url}: {message}")]
    Fetch { url: String, message: String },
    /// No marketplace parser knows this host.
    #[error("{url}: no marketplace parser for host `{host}` (known: aliexpress.com, alibaba.com, taobao.com, tmall.com, tmall.hk, 1688.com)")]
    UnknownHost { url: String, host: String },
    /// The sled store failed.
    #[error("store {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The tantivy index failed.
    #[error("index {path}: {message}")]
    Index { path: PathBuf, message: String },
    /// An image could not be decoded or hashed.
    #[error("image {source_name}: {message}")]
    Image {
        source_name: String,
        message: String,
    },
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Wraps an I/O error with the path it happened on (a runtime
    /// failure).
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps an I/O error on reading an input the user named (a usage
    /// error).
    pub fn input(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Input {
            path: path.into(),
            source,
        }
    }
}
