#!/usr/bin/env node
// `npm run lab -- <up|status|fault|heal|state|down|cleanup|check> …`: the simulated pool by hand.
// Installs what the lab needs, compiles it, then hands over to test/lab/cli.ts.
import * as path from 'node:path';
import { compileTests, root, runMain, runReporting } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

await runMain('lab', async () => {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  compileTests();
  // The CLI gets Ctrl-C itself and stops its lab.
  process.exit(await runReporting('lab', [process.execPath, path.join(root, 'out', 'test', 'lab', 'cli.js'), ...process.argv.slice(2)]));
});
