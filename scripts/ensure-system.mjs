#!/usr/bin/env node
// Installs the Debian packages a test tier or the demo needs, idempotently.
// As root it runs apt-get itself; otherwise it uses `sudo -n` when that works without a password;
// else it stops and prints the exact command the user must run. Usage:
//   node scripts/ensure-system.mjs unit       (ssh-keygen)
//   node scripts/ensure-system.mjs lab        (sshd, ssh client, nftables, iproute2, util-linux, openssl)
//   node scripts/ensure-system.mjs browser    (chromium, libkrb5-dev and build tools for code-server)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runMain, SetupError } from './common.mjs';

/** Each package with a file that proves it is installed: checking files is faster than asking dpkg. */
const PACKAGE_SETS = {
  // unit tests compare with ssh-keygen's fingerprints and hashed known_hosts
  unit: { 'openssh-client': '/usr/bin/ssh-keygen' },
  lab: {
    'openssh-server': '/usr/sbin/sshd',
    'openssh-client': '/usr/bin/ssh',
    nftables: '/usr/sbin/nft',
    iproute2: '/usr/sbin/ip',
    'util-linux': '/usr/bin/setpriv',
    // the lab hashes its root password with `openssl passwd -6`
    openssl: '/usr/bin/openssl',
  },
  browser: {
    chromium: '/usr/bin/chromium',
    'libkrb5-dev': '/usr/include/gssapi/gssapi.h',
    'build-essential': '/usr/bin/g++',
    python3: '/usr/bin/python3',
  },
};

export function missingPackages(setNames) {
  const missing = [];
  for (const name of setNames) {
    const set = PACKAGE_SETS[name];
    if (!set) throw new Error(`unknown package set "${name}" (known: ${Object.keys(PACKAGE_SETS).join(', ')})`);
    for (const [pkg, proof] of Object.entries(set)) if (!existsSync(proof) && !missing.includes(pkg)) missing.push(pkg);
  }
  return missing;
}

function run(argv) {
  const result = spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return result.status === 0;
}

function canSudoWithoutPassword() {
  return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

export function ensureSystemPackages(setNames) {
  const missing = missingPackages(setNames);
  if (missing.length === 0) return;
  const aptInstall = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
  const isRoot = process.getuid?.() === 0;
  const prefix = isRoot ? [] : canSudoWithoutPassword() ? ['sudo', '-n'] : undefined;
  const fix = `sudo apt-get update && sudo ${aptInstall.join(' ')}`;
  if (!prefix) throw new SetupError(`Debian packages missing: ${missing.join(' ')} (installing them needs root or password-less sudo)`, fix);
  console.log(`[setup] installing Debian packages: ${missing.join(' ')}`);
  // The package lists may be stale or absent on a fresh machine; an install without them finds nothing.
  if (!run([...prefix, 'apt-get', 'update', '-q'])) {
    throw new SetupError(`apt-get update failed: Debian's package archive cannot be reached (network or proxy?), so ${missing.join(' ')} cannot be installed`, `check the network (apt-get update must work), then: ${fix}`);
  }
  if (!run([...prefix, ...aptInstall])) throw new SetupError(`${aptInstall.join(' ')} failed (apt's own message is above)`, fix);
  const still = missingPackages(setNames);
  if (still.length) throw new SetupError(`still missing after apt-get install: ${still.join(' ')}`, fix);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain('setup', () => ensureSystemPackages(process.argv.slice(2)));
}
