// Stand-in for actions/cache (restore, save, and restore + post-save) for runs under
// act with no network: entries are tar files in $STANDIN_STORE/cache, named by key.
// Same inputs, outputs and matching as the real action: an exact key is a hit,
// else the newest entry whose key starts with one of restore-keys (in order).
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const input = (name) => (process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] || "").trim();
const lines = (name) => input(name).split("\n").map((l) => l.trim()).filter(Boolean);
const store = () => {
  const dir = path.join(process.env.STANDIN_STORE || "/nonexistent", "cache");
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};
const file = (key) => path.join(store(), encodeURIComponent(key) + ".tar");
const output = (k, v) => fs.appendFileSync(process.env.GITHUB_OUTPUT, `${k}=${v}\n`);
const state = (k, v) => fs.appendFileSync(process.env.GITHUB_STATE, `${k}=${v}\n`);
const home = (p) => (p.startsWith("~/") ? path.join(process.env.HOME, p.slice(2)) : p);
// Like the real action, paths are stored relative to the workspace, so a file under
// runner.temp comes back under the restoring job's runner.temp.
const workspace = () => process.env.GITHUB_WORKSPACE || process.cwd();
const abs = (p) => path.resolve(workspace(), home(p));

function restore() {
  const key = input("key");
  if (!key) throw new Error("Input required and not supplied: key");
  let matched = "";
  if (fs.existsSync(file(key))) {
    matched = key;
  } else {
    const entries = fs.readdirSync(store())
      .map((f) => decodeURIComponent(f.replace(/\.tar$/, "")))
      .map((k) => ({ k, t: fs.statSync(file(k)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const prefix of lines("restore-keys")) {
      const hit = entries.find((e) => e.k.startsWith(prefix));
      if (hit) { matched = hit.k; break; }
    }
  }
  output("cache-primary-key", key);
  state("CACHE_KEY", key);
  if (!matched) {
    output("cache-hit", "false");
    if (input("fail-on-cache-miss") === "true") {
      throw new Error(`Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${key}`);
    }
    console.log(`Cache not found for input keys: ${[key, ...lines("restore-keys")].join(", ")}`);
    return;
  }
  // Matrix legs under act share one host HOME, so two legs may restore the same
  // entry at once: --overwrite writes over a file another leg just created instead of
  // failing with "File exists" (a real runner gives each job its own disk).
  execFileSync("tar", ["--overwrite", "-xPf", file(matched), "-C", workspace()]);
  output("cache-matched-key", matched);
  output("cache-hit", String(matched === key));
  state("CACHE_RESULT", matched);
  console.log(`Cache restored from key: ${matched}`);
}

function save(key) {
  if (fs.existsSync(file(key))) {
    console.log(`::warning::Failed to save: Unable to reserve cache with key ${key}, another job may be creating this cache.`);
    return;
  }
  const paths = lines("path").map(abs).filter((p) => fs.existsSync(p)).map((p) => path.relative(workspace(), p));
  if (paths.length === 0) {
    console.log("::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.");
    return;
  }
  execFileSync("tar", ["-cPf", file(key), "-C", workspace(), ...paths]);
  console.log(`Cache saved with key: ${key}`);
}

module.exports = { restore, save, input };
