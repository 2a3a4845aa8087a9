#!/usr/bin/env node
// Makes node_modules match package-lock.json, so `npm test` / `npm start` work on a fresh clone.
// Idempotent: a stamp with the lockfile's hash skips `npm ci` when nothing changed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { root, runMain, SetupError } from './common.mjs';

const stampFile = path.join(root, 'node_modules', '.xenserver-pools-lock.sha256');

export function ensureNodeDependencies() {
  const lockHash = createHash('sha256').update(readFileSync(path.join(root, 'package-lock.json'))).digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === lockHash) return;
  console.log('[setup] installing npm dependencies (npm ci)');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new SetupError(`npm ci failed (exit ${result.status ?? result.signal}; npm's own message is above)`, 'check that the npm registry answers (npm ping), then run the command again');
  }
  writeFileSync(stampFile, lockHash);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain('setup', ensureNodeDependencies);
}
