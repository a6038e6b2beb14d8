//! Checking an install: what `keel doctor` and an app's own `doctor` report.

use std::path::{Path, PathBuf};

use crate::AppHome;

/// The paths of `databases` that do not exist: a database the app creates at its first start,
/// or a mistyped path, of which every update would snapshot nothing. `keel install` warns
/// about them; [`AppHome::doctor`] reports them as problems.
pub fn missing_databases<P: AsRef<Path>>(databases: &[P]) -> Vec<PathBuf> {
    databases
        .iter()
        .map(AsRef::as_ref)
        .filter(|db| !db.exists())
        .map(Path::to_owned)
        .collect()
}

/// One check of an install and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorCheck {
    /// What was checked (`binary /usr/local/bin/app`).
    pub what: String,
    /// Why it failed; `None` when it holds.
    pub problem: Option<String>,
}

impl DoctorCheck {
    fn new(what: impl Into<String>, result: Result<(), String>) -> DoctorCheck {
        DoctorCheck {
            what: what.into(),
            problem: result.err(),
        }
    }

    /// Whether the check holds.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl serde::Serialize for DoctorCheck {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("DoctorCheck", 3)?;
        out.serialize_field("check", &self.what)?;
        out.serialize_field("ok", &self.ok())?;
        out.serialize_field("detail", &self.problem)?;
        out.end()
    }
}

/// The JSON shape of a [`DoctorCheck`].
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct DoctorCheckJson {
    /// What was checked.
    check: String,
    /// Whether it holds.
    ok: bool,
    /// Why it failed (`null` when it holds).
    detail: Option<String>,
}

impl schemars::JsonSchema for DoctorCheck {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DoctorCheck".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        DoctorCheckJson::json_schema(generator)
    }
}

/// Every check of an install: `keel doctor`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DoctorReport {
    /// The app.
    pub app: String,
    /// Whether every check holds.
    pub ok: bool,
    /// Each check (`{check, ok, detail}` in JSON).
    pub checks: Vec<DoctorCheck>,
}

impl DoctorReport {
    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok()).count()
    }
}

impl AppHome {
    /// [`AppHome::doctor`] as a report.
    pub fn doctor_report(&self) -> DoctorReport {
        let checks = self.doctor();
        DoctorReport {
            app: self.app().to_owned(),
            ok: checks.iter().all(DoctorCheck::ok),
            checks,
        }
    }

    /// Checks the install without changing anything: no interrupted transaction, a readable
    /// receipt, every binary as installed (sha256), a trusted root for the store, and every
    /// database there and passing SQLite's integrity check (a recorded database that does
    /// not exist is a problem: updates would snapshot nothing of it).
    pub fn doctor(&self) -> Vec<DoctorCheck> {
        let app = self.app();
        let mut checks = vec![DoctorCheck::new(
            "no interrupted update",
            if self.pending() {
                Err(format!(
                    "an update was interrupted: `keel recover --app {app}` settles it"
                ))
            } else {
                Ok(())
            },
        )];
        let receipt = match self.receipt() {
            Ok(Some(receipt)) => receipt,
            Ok(None) => {
                checks.push(DoctorCheck::new(
                    "receipt",
                    Err(format!("{app} is not installed")),
                ));
                return checks;
            }
            Err(err) => {
                checks.push(DoctorCheck::new("receipt", Err(err.with_causes())));
                return checks;
            }
        };
        checks.push(DoctorCheck::new(
            format!(
                "receipt: {} {} ({})",
                receipt.app, receipt.version, receipt.target
            ),
            Ok(()),
        ));
        for (name, sha) in &receipt.binaries {
            let path = Path::new(&receipt.bin_dir).join(name);
            let result = match keel_verify::sha256_file(&path) {
                Ok((digest, _)) if digest.to_hex() == *sha => Ok(()),
                Ok((digest, _)) => Err(format!(
                    "sha256 {digest}, installed as {sha}: it was changed since"
                )),
                Err(err) => Err(err.to_string()),
            };
            checks.push(DoctorCheck::new(
                format!("binary {}", path.display()),
                result,
            ));
        }
        if receipt.store_url.is_some() {
            let trusted = self
                .trusted_root(None)
                .map(|_| ())
                .map_err(|err| err.with_causes());
            checks.push(DoctorCheck::new("trusted metadata", trusted));
        } else {
            checks.push(DoctorCheck::new(
                "no store recorded (installed from a release's files): updates need a store URL",
                Ok(()),
            ));
        }
        for db in &receipt.databases {
            let result = if Path::new(db).exists() {
                crate::integrity_check(Path::new(db)).map_err(|e| e.to_string())
            } else {
                Err(format!(
                    "it does not exist, so updates snapshot nothing of it; if the app creates it at its first start, start the app once; else the path is wrong: correct it in `databases` of {} (no keel command changes it)",
                    self.receipt_path().display()
                ))
            };
            checks.push(DoctorCheck::new(format!("database {db}"), result));
        }
        checks
    }
}
