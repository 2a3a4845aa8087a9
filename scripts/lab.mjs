#!/usr/bin/env node
// `npm run lab -- <up|status|fault|heal|state|down|cleanup> …`: the simulated pool by hand.
// Installs what the lab needs, compiles it, then hands over to test/lab/cli.ts.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { compileTests, root } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

try {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  compileTests();
  const cli = spawn(process.execPath, [path.join(root, 'out', 'test', 'lab', 'cli.js'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  process.on('SIGINT', () => undefined); // the CLI gets Ctrl-C itself and stops its lab
  cli.on('exit', (code) => process.exit(code ?? 1));
} catch (error) {
  console.error(`[lab] ${error.message}`);
  process.exit(1);
}
