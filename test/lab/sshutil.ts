/* Test helpers: drive lab hosts with the real OpenSSH client, as an admin would. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Client, ClientChannel } from 'ssh2';
import type { Lab } from './lab';

export interface SshResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  timedOut: boolean;
}

export function sshArgs(lab: Lab, host: number | string, extra: string[] = []): string[] {
  const h = lab.hostByArg(host);
  return [
    '-F', '/dev/null',
    '-i', lab.keyFile,
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'ConnectTimeout=3',
    '-o', 'LogLevel=ERROR',
    '-p', String(lab.sshPort),
    ...extra,
    `${lab.user}@${h.info.address}`,
  ];
}

/** Runs `command` on a lab host with `ssh`; kills ssh after timeoutMs (the caller "gives up"). */
export function ssh(lab: Lab, host: number | string, command: string, opts: { timeoutMs?: number; extra?: string[]; input?: string } = {}): Promise<SshResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('ssh', [...sshArgs(lab, host, opts.extra ?? []), command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined); // ssh may exit before reading stdin (connection refused)
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, signal, ms: Date.now() - t0, timedOut });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(15);
  }
}

/** An ssh2 connection (key auth, TCP_NODELAY as TESTBED.md recommends), as the product's engine would open one. */
export async function ssh2Connect(lab: Lab, host: number | string): Promise<Client> {
  const h = lab.hostByArg(host);
  const sock = net.connect({ host: h.info.address, port: lab.sshPort });
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  const c = new Client();
  await new Promise<void>((resolve, reject) => {
    c.once('ready', () => resolve());
    c.once('error', reject);
    c.connect({ sock, username: lab.user, privateKey: fs.readFileSync(lab.keyFile), readyTimeout: 5000 });
  });
  return c;
}

export function ssh2Exec(c: Client, command: string): Promise<{ stdout: string; stderr: string; code: number | null; channel: ClientChannel }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      ch.on('data', (d: Buffer) => (stdout += d.toString()));
      ch.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      ch.on('exit', (n: number | null) => (code = n));
      ch.on('close', () => resolve({ stdout, stderr, code, channel: ch }));
    });
  });
}

export function ssh2Start(c: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => c.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}
