import { readFileSync } from 'node:fs';
import { buildGradientModel, createOnnxSurrogate, featureLayers } from '../compute/onnx-gradient/index.js';
import type { FeatureLayer } from '../compute/surrogate.js';
import { TransferbenchError } from '../common/errors.js';
import type { Surrogate } from '../compute/surrogate.js';
import { loadTarget, type TargetDescriptor } from './descriptor.js';
import { gradientDescriptionOf } from './onnx/gradient-description.js';

/** The attacker's own model, opened as a surrogate. */
export interface OwnedModel {
  readonly surrogate: Surrogate;
  /** sha256 of the model file: identifies the surrogate in cache keys of what is fitted on it. */
  readonly sha256: string;
}

/**
 * Opens an ONNX classifier the attacker owns, described in the target.json format (checked like
 * a target's: schema, model present, sha256), as a white-box Surrogate: onnxruntime with a
 * generated backward pass, the descriptor's layout, range and normalisation folded in.
 */
export async function openOwnedModel(
  descriptorPath: string,
  options: { readonly threads: number },
): Promise<OwnedModel> {
  const model = loadTarget(descriptorPath);
  try {
    const bytes = readFileSync(model.modelPath);
    // The surrogate builds its cross-entropy backward pass when it opens: a model it cannot differentiate fails here.
    const surrogate = await createOnnxSurrogate(bytes, gradientDescriptionOf(model.descriptor), {
      name: model.descriptor.name,
      intraOpNumThreads: options.threads,
    });
    return { surrogate, sha256: model.descriptor.sha256 };
  } catch (error) {
    // The builder names the operator it cannot differentiate; say which surrogate it was in.
    if (error instanceof TransferbenchError)
      throw new TransferbenchError(error.code, `${descriptorPath}: ${error.message}`);
    throw error;
  }
}

/**
 * Whether the gradient builder can differentiate this model as described (every operator has a
 * gradient builder, the shapes fold): what `targets inspect` reports before a suite relies on it.
 */
export async function gradientSupport(
  onnxBytes: Uint8Array,
  descriptor: TargetDescriptor,
): Promise<{ readonly supported: boolean; readonly reason?: string }> {
  try {
    await buildGradientModel(onnxBytes, gradientDescriptionOf(descriptor), { loss: 'cross-entropy' });
    return { supported: true };
  } catch (error) {
    if (error instanceof TransferbenchError) return { supported: false, reason: error.message };
    throw error;
  }
}

/**
 * The layers a feature-level attack can tap on this model (name, operator, one image's shape), for `targets
 * inspect`; empty when the model does not run as described.
 */
export async function candidateLayers(onnxBytes: Uint8Array, descriptor: TargetDescriptor): Promise<FeatureLayer[]> {
  try {
    return await featureLayers(onnxBytes, gradientDescriptionOf(descriptor));
  } catch (error) {
    if (error instanceof TransferbenchError) return [];
    throw error;
  }
}
