/*
 * What an admin would otherwise do, and the floor: measured in the same run as the engine.
 *  - the loop: OpenSSH `ssh host '<commands>'`, one host after the other;
 *  - the floor: a minimal ssh2 script, every host at once, TCP_NODELAY, nothing else.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { Client } from 'ssh2';
import type { Lab } from '../test/lab/lab';

export const ADMIN_COMMAND = 'xe host-is-in-emergency-mode; cat /etc/xensource/pool.conf';

/** Asynchronous on purpose: the lab's simulator answers `xe` from this very process's event loop. */
function ssh(lab: Lab, address: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', '/dev/null', '-i', lab.keyFile, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', `${lab.user}@${address}`, command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${address}: exit ${code} ${stderr}`))));
  });
}

export async function sshLoop(lab: Lab, addresses: readonly string[]): Promise<void> {
  for (const address of addresses) await ssh(lab, address, ADMIN_COMMAND);
}

export function floorConnect(lab: Lab, address: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const sock = net.connect(22, address);
    sock.setNoDelay(true);
    client.once('ready', () => resolve(client)).once('error', reject);
    client.connect({ sock, username: lab.user, privateKey: readFileSync(lab.keyFile), hostVerifier: () => true });
  });
}

export function floorExec(client: Client, command = ADMIN_COMMAND): Promise<string> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString())).on('close', () => resolve(out));
      stream.stderr.resume();
    });
  });
}

/**
 * The floor of a full refresh through a connection cap: every host connected, the probe script run and the
 * connection closed, `concurrency` hosts at a time; plain ssh2, no host key check, no queue, no parsing.
 */
export async function floorRefresh(hosts: readonly { readonly lab: Lab; readonly address: string }[], concurrency: number, script: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let host = hosts[next++]; host; host = hosts[next++]) {
      const client = await floorConnect(host.lab, host.address);
      try {
        await floorExec(client, script);
      } finally {
        client.end();
        client.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
