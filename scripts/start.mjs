#!/usr/bin/env node
// `npm start`: the demo. Today it installs the dependencies, builds and packages the extension and
// says where the .vsix is. It grows into: a simulated pool whose master is dead, and code-server
// with the extension installed and that pool configured.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeDependencies } from './ensure-deps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

try {
  ensureNodeDependencies();
  const result = spawnSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run package failed (exit ${result.status})`);
  const vsix = path.join(root, 'dist', 'xenserver-pools.vsix');
  console.log(`
XenServer Pools is packaged: ${vsix} (${statSync(vsix).size} bytes).
Install it with:  code --install-extension ${vsix}

Not yet part of the demo: the simulated pool with a dead master and a browser VS Code
(code-server) with the extension installed and that pool configured. Those arrive with the
lab and the pool explorer; see CHANGELOG.md.`);
} catch (error) {
  console.error(`[start] ${error.message}`);
  process.exit(1);
}
