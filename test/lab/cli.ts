#!/usr/bin/env node
/*
 * The lab CLI (run from compiled JS: `node out/test/lab/cli.js …`, or `npm run lab -- …`).
 *
 *   up [--hosts N] [--model code|docs] [--ha] [--time-scale X] [--version pre-2021|8.2|8.3]
 *      [--base 127.77.1|auto] [--ssh-port 22] [--name NAME] [--password PW] [--detach]
 *        Starts a lab and prints how to connect. In the foreground (default) Ctrl-C stops everything; with --detach
 *        a background process keeps the lab running until `down`.
 *   status            table of hosts: address, port, role, emergency, xapi, reachability, faults
 *   fault <kind> <host> [arg]   kinds: poweroff poweron blackhole xapi-down slow [ms] slow-xapi [ms] garbage
 *                               truncate hostkey password partition <other host>; host = index, name, address or uuid
 *   heal <host>       remove every fault of that host (powers it on again)
 *   state             the full simulator state as JSON
 *   down [--all]      stop the lab: every sshd, session, listener and nft rule it created
 *   cleanup           after a lab process was killed hard (kill -9): remove its nft table, registry entry, mount points
 *   check             whether this machine can run labs: prepares what sshd needs, starts a 1-host lab and stops it
 * status/fault/heal/state/down pick the only running lab, or the one given with --name.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FAULT_KINDS, FaultKind, Lab, LabOptions } from './lab';
import { cleanupStale } from './registry';
import { EmergencyModel } from './sim';
import { XAPI_VERSIONS, XapiVersion } from './texts';
import { reportToCaller } from '../support/setupError';

const REPO = path.resolve(__dirname, '..', '..', '..');
const LAB_ROOT = path.join(REPO, '.lab');

interface Args {
  cmd: string;
  pos: string[];
  flags: Map<string, string | true>;
}

function parse(argv: string[]): Args {
  const a: Args = { cmd: argv[0] ?? 'help', pos: [], flags: new Map() };
  for (let i = 1; i < argv.length; i++) {
    const x = argv[i] ?? '';
    if (x.startsWith('--')) {
      const eq = x.indexOf('=');
      if (eq > 0) a.flags.set(x.slice(2, eq), x.slice(eq + 1));
      else {
        const next = argv[i + 1];
        if (['ha', 'detach', 'foreground-daemon'].includes(x.slice(2)) || next === undefined || next.startsWith('--')) a.flags.set(x.slice(2), true);
        else {
          a.flags.set(x.slice(2), next);
          i++;
        }
      }
    } else a.pos.push(x);
  }
  return a;
}

function flag(a: Args, name: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function labOptions(a: Args): LabOptions {
  const model = (flag(a, 'model') ?? 'code') as EmergencyModel;
  if (model !== 'code' && model !== 'docs') throw new Error('--model must be code or docs');
  const version = (flag(a, 'version') ?? '8.3') as XapiVersion;
  if (!XAPI_VERSIONS.includes(version)) throw new Error(`--version must be one of ${XAPI_VERSIONS.join(', ')}`);
  const o: LabOptions = {
    hosts: Number(flag(a, 'hosts') ?? 3),
    model,
    ha: a.flags.has('ha'),
    timeScale: Number(flag(a, 'time-scale') ?? 1),
    version,
    baseAddress: flag(a, 'base') ?? '127.77.1', // 'auto': a free 127.77.X, name gets -X
    sshPort: Number(flag(a, 'ssh-port') ?? 22),
    log: (l) => console.log(l),
  };
  const name = flag(a, 'name');
  if (name) o.name = name;
  const pw = flag(a, 'password');
  if (pw) o.password = pw;
  if (!Number.isFinite(o.timeScale) || (o.timeScale ?? 0) <= 0) throw new Error('--time-scale must be > 0');
  return o;
}

interface LabJson {
  name: string;
  pid: number;
  controlPort: number;
}

function runningLabs(): LabJson[] {
  if (!fs.existsSync(LAB_ROOT)) return [];
  const out: LabJson[] = [];
  for (const d of fs.readdirSync(LAB_ROOT)) {
    const f = path.join(LAB_ROOT, d, 'lab.json');
    try {
      const j = JSON.parse(fs.readFileSync(f, 'utf8')) as LabJson;
      process.kill(j.pid, 0);
      out.push(j);
    } catch {
      /* not running */
    }
  }
  return out;
}

function pickLab(a: Args): LabJson {
  const labs = runningLabs();
  const name = flag(a, 'name');
  const hit = name ? labs.find((l) => l.name === name) : labs.length === 1 ? labs[0] : undefined;
  if (!hit) {
    throw new Error(labs.length === 0 ? 'no lab is running (start one with: up)' : name ? `no running lab named ${name}` : `several labs run (${labs.map((l) => l.name).join(', ')}); pass --name`);
  }
  return hit;
}

function control(port: number, req: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (d) => (buf += d.toString()));
    s.on('error', reject);
    s.on('end', () => {
      try {
        const r = JSON.parse(buf) as { ok: boolean; result?: unknown; error?: string };
        if (r.ok) resolve(r.result);
        else reject(new Error(r.error));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

async function up(a: Args): Promise<void> {
  const opts = labOptions(a);
  if (a.flags.has('detach')) {
    // Re-run ourselves as a background daemon, wait until it is ready, print its connection info.
    const auto = opts.baseAddress === 'auto';
    const name = opts.name ?? (auto ? 'lab' : `lab${(opts.baseAddress ?? '127.77.1').split('.')[2]}`);
    fs.mkdirSync(LAB_ROOT, { recursive: true });
    const logFile = path.join(LAB_ROOT, auto ? `${name}-auto-${process.pid}.log` : `${name}.log`);
    const fd = fs.openSync(logFile, 'w');
    const args = process.argv.slice(2).filter((x) => x !== '--detach');
    const child = spawn(process.execPath, [__filename, ...args, '--foreground-daemon', '--name', name], { detached: true, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    child.unref();
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      const text = fs.readFileSync(logFile, 'utf8');
      if (text.includes('LAB READY')) {
        process.stdout.write(text.replace('LAB READY\n', ''));
        const started = /XenServer pool lab '([^']+)'/.exec(text)?.[1] ?? name;
        console.log(`lab running in the background (pid ${child.pid}); stop it with: npm run lab -- down${runningLabs().length > 1 ? ` --name ${started}` : ''}`);
        return;
      }
      if (child.exitCode !== null || text.includes('LAB FAILED')) {
        process.stdout.write(text);
        throw new Error('lab failed to start');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`lab did not become ready; see ${logFile}`);
  }
  let lab: Lab;
  try {
    lab = await Lab.start(opts);
  } catch (e) {
    console.log('LAB FAILED');
    throw e;
  }
  let stopping = false;
  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping the lab …`);
    void lab.stop().then(() => {
      console.log('lab stopped; every process, nft table and mount it created is gone');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('Ctrl-C'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  lab.onDown(() => {
    console.log('lab stopped by "down"');
    process.exit(0);
  });
  process.stdout.write(lab.connectionInfo());
  console.log(`  started in:  ${lab.startMs} ms`);
  console.log('');
  process.stdout.write(lab.statusTable());
  if (a.flags.has('foreground-daemon')) console.log('LAB READY');
  else console.log('\nlab running; press Ctrl-C to stop it (or run "down" from another terminal)');
  // keep the process alive (all lab timers are unref'd)
  setInterval(() => undefined, 1 << 30);
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  switch (a.cmd) {
    case 'up':
      return up(a);
    case 'status': {
      const l = pickLab(a);
      const r = (await control(l.controlPort, { op: 'status' })) as { table: string; connect: string };
      process.stdout.write(a.flags.has('connect') ? r.connect + '\n' + r.table : r.table);
      return;
    }
    case 'state': {
      const l = pickLab(a);
      console.log(JSON.stringify(await control(l.controlPort, { op: 'state' }), null, 2));
      return;
    }
    case 'fault': {
      const [kind, host, arg] = a.pos;
      if (!kind || !host || !FAULT_KINDS.includes(kind as FaultKind)) throw new Error(`usage: fault <${FAULT_KINDS.join('|')}> <host> [arg]`);
      const l = pickLab(a);
      process.stdout.write((await control(l.controlPort, { op: 'fault', kind, host, arg })) as string);
      return;
    }
    case 'heal': {
      const [host] = a.pos;
      if (!host) throw new Error('usage: heal <host>');
      const l = pickLab(a);
      process.stdout.write((await control(l.controlPort, { op: 'heal', host })) as string);
      return;
    }
    case 'down': {
      const labs = a.flags.has('all') ? runningLabs() : [pickLab(a)];
      for (const l of labs) {
        await control(l.controlPort, { op: 'down' });
        const deadline = Date.now() + 15000;
        while (Date.now() < deadline) {
          try {
            process.kill(l.pid, 0);
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        console.log(`lab ${l.name} stopped`);
      }
      return;
    }
    case 'check': {
      const lab = await Lab.start({ name: 'check', baseAddress: 'auto', hosts: 1 });
      await lab.stop();
      console.log(`[lab] this machine can run labs (a 1-host lab started in ${lab.startMs} ms and stopped)`);
      return;
    }
    case 'cleanup': {
      const removed = cleanupStale();
      console.log(removed.length ? `removed: ${removed.join(', ')}` : 'nothing stale to remove');
      return;
    }
    default:
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith(' *')).map((l) => l.slice(3)).join('\n'));
  }
}

main().catch((e: unknown) => {
  reportToCaller(e, 'lab');
  process.exit(1);
});
