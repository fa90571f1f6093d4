//! One retry engine for every HTTP edge: the registry client's pulls and the
//! forge publisher's comment calls wait, back off and give up by the same rules.
//! An attempt says whether its failure is worth another try and, when the server
//! named one (`Retry-After`, a rate-limit reset), how long to wait; the engine bounds
//! both the number of attempts and every single wait, so a silent or throttling
//! server ends in an error, never a hang.

use std::future::Future;
use std::time::Duration;

/// Shortens the first backoff, in milliseconds (tests use a few).
pub(crate) const BACKOFF_ENV: &str = "LAYERGATE_HTTP_BACKOFF_MS";

/// How often to try and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub(crate) attempts: u32,
    /// The wait after the first failure; doubles after each further one.
    pub(crate) base: Duration,
    /// No backoff of ours waits longer than this.
    pub(crate) cap: Duration,
    /// A wait the server asks for beyond this (a rate limit resetting in an hour) is
    /// not worth blocking CI for: give up instead.
    pub(crate) max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_server_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The default policy, with the first backoff from [`BACKOFF_ENV`] when `get`
    /// (an environment lookup) has it; a value that is not a whole number of
    /// milliseconds (up to ten minutes) is an error naming the variable.
    pub(crate) fn from_env(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::environment::SettingError> {
        let mut policy = RetryPolicy::default();
        if let Some(raw) = get(BACKOFF_ENV).filter(|v| !v.is_empty()) {
            let ms = crate::environment::whole(BACKOFF_ENV, &raw, "milliseconds", 0..=600_000)?;
            policy.base = Duration::from_millis(ms);
        }
        Ok(policy)
    }

    /// The process environment's policy.
    pub fn from_process() -> Result<Self, crate::environment::SettingError> {
        RetryPolicy::from_env(|k| std::env::var(k).ok())
    }

    /// Our own wait after the `n`th failed attempt (1-based): base, 2×base, … capped.
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.cap)
    }

    /// The wait before the next attempt after the `n`th failed one, or `None` to give
    /// up: the attempts are spent, or the server asked for more than we wait.
    pub(crate) fn wait(&self, n: u32, server: Option<Duration>) -> Option<Duration> {
        if n >= self.attempts {
            return None;
        }
        match server {
            Some(w) if w > self.max_server_wait => None,
            Some(w) => Some(w),
            None => Some(self.backoff(n)),
        }
    }
}

/// What one attempt gave.
pub(crate) enum Attempt<T, E> {
    Done(T),
    /// Worth another try (429, 5xx, a dropped connection, a timeout); `wait` is the
    /// server's own hint, when it gave one.
    Transient {
        error: E,
        wait: Option<Duration>,
    },
    /// Final: retrying cannot help (401, 404, a malformed answer).
    Fatal(E),
}

/// Why [`run`] stopped without a result.
#[derive(Debug)]
pub(crate) struct Failed<E> {
    pub error: E,
    /// Attempts made, the last included.
    pub attempts: u32,
    /// Whether the last failure was transient (the retries ran out) or final.
    #[cfg_attr(not(test), allow(dead_code))] // read by the retry tests
    pub(crate) transient: bool,
}

/// Runs `attempt` until it is done, fails for good, or the policy gives up.
pub(crate) async fn run<T, E, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, Failed<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match attempt().await {
            Attempt::Done(v) => return Ok(v),
            Attempt::Fatal(error) => {
                return Err(Failed {
                    error,
                    attempts: n,
                    transient: false,
                })
            }
            Attempt::Transient { error, wait } => match policy.wait(n, wait) {
                Some(w) => tokio::time::sleep(w).await,
                None => {
                    return Err(Failed {
                        error,
                        attempts: n,
                        transient: true,
                    })
                }
            },
        }
    }
}

/// `Retry-After` in seconds; the HTTP-date form is left to our own backoff.
pub(crate) fn retry_after_secs(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_server_wait: Duration::from_secs(60),
        }
    }

    /// Backoff doubles and stays bounded however many failures came before.
    #[test]
    fn backoff_doubles_and_stays_bounded() {
        let p = policy();
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(40), Duration::from_secs(1));
    }

    /// The server's wait is obeyed to the second; attempts end the loop.
    #[test]
    fn server_waits_are_obeyed_and_attempts_end() {
        let p = policy();
        assert_eq!(
            p.wait(1, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(p.wait(2, None), Some(Duration::from_millis(200)));
        assert_eq!(p.wait(3, None), None);
    }

    /// A reset an hour away is not waited for: CI would hang.
    #[test]
    fn waits_beyond_the_cap_give_up() {
        assert_eq!(policy().wait(1, Some(Duration::from_secs(3600))), None);
    }

    #[test]
    fn backoff_base_comes_from_the_environment() {
        let p = RetryPolicy::from_env(|k| (k == BACKOFF_ENV).then(|| "10".to_string())).unwrap();
        assert_eq!(p.base, Duration::from_millis(10));
        assert_eq!(
            RetryPolicy::from_env(|_| None::<String>).unwrap(),
            RetryPolicy::default()
        );
        for bad in ["abc", "-1", "1.5", "600001"] {
            let e =
                RetryPolicy::from_env(|k| (k == BACKOFF_ENV).then(|| bad.to_string())).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("LAYERGATE_HTTP_BACKOFF_MS: bad value"),
                "{e}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_ignores_dates() {
        assert_eq!(retry_after_secs(" 2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after_secs("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    /// Transient failures are retried until done; fatal ones stop at once.
    #[test]
    fn run_retries_transient_failures_only() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let p = RetryPolicy {
            base: Duration::from_millis(1),
            ..policy()
        };
        let mut calls = 0;
        let got: Result<u32, Failed<&str>> = rt.block_on(run(&p, || {
            calls += 1;
            let c = calls;
            async move {
                if c < 3 {
                    Attempt::Transient {
                        error: "502",
                        wait: None,
                    }
                } else {
                    Attempt::Done(c)
                }
            }
        }));
        assert_eq!(got.unwrap(), 3);
        let failed: Failed<&str> = rt
            .block_on(run(&p, || async { Attempt::<(), _>::Fatal("404") }))
            .unwrap_err();
        assert_eq!(
            (failed.error, failed.attempts, failed.transient),
            ("404", 1, false)
        );
    }
}
