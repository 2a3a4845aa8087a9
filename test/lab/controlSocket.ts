/**
 * The lab's control socket on loopback: one JSON request line per connection, answered with one JSON line
 * (`{ok, result}` or `{ok: false, error}`). The lab CLI and tests in other processes (exthost, e2e) use it.
 */
import * as net from 'node:net';
import { listen } from './processes';

export interface ControlRequest {
  op: string;
  kind?: string;
  host?: string;
  arg?: string;
}

export async function startControlServer(handle: (request: ControlRequest) => Promise<unknown>): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let request: ControlRequest;
      try {
        request = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        socket.end(JSON.stringify({ ok: false, error: 'bad json' }) + '\n');
        return;
      }
      void handle(request)
        .then((result) => socket.end(JSON.stringify({ ok: true, result }) + '\n'))
        .catch((e: unknown) => socket.end(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n'));
    });
  });
  await listen(server, 0, '127.0.0.1');
  return server;
}
