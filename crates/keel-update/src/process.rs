//! Knowing a process again. Its number alone is not enough: the system gives it to another
//! process once it ends, and after a reboot the journal's number may belong to anyone (keel
//! may run as root). So a hook's process is recorded with the boot it runs in and its start
//! time, and recovery signals it only when both still match.

use serde::{Deserialize, Serialize};

/// The boot a process runs in and its start time, as the system tells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Identity {
    /// The boot: Linux's `boot_id`, or the boot time elsewhere.
    pub boot: String,
    /// The process's start time in that boot.
    pub start: String,
}

/// The identity of the running process `pid`; `None` when it is gone or the system cannot say.
#[cfg(target_os = "linux")]
pub(crate) fn identity(pid: u32) -> Option<Identity> {
    let boot = fs_err::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = fs_err::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`: the name may hold spaces and parentheses, so fields are
    // counted after the last `)`; the start time is the 22nd field, the 20th after it.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(Identity {
        boot: boot.trim().to_owned(),
        start: start.to_owned(),
    })
}

/// The identity of the running process `pid` (`ps` and `sysctl`, as macOS and the BSDs have
/// them); `None` when it is gone or the system cannot say.
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) fn identity(pid: u32) -> Option<Identity> {
    let run = |program: &str, args: &[&str]| {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    Some(Identity {
        boot: run("sysctl", &["-n", "kern.boottime"])?,
        start: run("ps", &["-o", "lstart=", "-p", &pid.to_string()])?,
    })
}

#[cfg(not(unix))]
pub(crate) fn identity(_pid: u32) -> Option<Identity> {
    None
}

/// Kills the process group `group` (and waits, up to ten seconds, for it to be gone) when its
/// leader is still the process `recorded` names; signals nothing otherwise. Whether it was
/// signalled.
#[cfg(unix)]
pub(crate) fn stop_group(group: u32, recorded: Option<&Identity>) -> bool {
    use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
    let Some(pid) = i32::try_from(group).ok().and_then(Pid::from_raw) else {
        return false;
    };
    if recorded.is_none() || identity(group).as_ref() != recorded {
        return false;
    }
    if kill_process_group(pid, Signal::KILL).is_err() {
        return false; // Gone in between.
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while test_kill_process_group(pid).is_ok() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}

#[cfg(not(unix))]
pub(crate) fn stop_group(_group: u32, _recorded: Option<&Identity>) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::process::CommandExt;

    fn sleeper() -> std::process::Child {
        let mut command = std::process::Command::new("sleep");
        command.arg("30").process_group(0);
        command.spawn().unwrap()
    }

    fn alive(child: &mut std::process::Child) -> bool {
        child.try_wait().unwrap().is_none()
    }

    #[test]
    fn only_the_process_recorded_is_signalled() {
        let mut unrelated = sleeper();
        let pid = unrelated.id();
        let now = identity(pid).expect("a running process has an identity");
        assert_eq!(identity(pid), Some(now.clone()), "the identity is stable");
        // A journal from before keel recorded identities, another boot, another start.
        let other_boot = Identity {
            boot: "another-boot".into(),
            ..now.clone()
        };
        let other_start = Identity {
            start: "1".into(),
            ..now.clone()
        };
        for recorded in [None, Some(&other_boot), Some(&other_start)] {
            assert!(!stop_group(pid, recorded), "{recorded:?}");
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                alive(&mut unrelated),
                "{recorded:?}: an unrelated process was killed"
            );
        }
        assert!(stop_group(pid, Some(&now)));
        unrelated.wait().unwrap();
        assert_eq!(identity(pid), None, "a process that ended has none");
    }
}
