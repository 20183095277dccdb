import * as ort from 'onnxruntime-node';
import { createOnnxSurrogate } from '../onnx-gradient/surrogate.js';
import type { OnnxModelDescription } from '../onnx-gradient/heads.js';
import type { Surrogate } from '../surrogate.js';
import { NETWORK_IO, networkBytes, type OnnxNetwork } from './network.js';

const CHUNK = 256;

/** How the gradient builder reads a network: NHWC pixels in [0, 1] straight in, logits out. */
export function networkDescription(network: OnnxNetwork): OnnxModelDescription {
  return {
    inputName: NETWORK_IO.images,
    outputName: NETWORK_IO.logits,
    layout: 'NHWC',
    inputShape: network.imageShape,
    inputRange: [0, 1],
    normalization: { mean: [0], std: [1] },
    outputKind: network.outputKind,
    classes: network.classes,
  };
}

/** The network as a surrogate: attacked through the generated backward pass on onnxruntime. */
export function networkSurrogate(network: OnnxNetwork, name: string, threads = 1): Promise<Surrogate> {
  return createOnnxSurrogate(networkBytes(network), networkDescription(network), { name, intraOpNumThreads: threads });
}

/** The network's outputs on `images` (NHWC), 256 at a time in one onnxruntime session. */
export async function networkLogits(network: OnnxNetwork, images: Float32Array): Promise<Float32Array> {
  const [h, w, c] = network.imageShape;
  const size = h * w * c;
  const count = images.length / size;
  const session = await ort.InferenceSession.create(networkBytes(network), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const out = new Float32Array(count * network.classes);
    for (let start = 0; start < count; start += CHUNK) {
      const n = Math.min(CHUNK, count - start);
      const feeds = {
        [NETWORK_IO.images]: new ort.Tensor('float32', images.slice(start * size, (start + n) * size), [n, h, w, c]),
      };
      const result = await session.run(feeds);
      out.set(result[NETWORK_IO.logits]?.data as Float32Array, start * network.classes);
    }
    return out;
  } finally {
    await session.release();
  }
}
