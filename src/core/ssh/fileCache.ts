import { promises as fs } from 'node:fs';

interface CachedFile<T> {
  /** size, mtime and inode when last read: an edit or a replacement (ssh-keygen -R renames) changes it. */
  readonly signature: string;
  readonly value: T | undefined;
  checkedAt: number;
}

/**
 * Parsed contents of files the admin may edit while the extension runs (known_hosts, the pinned
 * host keys, private keys). Every SSH connect needs them, and a refresh of many pools opens
 * hundreds of connections: each file is read and parsed again only when it changed, and looked
 * at (one stat) no more often than every `revalidateMs`, so an edit takes effect within that time.
 */
export class ParsedFileCache<T> {
  private readonly files = new Map<string, CachedFile<T>>();
  /** Lookups that arrive while a file is being checked share that check. */
  private readonly checking = new Map<string, Promise<T | undefined>>();

  constructor(
    private readonly parse: (data: Buffer) => T,
    private readonly revalidateMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The parsed file, or undefined when it does not exist. Other read errors are thrown, not cached. */
  read(file: string): Promise<T | undefined> {
    const cached = this.files.get(file);
    if (cached && this.now() - cached.checkedAt < this.revalidateMs) return Promise.resolve(cached.value);
    let pending = this.checking.get(file);
    if (!pending) {
      const check: Promise<T | undefined> = this.check(file, cached).finally(() => {
        if (this.checking.get(file) === check) this.checking.delete(file);
      });
      pending = check;
      this.checking.set(file, pending);
    }
    return pending;
  }

  /** Forgets a file, e.g. right after this process wrote it: the next read looks at the file itself, not at a check begun before. */
  invalidate(file: string): void {
    this.files.delete(file);
    this.checking.delete(file);
  }

  private async check(file: string, cached: CachedFile<T> | undefined): Promise<T | undefined> {
    const checkedAt = this.now();
    try {
      const stat = await fs.stat(file);
      const signature = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
      if (cached?.signature === signature) {
        cached.checkedAt = checkedAt;
        return cached.value;
      }
      const value = this.parse(await fs.readFile(file));
      this.files.set(file, { signature, value, checkedAt });
      return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.files.set(file, { signature: 'missing', value: undefined, checkedAt });
      return undefined;
    }
  }
}
