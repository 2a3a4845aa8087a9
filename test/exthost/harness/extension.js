// Test harness extension for the exthost tier (see test/exthost/runInCodeServer.ts).
// Installed beside the product in code-server. When the code-server process carries
// XENPOOLS_EXTHOST_RUN (JSON: { testsDir, mocha, results, timeout }), it loads mocha from the repo,
// runs every compiled `*.test.js` under testsDir inside this extension host, against the real
// `vscode` API, and writes { passed, failed, skipped, tests[] } to `results`. Without the variable
// it does nothing.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = require('node:fs');
const path = require('node:path');

function writeResults(file, results) {
  // Write then rename, so the runner never reads half a file.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

function errorDetails(error) {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}

function findTests(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.test.js'))
    .sort()
    .map((name) => path.join(dir, name));
}

async function runTests(config) {
  const Mocha = require(config.mocha);
  const mocha = new Mocha({ ui: 'bdd', timeout: config.timeout ?? 20000, color: false, reporter: Mocha.reporters.Base });
  for (const file of findTests(config.testsDir)) mocha.addFile(file);
  const tests = [];
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      resolve({
        passed: tests.filter((t) => t.state === 'passed').length,
        failed: tests.filter((t) => t.state === 'failed').length,
        skipped: tests.filter((t) => t.state === 'skipped').length,
        tests,
      });
    });
    const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
    const record = (test, state, error) =>
      tests.push({ titlePath: test.titlePath(), state, duration: test.duration ?? 0, ...(error ? { error: errorDetails(error) } : {}) });
    runner.on(EVENT_TEST_PASS, (test) => record(test, 'passed'));
    // A failing hook arrives here too (its title names the hook), so it is never lost.
    runner.on(EVENT_TEST_FAIL, (test, error) => record(test, 'failed', error));
    runner.on(EVENT_TEST_PENDING, (test) => record(test, 'skipped'));
  });
}

function activate(context) {
  const request = process.env.XENPOOLS_EXTHOST_RUN;
  if (!request) return;
  const config = JSON.parse(request);
  // The tests reach the harness's context (e.g. its logUri) through this global.
  globalThis.xenPoolsTestHarness = { context };
  runTests(config).then(
    (results) => writeResults(config.results, results),
    (error) => writeResults(config.results, { passed: 0, failed: 1, skipped: 0, tests: [{ titlePath: ['test harness'], state: 'failed', duration: 0, error: errorDetails(error) }] }),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
