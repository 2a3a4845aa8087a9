import { writeFileSync } from 'node:fs';

/**
 * Something this machine lacks that a new user can fix: `message` names what is missing, `fix` the command
 * that fixes it. scripts/common.mjs prints both as one short report (the `fix` property is the contract, so
 * the scripts' JavaScript recognises these errors without importing this file).
 */
export class SetupError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'SetupError';
  }
}

/**
 * Hands a failure to the script that started this process (scripts/common.mjs `reportedFailure`), through the file
 * named by XENPOOLS_FAILURE_REPORT, so the user gets the scripts' one-line report and the stack lands in their log.
 * Run by hand (no such file), it prints the message and the fix.
 */
export function reportToCaller(error: unknown, prefix: string): void {
  const report = {
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
    fix: error instanceof SetupError ? error.fix : undefined,
  };
  const file = process.env.XENPOOLS_FAILURE_REPORT;
  if (file) writeFileSync(file, JSON.stringify(report));
  else console.error(`[${prefix}] ${report.message}${report.fix ? `\n[${prefix}] fix: ${report.fix}` : ''}`);
}
