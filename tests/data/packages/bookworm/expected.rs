// Written by expected.py from files.tsv and the databases, independently of
// layergate: (ecosystem, name, (live bytes, files, layer)).
[
    ("deb", "dash", (164839, 14, 0)),
    ("deb", "jq", (100579, 7, 1)),
    ("deb", "libjq1", (355509, 5, 1)),
    ("deb", "libonig5", (655590, 5, 1)),
    ("deb", "python3-six", (90721, 9, 1)),
    ("pypi", "six", (84735, 9, 2)),
    ("pypi", "idna", (525379, 29, 2)),
    ("npm", "debug", (42793, 7, 3)),
    ("npm", "left-pad", (9752, 10, 3)),
    ("npm", "ms", (6721, 4, 3)),
]
