//! What the forge stand-ins (a GitHub and a GitLab API on the test server of
//! `support::http`) share: scripted one-shot faults, paging, comment body files.

use std::sync::Mutex;

pub use super::http::{Reply, Request, Server};

/// Scripted failures served before the normal answer: each matches a method and a
/// path prefix and is used once.
#[derive(Default)]
pub struct Faults(Mutex<Vec<(String, String, Reply)>>);

impl Faults {
    pub fn push(&self, method: &str, path_prefix: &str, reply: Reply) {
        self.0
            .lock()
            .unwrap()
            .push((method.into(), path_prefix.into(), reply));
    }

    pub fn take(&self, r: &Request) -> Option<Reply> {
        let mut faults = self.0.lock().unwrap();
        let i = faults
            .iter()
            .position(|(m, p, _)| *m == r.method && r.path.starts_with(p.as_str()))?;
        Some(faults.remove(i).2)
    }
}

/// The page size the fakes use, whatever `per_page` says, so a handful of comments
/// already spans several pages.
pub const PAGE: usize = 2;

/// `page` query parameter, 1 when absent.
pub fn page_of(path: &str) -> usize {
    path.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The same URL at another page.
pub fn with_page(base: &str, path: &str, page: usize) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = q
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .collect();
    let page = format!("page={page}");
    params.push(&page);
    format!("{base}{p}?{}", params.join("&"))
}

/// Writes a comment body for `layergate comment FILE` and gives its path.
pub fn body_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}
