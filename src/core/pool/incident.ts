/**
 * The incident report (issue 13, part 4): a Markdown record that stays after the notifications are gone. A recovery
 * writes one from its own step records (every `xe` call it made, with host, time, exit code and output); Export
 * Incident Report… writes one for any pool from its audit trail (every state-changing call and every confirmation).
 * Pure text building: the glue writes the file and opens it.
 */
import { visibleText } from '../visibleText';
import type { XeCallRecord } from './hostAccess';
import { describeOutcome, describeStep, planText, type RecoveryReport } from './report';

/** One line of the audit trail (src/audit.ts writes them): a state-changing call, or what the admin confirmed. */
export interface TrailEntry {
  readonly time: string;
  readonly pool: string;
  readonly host: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly result: string;
  /** 'confirmation': what the admin vouched for before an action (a host is powered off), not a command. */
  readonly kind?: 'confirmation';
}

export interface IncidentInput {
  readonly poolName: string;
  readonly poolUuid: string;
  readonly title: string;
  readonly generatedAt: Date;
  /** Who made the report: user, machine and VS Code window, as the pool lock names its holder. */
  readonly author: string;
  /** The recovery this report is about, if it is one. */
  readonly recovery?: RecoveryReport;
  /** Audit-trail lines of the pool for the period (confirmations among them). */
  readonly trail: readonly TrailEntry[];
  /** The pool as the extension sees it now: one line per host. */
  readonly hostLines: readonly string[];
  /** What the admin must still do; each becomes a checkbox. */
  readonly nextSteps: readonly string[];
}

const MAX_OUTPUT_LINES = 40;

/**
 * Inline text in the report: controls visible, and the characters that make emphasis, code, links, HTML or table
 * cells escaped. Lighter than the tooltips' escape: every line starts with our own prefix ("- ", "**"), so dots and
 * dashes stay readable in the file itself.
 */
function markdownText(text: string): string {
  return visibleText(text).replace(/[\\`*_[\]<>|&]/g, (c) => `\\${c}`);
}

/** A fenced block that no line of the text can close (a name or output may hold backticks). */
function fenced(text: string): string {
  const lines = visibleLinesOf(text);
  const shown = lines.length > MAX_OUTPUT_LINES ? [...lines.slice(0, MAX_OUTPUT_LINES), `… (${lines.length - MAX_OUTPUT_LINES} more lines)`] : lines;
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${shown.join('\n')}\n${fence}`;
}

function visibleLinesOf(text: string): string[] {
  return text
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => visibleText(line));
}

function utc(iso: string | Date): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function callSection(call: XeCallRecord): string {
  const outcome = call.error ? `no result: ${call.error}` : `exit ${call.exitCode ?? 'signal'}`;
  const head = `- **${utc(call.startedAt)}** on ${markdownText(call.host)}: \`${visibleText(call.command).replace(/`/g, "'")}\` — ${markdownText(outcome)}, ${(call.durationMs / 1000).toFixed(1)} s${call.changesState ? ' (changes state)' : ''}`;
  const output = [call.stdout, call.stderr ? `stderr:\n${call.stderr}` : ''].filter((part) => part.trim() !== '').join('\n');
  return output ? `${head}\n\n${indent(fenced(output))}` : head;
}

function trailSection(entry: TrailEntry): string {
  if (entry.kind === 'confirmation') return `- **${utc(entry.time)}** ${markdownText(entry.host)}: ${markdownText(entry.command.replace(/^\(confirmation\) /, ''))} — ${markdownText(entry.result)}`;
  const outcome = entry.exitCode === null ? 'no result' : `exit ${entry.exitCode}`;
  const head = `- **${utc(entry.time)}** on ${markdownText(entry.host)}: \`${visibleText(entry.command).replace(/`/g, "'")}\` — ${outcome}, ${(entry.durationMs / 1000).toFixed(1)} s`;
  return entry.result && entry.result !== 'ok' ? `${head}\n\n${indent(fenced(entry.result))}` : head;
}

function indent(block: string): string {
  return block
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** The report as Markdown. Every text that came from a host or the admin is escaped: it cannot forge a heading or a link. */
export function incidentMarkdown(input: IncidentInput): string {
  const out: string[] = [];
  out.push(`# ${markdownText(input.title)}`, '');
  out.push(`Pool **${markdownText(input.poolName)}** (\`${input.poolUuid}\`)  `, `Written ${utc(input.generatedAt)} by ${markdownText(input.author)}`, '');
  const recovery = input.recovery;
  if (recovery) {
    out.push(`**Outcome:** ${markdownText(describeOutcome(recovery))}`, '');
    out.push('## The plan, and why', '', fenced(planText(recovery.plan)), '');
    out.push('## Steps', '');
    for (const record of recovery.steps) {
      out.push(`- [${record.status}] ${markdownText(describeStep(record.step))}${record.durationMs !== undefined ? ` (${(record.durationMs / 1000).toFixed(1)} s)` : ''}${record.error ? `: ${markdownText(record.error)}` : ''}`);
    }
    out.push('');
    const sr = recovery.defaultSr;
    out.push('## Default SR', '');
    out.push(
      sr
        ? `default-SR \`${sr.uuid ?? '<not in database>'}\`${sr.name ? ` (${markdownText(sr.name)})` : ''}: ${sr.valid ? 'valid' : `**not valid**: ${markdownText(sr.problems.join('; '))}`}${sr.proposal ? `. Proposed instead: ${markdownText(sr.proposal.name)} (\`${sr.proposal.uuid}\`)` : ''}.`
        : 'Not checked (the recovery did not get that far).',
      '',
    );
    const calls = recovery.steps.flatMap((record) => record.calls);
    out.push('## Every xe call of the recovery', '', ...(calls.length ? calls.map(callSection) : ['None.']), '');
  }
  const confirmations = input.trail.filter((entry) => entry.kind === 'confirmation');
  out.push('## Who confirmed what', '', ...(confirmations.length ? confirmations.map(trailSection) : ['Nothing needed a confirmation of facts only the admin knows.']), '');
  out.push('## Timeline from the audit trail', '', ...(input.trail.length ? input.trail.map(trailSection) : ['No state-changing call was made on this pool in this period.']), '');
  out.push('## The pool now', '', ...input.hostLines.map((line) => `- ${markdownText(line)}`), '');
  out.push('## Next steps', '', ...(input.nextSteps.length ? input.nextSteps.map((step) => `- [ ] ${markdownText(step)}`) : ['- [ ] Nothing left that the extension knows of. Check the VMs and the default SR once more.']), '');
  return out.join('\n');
}

/** The file name of a report: pool, time and what it is about, safe on every file system. */
export function incidentFileName(poolName: string, at: Date, what: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'pool';
  return `${safe(poolName)}-${stamp}-${safe(what)}.md`;
}
