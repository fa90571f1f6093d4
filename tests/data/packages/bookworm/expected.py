"""Computes expected.rs from files.tsv and the databases, independently of layergate:
per package, the bytes of the files its database names (merged /usr resolved by
rewriting /bin, /lib, /sbin to /usr/...), python3-six's install-time .pyc, pip
RECORD paths relative to site-packages, npm packages by directory. Run: python3 expected.py"""
import os, re, csv

tsv = {}
for line in open('files.tsv'):
    t = line.rstrip('\n').split('\t')
    tsv[t[3][1:]] = (t[0], int(t[1]))

def size(p):
    k, s = tsv[p]
    if k == 'l':
        return 0
    # the databases keep their real bytes in the test image
    if p.endswith('/RECORD'):
        return os.path.getsize('venv/' + p.split('/')[-2] + '/RECORD')
    if p.startswith('srv/web/node_modules/') and p.endswith('/package.json'):
        return os.path.getsize('node/' + p.split('/')[-2] + '/package.json')
    return s

res, owned = [], set()
for pkg, lst, layer in [('dash', 'dash.list', 0), ('jq', 'jq.list', 1), ('libjq1', 'libjq1:amd64.list', 1),
                        ('libonig5', 'libonig5:amd64.list', 1), ('python3-six', 'python3-six.list', 1)]:
    b = f = 0
    for l in open('info/' + lst):
        p = re.sub(r'^(bin|lib|sbin)/', r'usr/\1/', l.strip()[1:])
        if p in tsv and p not in owned:
            owned.add(p); b += size(p); f += 1
    if pkg == 'python3-six':
        p = 'usr/lib/python3/dist-packages/__pycache__/six.cpython-311.pyc'
        owned.add(p); b += size(p); f += 1
    res.append(('deb', pkg, b, f, layer))
SITE = 'opt/venv/lib/python3.11/site-packages'
for d, name in [('six-1.17.0.dist-info', 'six'), ('idna-3.20.dist-info', 'idna')]:
    b = f = 0
    for row in csv.reader(open('venv/' + d + '/RECORD')):
        p = os.path.normpath(SITE + '/' + row[0]) if row else None
        if p in tsv and p not in owned:
            owned.add(p); b += size(p); f += 1
    res.append(('pypi', name, b, f, 2))
for m in ['debug', 'left-pad', 'ms']:
    b = f = 0
    for p in tsv:
        if p.startswith('srv/web/node_modules/' + m + '/'):
            owned.add(p); b += size(p); f += 1
    res.append(('npm', m, b, f, 3))
with open('expected.rs', 'w') as o:
    o.write('// Written by expected.py from files.tsv and the databases, independently of\n'
            '// layergate: (ecosystem, name, (live bytes, files, layer)).\n[\n')
    for e in res:
        o.write('    ("%s", "%s", (%d, %d, %d)),\n' % e)
    o.write(']\n')
