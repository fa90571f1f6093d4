//! CBL-Mariner / Azure Linux distroless images carry no rpm database, only
//! `/var/lib/rpmmanifest/container-manifest-2`: one line per package, written
//! by `rpm -qa --qf` with the fields NAME, VERSION-RELEASE, INSTALLTIME,
//! BUILDTIME, VENDOR, EPOCH (`(none)` when unset), SIZE, ARCH, EPOCHNUM and
//! SOURCERPM separated by tabs. It names packages but not their files.

/// One package of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry<'c> {
    pub name: &'c [u8],
    /// `[EPOCH:]VERSION-RELEASE`.
    pub evr: Vec<u8>,
    pub arch: Option<&'c [u8]>,
    pub size: Option<u64>,
}

/// The packages of a manifest and the number of lines that are not one.
pub(super) fn parse(content: &[u8]) -> (Vec<Entry<'_>>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in content.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let f: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
        let (Some(&name), Some(&vr)) = (f.first(), f.get(1)) else {
            bad += 1;
            continue;
        };
        if name.is_empty() || vr.is_empty() || f.len() < 8 {
            bad += 1;
            continue;
        }
        let number = |v: &[u8]| std::str::from_utf8(v).ok()?.parse::<u64>().ok();
        let mut evr = Vec::new();
        if number(f[5]).is_some() {
            evr.extend_from_slice(f[5]);
            evr.push(b':');
        }
        evr.extend_from_slice(vr);
        out.push(Entry {
            name,
            evr,
            arch: Some(f[7]).filter(|a| !a.is_empty() && *a != b"(none)"),
            size: number(f[6]),
        });
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_packages_and_bad_lines_are_counted() {
        let (p, bad) = parse(
            b"bash\t5.1.8-4.cm2\t1690000000\t1680000000\tMicrosoft Corporation\t(none)\t7357918\tx86_64\t0\tbash-5.1.8-4.cm2.src.rpm\n\
              tzdata\t2023c-1.cm2\t1\t1\tMicrosoft Corporation\t1\t100\tnoarch\t1\ttzdata.src.rpm\n\
              garbage\n",
        );
        assert_eq!(bad, 1);
        assert_eq!(p[0].name, b"bash");
        assert_eq!(p[0].evr, b"5.1.8-4.cm2");
        assert_eq!(p[0].size, Some(7357918));
        assert_eq!(p[1].evr, b"1:2023c-1.cm2");
        assert_eq!(p[1].arch, Some(&b"noarch"[..]));
    }
}
