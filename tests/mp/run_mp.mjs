// Runs the tests/mp/mp_*.py scripts under the MicroPython WebAssembly port.
//
// Usage: node tests/mp/run_mp.mjs [--repo DIR] [--npm DIR] [mp_name ...]
//
// --repo  the project root (default: two levels above this file)
// --npm   a directory holding node_modules/@micropython/micropython-webassembly-pyscript's
//         parent, i.e. the "node_modules" directory itself (default: $LWM2M_MICROPYTHON_NPM,
//         then <repo>/.mp/node_modules, then /tmp/mpnpm/node_modules)
// mp_name only run these scripts (file stems, e.g. mp_tlv); default: every tests/mp/mp_*.py
//
// The sans-IO core (lwm2m_client/__init__.py and lwm2m_client/core/**.py) and every .py file
// of tests/mp/ are copied into the interpreter's virtual filesystem. Each script is imported
// and each of its top-level `test_*` functions is called on its own, so one failure never
// stops the run. Output, one line per test:
//
//   PASS mp_x.test_y
//   FAIL mp_x.test_y: <exception>        followed by the traceback, each line indented "  | "
//
// and last a machine-readable line "MP-SUMMARY <json>" with the counts and, per test, null
// (passed) or the traceback text. An import failure of a script is reported under the name
// "mp_x" alone. Whatever the scripts print goes to stderr. Exit status: 0 when everything
// passed, 1 when anything failed, 2 when the interpreter could not be set up.

import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const PACKAGE = "@micropython/micropython-webassembly-pyscript";
const HERE = path.dirname(url.fileURLToPath(import.meta.url));
const SITE = "/lib"; // already on MicroPython's sys.path
const SCRIPTS = "/mp_tests";

function parseArgs(argv) {
  const opts = { repo: path.resolve(HERE, "..", ".."), npm: null, only: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--repo") opts.repo = path.resolve(argv[++i]);
    else if (argv[i] === "--npm") opts.npm = path.resolve(argv[++i]);
    else opts.only.push(argv[i]);
  }
  return opts;
}

function findPackage(opts) {
  const candidates = opts.npm
    ? [opts.npm]
    : [
        process.env.LWM2M_MICROPYTHON_NPM,
        path.join(opts.repo, ".mp", "node_modules"),
        "/tmp/mpnpm/node_modules",
      ].filter(Boolean);
  for (const dir of candidates) {
    const entry = path.join(dir, PACKAGE, "micropython.mjs");
    if (fs.existsSync(entry)) return entry;
  }
  throw new Error(`${PACKAGE} not found in: ${candidates.join(", ")}`);
}

// Every .py file below `dir`, as paths relative to `root`, in a stable order.
function pyFiles(root, dir) {
  const out = [];
  for (const ent of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, ent.name);
    if (ent.isDirectory() && ent.name !== "__pycache__") out.push(...pyFiles(root, rel));
    else if (ent.isFile() && ent.name.endsWith(".py")) out.push(rel);
  }
  return out.sort();
}

function copyInto(mp, hostPath, vmPath) {
  mp.FS.mkdirTree(path.posix.dirname(vmPath));
  mp.FS.writeFile(vmPath, fs.readFileSync(hostPath));
}

// Names of the top-level test functions in definition order (MicroPython's module dict
// has no insertion order); names found only by the interpreter come last.
function definitionOrder(source, names) {
  const pos = (name) => {
    const m = new RegExp(`^(?:async )?def ${name}\\(`, "m").exec(source);
    return m ? m.index : Infinity;
  };
  return [...names].sort((a, b) => pos(a) - pos(b) || (a < b ? -1 : a > b ? 1 : 0));
}

// Runs of one repeated line (deep recursion) shrink to the line and a count.
function squeeze(text) {
  const out = [];
  let repeats = 0;
  for (const line of text.split("\n")) {
    if (out.length && line === out[out.length - 1]) {
      repeats++;
      continue;
    }
    if (repeats) out.push(`  [previous line repeated ${repeats} more times]`);
    repeats = 0;
    out.push(line);
  }
  if (repeats) out.push(`  [previous line repeated ${repeats} more times]`);
  return out.join("\n");
}

function errorText(err) {
  // PythonError carries MicroPython's own traceback; anything else is a JS-level failure
  // (e.g. a WebAssembly trap), which is reported as such.
  if (err && err.name === "PythonError") return squeeze(err.message.trimEnd());
  return `JavaScript ${err && err.stack ? err.stack : String(err)}`;
}

function report(name, err, results) {
  if (err === null) {
    console.log(`PASS ${name}`);
  } else {
    const lines = err.split("\n");
    console.log(`FAIL ${name}: ${lines[lines.length - 1]}`);
    for (const line of lines) console.log(`  | ${line}`);
  }
  results[name] = err;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { loadMicroPython } = await import(url.pathToFileURL(findPackage(opts)).href);
  const mp = await loadMicroPython({
    stdout: (line) => process.stderr.write(`[mp] ${line}\n`),
    stderr: (line) => process.stderr.write(`[mp] ${line}\n`),
  });

  const pkgInit = path.join("lwm2m_client", "__init__.py");
  copyInto(mp, path.join(opts.repo, pkgInit), `${SITE}/lwm2m_client/__init__.py`);
  for (const rel of pyFiles(opts.repo, path.join("lwm2m_client", "core"))) {
    copyInto(mp, path.join(opts.repo, rel), `${SITE}/${rel.split(path.sep).join("/")}`);
  }
  const testDir = path.join(opts.repo, "tests", "mp");
  const scripts = [];
  for (const name of fs.readdirSync(testDir).sort()) {
    if (!name.endsWith(".py")) continue;
    copyInto(mp, path.join(testDir, name), `${SCRIPTS}/${name}`);
    const stem = name.slice(0, -3);
    if (stem.startsWith("mp_") && (opts.only.length === 0 || opts.only.includes(stem))) {
      scripts.push(stem);
    }
  }

  mp.runPython(
    [
      "import sys",
      `sys.path.insert(0, ${JSON.stringify(SCRIPTS)})`,
      "def _mp_tests(name):",
      "    mod = __import__(name)",
      "    return '\\n'.join([k for k in dir(mod) if k.startswith('test_')",
      "                       and type(getattr(mod, k)).__name__ == 'function'])",
      "_mp_version = sys.version",
    ].join("\n"),
  );
  const version = mp.globals.get("_mp_version");
  console.log(`running ${scripts.length} scripts under ${version}`);

  const results = {};
  for (const stem of scripts) {
    let names;
    try {
      mp.runPython(`_mp_names = _mp_tests(${JSON.stringify(stem)})`);
      names = mp.globals.get("_mp_names").split("\n").filter(Boolean);
    } catch (err) {
      report(stem, errorText(err), results);
      continue;
    }
    const source = fs.readFileSync(path.join(testDir, `${stem}.py`), "utf8");
    for (const fn of definitionOrder(source, names)) {
      let err = null;
      try {
        mp.runPython(`__import__(${JSON.stringify(stem)}).${fn}()`);
      } catch (e) {
        err = errorText(e);
      }
      report(`${stem}.${fn}`, err, results);
    }
  }

  const failed = Object.values(results).filter((e) => e !== null).length;
  const summary = {
    micropython: version,
    scripts: scripts.length,
    passed: Object.keys(results).length - failed,
    failed,
    seconds: (Date.now() - started) / 1000,
    results,
  };
  console.log(`MP-SUMMARY ${JSON.stringify(summary)}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  console.error(`run_mp: ${err && err.stack ? err.stack : err}`);
  process.exitCode = 2;
});
