//! The JSON Schema of every command's `--format json` output (`keel schema --outputs`): each
//! command's outcome type, as the library that makes it defines it.

use schemars::JsonSchema;

/// What `keel update --format json` prints: the install is up to date, the update a dry run
/// would make, or the update made.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum UpdateOutput {
    UpToDate(keel_update::updater::UpToDate),
    DryRun(keel_update::updater::UpdatePlan),
    Updated(keel_update::updater::Updated),
}

/// What `keel ci check --format json` prints.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct CiOutputs {
    init: keel_release::pipeline::PipelineWritten,
    check: keel_release::pipeline::PipelineChecked,
    matrix: keel_ci::MatrixJson<'static>,
}

/// The output of each command with `--format json`, by command (`image build` is
/// `image_build`): one object, printed whole on standard output.
#[derive(JsonSchema)]
#[schemars(title = "keel --format json outputs")]
#[allow(dead_code)]
struct Outputs {
    init: keel_release::Initialized,
    plan: keel_plan::Plan,
    build: keel_release::BuiltBinaries,
    release: keel_release::Released,
    merge: keel_release::Released,
    keygen: keel_sign::files::KeyPairWritten,
    sign: keel_sign::files::FilesSigned,
    verify: keel_release::Verification,
    notes: keel_release::Notes,
    rehearse: keel_schema::rehearsal::Rehearsal,
    publish: keel_release::publish::Published,
    image_build: keel_release::ImagesBuilt<'static>,
    image_push: keel_release::PushedImages<'static>,
    image_login: keel_oci::registry::LoggedIn,
    store_init: keel_store::Initialized,
    store_refresh: keel_store::RefreshReport<'static>,
    install: keel_schema::receipt::Receipt,
    update: UpdateOutput,
    rollback: keel_update::updater::RolledBack,
    recover: keel_update::Recovered,
    doctor: keel_update::DoctorReport,
    ci: CiOutputs,
    bump: keel_version::ops::Bumped,
    changelog: keel_version::ops::ChangelogsUpdated,
    release_pr: keel_release::release_pr::ReleasePr,
}

/// The schema, as pretty JSON with a trailing newline.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Outputs);
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON Schema is plain JSON data");
    text.push('\n');
    text
}
