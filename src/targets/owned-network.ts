import { readFileSync } from 'node:fs';
import { networkFromOnnx } from '../compute/network/from-onnx.js';
import type { OnnxNetwork } from '../compute/network/network.js';
import { TransferbenchError } from '../common/errors.js';
import { loadTarget } from './descriptor.js';
import { gradientDescriptionOf } from './onnx/gradient-description.js';

/**
 * An ONNX classifier the attacker owns, described in the target.json format (checked like a
 * target's: schema, model present, sha256), as a substitute architecture: its graph, with its own
 * weights to fine-tune or re-initialised from the seed.
 */
export async function openOwnedNetwork(
  descriptorPath: string,
  options: { readonly fresh: boolean; readonly seed: number },
): Promise<OnnxNetwork> {
  const model = loadTarget(descriptorPath);
  try {
    return networkFromOnnx(
      readFileSync(model.modelPath),
      gradientDescriptionOf(model.descriptor),
      descriptorPath,
      options,
    );
  } catch (error) {
    if (error instanceof TransferbenchError && !error.message.startsWith(descriptorPath))
      throw new TransferbenchError(error.code, `${descriptorPath}: ${error.message}`);
    throw error;
  }
}
