import { median } from './stats.js';

/** Windows of alternating timed steps: untimed warm-up steps each, then `repeats` rounds of one window per step. */
export interface Windows {
  readonly repeats: number;
  readonly windowSeconds: number;
  readonly warmup: number;
}

/**
 * Several async steps timed in alternating windows (a window of each per round), so that a
 * machine shared with other jobs loads each of them alike and their ratio is fair. Each step
 * handles `items` items; every sample is items per second over one window (at least one step).
 */
export async function measureInterleaved<K extends string>(
  steps: Record<K, () => Promise<unknown>>,
  items: number,
  options: Windows,
): Promise<Record<K, { median: number; samples: number[] }>> {
  const names = Object.keys(steps) as K[];
  for (const name of names) for (let i = 0; i < options.warmup; i++) await steps[name]();
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < options.repeats; r++) {
    for (const name of names) {
      const start = performance.now();
      let count = 0;
      do {
        await steps[name]();
        count++;
      } while (performance.now() - start < options.windowSeconds * 1000);
      samples[name].push((count * items) / ((performance.now() - start) / 1000));
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, { median: median(samples[name]), samples: samples[name] }]),
  ) as Record<K, { median: number; samples: number[] }>;
}
