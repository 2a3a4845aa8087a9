#!/usr/bin/env node
// `npm start`: the demo. Installs what it needs (npm dependencies; sshd, nftables and chromium's
// companions from Debian; Node 24 and code-server into ~/.cache/xenserver-pools), builds and
// packages the extension, then runs test/support/demo.ts: a lab pool whose master is dead and
// code-server with the extension installed and that pool configured. Ctrl-C stops everything.
// A step that fails ends it with one line: what is missing, the command that fixes it, and the
// log file that holds the details (scripts/common.mjs).
import * as path from 'node:path';
import { compileTests, packageExtension, root, runMain, runReporting, SetupError, VSIX } from './common.mjs';
import { ensureNodeDependencies } from './ensure-deps.mjs';
import { ensureSystemPackages } from './ensure-system.mjs';

const say = (line) => console.log(`[start] ${line}`);

await runMain('start', async () => {
  if (process.getuid?.() !== 0) {
    throw new SetupError('the demo needs root: its simulated hosts are real sshd processes on 127.77.x.x port 22 with their own mount namespaces', 'sudo npm start   (or run it as root in a VM or container)');
  }
  ensureNodeDependencies();
  ensureSystemPackages(['lab']);
  const { ensureVSCode } = await import('./ensure-vscode.mjs');
  const toolEnv = ensureVSCode();
  packageExtension(say);
  compileTests();
  // The demo reports a failure of its own (a lab that cannot start, code-server that does not answer) back to
  // this script, which turns it into the one-line report; Ctrl-C after the URL ends it with exit 130.
  const code = await runReporting('demo', [process.execPath, path.join(root, 'out', 'test', 'support', 'demo.js'), VSIX], toolEnv.env);
  process.exit(code === 130 ? 0 : code);
});
