//! A stand-in for the GitHub Actions runner, enough to run `action.yml` the way a
//! runner does: inputs with their defaults, `${{ inputs.* }}`, `${{ github.* }}`,
//! `${{ runner.* }}` and `${{ steps.<id>.outputs.* }}` substituted, each `run:` step
//! run with its `shell` in a clean environment, and the `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, `GITHUB_ENV` and `GITHUB_PATH` files carried from step to
//! step. `uses:` steps (actions/cache) cannot run here and are recorded as skipped.
//! Any other expression fails the test: the action must stay runnable by this.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Runner {
    pub inputs: BTreeMap<String, String>,
    /// The `github` context (`token`, `action_ref`, `event_name`, ...).
    pub github: BTreeMap<String, String>,
    /// Variables the runner sets for every step (GITHUB_REPOSITORY, GITHUB_API_URL,
    /// GITHUB_EVENT_PATH, ...).
    pub env: BTreeMap<String, String>,
    /// runner.temp, runner.tool_cache and the workspace live here.
    pub dir: PathBuf,
}

#[derive(Debug)]
pub struct Run {
    /// The exit code of the last step run (the failing one, if any).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The action's outputs, evaluated from `outputs.*.value`.
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    /// The `uses:` steps (which this stand-in cannot run), in order, each with whether
    /// its `if:` let it run and its `with:` values expanded.
    pub uses: Vec<UsesStep>,
}

#[derive(Debug, PartialEq)]
pub struct UsesStep {
    pub uses: String,
    pub runs: bool,
    pub with: BTreeMap<String, String>,
}

impl Run {
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("action output {name} is not declared"))
    }
}

impl Runner {
    pub fn new(dir: &Path) -> Runner {
        for d in ["temp", "tool-cache", "workspace"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let mut github = BTreeMap::new();
        github.insert("token".into(), "ghs_ActionsT0ken".into());
        github.insert("action_ref".into(), "v0".into());
        github.insert("event_name".into(), "pull_request".into());
        Runner {
            inputs: BTreeMap::new(),
            github,
            env: BTreeMap::new(),
            dir: dir.to_path_buf(),
        }
    }

    pub fn input(mut self, k: &str, v: &str) -> Self {
        self.inputs.insert(k.into(), v.into());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }

    pub fn workspace(&self) -> PathBuf {
        self.dir.join("workspace")
    }

    pub fn temp(&self) -> PathBuf {
        self.dir.join("temp")
    }

    /// Writes the event payload and points GITHUB_EVENT_PATH at it.
    pub fn event(mut self, name: &str, payload: Value) -> Self {
        let path = self.dir.join("event.json");
        std::fs::write(&path, payload.to_string()).unwrap();
        self.github.insert("event_name".into(), name.into());
        self.env.insert("GITHUB_EVENT_NAME".into(), name.into());
        self.env
            .insert("GITHUB_EVENT_PATH".into(), path.display().to_string());
        self
    }

    pub fn run(&self) -> Run {
        let action: Value = serde_saphyr::from_str(
            &std::fs::read_to_string(repo_root().join("action.yml")).unwrap(),
        )
        .unwrap();
        let declared = action["inputs"].as_object().unwrap();
        for k in self.inputs.keys() {
            assert!(declared.contains_key(k), "input {k} is not declared");
        }
        let mut ctx = Context {
            inputs: BTreeMap::new(),
            github: self.github.clone(),
            runner: [
                ("temp", self.temp()),
                ("tool_cache", self.dir.join("tool-cache")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.display().to_string()))
            .chain([
                ("os".to_string(), "Linux".to_string()),
                ("arch".to_string(), "X64".to_string()),
            ])
            .collect(),
            steps: BTreeMap::new(),
        };
        for (k, spec) in declared {
            let value = match self.inputs.get(k) {
                Some(v) => v.clone(),
                None => ctx.expand(&scalar(&spec["default"])),
            };
            ctx.inputs.insert(k.clone(), value);
        }

        let files = self.dir.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let env_file = files.join("env");
        let path_file = files.join("path");
        std::fs::write(&env_file, "").unwrap();
        std::fs::write(&path_file, "").unwrap();
        let mut run = Run {
            code: 0,
            stdout: String::new(),
            stderr: String::new(),
            outputs: BTreeMap::new(),
            summary: String::new(),
            uses: Vec::new(),
        };
        let steps = action["runs"]["steps"].as_array().unwrap();
        assert_eq!(action["runs"]["using"], "composite");
        for (i, step) in steps.iter().enumerate() {
            let id = step["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or(format!("__{i}"));
            if let Some(uses) = step["uses"].as_str() {
                let runs = match step["if"].as_str() {
                    None => true,
                    Some(cond) => ctx.condition(cond),
                };
                let with = step["with"]
                    .as_object()
                    .map(|w| {
                        w.iter()
                            .map(|(k, v)| (k.clone(), ctx.expand(&scalar(v))))
                            .collect()
                    })
                    .unwrap_or_default();
                run.uses.push(UsesStep {
                    uses: uses.to_string(),
                    runs,
                    with,
                });
                continue;
            }
            assert!(step["if"].is_null(), "run steps with if: are not supported");
            let script = ctx.expand(step["run"].as_str().unwrap());
            let shell = step["shell"]
                .as_str()
                .expect("composite run steps need a shell");
            let script_file = files.join(format!("step{i}.sh"));
            std::fs::write(&script_file, &script).unwrap();
            let output_file = files.join(format!("output{i}"));
            let summary_file = files.join(format!("summary{i}"));
            std::fs::write(&output_file, "").unwrap();
            std::fs::write(&summary_file, "").unwrap();

            let mut cmd = match shell {
                "bash" => {
                    let mut c = Command::new("bash");
                    c.args(["--noprofile", "--norc", "-eo", "pipefail"]);
                    c
                }
                "sh" => {
                    let mut c = Command::new("sh");
                    c.arg("-e");
                    c
                }
                other => panic!("shell {other} is not supported"),
            };
            cmd.arg(&script_file)
                .current_dir(self.workspace())
                .env_clear();
            let mut path: Vec<String> = std::fs::read_to_string(&path_file)
                .unwrap()
                .lines()
                .rev()
                .map(str::to_string)
                .collect();
            path.push(std::env::var("PATH").unwrap_or_default());
            cmd.env("PATH", path.join(":"))
                .env("HOME", self.dir.display().to_string())
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", repo_root())
                .env("GITHUB_WORKSPACE", self.workspace())
                .env("RUNNER_TEMP", self.temp())
                .env("RUNNER_TOOL_CACHE", self.dir.join("tool-cache"))
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .env("GITHUB_ENV", &env_file)
                .env("GITHUB_PATH", &path_file);
            cmd.envs(&self.env);
            cmd.envs(parse_file_commands(
                &std::fs::read_to_string(&env_file).unwrap(),
            ));
            if let Some(env) = step["env"].as_object() {
                for (k, v) in env {
                    cmd.env(k, ctx.expand(&scalar(v)));
                }
            }
            let out = cmd.output().unwrap();
            // A step runs layergate: a panic in it fails the test whatever the step's code.
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked at"), "step {i} panicked: {err}");
            run.stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            run.summary
                .push_str(&std::fs::read_to_string(&summary_file).unwrap());
            ctx.steps.insert(
                id,
                parse_file_commands(&std::fs::read_to_string(&output_file).unwrap()),
            );
            run.code = out.status.code().unwrap_or(-1);
            if run.code != 0 {
                break;
            }
        }
        for (name, spec) in action["outputs"].as_object().unwrap() {
            run.outputs
                .insert(name.clone(), ctx.expand(spec["value"].as_str().unwrap()));
        }
        run
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Context {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    runner: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Context {
    /// Substitutes every `${{ expr }}`; an expression this stand-in does not know
    /// fails the test rather than silently becoming empty.
    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.eval(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// A step's `if:`: `EXPR == 'TEXT'`, `EXPR != 'TEXT'`, or a bare EXPR (true when
    /// not empty), optionally after `always() &&`. Anything else fails the test rather
    /// than being guessed.
    fn condition(&self, cond: &str) -> bool {
        let cond = cond.trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(cond)
            .trim();
        // `always() && REST`: the stand-in stops at the first failing step, so every
        // step it reaches runs "always"; REST decides.
        if cond == "always()" {
            return true;
        }
        if let Some(rest) = cond.strip_prefix("always() &&") {
            return self.condition(rest);
        }
        for (op, equal) in [("!=", false), ("==", true)] {
            if let Some((left, right)) = cond.split_once(op) {
                let right = right.trim();
                let text = right
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .unwrap_or_else(|| panic!("if: {cond}: only a quoted string on the right"));
                return (self.eval(left.trim()) == text) == equal;
            }
        }
        !self.eval(cond).is_empty()
    }

    fn eval(&self, expr: &str) -> String {
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self
                .inputs
                .get(*name)
                .unwrap_or_else(|| panic!("undeclared input in ${{{{ {expr} }}}}"))
                .clone(),
            ["github", name] => self.github.get(*name).cloned().unwrap_or_default(),
            ["runner", name] => self
                .runner
                .get(*name)
                .unwrap_or_else(|| panic!("unknown runner context ${{{{ {expr} }}}}"))
                .clone(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("expression not supported by the runner stand-in: ${{{{ {expr} }}}}"),
        }
    }
}

/// `key=value` lines and `key<<DELIM` heredocs, as GITHUB_OUTPUT and GITHUB_ENV hold
/// them; a later value for a key wins.
pub fn parse_file_commands(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((k, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(k.to_string(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}
