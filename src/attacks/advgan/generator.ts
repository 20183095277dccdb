import * as ort from 'onnxruntime-node';
import { IMAGE_NETWORK_IO, imageNetworkBytes, type ImageNetwork } from '../../compute/network/image-network.js';

/**
 * A trained generator on onnxruntime, what crafting runs: one forward pass per chunk, then
 * clip(x + eps G(x), 0, 1) with every operation rounded to float32, as the training graph and
 * the tfjs reference (steps.ts `generate`) compute it. Outside the graph so one session serves any eps.
 */
export class GeneratorSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly imageShape: readonly [number, number, number],
  ) {}

  static async open(network: ImageNetwork): Promise<GeneratorSession> {
    const session = await ort.InferenceSession.create(imageNetworkBytes(network), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new GeneratorSession(session, network.imageShape);
  }

  async perturb(images: Float32Array, count: number, eps: number): Promise<Float32Array> {
    const feeds = { [IMAGE_NETWORK_IO.images]: new ort.Tensor('float32', images, [count, ...this.imageShape]) };
    const directions = (await this.session.run(feeds))[IMAGE_NETWORK_IO.output]?.data as Float32Array;
    const scale = Math.fround(eps);
    const out = new Float32Array(images.length);
    for (let i = 0; i < out.length; i++) {
      const moved = Math.fround((images[i] as number) + Math.fround((directions[i] as number) * scale));
      out[i] = Math.min(1, Math.max(0, moved));
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The generator's adversarial images for `images`, in a session opened and released for them. */
export async function generateAdversarial(
  network: ImageNetwork,
  images: Float32Array,
  count: number,
  eps: number,
): Promise<Float32Array> {
  const session = await GeneratorSession.open(network);
  try {
    return await session.perturb(images, count, eps);
  } finally {
    await session.release();
  }
}
