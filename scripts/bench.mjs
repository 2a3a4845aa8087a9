#!/usr/bin/env node
// `npm run bench [-- refresh|recovery|extension]`: bench/run.ts after installing and building what it needs.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function must(argv, what) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status})`);
}
try {
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  must(['npm', 'run', '--silent', 'package'], 'npm run package');
  must([path.join(root, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.test.json'], 'compiling the benchmarks');
  must([process.execPath, path.join(root, 'out', 'bench', 'run.js'), ...process.argv.slice(2)], 'the benchmarks');
} catch (error) {
  console.error(`[bench] ${error.message}`);
  process.exit(1);
}
