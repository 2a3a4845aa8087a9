#!/usr/bin/env node
// `npm test`: every test tier, each installing what it needs first, then one summary line
// `N passed, N failed[, N skipped]` over all tiers. Exit code 1 if anything failed.
// `npm test -- unit lab` runs only the named tiers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compileTests as compile, packageExtension, reportedFailure, reportFailure, reportFile, root, VSIX } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';
import { ensureVSCode } from './ensure-vscode.mjs';

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(argv, env = {}) {
  const started = Date.now();
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return { ok: result.status === 0, status: result.status ?? result.signal, seconds: (Date.now() - started) / 1000 };
}

/** A check is one pass or one failure. */
function check(argv) {
  const { ok } = run(argv);
  return { passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
}

/** A mocha run counts its tests; a run that dies before reporting counts as one failure. */
function mocha(config, env = {}) {
  const statsDir = mkdtempSync(path.join(tmpdir(), 'xenpools-stats-'));
  const statsFile = path.join(statsDir, 'stats.json');
  try {
    const { ok } = run([bin('mocha'), '--config', config, '--reporter', path.join(root, 'test/support/counting-reporter.cjs')], {
      ...env,
      XENPOOLS_STATS_FILE: statsFile,
    });
    if (!existsSync(statsFile)) return { passed: 0, failed: 1, skipped: 0 };
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    // Mocha can exit non-zero with all tests passed (e.g. a failing root hook is not a test).
    if (!ok && stats.failed === 0) stats.failed = 1;
    return stats;
  } finally {
    rmSync(statsDir, { recursive: true, force: true });
  }
}

let testsCompiled = false;
function compileTests() {
  if (testsCompiled) return;
  // From scratch: a stale out/ could hold compiled tests whose sources are gone.
  rmSync(path.join(root, 'out'), { recursive: true, force: true });
  compile();
  testsCompiled = true;
}

/**
 * The lab, exthost and e2e tiers start labs: whether this machine can is checked once, by starting a 1-host lab
 * (`lab check`), so a missing prerequisite is one line naming its fix instead of every lab test failing alike.
 */
let labCheck;
function ensureLabs() {
  if (labCheck === undefined) {
    ensureSystemPackages(['lab']);
    compileTests();
    const report = reportFile('lab-check');
    const { ok } = run([process.execPath, path.join(root, 'out', 'test', 'lab', 'cli.js'), 'check'], { XENPOOLS_FAILURE_REPORT: report });
    labCheck = ok ? null : (reportedFailure(report) ?? new Error('the lab check failed (its output is above)'));
  }
  if (labCheck) throw labCheck;
}

function hasTests(dir) {
  const full = path.join(root, dir);
  return existsSync(full) && readdirSync(full, { recursive: true }).some((f) => String(f).endsWith('.test.ts'));
}

const tiers = {
  'type-check': () => check([bin('tsc'), '--noEmit', '-p', '.']),
  lint: () => check([bin('eslint'), '--max-warnings', '0', 'src', 'test', 'scripts', 'bench', 'esbuild.mjs']),
  unit: () => {
    ensureSystemPackages(['unit']);
    compileTests();
    return mocha('.mocharc.json');
  },
  package: () => {
    packageExtension();
    compileTests();
    return mocha('.mocharc.package.json', { XENPOOLS_VSIX: VSIX });
  },
  lab: () => {
    if (!hasTests('test/lab')) return { passed: 0, failed: 0, skipped: 0 };
    ensureLabs();
    return mocha('.mocharc.lab.json');
  },
  // Both run the packaged extension in code-server (a real VS Code) opened by headless chromium.
  exthost: () => {
    ensureLabs();
    const { env } = ensureVSCode();
    packageExtension();
    compileTests();
    return mocha('.mocharc.exthost.json', { ...env, XENPOOLS_VSIX: VSIX });
  },
  e2e: () => {
    ensureLabs();
    const { env } = ensureVSCode();
    packageExtension();
    compileTests();
    // Every screenshot in test-results/e2e/ is from this run.
    rmSync(path.join(root, 'test-results', 'e2e'), { recursive: true, force: true });
    return mocha('.mocharc.e2e.json', { ...env, XENPOOLS_VSIX: VSIX });
  },
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in tiers));
if (unknown.length) {
  console.error(`unknown tier(s): ${unknown.join(', ')}; known: ${Object.keys(tiers).join(', ')}`);
  process.exit(2);
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
try {
  ensureNodeDependencies();
} catch (error) {
  reportFailure('test', error);
  totals.failed += 1;
}
if (totals.failed === 0) {
  for (const name of requested.length ? requested : Object.keys(tiers)) {
    console.log(`\n=== ${name} ===`);
    const started = Date.now();
    let counts;
    try {
      counts = tiers[name]();
    } catch (error) {
      reportFailure(`test-${name}`, error);
      counts = { passed: 0, failed: 1, skipped: 0 };
    }
    for (const key of Object.keys(totals)) totals[key] += counts[key];
    lines.push(`${name.padEnd(11)} ${String(counts.passed).padStart(4)} passed ${String(counts.failed).padStart(3)} failed ${String(counts.skipped).padStart(3)} skipped  ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

console.log(`\n${lines.join('\n')}`);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed ? 1 : 0);
