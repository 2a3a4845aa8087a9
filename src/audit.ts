import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { XeCallRecord } from './core/pool/hostAccess';
import type { TrailEntry } from './core/pool/incident';

/** One line of the audit trail: every state-changing call, whoever asked for it (its shape lives with the report that reads it). */
export type AuditEntry = TrailEntry;

const MAX_OUTPUT_LINES = 40;

function outputLines(text: string): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.length > MAX_OUTPUT_LINES ? [...lines.slice(0, MAX_OUTPUT_LINES), `… (${lines.length - MAX_OUTPUT_LINES} more lines)`] : lines;
}

/**
 * Writes every `xe` call to the log channel (host, command, duration, exit code, output) and
 * every state-changing one to the audit trail, JSON lines in the extension's global storage.
 * Commands arrive here as their `display` form, in which secrets are already masked.
 */
export class CallRecorder {
  readonly auditFile: string;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    storage: vscode.Uri,
  ) {
    this.auditFile = path.join(storage.fsPath, 'audit.jsonl');
  }

  record(pool: string, call: XeCallRecord): void {
    const outcome = call.error ? `failed: ${call.error}` : `exit ${call.exitCode}`;
    const head = `[xe] ${call.host}: ${call.command} (${call.durationMs} ms, ${outcome})`;
    const failed = call.error !== undefined || call.exitCode !== 0;
    const body = [...(call.stdout ? outputLines(call.stdout) : []), ...(call.stderr ? outputLines(call.stderr).map((l) => `stderr: ${l}`) : [])];
    // Every line after the head is indented by the log channel itself (logText).
    const text = [head, ...body].join('\n');
    if (failed) this.log.warn(text);
    else this.log.info(text);
    if (call.changesState) {
      this.append({ time: call.startedAt, pool, host: call.host, command: call.command, exitCode: call.exitCode, durationMs: call.durationMs, result: call.error ?? (call.stderr.trim() || call.stdout.trim() || 'ok') });
    }
  }

  /** Appends in order; a failing disk is reported in the log, never thrown at the caller. */
  append(entry: AuditEntry): void {
    this.writes = this.writes
      .then(async () => {
        await fs.mkdir(path.dirname(this.auditFile), { recursive: true });
        await fs.appendFile(this.auditFile, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      })
      .catch((error: Error) => this.log.error(`[audit] cannot write ${this.auditFile}: ${error.message}`));
  }

  /** Resolves when every audit line so far is on disk (tests, and before opening the file). */
  flushed(): Promise<void> {
    return this.writes;
  }
}
