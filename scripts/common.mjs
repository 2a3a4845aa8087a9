// What the project's scripts share: where the repository is, running a step that must succeed, and
// how a script that cannot go on tells a new user what to do.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Something this machine lacks that the user can fix: `message` names it, `fix` is the command that fixes it.
 * The TypeScript side (the lab, the demo) throws test/support/setupError.ts, which carries the same `fix`.
 */
export class SetupError extends Error {
  constructor(message, fix) {
    super(message);
    this.name = 'SetupError';
    this.fix = fix;
  }
}

/** Runs argv in the repository with the terminal attached; throws naming `what` if it fails. */
export function must(argv, what, env = {}) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status})`);
}

/** The packaged extension that the exthost and e2e tiers, the demo and the benchmarks install. */
export const VSIX = path.join(root, 'dist', 'xenserver-pools.vsix');

/**
 * Builds and packages the extension; vsce's listing of what the .vsix holds goes to `.logs/package.log`, and
 * the one line printed says where the .vsix is.
 */
export function packageExtension(say = (line) => console.log(line)) {
  mustQuietly(['npm', 'run', '--silent', 'package'], 'packaging the extension (npm run package)', failureLogFile('package'));
  say(`packaged ${path.relative(process.cwd(), VSIX) || VSIX} (${Math.round(statSync(VSIX).size / 1024)} KB)`);
}

/** Like must(), but the step's output goes to `logFile` (and, if the step fails, its last line into the error). */
function mustQuietly(argv, what, logFile) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: 'utf8' });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  mkdirSync(path.dirname(logFile), { recursive: true });
  writeFileSync(logFile, `$ ${argv.join(' ')}\n${output}`);
  if (result.status !== 0) {
    const error = new Error(`${what} failed (exit ${result.status ?? result.signal}): ${output.trim().split('\n').slice(-1)[0] ?? ''}`);
    error.details = output;
    throw error;
  }
}

/** Compiles src/core, the tests, the lab and the benchmarks into out/. */
export function compileTests() {
  must([path.join(root, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.test.json'], 'compiling the tests');
}

/** Where a script keeps the whole story of its last failure: `.logs/<name>.log` in the repository. */
export function failureLogFile(name) {
  return path.join(root, '.logs', `${name}.log`);
}

/**
 * Tells the user in one line what went wrong and, for a SetupError, the command that fixes it; the stack
 * trace and any captured output go to the failure log that the line names.
 */
export function reportFailure(name, error) {
  const log = failureLogFile(name);
  mkdirSync(path.dirname(log), { recursive: true });
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeFileSync(log, `${new Date().toISOString()} ${name} failed\n${stack}\n${error?.details ? `\n${error.details}\n` : ''}`);
  const message = (error instanceof Error ? error.message : String(error)).trim().split('\n')[0];
  const fix = error?.fix ? ` Fix: ${error.fix}.` : '';
  console.error(`[${name}] ${message.replace(/\.$/, '')}.${fix} Details: ${path.relative(process.cwd(), log) || log}`);
}

/**
 * A compiled TypeScript entry point (the demo, the lab's check) reports a failure in a file
 * (test/support/setupError.ts `reportToCaller`): `reportFile()` names a fresh one to pass in
 * XENPOOLS_FAILURE_REPORT, `reportedFailure()` reads it back as an error with the same message, fix and stack.
 */
export function reportFile(name) {
  const file = failureLogFile(`${name}.report.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  rmSync(file, { force: true });
  return file;
}

export function reportedFailure(file) {
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  return Object.assign(new Error(report.message), { stack: report.stack, fix: report.fix });
}

/**
 * Runs a compiled TypeScript entry point (the demo, the lab CLI) with the terminal attached and resolves with its
 * exit code; a failure it reported through XENPOOLS_FAILURE_REPORT is thrown as that error. Ctrl-C reaches it
 * through the terminal's process group (it stops what it started; this process waits), SIGTERM is passed on.
 */
export async function runReporting(name, argv, env = {}) {
  const report = reportFile(name);
  const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...process.env, ...env, XENPOOLS_FAILURE_REPORT: report } });
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const code = await new Promise((resolve) => child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1))));
  const failure = reportedFailure(report);
  if (failure) throw failure;
  return code;
}

/** Runs a script's body; a failure is reported by reportFailure() and ends the process with exit 1. */
export async function runMain(name, body) {
  try {
    await body();
  } catch (error) {
    reportFailure(name, error);
    process.exit(1);
  }
}
