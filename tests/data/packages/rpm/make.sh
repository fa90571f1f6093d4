#!/usr/bin/env bash
# Regenerates the rpm fixtures in this directory with Debian's real rpm (4.18,
# sqlite backend), sqlite3 and Berkeley DB's db_load (db-util). Not run by the
# tests: they read what this script wrote. Usage: make.sh [WORKDIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work/specs" "$work/rpms"
cd "$work"

# spec NAME EPOCH VERSION RELEASE INSTALL-SCRIPT FILES
spec() {
  local name=$1 epoch=$2 version=$3 release=$4 install=$5 files=$6 f
  f="specs/$name-$version-$release.spec"
  {
    echo "Name: $name"
    [ -n "$epoch" ] && echo "Epoch: $epoch"
    echo "Version: $version"
    echo "Release: $release"
    echo "Summary: layergate fixture"
    echo "License: MIT"
    echo "BuildArch: x86_64"
    echo "%description"
    echo "fixture"
    echo "%install"
    echo "$install"
    echo "%files"
    echo "$files"
  } >"$f"
  rpmbuild --quiet -bb --target x86_64 --define "_topdir $work/build" \
    --define '_build_id_links none' --define 'debug_package %{nil}' \
    --define '__strip /bin/true' --define '__brp_strip /bin/true' "$f" >/dev/null
  cp "$work"/build/RPMS/x86_64/"$name"-*"$version-$release".x86_64.rpm rpms/
}

spec hello "" 1.0 1 '
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib64 %{buildroot}/usr/share/doc/hello %{buildroot}/var/log
head -c 6000 /dev/zero >%{buildroot}/usr/bin/hello
ln %{buildroot}/usr/bin/hello %{buildroot}/usr/bin/hello-again
head -c 3000 /dev/zero >%{buildroot}/usr/lib64/libhello.so.1
ln -s libhello.so.1 %{buildroot}/usr/lib64/libhello.so
head -c 1500 /dev/zero >%{buildroot}/usr/share/doc/hello/README
' '/usr/bin/hello
/usr/bin/hello-again
/usr/lib64/libhello.so.1
/usr/lib64/libhello.so
%doc /usr/share/doc/hello/README
%ghost /var/log/hello.log'
spec hello "" 1.1 1 '
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib64 %{buildroot}/usr/share/doc/hello %{buildroot}/usr/share/hello %{buildroot}/var/log
head -c 7000 /dev/zero >%{buildroot}/usr/bin/hello
ln %{buildroot}/usr/bin/hello %{buildroot}/usr/bin/hello-again
head -c 3500 /dev/zero >%{buildroot}/usr/lib64/libhello.so.1
ln -s libhello.so.1 %{buildroot}/usr/lib64/libhello.so
head -c 1600 /dev/zero >%{buildroot}/usr/share/doc/hello/README
head -c 2500 /dev/zero >%{buildroot}/usr/share/hello/data
' '/usr/bin/hello
/usr/bin/hello-again
/usr/lib64/libhello.so.1
/usr/lib64/libhello.so
/usr/share/hello
%doc /usr/share/doc/hello/README
%ghost /var/log/hello.log'
# Listed under /lib64: on a merged-/usr image that is the usr/lib64 symlink.
spec libfoo 1 0.9~rc1 1 '
mkdir -p %{buildroot}/lib64
head -c 4000 /dev/zero >%{buildroot}/lib64/libfoo.so.0
' '/lib64/libfoo.so.0'
spec libfoo 1 0.9 1 '
mkdir -p %{buildroot}/lib64
head -c 4200 /dev/zero >%{buildroot}/lib64/libfoo.so.0
' '/lib64/libfoo.so.0'
spec gone "" 1 1 '
mkdir -p %{buildroot}/opt/gone
head -c 900 /dev/zero >%{buildroot}/opt/gone/bin
' '/opt/gone'
spec docs "" '2^git1' 1 '
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/doc/docs
head -c 700 /dev/zero >%{buildroot}/usr/bin/docs
head -c 8000 /dev/zero >%{buildroot}/usr/share/doc/docs/manual.txt
' '/usr/bin/docs
%doc /usr/share/doc/docs/manual.txt'
spec extra "" 3 1 '
mkdir -p %{buildroot}/usr/bin
head -c 1234 /dev/zero >%{buildroot}/usr/bin/extra
' '/usr/bin/extra'

# The image root, layer by layer: merged /usr symlinks, then two rpm steps.
root="$work/root"
rm -rf "$root" && mkdir -p "$root/usr/bin" "$root/usr/lib64" "$root/var/log"
ln -s usr/bin "$root/bin"
ln -s usr/lib64 "$root/lib64"
snap() { (cd "$root" && find . -mindepth 1 -printf '%y\t%s\t%i\t%T@\t%P\t%l\n' | sort -t$'\t' -k5) >"$here/$1.tsv"; }
snap layer0
opts=(--root "$root" --dbpath /var/lib/rpm --nosignature --nodigest --ignorearch --nodeps --noscripts)
rpm --root "$root" --dbpath /var/lib/rpm --initdb
rpm "${opts[@]}" -i rpms/hello-1.0-1.x86_64.rpm rpms/libfoo-0.9~rc1-1.x86_64.rpm rpms/gone-1-1.x86_64.rpm
echo 'ghost written at run time' >"$root/var/log/hello.log"
snap layer1
cp "$root/var/lib/rpm/rpmdb.sqlite" "$here/layer1.rpmdb.sqlite"
rpm "${opts[@]}" -U rpms/hello-1.1-1.x86_64.rpm rpms/libfoo-0.9-1.x86_64.rpm
rpm --root "$root" --dbpath /var/lib/rpm --nodeps --noscripts -e gone
rpm "${opts[@]}" -i --excludedocs rpms/docs-2^git1-1.x86_64.rpm
snap layer2
cp "$root/var/lib/rpm/rpmdb.sqlite" "$here/layer2.rpmdb.sqlite"
ls -la "$root/var/lib/rpm"

# Layer 3: `extra` installed, its header committed to the WAL and not yet
# checkpointed (as an image built while rpm's database was open would ship it).
scratch="$work/scratch" && rm -rf "$scratch" && mkdir -p "$scratch"
rpm --root "$scratch" --dbpath /var/lib/rpm --initdb
rpm --root "$scratch" --dbpath /var/lib/rpm --nosignature --nodigest --ignorearch --nodeps --noscripts -i rpms/extra-3-1.x86_64.rpm
cp "$scratch/usr/bin/extra" "$root/usr/bin/extra"
python3 - "$root/var/lib/rpm/rpmdb.sqlite" "$scratch/var/lib/rpm/rpmdb.sqlite" "$here" <<'PY'
import shutil, sqlite3, sys
db, other, out = sys.argv[1:]
blob = sqlite3.connect(other).execute("select blob from Packages").fetchone()[0]
c = sqlite3.connect(db, isolation_level=None)
c.execute("pragma wal_autocheckpoint=0")
assert c.execute("pragma journal_mode=wal").fetchone()[0] == "wal"
c.execute("insert into Packages(blob) values (?)", (blob,))
# Copied while the connection is open: the frames are committed, not checkpointed.
shutil.copy(db, out + "/layer3.rpmdb.sqlite")
shutil.copy(db + "-wal", out + "/layer3.rpmdb.sqlite-wal")
PY
# Closing checkpointed the WAL: put back the database as it was while open.
cp "$here/layer3.rpmdb.sqlite" "$root/var/lib/rpm/rpmdb.sqlite"
cp "$here/layer3.rpmdb.sqlite-wal" "$root/var/lib/rpm/rpmdb.sqlite-wal"
snap layer3

# Expected figures from rpm itself, reading the database with its WAL.
check="$work/check" && rm -rf "$check" && mkdir -p "$check"
cp "$here/layer3.rpmdb.sqlite" "$check/rpmdb.sqlite"
cp "$here/layer3.rpmdb.sqlite-wal" "$check/rpmdb.sqlite-wal"
q='[%{=NAME}\t%{=EVR}\t%{FILENAMES}\t%{FILESIZES}\t%{FILESTATES}\t%{FILEFLAGS:fflags}\t%{FILEINODES}\n]'
rpm -qa --dbpath "$check" --qf "$q" | sort >"$here/layer3.files.tsv"
rpm -qa --dbpath "$check" --qf '%{NAME}\t%{EVR}\t%{ARCH}\t%{SIZE}\n' | sort >"$here/layer3.packages.tsv"
# Live bytes per package as the kernel sees the final root: every file rpm
# installed (state normal), its parent directories followed, hard links once.
python3 - "$root" "$here/layer3.files.tsv" >"$here/layer3.expected.tsv" <<'PY'
import os, stat, sys
root, files = sys.argv[1:]
per = {}
seen = set()
for line in open(files):
    name, evr, path, size, state, flags, inode = line.rstrip("\n").split("\t")
    p = per.setdefault((name, evr), [0, 0])
    if state != "0":
        continue
    parent = os.path.realpath(os.path.join(root, os.path.dirname(path).lstrip("/")))
    full = os.path.join(parent, os.path.basename(path))
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        continue
    if stat.S_ISDIR(st.st_mode):
        continue
    p[1] += 1
    if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
        seen.add((st.st_dev, st.st_ino))
        p[0] += st.st_size
for (name, evr), (b, n) in sorted(per.items()):
    print(f"{name}\t{evr}\t{b}\t{n}")
PY
check1="$work/check1" && rm -rf "$check1" && mkdir -p "$check1"
cp "$here/layer1.rpmdb.sqlite" "$check1/rpmdb.sqlite"
rpm -qa --dbpath "$check1" --qf '%{NAME}\t%{EVR}\t%{ARCH}\t%{SIZE}\n' | sort >"$here/layer1.packages.tsv"

# The same headers in Berkeley DB hash files of both byte orders, written by libdb.
python3 - "$check/rpmdb.sqlite" "$work/dump" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select hnum, blob from Packages order by hnum").fetchall()
with open(sys.argv[2], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n")
    f.write(" " + (0).to_bytes(4, "little").hex() + "\n " + (len(rows) + 1).to_bytes(4, "little").hex() + "\n")
    for hnum, blob in rows:
        f.write(" " + hnum.to_bytes(4, "little").hex() + "\n " + blob.hex() + "\n")
    f.write("DATA=END\n")
PY
for order in 1234 4321; do
  rm -f "$here/Packages.$order"
  db_load -c db_lorder=$order -c db_pagesize=4096 -f "$work/dump" "$here/Packages.$order"
  bdb="$work/bdb$order" && rm -rf "$bdb" && mkdir -p "$bdb" && cp "$here/Packages.$order" "$bdb/Packages"
  rpm -qa --dbpath "$bdb" --define '_db_backend bdb_ro' --qf '%{NAME}\t%{EVR}\t%{ARCH}\t%{SIZE}\n' 2>/dev/null | sort >"$work/bdb$order.tsv"
  cmp "$work/bdb$order.tsv" "$here/layer3.packages.tsv" && echo "bdb $order: rpm reads the same packages"
done
for f in "$here"/*.sqlite "$here"/*.sqlite-wal "$here"/Packages.*; do
  [ "${f%.zst}" = "$f" ] && zstd -q -19 -f --rm "$f"
done
ls -la "$here"
