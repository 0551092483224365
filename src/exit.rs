//! Process exit codes, documented in the README for cron jobs.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every input was processed.
    Success = 0,
    /// The run finished and published its dataset, but some input was rejected.
    Rejected = 1,
    /// Bad usage or a fatal error (e.g. unwritable output); nothing was published.
    Fatal = 2,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(ExitCode::Success as u8, 0);
        assert_eq!(ExitCode::Rejected as u8, 1);
        assert_eq!(ExitCode::Fatal as u8, 2);
    }
}
