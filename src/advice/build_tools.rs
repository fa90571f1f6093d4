//! `build-tools-in-final-stage`: compilers, headers and development packages
//! (gcc, g++, make, build-essential, `*-dev`, `*-devel`, kernel headers, …)
//! installed by a system package manager and still in the final image. They
//! are needed to build, rarely to run; a builder stage keeps them out. The
//! figure is their live bytes, from the package attribution.

use std::collections::BTreeSet;

use crate::human::human_bytes;
use crate::packages::Package;
use crate::report::{AdviceCode, Report};

use super::{severity_for, Advice, Commands};

/// Whether a system package is a build tool (by its name, across Debian,
/// Alpine and the rpm family).
pub(super) fn is_build_tool(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "gcc",
        "g++",
        "gcc-c++",
        "cpp",
        "make",
        "cmake",
        "build-essential",
        "build-base",
        "alpine-sdk",
        "binutils",
        "clang",
        "llvm",
        "autoconf",
        "automake",
        "libtool",
        "bison",
        "flex",
        "pkgconf",
        "pkg-config",
        "dpkg-dev",
        "rpm-build",
        "kernel-headers",
        "kernel-devel",
        "linux-headers",
        "glibc-headers",
        "gcc-gfortran",
        "gfortran",
    ];
    if EXACT.contains(&name) {
        return true;
    }
    // Versioned compilers (gcc-12, g++-12, cpp-12, clang-15), not their runtime
    // base packages (gcc-12-base is libgcc's).
    for stem in ["gcc-", "g++-", "cpp-", "clang-", "llvm-"] {
        if let Some(rest) = name.strip_prefix(stem) {
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return true;
            }
        }
    }
    name.ends_with("-dev")
        || name.ends_with("-devel")
        || name.ends_with("-headers")
        || name.starts_with("linux-headers-")
        || name.starts_with("binutils-")
}

pub(super) fn advise(report: &Report, cmds: &Commands) -> Vec<Advice> {
    let tools: Vec<&Package> = report
        .packages
        .iter()
        .filter(|p| p.ecosystem.is_system() && is_build_tool(&p.name))
        .collect();
    if tools.is_empty() {
        return Vec::new();
    }
    let bytes: u64 = tools.iter().map(|p| p.live_bytes).sum();
    let files: u64 = tools.iter().map(|p| p.files).sum();
    let layers: BTreeSet<usize> = tools.iter().map(|p| p.layer).collect();
    // Packages arrive ranked by bytes: name the largest.
    let named: Vec<String> = tools
        .iter()
        .take(5)
        .map(|p| format!("{} ({}, L{})", p.name, human_bytes(p.live_bytes), p.layer))
        .collect();
    let more = match tools.len().saturating_sub(named.len()) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    vec![Advice {
        code: AdviceCode::BuildToolsInFinalStage,
        severity: severity_for(bytes),
        title: format!(
            "{} build-tool packages stay in the final image, {}: {}{more}",
            tools.len(),
            human_bytes(bytes),
            named.join(", ")
        ),
        layers: layers.iter().map(|&l| cmds.layer(l)).collect(),
        paths: Vec::new(),
        bytes,
        files,
        suggestion: "Build in a builder stage (`FROM … AS build`) that installs the compilers \
                     and -dev/-devel packages, then start the final stage from a clean base and \
                     `COPY --from=build` only the artifacts; install only runtime libraries there."
            .to_string(),
        hadolint: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_tools_are_recognised_and_runtime_packages_are_not() {
        for n in [
            "gcc",
            "gcc-12",
            "g++-12",
            "cpp-12",
            "make",
            "libc6-dev",
            "glibc-devel",
            "python3-devel",
            "kernel-headers",
            "linux-headers-6.1.0-13-amd64",
            "build-essential",
            "musl-dev",
            "binutils-x86-64-linux-gnu",
        ] {
            assert!(is_build_tool(n), "{n}");
        }
        for n in [
            "gcc-12-base",
            "libgcc-s1",
            "libstdc++6",
            "makedev",
            "glibc",
            "python3",
            "bash",
        ] {
            assert!(!is_build_tool(n), "{n}");
        }
    }
}
