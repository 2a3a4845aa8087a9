/** Median and spread of repeated timings; these machines are noisy, so ratios of medians are what count. */
export interface Sample {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function sample(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0, runs: sorted.length };
}

export async function time(body: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function repeat(runs: number, body: () => Promise<unknown>): Promise<Sample> {
  const [only] = await alternate(runs, body);
  return only;
}

/**
 * Times the bodies in turn, `runs` rounds of one run each: drift on a noisy machine (another
 * process waking up, the CPU clocking down) then hits all of them alike, and their ratios stay fair.
 */
export async function alternate<Bodies extends readonly (() => Promise<unknown>)[]>(runs: number, ...bodies: Bodies): Promise<{ [K in keyof Bodies]: Sample }> {
  const values = bodies.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [index, body] of bodies.entries()) values[index]?.push(await time(body));
  }
  return values.map(sample) as { [K in keyof Bodies]: Sample };
}

export function fmt(s: Sample): string {
  return `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)}, n=${s.runs})`;
}
