//! A real headless Chromium, driven over the DevTools protocol on pipes
//! (`--remote-debugging-pipe`: commands on fd 3, answers on fd 4, one JSON message
//! per NUL), so the tests need no websocket client and open no port. Each
//! [`Browser`] has its own fresh profile and its own process group, closed (then the group
//! killed) on drop, or when the test binary exits ([`super::reaper`]).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::reaper::{self, AtExit};

/// The names a Chromium goes by on PATH, in the order `.ci/run` accepts them.
const CHROMIUM: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];
/// Longest wait for one answer: far beyond a cold start on a busy two-core machine, so
/// only a hang reaches it.
const ANSWER: Duration = Duration::from_secs(180);

/// The first Chromium on PATH; Debian's `chromium` is installed (root or password-less
/// sudo) when there is none, otherwise the test fails with one line saying what to install.
pub fn chromium() -> PathBuf {
    let found = || CHROMIUM.iter().find(|c| super::sys::on_path(c));
    if found().is_none() {
        super::sys::install(&["chromium"], &["chromium"]);
    }
    let name = found().expect("a chromium on PATH");
    let out = Command::new("sh")
        .args(["-c", "command -v \"$0\""])
        .arg(name)
        .output()
        .expect("locate chromium");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: u64,
    /// Events that arrived while waiting for answers, per session.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
    _cleanup: AtExit,
}

impl Browser {
    pub fn launch() -> Browser {
        let exe = chromium();
        use std::os::unix::process::CommandExt;
        let profile = tempfile::Builder::new()
            .prefix(&format!("{}browser-", reaper::MARKER))
            .tempdir()
            .expect("profile dir");
        // The shell maps our stdin/stdout to the pipe descriptors Chromium expects.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 1>&2"#)
            .arg(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromium");
        let cleanup = reaper::at_exit(&reaper::stop_group_command(child.id(), false));
        let stdin = child.stdin.take().expect("chromium stdin");
        let stdout = child.stdout.take().expect("chromium stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(0, &mut buf) {
                if n == 0 {
                    break;
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Browser {
            child,
            stdin,
            rx,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
            _cleanup: cleanup,
        }
    }

    /// Sends one command and waits for its answer; a protocol error fails the test.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.stdin.write_all(&bytes).expect("write to chromium");
        self.stdin.flush().unwrap();
        let deadline = Instant::now() + ANSWER;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("chromium did not answer {method} in {ANSWER:?}"));
            if v.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(e) = v.get("error") {
                    panic!("chromium: {method} failed: {e}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Opens `url` in a new tab of `width`×`height` CSS pixels and waits until the
    /// page says it is drawn (`data-ready` on `<html>`).
    pub fn open(&mut self, url: &str, width: u32, height: u32) -> Page<'_> {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let mut page = Page {
            browser: self,
            session,
        };
        for m in ["Runtime.enable", "Page.enable", "Log.enable"] {
            page.call(m, json!({}));
        }
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        page.navigate(url);
        page
    }

    fn close(&mut self) {
        self.next_id += 1;
        let msg = json!({"id": self.next_id, "method": "Browser.close", "params": {}});
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        let _ = self.stdin.write_all(&bytes);
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Its helper processes (zygote, renderers, GPU) share the group.
        reaper::stop_group(self.child.id(), false);
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.close();
    }
}

/// One tab.
pub struct Page<'a> {
    browser: &'a mut Browser,
    session: String,
}

impl Page<'_> {
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.browser.call(Some(&s), method, params)
    }

    /// Navigates and waits for the page's `data-ready` mark.
    pub fn navigate(&mut self, url: &str) {
        let start = Instant::now();
        self.call("Page.navigate", json!({"url": url}));
        let deadline = start + ANSWER;
        loop {
            let ready = self.eval(
                "!!document.documentElement && document.documentElement.getAttribute('data-ready') === '1'",
            );
            if ready == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{url} was not drawn in {ANSWER:?}; errors: {:?}",
                self.errors()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Evaluates `expr` in the page and returns its value (JSON).
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("page threw evaluating {expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// A real mouse click at (x, y) in CSS pixels.
    pub fn click(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y);
        self.mouse("mousePressed", x, y);
        self.mouse("mouseReleased", x, y);
    }

    pub fn hover(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y);
    }

    fn mouse(&mut self, kind: &str, x: f64, y: f64) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
        );
    }

    /// Types `text` into the focused element (one `insertText`, which fires `input`).
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text}));
    }

    /// The centre of the first element matching `selector`.
    pub fn centre(&mut self, selector: &str) -> (f64, f64) {
        let sel = serde_json::to_string(selector).unwrap();
        let v = self.eval(&format!(
            "(() => {{ const r = document.querySelector({sel}).getBoundingClientRect(); \
             return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
    }

    /// Console errors, uncaught exceptions, failed loads and dialogs seen so far.
    pub fn errors(&mut self) -> Vec<String> {
        // A round trip makes sure events sent before now have arrived.
        self.eval("1");
        let session = self.session.clone();
        self.browser
            .events
            .iter()
            .filter(|e| e["sessionId"].as_str() == Some(session.as_str()))
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"].as_str() == Some("error") => {
                        Some(format!("log: {}", p["entry"]["text"]))
                    }
                    "Page.javascriptDialogOpening" => Some(format!("dialog: {}", p["message"])),
                    _ => None,
                }
            })
            .collect()
    }

    /// Writes a PNG of the viewport to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let png = self.png();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// A PNG of the viewport.
    pub fn png(&mut self) -> Vec<u8> {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
        base64_decode(r["data"].as_str().unwrap())
    }
}

/// Standard base64 (the screenshot's encoding), without a crate for it.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let k = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + k]);
    }
    out
}
