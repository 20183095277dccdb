import * as tf from '@tensorflow/tfjs';
import { batchMatMul } from './batch-matmul.js';
import type { KernelArgs } from './compose.js';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { conv2dBackpropInput } from './conv2d-backprop-input.js';
import { maxPoolGrad } from './max-pool-grad.js';

/** How each composed kernel relates to the backend's own. */
export interface ComposedKernel {
  readonly kernelName: string;
  /** "missing": the backend has no such kernel; "faster": it has one, which this replaces. */
  readonly reason: 'missing' | 'faster';
  readonly build: (backendName: string, originals: ReadonlyMap<string, tf.KernelFunc>) => tf.KernelFunc;
}

const asKernel = (f: (args: KernelArgs) => tf.TensorInfo): tf.KernelFunc => f as unknown as tf.KernelFunc;

/** The explicit list of kernels transferbench composes for the wasm backend. */
export const WASM_COMPOSED_KERNELS: readonly ComposedKernel[] = [
  { kernelName: 'Conv2DBackpropFilter', reason: 'missing', build: (b) => asKernel((a) => conv2dBackpropFilter(a, b)) },
  {
    kernelName: 'Conv2DBackpropInput',
    reason: 'faster',
    build: (b, o) => asKernel((a) => conv2dBackpropInput(a, b, o)),
  },
  { kernelName: 'BatchMatMul', reason: 'faster', build: (b, o) => asKernel((a) => batchMatMul(a, b, o)) },
  { kernelName: 'MaxPoolGrad', reason: 'faster', build: () => asKernel(maxPoolGrad) },
];

const installed = new Set<string>();

/**
 * Registers the composed kernels for `backendName`. Kernels the backend already has are
 * replaced, and their originals kept so the composition can call them. Idempotent.
 */
export function registerComposedKernels(backendName = 'wasm', kernels = WASM_COMPOSED_KERNELS): void {
  if (installed.has(backendName)) return;
  const originals = new Map<string, tf.KernelFunc>();
  const setups = new Map<string, tf.KernelSetupFunc>();
  for (const kernel of kernels) {
    const existing = tf.getKernel(kernel.kernelName, backendName);
    if (existing !== undefined) {
      originals.set(kernel.kernelName, existing.kernelFunc);
      // The original's setup (wasm binds its C function there) must still run at backend
      // initialisation, or calling the original from the composition fails.
      if (existing.setupFunc) setups.set(kernel.kernelName, existing.setupFunc);
      tf.unregisterKernel(kernel.kernelName, backendName);
    }
  }
  for (const kernel of kernels) {
    const setupFunc = setups.get(kernel.kernelName);
    tf.registerKernel({
      kernelName: kernel.kernelName,
      backendName,
      kernelFunc: kernel.build(backendName, originals),
      ...(setupFunc ? { setupFunc } : {}),
    });
  }
  installed.add(backendName);
}

/** Undoes nothing: tfjs kernels are process-global. Tests that need the backend's own kernel call it directly. */
export function composedKernelNames(): string[] {
  return WASM_COMPOSED_KERNELS.map((k) => k.kernelName);
}
