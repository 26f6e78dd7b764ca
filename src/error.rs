//! Typed errors. Each kind maps to one documented exit code (README "Exit codes").

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flag or bad input: nothing was changed.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    /// Refused for safety (file changed, block altered, lock held, confirmation needed).
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },

    /// Applying the plan failed; every file already written was restored.
    #[error("{}", crate::msg!("apply-failed-rolled-back", message = .message))]
    ApplyFailed { message: String },

    /// An I/O error on a named file, outside of apply.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn refused(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Refused {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => 2,
            Error::Refused { .. } => 3,
            Error::ApplyFailed { .. } => 4,
            // A full disk is a failed apply wherever it strikes (state dir, cache, target).
            Error::Io { source, .. } if is_full(source) => 4,
            Error::Io { .. } | Error::Internal(_) => 5,
        }
    }

    /// The error document's `kind` (`../shared/docs/cli.md`, "Additions"), one per exit code.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage { .. } => "bad-input",
            Error::Refused { .. } => "refused",
            Error::ApplyFailed { .. } => "rolled-back",
            // Exit 4 like a failed apply (see `exit_code`).
            Error::Io { source, .. } if is_full(source) => "rolled-back",
            Error::Io { .. } | Error::Internal(_) => "internal",
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { hint, .. } | Error::Refused { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// No space left (or the quota reached).
pub fn is_full(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    let full = [libc::ENOSPC, libc::EDQUOT];
    // ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL, ERROR_DISK_QUOTA_EXCEEDED
    #[cfg(windows)]
    let full = [39, 112, 1295];
    error
        .raw_os_error()
        .is_some_and(|code| full.contains(&code))
}
