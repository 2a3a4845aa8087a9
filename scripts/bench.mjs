#!/usr/bin/env node
// `npm run bench [-- refresh|recovery|extension]`: bench/run.ts after installing and building what it needs.
import * as path from 'node:path';
import { compileTests, must, root } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

try {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  must(['npm', 'run', '--silent', 'package'], 'npm run package');
  compileTests();
  must([process.execPath, path.join(root, 'out', 'bench', 'run.js'), ...process.argv.slice(2)], 'the benchmarks');
} catch (error) {
  console.error(`[bench] ${error.message}`);
  process.exit(1);
}
