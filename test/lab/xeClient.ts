/*
 * The per-host `xe` the lab installs, the simulator's reply to it, and the server between them: the wire between a
 * host's sessions and the one simulator process.
 */
import * as net from 'node:net';
import type { Simulator } from './sim';
/**
 * The per-host `xe` (and `xe-toolstack-restart`): bash without rc files, talks to the simulator over loopback TCP
 * (/dev/tcp), sends program, host, its pid and argv NUL-separated; the reply is a tiny shell script (printf of
 * stdout and stderr, then exit N) that it evals: byte-exact for any output without NUL bytes.
 */
export function clientScript(program: string, host: number, port: number): string {
  return `#!/bin/bash
# XenServer pool lab: ${program} for host ${host} (thin client of the lab simulator)
{ exec 3<>/dev/tcp/127.0.0.1/${port}; } 2>/dev/null || { printf 'Error: Connection refused (calling connect )\\n' >&2; exit 1; }
printf '%s\\0' ${program} ${host} $$ $# "$@" >&3
IFS= read -r -d '' r <&3
[ -n "$r" ] || { printf 'Lost connection to the server.\\n' >&2; exit 1; }
eval "$r"
`;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function responseScript(stdout: string, stderr: string, code: number): string {
  let s = '';
  if (stdout) s += `printf %s ${shellQuote(stdout)}\n`;
  if (stderr) s += `printf %s ${shellQuote(stderr)} >&2\n`;
  return s + `exit ${code}\n`;
}

interface XeClient {
  socket: net.Socket;
  pid: number;
  ac: AbortController;
}

/**
 * Serves every host's `xe` clients on one loopback port. A client whose SSH channel or connection is gone keeps
 * running, as on a real host: OpenSSH's sshd neither signals a session without a pty nor honours a client's
 * signal request, so a hung `xe` runs on until something on the host kills it. Only the client's own end (its
 * socket closes) abandons its call.
 */
export class XeServer {
  private readonly server = net.createServer((socket) => this.onConnection(socket));
  private readonly clients = new Set<XeClient>();

  constructor(private readonly sim: Simulator) {
    this.server.maxConnections = 4096;
  }

  /** Listens on a free loopback port; resolves with it. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Ends every waiting client and closes the port; resolves once it is closed. */
  stop(): Promise<void> {
    for (const c of this.clients) {
      try {
        process.kill(c.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      c.socket.destroy();
    }
    this.clients.clear();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let done = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const parts: string[] = [];
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        if (buf[i] === 0) {
          parts.push(buf.subarray(start, i).toString('utf8'));
          start = i + 1;
        }
      }
      // frame: program \0 host \0 pid \0 argc \0 arg1 \0 … argN \0
      if (parts.length < 4) return;
      const argc = Number(parts[3]);
      if (parts.length < 4 + argc) return;
      done = true;
      const program = parts[0] === 'xe-toolstack-restart' ? 'xe-toolstack-restart' : 'xe';
      const index = Number(parts[1]);
      const pid = Number(parts[2]);
      const argv = parts.slice(4, 4 + argc);
      const client: XeClient = { socket, pid, ac: new AbortController() };
      this.clients.add(client);
      socket.on('close', () => {
        this.clients.delete(client);
        client.ac.abort();
      });
      this.sim
        .exec(index, argv, { signal: client.ac.signal, program })
        .then((r) => {
          this.clients.delete(client);
          if (!r) return void socket.destroy();
          socket.end(responseScript(r.stdout, r.stderr, r.code));
        })
        .catch(() => socket.destroy());
    });
  }
}
