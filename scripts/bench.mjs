#!/usr/bin/env node
// `npm run bench [-- refresh|recovery|extension]`: bench/run.ts after installing and building what it needs.
import * as path from 'node:path';
import { compileTests, must, packageExtension, root, runMain } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';
import { ensureVSCode } from './ensure-vscode.mjs';

await runMain('bench', () => {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  const scenarios = process.argv.slice(2);
  // The extension rows run in code-server and chromium, installed like the exthost and e2e tiers' (a new machine has neither).
  const tools = scenarios.length === 0 || scenarios.includes('extension') ? ensureVSCode().env : {};
  packageExtension();
  compileTests();
  // --expose-gc: the scale scenario collects garbage between rounds, so heap growth means a leak.
  must([process.execPath, '--expose-gc', path.join(root, 'out', 'bench', 'run.js'), ...scenarios], 'the benchmarks', tools);
});
