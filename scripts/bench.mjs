#!/usr/bin/env node
// `npm run bench [-- refresh|recovery|extension]`: bench/run.ts after installing and building what it needs.
import * as path from 'node:path';
import { compileTests, must, packageExtension, root, runMain } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

await runMain('bench', () => {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  packageExtension();
  compileTests();
  // --expose-gc: the scale scenario collects garbage between rounds, so heap growth means a leak.
  must([process.execPath, '--expose-gc', path.join(root, 'out', 'bench', 'run.js'), ...process.argv.slice(2)], 'the benchmarks');
});
