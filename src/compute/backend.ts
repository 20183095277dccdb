import * as tf from '@tensorflow/tfjs';
import { badOption, TransferbenchError } from '../common/errors.js';
import { composedKernelNames, registerComposedKernels } from './kernels/index.js';

/** Candidates in order of preference: native TensorFlow first, then wasm, then plain JS. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendCandidate {
  readonly name: BackendName;
  /** The npm package that provides it. */
  readonly packageName: string;
  readonly loaded: boolean;
  /** Why it could not be used, when it could not. */
  readonly reason?: string;
}

/** What a report's manifest records about the compute backend. */
export interface BackendInfo {
  readonly name: BackendName;
  readonly packageName: string;
  readonly tfjsVersion: string;
  readonly simd?: boolean;
  /** Whether the wasm build runs on several threads (tfjs disables this under Node). */
  readonly multithreaded?: boolean;
  /** Kernels transferbench composed for this backend. */
  readonly composedKernels: readonly string[];
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryNative(): Promise<BackendCandidate> {
  const reasons: string[] = [];
  for (const packageName of NATIVE_PACKAGES) {
    try {
      await import(packageName);
      if (tf.findBackend('tensorflow') !== null) return { name: 'tensorflow', packageName, loaded: true };
      reasons.push(`${packageName}: loaded but registered no "tensorflow" backend`);
    } catch (error) {
      const code = (error as { code?: string }).code;
      reasons.push(
        code === 'ERR_MODULE_NOT_FOUND'
          ? `${packageName}: not installed (optional dependency; its install ` +
              `downloads libtensorflow, which needs internet access)`
          : `${packageName}: failed to load (${firstLine(error)})`,
      );
    }
  }
  return { name: 'tensorflow', packageName: NATIVE_PACKAGES.join(' | '), loaded: false, reason: reasons.join('; ') };
}

async function tryWasm(): Promise<BackendCandidate> {
  const packageName = '@tensorflow/tfjs-backend-wasm';
  try {
    await import(packageName);
    registerComposedKernels('wasm');
    return { name: 'wasm', packageName, loaded: true };
  } catch (error) {
    return { name: 'wasm', packageName, loaded: false, reason: `failed to load (${firstLine(error)})` };
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0] ?? 'unknown error';
}

let probed: Promise<BackendCandidate[]> | undefined;

/** Loads each candidate once and says which are usable. */
export function probeBackends(): Promise<BackendCandidate[]> {
  probed ??= (async () => {
    // tfjs prints a console banner about tfjs-node on first use of the cpu backend; PROD mode
    // silences it (and skips per-op debug checks that we do not use).
    tf.env().set('PROD', true);
    const native = await tryNative();
    const wasm = await tryWasm();
    const cpu: BackendCandidate = { name: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', loaded: true };
    return [native, wasm, cpu];
  })();
  return probed;
}

/** The override from the environment, if any. */
export function requestedBackend(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TRANSFERBENCH_BACKEND;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Activates the fastest backend that loads, or the one requested (--backend, then
 * TRANSFERBENCH_BACKEND). Asking for one that cannot load is an error, never a silent fallback.
 */
export async function useBackend(requested: string | undefined = requestedBackend()): Promise<BackendInfo> {
  const candidates = await probeBackends();
  let chosen: BackendCandidate | undefined;
  if (requested !== undefined) {
    if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
      throw badOption('--backend (or TRANSFERBENCH_BACKEND)', requested, `one of ${BACKEND_NAMES.join(', ')}`);
    }
    chosen = candidates.find((c) => c.name === requested);
    if (!chosen?.loaded) {
      throw new TransferbenchError(
        'BACKEND_UNAVAILABLE',
        `backend ${requested} is not available: ${chosen?.reason ?? 'unknown'}; run \`transferbench backends\``,
      );
    }
  } else {
    chosen = candidates.find((c) => c.loaded);
  }
  if (chosen === undefined) throw new TransferbenchError('BACKEND_UNAVAILABLE', 'no backend loaded');
  if (!(await tf.setBackend(chosen.name))) {
    throw new TransferbenchError('BACKEND_UNAVAILABLE', `backend ${chosen.name} failed to initialise`);
  }
  await tf.ready();
  selected = true;
  return currentBackendInfo();
}

let selected = false;

/** The active backend, selecting the fastest that loads when none was chosen yet (library callers). */
export async function ensureBackend(): Promise<BackendInfo> {
  return selected ? currentBackendInfo() : useBackend();
}

/** The active backend, as the manifest records it. */
export function currentBackendInfo(): BackendInfo {
  const name = tf.getBackend() as BackendName;
  const packageName =
    name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : name === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : 'tfjs-node';
  if (name === 'wasm') {
    return {
      name,
      packageName,
      tfjsVersion: tf.version_core,
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      multithreaded: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
      composedKernels: composedKernelNames(),
    };
  }
  return { name, packageName, tfjsVersion: tf.version_core, composedKernels: [] };
}
