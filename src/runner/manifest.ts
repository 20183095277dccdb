import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { currentBackendInfo, type BackendInfo } from '../compute/backend.js';
import { currentEngineInfo, type EngineInfo } from '../compute/engine.js';

/** What one shard's run records about itself (run-K-of-N.json). */
export interface RunRecord {
  readonly shard: string;
  readonly started: string;
  readonly ended: string;
  readonly backend: BackendInfo;
  /** Where substitutes and targets were trained (--engine). */
  readonly engine: EngineInfo;
  readonly machine: { cpuModel: string; cores: number; memoryGiB: number; node: string; platform: string };
  readonly cellsRun: number;
  readonly cellsSkipped: number;
}

export function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const name of [
    '@tensorflow/tfjs',
    '@tensorflow/tfjs-backend-wasm',
    'onnxruntime-node',
    'piscina',
    'csv-stringify',
    'ajv',
  ]) {
    try {
      versions[name] = (
        JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }
      ).version;
    } catch {
      versions[name] = 'unknown';
    }
  }
  const own = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  versions.transferbench = own.version;
  return versions;
}

export function runRecord(shard: string, started: Date, cellsRun: number, cellsSkipped: number): RunRecord {
  return {
    shard,
    started: started.toISOString(),
    ended: new Date().toISOString(),
    backend: currentBackendInfo(),
    engine: currentEngineInfo(),
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    cellsRun,
    cellsSkipped,
  };
}
