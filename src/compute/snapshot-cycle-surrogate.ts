import type { FeatureTaps, LossGradient, LossRequest, Surrogate } from './surrogate.js';

/**
 * LGV's attack as its code runs it (Gubri et al. 2207.13129; `ExtendedProjectedGradientDescentPyTorch`
 * takes estimators[i % K] at iteration i): the gradient of step i of the gradient loop is snapshot
 * i mod K's alone. What the loop does not number (logits, C&W's and AdvGAN's own loops, feature taps)
 * is answered by `whole`, the snapshots' mean-logits ensemble. Stateless, so a resumed run or another
 * attack on the same surrogate sees the same snapshot at the same step.
 */
export class SnapshotCycleSurrogate implements Surrogate {
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly taps?: FeatureTaps;

  constructor(
    readonly name: string,
    private readonly snapshots: readonly Surrogate[],
    private readonly whole: Surrogate,
  ) {
    this.imageShape = whole.imageShape;
    this.classes = whole.classes;
    if (whole.taps !== undefined) this.taps = whole.taps;
  }

  logits(images: Float32Array, count: number): Promise<Float32Array> {
    return this.whole.logits(images, count);
  }

  lossGradient(images: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient> {
    const step = request.iteration;
    if (step === undefined || this.snapshots.length === 0) return this.whole.lossGradient(images, labels, request);
    return (this.snapshots[step % this.snapshots.length] as Surrogate).lossGradient(images, labels, request);
  }

  async dispose(): Promise<void> {
    for (const s of this.snapshots) await s.dispose();
    await this.whole.dispose();
  }
}
