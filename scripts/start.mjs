#!/usr/bin/env node
// `npm start`: the demo. Installs what it needs (npm dependencies; sshd, nftables and chromium's
// companions from Debian; Node 24 and code-server into ~/.cache/xenserver-pools), builds and
// packages the extension, then runs test/support/demo.ts: a lab pool whose master is dead and
// code-server with the extension installed and that pool configured. Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { compileTests, must, root } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

try {
  if (process.getuid?.() !== 0) {
    throw new Error('the demo needs root: its simulated hosts are real sshd processes on 127.77.x.x port 22 with their own mount namespaces. Run it as root (e.g. in a container or VM).');
  }
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  const { ensureVSCode } = await import('./ensure-vscode.mjs');
  const toolEnv = ensureVSCode();
  must(['npm', 'run', '--silent', 'package'], 'npm run package');
  compileTests();
  const demo = spawn(process.execPath, [path.join(root, 'out', 'test', 'support', 'demo.js'), path.join(root, 'dist', 'xenserver-pools.vsix')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...toolEnv.env },
  });
  // Ctrl-C reaches the demo through the terminal's process group; it stops its own processes.
  process.on('SIGINT', () => undefined);
  demo.on('exit', (code) => process.exit(code ?? 1));
} catch (error) {
  console.error(`[start] ${error.message}`);
  process.exit(1);
}
