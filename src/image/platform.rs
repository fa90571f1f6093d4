//! Platforms (`os/arch[/variant]`) and how an index entry is chosen for one.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Platform {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default, alias = "architecture")]
    pub(crate) architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) variant: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid platform {0:?}: expected OS/ARCH[/VARIANT], e.g. linux/arm64/v8")]
pub struct PlatformError(pub String);

impl Platform {
    pub fn parse(s: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: normalize_arch(arch).to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: normalize_arch(arch).to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(PlatformError(s.to_string())),
        }
    }

    /// The platform this binary runs on, in OCI spelling.
    pub(crate) fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: arch.into(),
            variant: None,
        }
    }

    /// The same platform with the architecture in OCI spelling (`x86_64` → `amd64`),
    /// so platforms read from different documents compare and print alike.
    pub(crate) fn normalized(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: normalize_arch(&self.architecture).to_string(),
            variant: self.variant.clone(),
        }
    }

    /// Whether two platforms name the same one: os, architecture and variant equal,
    /// arm64's implicit `v8` included (base and head of a multi-arch comparison
    /// are paired by this).
    pub(crate) fn same(&self, other: &Platform) -> bool {
        self.normalized().matches(other) && other.normalized().matches(self)
    }

    /// Whether an index entry's platform satisfies this request. A request without
    /// a variant accepts any variant; arm64's implicit variant is `v8`.
    pub(crate) fn matches(&self, candidate: &Platform) -> bool {
        if self.os != candidate.os || self.architecture != normalize_arch(&candidate.architecture) {
            return false;
        }
        match (&self.variant, &candidate.variant) {
            (None, _) => true,
            (Some(want), Some(have)) => want == have,
            (Some(want), None) => self.architecture == "arm64" && want == "v8",
        }
    }
}

fn normalize_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_is_optional_in_the_request() {
        let want = Platform::parse("linux/arm64").unwrap();
        let have = Platform::parse("linux/arm64/v8").unwrap();
        assert!(want.matches(&have));
        assert!(Platform::parse("linux/arm64/v8")
            .unwrap()
            .matches(&Platform::parse("linux/arm64").unwrap()));
        assert!(!Platform::parse("linux/arm/v7")
            .unwrap()
            .matches(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(!want.matches(&Platform::parse("linux/amd64").unwrap()));
    }

    /// Base and head platforms pair when they name one platform, whichever document
    /// spelled it (`x86_64`, arm64's implicit `v8`), and only then.
    #[test]
    fn same_platform_whatever_the_spelling() {
        let p = |s: &str| Platform::parse(s).unwrap();
        let raw = Platform {
            os: "linux".into(),
            architecture: "x86_64".into(),
            variant: None,
        };
        assert_eq!(raw.normalized(), p("linux/amd64"));
        assert!(raw.same(&p("linux/amd64")) && p("linux/amd64").same(&raw));
        assert!(p("linux/arm64").same(&p("linux/arm64/v8")));
        assert!(p("linux/arm64/v8").same(&p("linux/arm64")));
        assert!(!p("linux/arm64").same(&p("linux/arm64/v9")));
        assert!(!p("linux/arm/v7").same(&p("linux/arm/v6")));
        assert!(!p("linux/amd64").same(&p("windows/amd64")));
    }

    #[test]
    fn refuses_malformed_platforms() {
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}
