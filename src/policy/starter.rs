//! `layergate init`: a commented starter policy for one ecosystem. Pure: the text
//! is built here, the binary writes it (and refuses to overwrite a file).
//!
//! Every flavour shares the same skeleton (limits, growth, advice budgets) with
//! numbers a typical image of that ecosystem passes, and adds the caches and
//! package lists its package managers leave behind as forbidden paths.

use std::fmt;

/// The ecosystem a starter policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavour {
    Generic,
    Debian,
    Alpine,
    Python,
    Node,
    Java,
    Go,
}

impl Flavour {
    #[cfg(test)]
    pub(crate) const ALL: &'static [Flavour] = &[
        Flavour::Generic,
        Flavour::Debian,
        Flavour::Alpine,
        Flavour::Python,
        Flavour::Node,
        Flavour::Java,
        Flavour::Go,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Flavour::Generic => "generic",
            Flavour::Debian => "debian",
            Flavour::Alpine => "alpine",
            Flavour::Python => "python",
            Flavour::Node => "node",
            Flavour::Java => "java",
            Flavour::Go => "go",
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Paths every flavour forbids: scratch space and a repository's history.
const COMMON_FORBID: &str =
    "    - {glob: \"/tmp/**\", severity: warn}           # scratch space left by a build step
    - {glob: \"**/.git/**\", severity: warn}        # a repository's history copied in
";

const APT_FORBID: &str = "    - /var/lib/apt/lists/**                       # apt-get update's lists: rm -rf /var/lib/apt/lists/* in the same RUN
    - /var/cache/apt/archives/*.deb               # downloaded packages: apt-get clean in the same RUN
";

/// The flavour's own lines: forbidden paths, then budgets.
fn specifics(flavour: Flavour) -> (&'static str, &'static str) {
    match flavour {
        Flavour::Generic => (
            "",
            "    - {glob: \"/usr/share/doc/**\", max: 10MB, severity: warn}    # documentation nobody reads in a container\n",
        ),
        Flavour::Debian => (
            APT_FORBID,
            "    - {glob: \"/usr/share/doc/**\", max: 10MB, severity: warn}    # documentation: --no-install-recommends keeps it small
    - {glob: \"/usr/share/man/**\", max: 5MB, severity: warn}     # man pages
",
        ),
        Flavour::Alpine => (
            "    - /var/cache/apk/**                           # apk's cache: apk add --no-cache
    - /etc/apk/cache/**                           # apk's cache when /etc/apk/cache is set up
",
            "    - {glob: \"/usr/share/doc/**\", max: 5MB, severity: warn}     # documentation (the -doc packages)\n",
        ),
        Flavour::Python => (
            "    - \"**/.cache/pip/**\"                          # pip's cache: pip install --no-cache-dir
    - /var/lib/apt/lists/**                       # apt-get update's lists (Debian-based python images)
    - {glob: \"**/*.pyc\", severity: warn}          # compiled bytecode copied from the build context
",
            "    - {glob: \"/usr/local/lib/python3*/site-packages/**\", max: 300MB, severity: warn}    # installed packages\n",
        ),
        Flavour::Node => (
            "    - \"**/.npm/**\"                                # npm's cache: npm ci && npm cache clean --force
    - /usr/local/share/.cache/yarn/**             # yarn's cache: yarn cache clean in the same RUN
    - \"**/.cache/yarn/**\"                         # yarn's cache under a home directory
    - /var/lib/apt/lists/**                       # apt-get update's lists (Debian-based node images)
",
            "    - {glob: \"**/node_modules/**\", max: 300MB, severity: warn}  # dependencies: npm ci --omit=dev\n",
        ),
        Flavour::Java => (
            "    - \"**/.m2/repository/**\"                      # Maven's local repository: build in a builder stage
    - \"**/.gradle/caches/**\"                      # Gradle's caches: build in a builder stage
    - /var/lib/apt/lists/**                       # apt-get update's lists (Debian-based JDK images)
",
            "    - {glob: \"/app/**\", max: 200MB, severity: warn}             # the application's jars\n",
        ),
        Flavour::Go => (
            "    - \"**/go/pkg/mod/**\"                          # the module cache: build in a builder stage
    - \"**/.cache/go-build/**\"                     # the build cache: build in a builder stage
    - {glob: \"/usr/local/go/**\", severity: warn}  # the toolchain: copy only the binary into the final image
",
            "    - {glob: \"/usr/local/bin/**\", max: 100MB, severity: warn}   # the binaries\n",
        ),
    }
}

/// The starter policy for `flavour`, commented, ready to edit.
pub fn starter(flavour: Flavour) -> String {
    let (forbid, budgets) = specifics(flavour);
    format!(
        "\
# layergate policy ({flavour}), written by `layergate init --flavour {flavour}`.
# layergate reads .layergate.yml from the current directory; `--policy FILE` picks
# another. Reference: the Policy section of layergate's README.
#
# Sizes: 20MB (decimal), 20MiB (binary), 512kB or bytes. Percents: 5%.
# Every rule takes `severity: fail` (fails the run, exit 1) or `warn` (reported only);
# the shorthand `KEY: VALUE` means severity fail.
version: 1

limits:                                         # absolute limits on the image
  min_efficiency: {{min: 90%, severity: warn}}    # live bytes over stored bytes: below it, layers carry dead copies
  wasted_bytes: {{max: 20MB, severity: warn}}     # dead copies: files overwritten, deleted or hidden by a later layer
  layers: {{max: 40, severity: warn}}             # layer count
  # compressed_size: 500MB                      # what every pull downloads: set it once you know your image

growth:                                         # against the base image (`layergate diff BASE HEAD`)
  compressed: {{max: 10MB, max_percent: 10%}}     # fails when a change grows the image by more than 10 MB and 10 %
  wasted: {{max: 10MB, severity: warn}}           # new dead copies a change adds

paths:                                          # globs on absolute paths: `*` stays in a directory, `**` crosses them
  forbid:                                       # a live file or a dead copy matching is a finding
{forbid}{COMMON_FORBID}  budgets:                                      # live bytes under a glob
{budgets}
advice:                                         # bytes the advice of that code would save, summed
  cleanup-in-later-layer: {{max: 10MB, severity: warn}}   # a later RUN deletes what an earlier one wrote
  cache-left-behind: {{max: 5MB, severity: warn}}         # a package manager's cache stays in the image
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flavour's starter loads without a problem and has the shared rules.
    #[test]
    fn every_starter_loads() {
        for f in Flavour::ALL {
            let text = starter(*f);
            let p = super::super::load_str(&format!("{f}.yml"), &text)
                .unwrap_or_else(|e| panic!("{f}: {e}\n{text}"));
            assert_eq!(p.limits.len(), 3, "{f}");
            assert_eq!(p.growth.len(), 2, "{f}");
            assert!(p.forbid.len() >= 2 && !p.budgets.is_empty(), "{f}");
            assert_eq!(p.advice.len(), 2, "{f}");
            insta::assert_snapshot!(format!("starter_{f}"), text);
        }
    }
}
