/* The benchmark's table: the rows every scenario adds, and the figures behind them (bench/results.json). */
import * as path from 'node:path';

/** The repository. */
export const root = path.resolve(__dirname, '..', '..');
export const RUNS = Number(process.env.BENCH_RUNS ?? 7);

export interface Row {
  /** Which scenario function produced it: a run of some scenarios replaces only their rows. */
  readonly group: string;
  readonly scenario: string;
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

export const rows: Row[] = [];
export const results: Record<string, unknown> = {};
let group = '';

/** The scenario function whose rows follow. */
export function startGroup(name: string): void {
  group = name;
}

export function row(scenario: string, measure: string, value: string, target = '', met?: boolean): void {
  rows.push({ group, scenario, measure, value, target, met });
  console.log(`${scenario.padEnd(26)} ${measure.padEnd(44)} ${value.padEnd(34)} ${target}${met === undefined ? '' : met ? '  ✓' : '  ✗ MISSED'}`);
}
