#!/usr/bin/env bash
# Copies three real distribution databases from go-rpmdb's test data (MIT,
# github.com/knqyf263/go-rpmdb, pkg/testdata) and records what Debian's rpm 4.18
# reads from them. Not run by the tests. Usage: distros.sh GO-RPMDB-CHECKOUT [WORKDIR]
#   cbl-mariner-2.0/rpmdb.sqlite  sqlite  (rpm reads it directly)
#   centos8-libuuid: libuuid/Packages  BerkeleyDB hash  (rpm's bdb_ro backend)
#   sle15-bci/Packages.db  ndb  (Debian's rpm lacks ndb: the blobs are copied out
#     by the few lines of Python below and imported with `rpmdb --importdb`, so
#     rpm's own header parser still lists the files)
set -euo pipefail
src="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
q_pkgs='%{NAME}\t%{EVR}\t%{ARCH}\t%{SIZE}\n'
q_files='[%{=NAME}\t%{=EVR}\t%{FILENAMES}\t%{FILESIZES}\t%{FILEMODES:octal}\t%{FILESTATES}\t%{FILEFLAGS:fflags}\t%{FILEINODES}\t%{FILELINKTOS}\n]'

# list NAME DBPATH [rpm options...]
list() {
  local name=$1 db=$2
  shift 2
  rpm -qa --dbpath "$db" "$@" --qf "$q_pkgs" 2>/dev/null | LC_ALL=C sort >"$here/$name.packages.tsv"
  rpm -qa --dbpath "$db" "$@" --qf "$q_files" 2>/dev/null | LC_ALL=C sort >"$work/$name.all-files.tsv"
}

mkdir -p "$work/mariner" "$work/centos8" "$work/sle15" "$work/sle15-import"
cp "$src/pkg/testdata/cbl-mariner-2.0/rpmdb.sqlite" "$work/mariner/"
list mariner "$work/mariner"
cp "$src/pkg/testdata/libuuid/Packages" "$work/centos8/"
list centos8 "$work/centos8" --define '_db_backend bdb_ro'
cp "$src/pkg/testdata/sle15-bci/Packages.db" "$work/sle15/"
python3 - "$work/sle15/Packages.db" "$work/sle15.headers" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
_, _, _, npages = struct.unpack_from("<4I", b, 0)
with open(sys.argv[2], "wb") as out:
    for at in range(32, npages * 4096, 16):
        _, idx, off, _ = struct.unpack_from("<4I", b, at)
        if idx:
            blen = struct.unpack_from("<I", b, off * 16 + 12)[0]
            out.write(bytes.fromhex("8eade80100000000") + b[off * 16 + 16:off * 16 + 16 + blen])
PY
rpmdb --dbpath "$work/sle15-import" --initdb
rpmdb --dbpath "$work/sle15-import" --importdb <"$work/sle15.headers"
list sle15 "$work/sle15-import"

# The files of a few packages per distribution go into the test images.
keep() {
  local name=$1
  shift
  local re
  re="^($(IFS='|'; echo "$*"))"$'\t'
  grep -E "$re" "$work/$name.all-files.tsv" >"$here/$name.files.tsv"
}
keep mariner bash zlib tzdata ncurses-libs
keep centos8 libuuid
keep sle15 libzstd1 bash libreadline7 zlib

zstd -q -19 -f "$work/mariner/rpmdb.sqlite" -o "$here/mariner.rpmdb.sqlite.zst"
zstd -q -19 -f "$work/centos8/Packages" -o "$here/centos8.Packages.zst"
zstd -q -19 -f "$work/sle15/Packages.db" -o "$here/sle15.Packages.db.zst"
wc -l "$here"/*.files.tsv "$here"/*.packages.tsv
