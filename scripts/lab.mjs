#!/usr/bin/env node
// `npm run lab -- <up|status|fault|heal|state|down|cleanup|check> …`: the simulated pool by hand.
// Installs what the lab needs, compiles it, then hands over to test/lab/cli.ts.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { compileTests, reportedFailure, reportFile, root, runMain } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

await runMain('lab', async () => {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  compileTests();
  const report = reportFile('lab');
  const cli = spawn(process.execPath, [path.join(root, 'out', 'test', 'lab', 'cli.js'), ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, XENPOOLS_FAILURE_REPORT: report },
  });
  process.on('SIGINT', () => undefined); // the CLI gets Ctrl-C itself and stops its lab
  const code = await new Promise((resolve) => cli.on('exit', (exitCode) => resolve(exitCode ?? 1)));
  const failure = reportedFailure(report);
  if (failure) throw failure;
  process.exit(code);
});
