import * as tf from '@tensorflow/tfjs';
import { Random } from '../../common/random.js';
import { param } from '../../common/params.js';
import { defineTransform } from './types.js';

/** One image's draw: left alone, or resized to `size` and padded by `top`/`left` inside the padded square. */
export type Draw =
  | { readonly apply: false }
  | { readonly apply: true; readonly size: number; readonly top: number; readonly left: number };

/**
 * Input diversity (Xie et al. 1803.06978, TransferAttack's DIM): with probability p, the image is
 * resized to a random side in [H, floor(H * resizeRate)), zero-padded at a random offset to
 * floor(H * resizeRate), and resized back to H. Draws are per image (TransferAttack draws one per
 * batch), so an image is transformed the same way in any batch. tfjs's bilinear resize without
 * half-pixel centres is used both ways: the wasm backend's resize gradient knows no other. For
 * 28x28 digits the default rate 1.1 pads to 30 pixels: shifts and rescalings of up to 2 pixels,
 * the paper's 10% of the image.
 */
/**
 * One image's draw: whether (one draw, as TransferAttack's torch.rand(1) < p), the resized side
 * in [h, padded), and the offsets in [0, padded - size), as TransferAttack's and Xie et al.'s
 * torch.randint(0, rem).
 */
export function drawDiversity(random: Random, h: number, padded: number, probability: number): Draw {
  if (!(random.next() < probability) || padded <= h) return { apply: false };
  const size = h + random.int(padded - h);
  return { apply: true, size, top: random.int(padded - size), left: random.int(padded - size) };
}

export const di = defineTransform({
  name: 'di',
  description:
    'input diversity: random resize and pad with probability p, then back to the input size (Xie et al. 1803.06978)',
  parameters: [
    param({
      name: 'resizeRate',
      range: { type: 'number', minimum: 1 },
      description: 'DI: the padded size, relative to the image size',
      default: 1.1,
    }),
    param({
      name: 'diversityProb',
      range: { type: 'number', minimum: 0, maximum: 1 },
      description: 'DI: probability of transforming an image at each gradient',
      default: 0.5,
    }),
  ],
  plan: (context, params) => {
    const [h, w] = context.imageShape;
    const padded = Math.floor(h * params.resizeRate);
    const draws: Draw[] = context.keys.map((key) =>
      drawDiversity(new Random(params.seed).fork(`di:${context.evaluation}:${key}`), h, padded, params.diversityProb),
    );
    return {
      copies: 1,
      identity: draws.every((d) => !d.apply),
      forward: (x) => {
        const images = tf.split(x, x.shape[0], 0) as tf.Tensor4D[];
        const out = images.map((image, k) => {
          const draw = draws[k] as Draw;
          if (!draw.apply) return image;
          const resized = tf.image.resizeBilinear(image, [draw.size, Math.round((draw.size * w) / h)]);
          const bottom = padded - draw.size - draw.top;
          const right = Math.max(0, Math.floor((padded * w) / h) - resized.shape[2] - draw.left);
          const pad = tf.pad(resized, [
            [0, 0],
            [draw.top, bottom],
            [draw.left, right],
            [0, 0],
          ]);
          return tf.image.resizeBilinear(pad, [h, w]);
        });
        return tf.concat(out, 0) as tf.Tensor4D;
      },
    };
  },
});
