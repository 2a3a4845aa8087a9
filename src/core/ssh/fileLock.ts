/**
 * A lock on a file that every process on this machine respects: a directory made with mkdir (atomic), holding the
 * owner's pid. One holder at a time, in this process (a queue) and across processes (VS Code windows); a lock whose
 * owner has gone, or that is older than the stale bound, is taken over.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const STALE_MS = 10_000;
const WAIT_MS = 10_000;
const RETRY_MS = 15;

const queues = new Map<string, Promise<unknown>>();

export async function withFileLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  // In this process one after the other; only then across processes.
  const before = queues.get(lock) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(() => holding(lock, work));
  queues.set(lock, mine);
  try {
    return await mine;
  } finally {
    if (queues.get(lock) === mine) queues.delete(lock);
  }
}

async function holding<T>(lock: string, work: () => Promise<T>): Promise<T> {
  await acquire(lock);
  try {
    return await work();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

async function acquire(lock: string): Promise<void> {
  await fs.mkdir(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await fs.mkdir(lock);
      await fs.writeFile(path.join(lock, 'owner'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const state = await lockState(lock);
    if (state === 'gone') continue;
    if (state === 'stale') {
      // Moved aside first (rename is atomic): of two processes that found it stale, one moves it. A window in which
      // the other then moves a lock just taken remains; it needs a writer that crashed while holding the lock.
      const aside = `${lock}.stale.${process.pid}.${Date.now()}`;
      await fs.rename(lock, aside).then(
        () => fs.rm(aside, { recursive: true, force: true }),
        () => undefined,
      );
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lock} stays locked by another process (more than ${WAIT_MS / 1000} s)`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/** Held by a live owner; released in between ('gone': try again at once); or stale (owner gone, or too old). */
async function lockState(lock: string): Promise<'held' | 'gone' | 'stale'> {
  let stat;
  try {
    stat = await fs.stat(lock);
  } catch {
    return 'gone';
  }
  if (Date.now() - stat.mtimeMs > STALE_MS) return 'stale';
  let owner: number;
  try {
    owner = Number(await fs.readFile(path.join(lock, 'owner'), 'utf8'));
  } catch {
    return 'held'; // just made, its owner file not written yet
  }
  if (!owner) return 'held';
  try {
    process.kill(owner, 0);
    return 'held';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'stale' : 'held';
  }
}
