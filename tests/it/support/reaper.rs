//! Nothing a test starts outlives the test binary. Servers and engines kept for a whole
//! module live in statics, whose destructors never run, and a test that fails or is
//! interrupted may never reach its own cleanup; so each thing a test starts registers a
//! shell command that undoes it with a watchdog: a small shell process whose standard input
//! is a pipe only this test binary holds. When the binary exits, however it exits, the pipe
//! closes and the watchdog runs every command still registered, newest first. A guard
//! dropped in time unregisters its command, so a normal stop is not repeated at exit.
//!
//! Every process a test starts carries [`MARKER`] in its command line (its temporary
//! directory's name), which is what `.ci/run` looks for after the suite.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The prefix of every temporary directory a started server or engine uses, so its
/// processes can be found by command line (`pgrep -f lgt-`).
pub const MARKER: &str = "lgt-";

/// Registered cleanups, kept by id; run in reverse order at EOF. The watchdog ignores
/// the signals a terminal sends its foreground group (it has its own group anyway), so an
/// interrupted run is cleaned up too.
const WATCHDOG: &str = r#"
trap '' INT HUP QUIT TERM
declare -A cmd
order=()
while IFS=' ' read -r op id rest; do
  case "$op" in
    add) cmd[$id]=$rest; order+=("$id") ;;
    del) unset "cmd[$id]" ;;
  esac
done
for ((i = ${#order[@]} - 1; i >= 0; i--)); do
  id=${order[i]}
  if [[ -v cmd[$id] ]]; then sh -c "${cmd[$id]}" >/dev/null 2>&1; fi
done
"#;

/// The watchdog and the write end of its pipe. It is never waited for: it must outlive
/// this process to do its work.
struct Watchdog {
    _child: Child,
    pipe: ChildStdin,
}

fn watchdog() -> &'static Mutex<Watchdog> {
    static W: OnceLock<Mutex<Watchdog>> = OnceLock::new();
    W.get_or_init(|| {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(WATCHDOG)
            .arg(format!("{MARKER}watchdog"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start the cleanup watchdog (bash)");
        // The pipe is close-on-exec: no other child inherits it, so it closes exactly
        // when this process ends.
        let pipe = child.stdin.take().expect("watchdog stdin");
        Mutex::new(Watchdog {
            _child: child,
            pipe,
        })
    })
}

/// A registered cleanup; dropping it unregisters the command (the owner has undone
/// what it started itself).
pub struct AtExit {
    id: u64,
}

/// Registers `command` (one line of `sh`) to run when the test binary exits, unless the
/// returned guard is dropped first.
pub fn at_exit(command: &str) -> AtExit {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    assert!(!command.contains('\n'), "one line: {command}");
    let id = NEXT.fetch_add(1, Ordering::SeqCst);
    let mut w = watchdog().lock().unwrap_or_else(|e| e.into_inner());
    writeln!(w.pipe, "add {id} {command}").expect("register with the cleanup watchdog");
    w.pipe.flush().expect("register with the cleanup watchdog");
    AtExit { id }
}

impl Drop for AtExit {
    fn drop(&mut self) {
        let mut w = watchdog().lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(w.pipe, "del {}", self.id);
        let _ = w.pipe.flush();
    }
}

/// One line of `sh` that stops process group `pgid`: SIGTERM, up to `grace` seconds for it
/// to go, then SIGKILL; `sudo` when the group runs as root and we do not. `/bin/kill`,
/// because dash's builtin `kill` refuses `-- -PGID`.
pub fn stop_group_command(pgid: u32, as_root: bool) -> String {
    let sudo = if as_root && !super::sys::is_root() {
        "sudo -n "
    } else {
        ""
    };
    format!(
        "{sudo}/bin/kill -TERM -- -{pgid} 2>/dev/null; i=0; \
         while {sudo}/bin/kill -0 -- -{pgid} 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; \
         {sudo}/bin/kill -KILL -- -{pgid} 2>/dev/null; true"
    )
}

/// Stops process group `pgid` now (see [`stop_group_command`]).
pub fn stop_group(pgid: u32, as_root: bool) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(stop_group_command(pgid, as_root))
        .status();
}
