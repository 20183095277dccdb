/**
 * How visible a perturbation is, beside its L-inf and L2 norms (TransferAttackEval reports both): PSNR and SSIM of
 * each adversarial image against its clean image, pixels in [0, 1].
 */

/** PSNR's ceiling: an image left unchanged would have an infinite PSNR, which no CSV or mean can hold. */
export const PSNR_CEILING_DB = 100;

/** Peak signal-to-noise ratio in dB with peak 1: 10 log10(1 / MSE), at most PSNR_CEILING_DB. */
export function psnr(clean: Float32Array, adversarial: Float32Array): number {
  let squared = 0;
  for (let i = 0; i < clean.length; i++) squared += ((adversarial[i] as number) - (clean[i] as number)) ** 2;
  const mse = squared / Math.max(1, clean.length);
  return mse === 0 ? PSNR_CEILING_DB : Math.min(PSNR_CEILING_DB, -10 * Math.log10(mse));
}

/**
 * Wang et al.'s SSIM (IEEE TIP 2004, their reference ssim_index.m): an 11x11 Gaussian window of sigma 1.5 over the
 * positions where it fits whole, K1 0.01, K2 0.03, dynamic range 1; the mean over positions, then over channels.
 * Images smaller than the window use one window as large as the image.
 */
const WINDOW = 11;
const SIGMA = 1.5;
const C1 = (0.01 * 1) ** 2;
const C2 = (0.03 * 1) ** 2;

function gaussian(size: number): Float64Array {
  const weights = new Float64Array(size);
  const centre = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    weights[i] = Math.exp(-((i - centre) ** 2) / (2 * SIGMA * SIGMA));
    sum += weights[i] as number;
  }
  return weights.map((w) => w / sum);
}

/** The windowed mean of `values` (one channel, h x w) over every whole window: a separable valid filter. */
function filtered(values: Float64Array, h: number, w: number, window: Float64Array): Float64Array {
  const k = window.length;
  const outH = h - k + 1;
  const outW = w - k + 1;
  const rows = new Float64Array(h * outW);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < outW; x++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += (window[i] as number) * (values[y * w + x + i] as number);
      rows[y * outW + x] = sum;
    }
  const out = new Float64Array(outH * outW);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += (window[i] as number) * (rows[(y + i) * outW + x] as number);
      out[y * outW + x] = sum;
    }
  return out;
}

/** SSIM of one image pair (HWC, same shape). */
export function ssim(clean: Float32Array, adversarial: Float32Array, shape: readonly [number, number, number]): number {
  const [h, w, c] = shape;
  const window = gaussian(Math.min(WINDOW, h, w));
  let total = 0;
  for (let channel = 0; channel < c; channel++) {
    const a = new Float64Array(h * w);
    const b = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) {
      a[i] = clean[i * c + channel] as number;
      b[i] = adversarial[i * c + channel] as number;
    }
    const muA = filtered(a, h, w, window);
    const muB = filtered(b, h, w, window);
    const aa = filtered(
      a.map((v) => v * v),
      h,
      w,
      window,
    );
    const bb = filtered(
      b.map((v) => v * v),
      h,
      w,
      window,
    );
    const ab = filtered(
      a.map((v, i) => v * (b[i] as number)),
      h,
      w,
      window,
    );
    let sum = 0;
    for (let i = 0; i < muA.length; i++) {
      const ma = muA[i] as number;
      const mb = muB[i] as number;
      const varA = (aa[i] as number) - ma * ma;
      const varB = (bb[i] as number) - mb * mb;
      const cov = (ab[i] as number) - ma * mb;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (varA + varB + C2));
    }
    total += sum / muA.length;
  }
  return total / c;
}

/** Mean PSNR and SSIM over a batch of image pairs (NHWC). */
export function stealth(
  clean: Float32Array,
  adversarial: Float32Array,
  shape: readonly [number, number, number],
): { readonly meanPsnr: number; readonly meanSsim: number } {
  const size = shape[0] * shape[1] * shape[2];
  const count = clean.length / size;
  let psnrSum = 0;
  let ssimSum = 0;
  for (let k = 0; k < count; k++) {
    const a = clean.subarray(k * size, (k + 1) * size);
    const b = adversarial.subarray(k * size, (k + 1) * size);
    psnrSum += psnr(a, b);
    ssimSum += ssim(a, b, shape);
  }
  return { meanPsnr: count === 0 ? 0 : psnrSum / count, meanSsim: count === 0 ? 0 : ssimSum / count };
}
