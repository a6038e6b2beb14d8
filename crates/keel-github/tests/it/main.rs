//! Publishing against a local server that follows GitHub's documented behaviour (drafts,
//! pagination, `starter` assets, `already_exists`, rate limits, immutable releases), with a
//! fault injected into each run; each ends in a complete published release or a draft that
//! the next run completes.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::time::Duration;

use keel_github::{Client, Error, LocalFile, Publication, Published, Repo, Retry, Token};
use keel_test::github::{Fault, GithubServer};

const TOKEN: &str = "ghp_test_token_never_shown";

struct Fixture {
    server: GithubServer,
    dir: tempfile::TempDir,
    files: Vec<LocalFile>,
    repo: Repo,
}

impl Fixture {
    /// A server and a release of `count` files.
    fn new(count: usize) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let files = (0..count)
            .map(|i| {
                let name = format!("app-1.0.0-file{i}.tar.gz");
                let data = format!("file {i}\n").repeat(1000 + i * 10);
                let path = dir.path().join(&name);
                fs_err::write(&path, &data).unwrap();
                LocalFile {
                    name,
                    path,
                    size: data.len() as u64,
                    sha256: keel_verify::sha256_bytes(data.as_bytes()).to_hex(),
                }
            })
            .collect();
        Fixture {
            server: GithubServer::start(TOKEN),
            dir,
            files,
            repo: Repo::parse("keel-rs/demo").unwrap(),
        }
    }

    fn client(&self, token: &str) -> Client {
        Client::new(&self.server.api_url(), Token::new(token.into())).with_retry(Retry {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            max_wait: Duration::from_secs(5),
        })
    }

    fn publication(&self, tag: &'static str) -> Publication<'_> {
        Publication {
            repo: &self.repo,
            tag,
            title: "demo 1.0.0",
            notes: "## Install\n...",
            prerelease: tag.contains('-'),
            commit: Some("0123abc"),
            files: &self.files,
            replace: false,
            dry_run: false,
        }
    }

    fn publish(&self, publication: &Publication<'_>) -> Result<Published, Error> {
        keel_github::publish(&self.client(TOKEN), publication)
    }

    /// The release on the server must be published, whole, with the notes.
    #[track_caller]
    fn assert_published_whole(&self, tag: &str) {
        let state = self.server.state();
        // A fault the server never injected would let its test pass without the fault.
        assert!(
            state.faults.is_empty(),
            "faults never injected: {:?}",
            state.faults
        );
        let releases: Vec<_> = state.releases.iter().filter(|r| r.tag == tag).collect();
        assert_eq!(releases.len(), 1, "one release per tag");
        let release = releases[0];
        assert!(!release.draft, "still a draft");
        assert_eq!(release.body.as_deref(), Some("## Install\n..."));
        assert_eq!(
            release.assets.len(),
            self.files.len(),
            "{:?}",
            release.assets
        );
        for file in &self.files {
            let asset = release.assets.iter().find(|a| a.name == file.name).unwrap();
            assert_eq!(asset.state, "uploaded");
            assert_eq!(
                asset.data,
                fs_err::read(&file.path).unwrap(),
                "{}",
                file.name
            );
        }
    }
}

#[test]
fn a_release_is_drafted_filled_and_published_and_a_rerun_changes_nothing() {
    let fx = Fixture::new(7);
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(done.created);
    assert_eq!(done.uploaded.len(), 7);
    fx.assert_published_whole("v1.0.0");
    {
        let state = fx.server.state();
        let release = &state.releases[0];
        assert_eq!(release.make_latest.as_deref(), Some("true"));
        assert!(release.immutable && !release.prerelease);
        // Pages of three: the asset list was read page by page.
        let pages = state
            .requests
            .iter()
            .filter(|r| r.starts_with("GET") && r.ends_with("/assets"))
            .count();
        assert!(pages >= 3, "{:?}", state.requests);
    }
    let before = fx.server.state().requests.len();
    let again = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(again.already_published && again.uploaded.is_empty());
    let state = fx.server.state();
    assert!(
        state.requests[before..]
            .iter()
            .all(|r| r.starts_with("GET")),
        "the re-run changed something: {:?}",
        &state.requests[before..]
    );
}

#[test]
fn an_upload_cut_short_leaves_a_starter_asset_that_is_deleted_before_the_retry() {
    let fx = Fixture::new(4);
    fx.server
        .inject(Fault::UploadCut("app-1.0.0-file2.tar.gz".into()));
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert_eq!(done.cleaned, ["app-1.0.0-file2.tar.gz"]);
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_lost_answer_and_a_duplicate_name_do_not_duplicate_the_asset() {
    let fx = Fixture::new(3);
    fx.server
        .inject(Fault::AnswerLost("app-1.0.0-file1.tar.gz".into()));
    fx.publish(&fx.publication("v1.0.0")).unwrap();
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_duplicate_name_answered_422_is_recognised_as_the_same_file() {
    let fx = Fixture::new(3);
    fx.server
        .inject(Fault::Duplicate("app-1.0.0-file0.tar.gz".into()));
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(done.cleaned.is_empty(), "{done:?}");
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn publishers_racing_for_a_tag_go_on_with_one_draft() {
    let fx = Fixture::new(3);
    // Another publisher's draft for the tag appears just before keel's.
    fx.server.inject(Fault::RivalDraft);
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(!done.created, "keel kept its own draft beside the other");
    assert!(
        done.requests.iter().any(|r| r.contains("(a second draft)")),
        "{:?}",
        done.requests
    );
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_tag_another_publisher_published_first_is_checked_and_the_draft_dropped() {
    let fx = Fixture::new(3);
    // Just before keel publishes, another publisher publishes the same files.
    fx.server.inject(Fault::RivalPublished);
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(done.already_published, "{done:?}");
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_server_error_is_retried() {
    let fx = Fixture::new(2);
    fx.server.inject(Fault::ServerError);
    fx.publish(&fx.publication("v1.0.0")).unwrap();
    fx.assert_published_whole("v1.0.0");
    let state = fx.server.state();
    // The failed request was sent again: its line appears twice in a row.
    let repeated = state.requests.windows(2).any(|pair| pair[0] == pair[1]);
    assert!(repeated, "{:?}", state.requests);
}

#[test]
fn a_secondary_rate_limit_is_waited_out() {
    let fx = Fixture::new(2);
    fx.server.inject(Fault::RateLimit);
    let started = std::time::Instant::now();
    fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn an_interrupted_run_leaves_a_draft_that_the_next_run_completes() {
    let fx = Fixture::new(5);
    // Every attempt at one upload is cut: the run gives up with a draft.
    for _ in 0..3 {
        fx.server
            .inject(Fault::UploadCut("app-1.0.0-file3.tar.gz".into()));
    }
    let err = fx.publish(&fx.publication("v1.0.0")).unwrap_err();
    assert!(matches!(err, Error::GaveUp { .. }), "{err}");
    {
        let state = fx.server.state();
        assert!(
            state.releases[0].draft,
            "an incomplete release was published"
        );
    }
    let done = fx.publish(&fx.publication("v1.0.0")).unwrap();
    assert!(!done.created);
    assert!(done.skipped.len() >= 3, "{done:?}");
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_published_immutable_release_is_never_changed() {
    let mut fx = Fixture::new(2);
    fx.publish(&fx.publication("v1.0.0")).unwrap();
    // A file the release does not have: it cannot be added.
    let extra = fx.dir.path().join("late.txt");
    fs_err::write(&extra, "late\n").unwrap();
    fx.files.push(LocalFile {
        name: "late.txt".into(),
        path: extra,
        size: 5,
        sha256: keel_verify::sha256_bytes(b"late\n").to_hex(),
    });
    let err = fx.publish(&fx.publication("v1.0.0")).unwrap_err();
    assert!(matches!(err, Error::Immutable { .. }), "{err}");
    assert!(err.to_string().contains("late.txt"), "{err}");
    // A file that differs cannot be replaced, even with --replace.
    fx.files.pop();
    fs_err::write(&fx.files[0].path, "changed").unwrap();
    fx.files[0].size = 7;
    fx.files[0].sha256 = keel_verify::sha256_bytes(b"changed").to_hex();
    let mut publication = fx.publication("v1.0.0");
    publication.replace = true;
    let err = fx.publish(&publication).unwrap_err();
    assert!(matches!(err, Error::Immutable { .. }), "{err}");
    assert_eq!(fx.server.state().releases[0].assets.len(), 2);
}

#[test]
fn a_published_release_is_never_changed_even_when_github_would_allow_it() {
    let fx = Fixture::new(2);
    fx.server.state().immutable_releases = false;
    fx.publish(&fx.publication("v1.0.0")).unwrap();
    let before = fx.server.state().releases[0].assets[0].data.clone();
    fs_err::write(&fx.files[0].path, "changed").unwrap();
    let mut files = fx.files.clone();
    files[0].size = 7;
    files[0].sha256 = keel_verify::sha256_bytes(b"changed").to_hex();
    for replace in [false, true] {
        let mut publication = fx.publication("v1.0.0");
        publication.files = &files;
        publication.replace = replace;
        let err = fx.publish(&publication).unwrap_err();
        assert!(matches!(err, Error::PublishedDiffers { .. }), "{err}");
        assert!(err.to_string().contains("app-1.0.0-file0.tar.gz"), "{err}");
    }
    let state = fx.server.state();
    assert!(!state.releases[0].immutable, "the release was not mutable");
    assert_eq!(state.releases[0].assets[0].data, before);
    assert!(
        state.requests.iter().all(|r| !r.starts_with("DELETE")),
        "{:?}",
        state.requests
    );
}

#[test]
fn a_draft_with_a_different_file_needs_replace() {
    let fx = Fixture::new(2);
    // A draft someone started with another file under the same name.
    for _ in 0..3 {
        fx.server
            .inject(Fault::UploadCut("app-1.0.0-file1.tar.gz".into()));
    }
    fx.publish(&fx.publication("v1.0.0")).unwrap_err();
    {
        let mut state = fx.server.state();
        let asset = &mut state.releases[0].assets[0];
        asset.data = b"something else".to_vec();
    }
    let err = fx.publish(&fx.publication("v1.0.0")).unwrap_err();
    assert!(matches!(err, Error::Differs { .. }), "{err}");
    let mut publication = fx.publication("v1.0.0");
    publication.replace = true;
    let done = fx.publish(&publication).unwrap();
    assert_eq!(done.replaced, ["app-1.0.0-file0.tar.gz"]);
    fx.assert_published_whole("v1.0.0");
}

#[test]
fn a_pre_release_never_becomes_the_latest() {
    let fx = Fixture::new(1);
    fx.publish(&fx.publication("v1.1.0-rc.1")).unwrap();
    let state = fx.server.state();
    let release = &state.releases[0];
    assert!(release.prerelease);
    assert_eq!(release.make_latest.as_deref(), Some("false"));
}

#[test]
fn an_expired_token_is_refused_and_never_shown() {
    let fx = Fixture::new(1);
    let err =
        keel_github::publish(&fx.client("ghp_expired"), &fx.publication("v1.0.0")).unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{err}"
    );
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("ghp_expired") && !shown.contains(TOKEN),
        "{shown}"
    );
    // The hint ("check that GITHUB_TOKEN ...") is the binary's: tests/it/github.rs in keel.
    assert!(fx.server.state().releases.is_empty());
}

#[test]
fn a_dry_run_only_reads() {
    let fx = Fixture::new(2);
    let mut publication = fx.publication("v1.0.0");
    publication.dry_run = true;
    let done = fx.publish(&publication).unwrap();
    assert_eq!(done.requests.len(), 4, "{:?}", done.requests);
    assert!(done.requests[0].starts_with("POST /repos/keel-rs/demo/releases"));
    let state = fx.server.state();
    assert!(state.releases.is_empty());
    assert!(
        state.requests.iter().all(|r| r.starts_with("GET")),
        "{:?}",
        state.requests
    );
}
