/*
 * What the bench reads from /proc about other processes: which one is code-server's extension host, the CPU a
 * process (and its waited-for children) used, its SSH connections; and the time of a line in the product's log.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { sshConnections } from '../test/support/sockets';
import * as path from 'node:path';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The extension host of the one code-server running: the newest process started with --type=extensionHost. */
export function extensionHostPid(): number {
  const candidates = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=extensionHost');
      } catch {
        return false; // gone meanwhile
      }
    })
    .map((pid) => ({ pid, started: Number(statFields(pid)[19]) }));
  const newest = candidates.sort((a, b) => b.started - a.started)[0];
  if (!newest) throw new Error('no extension host process found');
  return newest.pid;
}

/** The fields of /proc/<pid>/stat after the command name (field 3 of proc(5) is index 0). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU the process has used, in ms; with `children`, also that of its children that ended and were waited for. */
export function cpuMs(pid: number, children = false): number {
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Samples the process's SSH connections every `everyMs` until stopped: the most open at once, and how many it saw (each local port once). */
export function sampleSshConnections(pid: number, everyMs = 50): { stop(): { peak: number; made: number } } {
  let peak = 0;
  const seen = new Set<number>();
  const timer = setInterval(() => {
    try {
      const now = sshConnections(pid);
      peak = Math.max(peak, now.length);
      for (const port of now) seen.add(port);
    } catch {
      // the process ended
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { peak, made: seen.size };
    },
  };
}

/** Lines of code-server's log files whose path contains `part`. */
export function logLines(userDataDir: string, part: string): string[] {
  const dir = path.join(userDataDir, 'logs');
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.includes(part) && f.endsWith('.log'))
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'));
}

/** The product's log: its LogOutputChannel file under code-server's logs. */
export function productLogLines(userDataDir: string): string[] {
  return logLines(userDataDir, 'xenserver-pools.xenserver-pools');
}

/** When the product's log first had a line matching `pattern`, as ms since the epoch. */
export function logLineTime(userDataDir: string, pattern: RegExp): number | undefined {
  for (const line of productLogLines(userDataDir)) {
    // "2026-12-04 19:30:01.123 [info] …", local time
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) /.exec(line);
    if (match && pattern.test(line)) return new Date(`${match[1]}T${match[2]}`).getTime();
  }
  return undefined;
}

/**
 * A CPU profile of another Node process (code-server's extension host) through its inspector, opened with SIGUSR1:
 * for `BENCH_PROFILE`, to see where the extension host's time goes during a measured step. The WebSocket client is
 * playwright-core's (the bench has it anyway).
 */
export async function startCpuProfile(pid: number, playwrightCore: string): Promise<{ stop(): Promise<unknown> }> {
  process.kill(pid, 'SIGUSR1');
  let targets: { webSocketDebuggerUrl: string }[] = [];
  for (let attempt = 0; attempt < 50 && targets.length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    targets = await fetch('http://127.0.0.1:9229/json/list').then((r) => r.json() as Promise<typeof targets>, () => []);
  }
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`the inspector of process ${pid} did not open`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ws: WebSocket } = require(path.join(playwrightCore, 'lib', 'utilsBundle')) as { ws: new (url: string) => { on(event: string, listener: (data: unknown) => void): void; send(text: string): void; close(): void } };
  const socket = new WebSocket(url);
  await new Promise((resolve) => socket.on('open', resolve));
  let lastId = 0;
  const answers = new Map<number, (result: unknown) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) answers.get(message.id)?.(message.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++lastId;
      answers.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  await call('Profiler.start');
  return {
    async stop() {
      const { profile } = (await call('Profiler.stop')) as { profile: unknown };
      socket.close();
      return profile;
    },
  };
}
