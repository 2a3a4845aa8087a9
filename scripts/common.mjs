// What the project's scripts share: where the repository is, and running a step that must succeed.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs argv in the repository with the terminal attached; throws naming `what` if it fails. */
export function must(argv, what) {
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status})`);
}

/** Compiles src/core, the tests, the lab and the benchmarks into out/. */
export function compileTests() {
  must([path.join(root, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.test.json'], 'compiling the tests');
}
