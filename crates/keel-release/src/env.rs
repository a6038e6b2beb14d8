//! What a release takes from its environment, read once.

use keel_schema::env::{
    GITHUB_ACTIONS, GITHUB_REF, GITHUB_REF_NAME, GITHUB_REF_TYPE, GITHUB_REPOSITORY,
    GITHUB_RUN_ATTEMPT, GITHUB_RUN_ID, GITHUB_SERVER_URL, SOURCE_DATE_EPOCH, var,
};
use keel_sign::provenance::GithubRun;

/// The environment a release reads: `SOURCE_DATE_EPOCH` and, on GitHub Actions, the tag and
/// the run. Read once with [`ReleaseEnv::from_process`], or built by hand in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseEnv {
    /// `SOURCE_DATE_EPOCH`, as given.
    pub source_date_epoch: Option<String>,
    /// Whether this runs on GitHub Actions (`GITHUB_ACTIONS=true`).
    pub github_actions: bool,
    /// `GITHUB_REF_TYPE`.
    pub github_ref_type: Option<String>,
    /// `GITHUB_REF_NAME`.
    pub github_ref_name: Option<String>,
    /// `GITHUB_REF`.
    pub github_ref: Option<String>,
    /// `GITHUB_SERVER_URL`.
    pub github_server_url: Option<String>,
    /// `GITHUB_REPOSITORY`.
    pub github_repository: Option<String>,
    /// `GITHUB_RUN_ID`.
    pub github_run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`.
    pub github_run_attempt: Option<String>,
}

impl ReleaseEnv {
    /// Reads the process environment; empty variables count as unset.
    pub fn from_process() -> ReleaseEnv {
        ReleaseEnv {
            source_date_epoch: var(SOURCE_DATE_EPOCH).filter(|v| !v.trim().is_empty()),
            github_actions: var(GITHUB_ACTIONS).as_deref() == Some("true"),
            github_ref_type: var(GITHUB_REF_TYPE),
            github_ref_name: var(GITHUB_REF_NAME),
            github_ref: var(GITHUB_REF),
            github_server_url: var(GITHUB_SERVER_URL),
            github_repository: var(GITHUB_REPOSITORY),
            github_run_id: var(GITHUB_RUN_ID),
            github_run_attempt: var(GITHUB_RUN_ATTEMPT),
        }
    }

    /// The date a version not yet tagged gets (`YYYY-MM-DD`, UTC): `SOURCE_DATE_EPOCH`'s day,
    /// else today.
    pub fn today(&self) -> Result<String, crate::Error> {
        let seconds = match self.source_date_epoch()? {
            Some(seconds) => i64::try_from(seconds).unwrap_or(i64::MAX),
            None => jiff::Timestamp::now().as_second(),
        };
        Ok(keel_changelog::utc_date(seconds))
    }

    /// `SOURCE_DATE_EPOCH` as seconds: `None` when unset, an error when it is not a number.
    /// keel's one policy for it, for releases and for the dates `keel bump` writes alike.
    pub fn source_date_epoch(&self) -> Result<Option<u64>, crate::Error> {
        self.source_date_epoch
            .as_ref()
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|_| crate::Error::BadSourceDateEpoch {
                        value: value.clone(),
                    })
            })
            .transpose()
    }

    /// The tag GitHub Actions is running for, if it runs for a tag.
    pub fn tag(&self) -> Option<String> {
        if self.github_ref_type.as_deref() == Some("tag") {
            return self.github_ref_name.clone();
        }
        self.github_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/tags/"))
            .map(str::to_owned)
    }

    /// The GitHub Actions run, for the provenance.
    pub fn github_run(&self) -> Option<GithubRun> {
        if !self.github_actions {
            return None;
        }
        Some(GithubRun {
            server_url: self
                .github_server_url
                .clone()
                .unwrap_or_else(|| "https://github.com".into()),
            repository: self.github_repository.clone()?,
            run_id: self.github_run_id.clone()?,
            run_attempt: self
                .github_run_attempt
                .clone()
                .unwrap_or_else(|| "1".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_comes_from_a_tag_run_only() {
        let mut env = ReleaseEnv {
            github_ref_type: Some("branch".into()),
            github_ref_name: Some("main".into()),
            ..Default::default()
        };
        assert_eq!(env.tag(), None);
        env.github_ref_type = Some("tag".into());
        env.github_ref_name = Some("v1.2.3".into());
        assert_eq!(env.tag().as_deref(), Some("v1.2.3"));
        let env = ReleaseEnv {
            github_ref: Some("refs/tags/app-v2.0.0".into()),
            ..Default::default()
        };
        assert_eq!(env.tag().as_deref(), Some("app-v2.0.0"));
    }

    #[test]
    fn a_run_needs_github_actions_and_its_ids() {
        let mut env = ReleaseEnv {
            github_repository: Some("o/r".into()),
            github_run_id: Some("7".into()),
            ..Default::default()
        };
        assert_eq!(env.github_run(), None);
        env.github_actions = true;
        let run = env.github_run().unwrap();
        assert_eq!(
            (run.server_url.as_str(), run.run_attempt.as_str()),
            ("https://github.com", "1")
        );
    }
}
