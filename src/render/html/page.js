// layergate's report page: reads the JSON payload embedded in the page and draws
// it. Everything from the image goes through textContent or attributes, never
// through HTML parsing, so a file named <script> stays text.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("layergate-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function human(n) {
    if (n === null || n === undefined) return "\u2014";
    var neg = n < 0; n = Math.abs(n);
    var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], i = 0;
    if (n < 1024) return (neg ? "-" : "") + n + " B";
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (neg ? "-" : "") + n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0) + " " + units[i];
  }
  function count(n) { return n === null || n === undefined ? "\u2014" : Number(n).toLocaleString("en-US"); }
  function fmt(v, unit) {
    if (v === null || v === undefined) return "\u2014";
    if (unit === "bytes") return human(v);
    if (unit === "ratio") return (v * 100).toFixed(1) + " %";
    return count(v);
  }
  function delta(b, a, unit) {
    if (b === null || a === null || b === undefined || a === undefined) return "\u2014";
    var d = a - b;
    if (unit === "ratio") return (d >= 0 ? "+" : "") + (d * 100).toFixed(1) + " pt";
    if (unit === "bytes") return (d > 0 ? "+" : "") + human(d);
    return (d > 0 ? "+" : "") + count(d);
  }
  function layerColour(l, light) {
    if (l === null || l === undefined) return "#c9d1d9";
    return "hsl(" + Math.round((l * 137.508) % 360) + "," + (light ? "40%" : "58%") + "," + (light ? "80%" : "64%") + ")";
  }
  var layerBy = {};
  D.layers.forEach(function (l) { layerBy[l.index] = l; });
  function layerText(l) {
    if (l === null || l === undefined) return "\u2014";
    var info = layerBy[l], cmd = info && info.created_by ? info.created_by.replace(/\s+/g, " ") : "";
    if (cmd.length > 90) cmd = cmd.slice(0, 89) + "\u2026";
    return "L" + l + (cmd ? ": " + cmd : "");
  }
  function table(head, rows, numeric) {
    var t = el("table"), tr = el("tr");
    head.forEach(function (h, i) { tr.appendChild(el("th", numeric && numeric[i] ? "num" : "", h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, i) {
        var cls = numeric && numeric[i] ? "num" : (numeric && numeric[i] === 0 ? "cmd" : "");
        row.appendChild(el("td", cls, c));
      });
      t.appendChild(row);
    });
    return t;
  }
  function section(title) {
    var s = el("section"); s.appendChild(el("h2", "", title)); $("sections").appendChild(s); return s;
  }

  // ---- header ----
  var img = D.image;
  var kindTitle = { analyze: "Image report", check: "Image check", diff: "Image diff" }[D.kind];
  document.title = "layergate: " + (img.name || img.reference);
  $("title").textContent = "layergate \u00b7 " + kindTitle;
  var sub = (D.base ? (D.base.name || D.base.reference) + " \u2192 " : "") + (img.name || img.reference) +
    " \u00b7 " + img.platform + " \u00b7 config " + img.config_digest;
  $("sub").textContent = sub;
  if (D.verdict) {
    var v = el("div", "verdict " + (D.verdict.passed ? "v-pass" : "v-fail"), (D.verdict.passed ? "\u2713 " : "\u2717 ") + D.verdict.headline);
    v.id = "verdict";
    $("head").appendChild(v);
  }

  // ---- treemap ----
  var map = $("map"), tip = $("tip"), crumbs = $("crumbs"), note = $("mapnote");
  var root = D.tree, current = root, wasted = false, hit = null;
  var byPath = {};
  // Two maps of the same bytes: the final filesystem by directory, and by the
  // package that owns each file ("packages": package -> its files).
  var P = D.packages, mode = "dirs", dirCurrent = root, pkgRoot = null, pkgCurrent = null;
  // A directory (or package) this large draws its contents inside its cell, level
  // after level, so one look shows where inside /usr/lib the bytes are; smaller
  // ones are one cell until clicked.
  var MIN_SHARE = 0.005;
  var ECO = {
    deb: ["dpkg", 330], apk: ["apk", 212], rpm: ["rpm", 8], pypi: ["pip", 48], npm: ["npm", 135]
  };
  function ecoColour(e, light) {
    if (!ECO[e]) return light ? "#e1e6eb" : "#c2cad3";
    return "hsl(" + ECO[e][1] + "," + (light ? "45%" : "62%") + "," + (light ? "80%" : "62%") + ")";
  }
  function ecoName(e) { return ECO[e] ? ECO[e][0] : "unowned"; }
  function index(n, parent, path) {
    n.p = parent; n.path = path; byPath[path] = n;
    (n.c || []).forEach(function (c) {
      var cp = c.o ? (path === "/" ? "/" : path + "/") + "(other)" : (path === "/" ? "/" : path + "/") + c.n;
      index(c, n, cp);
    });
  }
  function value(n) { return wasted && mode === "dirs" ? n.b + (n.w || 0) : n.b; }
  function colour(n, nested) {
    if (mode === "packages") return ecoColour(n.e, false);
    if (wasted) {
      var w = n.w || 0, t = n.b + w;
      if (!w || !t) return "#d8dee4";
      var r = w / t;
      return "hsl(0," + Math.round(45 + 40 * r) + "%," + Math.round(82 - 30 * r) + "%)";
    }
    if (D.kind === "diff") {
      var g = n.g || 0;
      if (!g || !n.b) return "#d8dee4";
      var s = Math.min(1, g / n.b);
      return "hsl(" + Math.round(45 - 40 * s) + "," + Math.round(70 + 20 * s) + "%," + Math.round(78 - 26 * s) + "%)";
    }
    return layerColour(n.l, nested);
  }
  function worst(sum, min, max, side) {
    var s2 = sum * sum, w2 = side * side;
    return Math.max(w2 * max / s2, s2 / (w2 * min));
  }
  // Squarified layout (Bruls, Huizing, van Wijk): rows along the short side.
  function squarify(items, x, y, w, h) {
    var total = 0; items.forEach(function (it) { total += it.v; });
    var out = [];
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = (w * h) / total, i = 0;
    while (i < items.length) {
      var side = Math.min(w, h), row = [items[i]], sum = items[i].v * scale;
      var min = sum, max = sum, best = worst(sum, min, max, side), j = i + 1;
      for (; j < items.length; j++) {
        var a = items[j].v * scale, ns = sum + a;
        var nw = worst(ns, Math.min(min, a), Math.max(max, a), side);
        if (nw > best) break;
        row.push(items[j]); sum = ns; min = Math.min(min, a); max = Math.max(max, a); best = nw;
      }
      if (j >= items.length) sum = w * h; // the last row takes what rounding left
      var thick = sum / side, pos = 0;
      row.forEach(function (it, k) {
        var len = k === row.length - 1 ? side - pos : (it.v * scale / thick);
        if (w >= h) out.push({ n: it.n, x: x, y: y + pos, w: thick, h: len });
        else out.push({ n: it.n, x: x + pos, y: y, w: len, h: thick });
        pos += len;
      });
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
      i = j;
    }
    return out;
  }
  function items(n) {
    return (n.c || []).map(function (c) { return { n: c, v: value(c) }; })
      .filter(function (it) { return it.v > 0; })
      .sort(function (a, b) { return b.v - a.v; });
  }
  function cell(n, r, depth, nested, area) {
    var frame = n.d && n.c && n.c.length && r.w > 40 && r.h > 34 && r.w * r.h >= MIN_SHARE * area;
    var c = el("div", "cell" + (frame ? " frame" : "") + (n.o ? " other" : ""));
    c.style.left = r.x + "px"; c.style.top = r.y + "px";
    c.style.width = r.w + "px"; c.style.height = r.h + "px";
    c.style.background = frame ? "" : colour(n, nested);
    if (frame) c.style.backgroundColor = "rgba(255,255,255,.25)";
    c.setAttribute("data-path", n.path);
    c.setAttribute("data-depth", String(depth));
    c.setAttribute("data-value", String(value(n)));
    if (mode === "packages") c.setAttribute("data-eco", ecoName(n.e));
    c.lgNode = n;
    if (r.w > 30 && r.h > 12) c.appendChild(el("span", "lbl", (n.o ? "other (" + count(n.f) + " small)" : n.n) + (r.h > 26 ? "" : "")));
    if (r.w > 50 && r.h > 28 && !frame) c.appendChild(el("span", "lbl", human(value(n))));
    map.appendChild(c);
    if (frame) {
      var pad = 2, head = 15;
      squarify(items(n), r.x + pad, r.y + head, r.w - 2 * pad, r.h - head - pad).forEach(function (cr) {
        cell(cr.n, cr, depth + 1, true, area);
      });
    }
  }
  function draw() {
    map.textContent = "";
    if (!root) return;
    var w = map.clientWidth, h = map.clientHeight;
    squarify(items(current), 0, 0, w, h).forEach(function (r) { cell(r.n, r, 1, false, w * h); });
    if (hit) {
      var h2 = map.querySelector('.cell[data-path="' + cssEscape(hit) + '"]');
      if (h2) h2.classList.add("hit");
    }
    drawCrumbs();
  }
  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"); }
  function drawCrumbs() {
    crumbs.textContent = "";
    var chain = [], n = current;
    while (n) { chain.unshift(n); n = n.p; }
    chain.forEach(function (c, i) {
      // Paths read "/ usr / lib"; packages "all packages › jq".
      if (i > 1) crumbs.appendChild(el("span", "sep", "/"));
      if (i === 1 && mode === "packages") crumbs.appendChild(el("span", "sep", "\u203a"));
      var b = el("button", "", i === 0 ? (mode === "packages" ? "all packages" : "/") : c.n);
      b.disabled = c === current;
      b.addEventListener("click", function () { zoom(c); });
      crumbs.appendChild(b);
    });
    crumbs.appendChild(el("span", "sep", " \u00b7 " + human(value(current)) + " \u00b7 " + count(current.f) + " files"));
  }
  function zoom(n) {
    while (n && !(n.d && n.c && n.c.length)) n = n.p;
    if (!n) return;
    current = n;
    draw();
  }
  map.addEventListener("click", function (e) {
    var t = e.target.closest(".cell");
    if (!t) return;
    hit = null;
    zoom(t.lgNode);
  });
  map.addEventListener("mousemove", function (e) {
    var t = e.target.closest(".cell");
    if (!t) { tip.style.display = "none"; return; }
    var n = t.lgNode;
    tip.textContent = "";
    if (mode === "packages") { packageTip(n); placeTip(e); return; }
    tip.appendChild(el("div", "p", n.o ? n.path + " \u2014 " + count(n.f) + " entries too small for a cell" : n.path));
    tip.appendChild(el("div", "", human(n.b) + " live \u00b7 " + count(n.f) + (n.f === 1 ? " file" : " files")));
    tip.appendChild(el("div", "", (n.d || n.o ? "mostly " : "") + layerText(n.l)));
    if (n.w) tip.appendChild(el("div", "", human(n.w) + " in dead copies (overwritten, deleted or hidden later)"));
    if (n.g) tip.appendChild(el("div", "", "+" + human(n.g) + " added or grown since the base"));
    placeTip(e);
  });
  function placeTip(e) {
    tip.style.display = "block";
    var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y = Math.min(e.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
  function packageTip(n) {
    var pkg = n.pkg ? n : n.p && n.p.pkg ? n.p : null;
    if (n.o) tip.appendChild(el("div", "p", (pkg ? pkg.n : "") + " \u2014 " + count(n.f) + " entries too small to list"));
    else tip.appendChild(el("div", "p", n.pkg ? n.n + (n.pkg.v ? " " + n.pkg.v : "") : n.path));
    tip.appendChild(el("div", "", human(n.b) + " live \u00b7 " + count(n.f) + (n.f === 1 ? " file" : " files")));
    if (pkg) tip.appendChild(el("div", "", (n === pkg ? "" : pkg.n + " \u00b7 ") + ecoName(pkg.e) + (pkg.pkg.at ? " \u00b7 " + pkg.pkg.at : "")));
    if (n.l !== undefined && n.l !== null) tip.appendChild(el("div", "", (n.pkg ? "mostly " : "") + layerText(n.l)));
  }
  map.addEventListener("mouseleave", function () { tip.style.display = "none"; });

  if (root) {
    index(root, null, "/");
    var toggle = $("wasted");
    toggle.addEventListener("change", function () { wasted = toggle.checked; draw(); legend(); });
    var agg = D.aggregation;
    if (agg.threshold > 0) {
      note.textContent = "Entries under " + human(agg.threshold) + " are grouped into striped \u201cother\u201d cells: " +
        count(agg.grouped_files) + " entries (" + human(agg.grouped_bytes) + ") in " + count(agg.other_cells) +
        " cells; " + count(agg.file_cells) + " files have a cell of their own. Search covers files with a cell.";
    } else {
      note.textContent = "Every file has a cell" + (agg.grouped_files ? "; " + count(agg.grouped_files) +
        " empty files and links are counted in striped \u201cother\u201d cells." : ".");
    }
  } else {
    $("mapwrap").textContent = "";
    $("mapwrap").appendChild(el("p", "note", "Only manifests were read (--manifest-only): there is no file map."));
  }
  // ---- by package ----
  // The package map: packages (and the unowned files) -> their listed files, with
  // the files too small to list in one striped cell per package.
  function packageTree() {
    var top = { n: "", b: 0, f: 0, d: true, c: [], path: "packages:" };
    function add(g, pkg, path) {
      var node = { n: pkg.n, b: g.b, f: g.f, l: pkg.l, e: pkg.e, d: true, c: [], pkg: pkg, p: top, path: path };
      (g.c || []).forEach(function (c) {
        node.c.push({ n: c[0].slice(c[0].lastIndexOf("/") + 1) || c[0], b: c[1], f: 1, l: c[2], e: pkg.e, p: node, path: c[0] });
      });
      if (g.ob || g.of) node.c.push({ n: "other", o: true, b: g.ob || 0, f: g.of || 0, e: pkg.e, p: node, path: path + "/(other)" });
      top.b += g.b; top.f += g.f; top.c.push(node);
    }
    P.packages.forEach(function (p) {
      add(p, p, "package:" + p.e + "/" + p.n + (p.at ? "@" + p.at : ""));
    });
    add(P.unowned, { n: "unowned", v: "", e: null }, "package:unowned");
    return top;
  }
  function setMode(m) {
    if (m === mode || (m === "packages" && !pkgRoot)) return;
    if (mode === "dirs") dirCurrent = current; else pkgCurrent = current;
    mode = m;
    current = m === "packages" ? pkgCurrent : dirCurrent;
    $("by-dir").setAttribute("aria-pressed", String(m === "dirs"));
    $("by-package").setAttribute("aria-pressed", String(m === "packages"));
    // Dead copies belong to paths, not to packages; the note is about directory cells.
    $("wasted").disabled = m === "packages";
    note.hidden = m === "packages";
    draw(); legend();
  }
  if (root && P && P.packages.length) {
    pkgRoot = pkgCurrent = packageTree();
    $("views").hidden = false;
    $("by-dir").addEventListener("click", function () { setMode("dirs"); });
    $("by-package").addEventListener("click", function () { setMode("packages"); });
  }

  function legend() {
    var lg = $("legend"); if (!lg) return;
    lg.textContent = "";
    if (mode === "packages") {
      var seen = {};
      P.packages.forEach(function (p) { seen[p.e] = 1; });
      Object.keys(ECO).forEach(function (e) { if (seen[e]) lg.appendChild(legendItem(ecoColour(e), ecoName(e))); });
      lg.appendChild(legendItem(ecoColour(null), "unowned"));
    } else if (wasted) {
      lg.appendChild(legendItem("hsl(0,85%,52%)", "all of the cell's bytes are dead copies"));
      lg.appendChild(legendItem("hsl(0,60%,75%)", "some are"));
      lg.appendChild(legendItem("#d8dee4", "none"));
    } else if (D.kind === "diff") {
      lg.appendChild(legendItem("hsl(5,90%,52%)", "new or grown (all of it)"));
      lg.appendChild(legendItem("hsl(35,75%,74%)", "grown a little"));
      lg.appendChild(legendItem("#d8dee4", "unchanged"));
    } else {
      D.layers.forEach(function (l) { lg.appendChild(legendItem(layerColour(l.index), layerText(l.index))); });
    }
  }
  function legendItem(c, text) {
    var s = el("span"), i = el("i"); i.style.background = c; s.appendChild(i); s.appendChild(document.createTextNode(text)); return s;
  }

  // ---- search ----
  var search = $("search"), results = $("results");
  if (search) search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    results.textContent = "";
    if (!q || !root) return;
    var found = [];
    Object.keys(byPath).forEach(function (p) {
      if (found.length < 50 && p.toLowerCase().indexOf(q) >= 0 && !byPath[p].o) found.push(byPath[p]);
    });
    if (!found.length) { results.appendChild(el("li", "", "No cell matches (small files are grouped).")); return; }
    found.forEach(function (n) {
      var li = el("li"), b = el("button", "", n.path);
      b.addEventListener("click", function () { setMode("dirs"); hit = n.path; zoom(n.p || n); });
      li.appendChild(b); li.appendChild(document.createTextNode(" " + human(n.b)));
      results.appendChild(li);
    });
  });

  // ---- side lists (diff) ----
  function changeList(title, rows, total) {
    var side = $("side");
    side.appendChild(el("h2", "", title + " (" + count(total) + ")"));
    if (!rows || !rows.length) { side.appendChild(el("p", "note", "None.")); return; }
    var ul = el("ul", "list");
    rows.forEach(function (r) {
      var li = el("li");
      li.appendChild(el("span", "neg", "-" + human(r.before - r.after) + " "));
      li.appendChild(document.createTextNode(r.path));
      ul.appendChild(li);
    });
    side.appendChild(ul);
    if (total > rows.length) side.appendChild(el("p", "note", count(total - rows.length) + " more not listed."));
  }
  if (D.kind === "diff") {
    changeList("Shrunk", D.shrunk, D.shrunk_count);
    changeList("Removed", D.removed, D.removed_count);
  }

  // ---- tables ----
  var totals = section("Totals");
  if (D.kind === "diff") {
    totals.appendChild(table(["", "before", "after", "delta"], D.totals.map(function (t) {
      return [t.label, fmt(t.before, t.unit), fmt(t.after, t.unit), delta(t.before, t.after, t.unit)];
    }), [false, true, true, true]));
  } else {
    totals.appendChild(table(["", "value"], D.totals.map(function (t) { return [t.label, fmt(t.after, t.unit)]; }), [false, true]));
  }
  if (P) packageSection();
  function packageSection() {
    var s = section("Packages (" + count(P.packages.length) + ")");
    if (!P.packages.length) {
      s.appendChild(el("p", "note", "No package database was read: all " + human(P.unowned.b) + " are unowned."));
      return;
    }
    var t = el("table"), tr = el("tr");
    t.id = "packages";
    [["package", ""], ["version", ""], ["ecosystem", ""], ["live", "num"], ["files", "num"], ["layer", ""]].forEach(function (h) {
      tr.appendChild(el("th", h[1], h[0]));
    });
    t.appendChild(tr);
    function row(name, version, eco, g, layer, known, cls) {
      var r = el("tr", cls);
      var nameCell = el("td"), sw = el("i", "swatch");
      sw.style.background = ecoColour(eco);
      nameCell.appendChild(sw); nameCell.appendChild(document.createTextNode(name));
      r.appendChild(nameCell);
      r.appendChild(el("td", "", version));
      r.appendChild(el("td", "", eco === undefined ? "" : ecoName(eco)));
      var b = el("td", "num", known ? human(g.b) : "not measured");
      b.setAttribute("data-bytes", known ? String(g.b) : "");
      r.appendChild(b);
      r.appendChild(el("td", "num", known ? count(g.f) : "\u2014"));
      r.appendChild(el("td", "", layer === null ? "" : layerText(layer)));
      t.appendChild(r);
    }
    P.packages.forEach(function (p) {
      row(p.n + (p.at ? " (" + p.at + ")" : ""), p.v, p.e, p, p.l, p.k, "pkg");
    });
    row("unowned", "", null, P.unowned, null, true, "unowned");
    var all = { b: P.unowned.b, f: P.unowned.f };
    P.packages.forEach(function (p) { all.b += p.b; all.f += p.f; });
    row("total", "", undefined, all, null, true, "total");
    s.appendChild(t);
    s.appendChild(el("p", "note", P.files_known
      ? "Click \u201cby package\u201d above the map to see each package\u2019s files." +
        (P.threshold ? " Files under " + human(P.threshold) + " are counted in each package\u2019s striped \u201cother\u201d cell." : "")
      : "This report was read back from JSON, which keeps each package\u2019s sums but not which files are whose."));
  }
  if (D.kind !== "analyze") {
    var fs = section("Findings (" + D.findings.length + ")");
    if (!D.findings.length) fs.appendChild(el("p", "note", "No rule was broken."));
    else fs.appendChild(table(["severity", "rule", "finding", "path"], D.findings.map(function (f) {
      return [f.severity, f.code, f.message, f.path || ""];
    })));
  }
  var ls = section("Layers (" + D.layers.length + ")");
  ls.appendChild(table(["layer", "compressed", "files bytes", "files", "wasted", "created by"], D.layers.map(function (l) {
    return ["L" + l.index, human(l.compressed), human(l.uncompressed), count(l.files), human(l.wasted), l.created_by || ""];
  }), [false, true, true, true, true, 0]));
  if (D.kind === "diff") {
    var lc = section("Layer changes (" + (D.layer_changes || []).length + ")");
    if (!D.layer_changes || !D.layer_changes.length) lc.appendChild(el("p", "note", "No layer changed."));
    else lc.appendChild(table(["status", "base", "head", "compressed", "files bytes", "created by"], D.layer_changes.map(function (l) {
      return [l.status, l.base_index === undefined ? "" : "L" + l.base_index, l.head_index === undefined ? "" : "L" + l.head_index,
        human(l.compressed_bytes), human(l.uncompressed_bytes), l.created_by || ""];
    }), [false, false, false, true, true, 0]));
  }
  var ad = section((D.kind === "diff" ? "New advice" : "Advice") + " (" + D.advice.length + ")");
  if (!D.advice.length) ad.appendChild(el("p", "note", "Nothing to advise."));
  else ad.appendChild(table(["advice", "severity", "what", "saves", "suggestion"], D.advice.map(function (a) {
    return [a.code, a.severity, a.title, human(a.bytes), a.suggestion];
  }), [false, false, false, true, false]));
  if (D.kind === "diff") {
    var hs = section("History diff");
    if (D.history_diff) hs.appendChild(el("pre", "hist", D.history_diff));
    else hs.appendChild(el("p", "note", "The history did not change."));
  }
  if (D.warnings && D.warnings.length) {
    var ws = section("Warnings");
    var ul = el("ul", "list"); D.warnings.forEach(function (w) { ul.appendChild(el("li", "", w)); }); ws.appendChild(ul);
  }

  // ---- start ----
  function startPath() {
    var h = decodeURIComponent(location.hash.replace(/^#/, ""));
    h.split("&").forEach(function (kv) {
      if (kv === "wasted" && $("wasted")) { $("wasted").checked = true; wasted = true; }
      if (kv.indexOf("path=") === 0 && byPath[kv.slice(5)]) current = byPath[kv.slice(5)];
      if (kv === "view=packages") startPackages = true;
    });
  }
  var startPackages = false;
  if (root) { startPath(); zoom(current); legend(); if (startPackages) setMode("packages"); }
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 100); });
  document.documentElement.setAttribute("data-ready", "1");
})();
