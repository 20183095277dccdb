import type { FeatureDecay, FeatureTaps, LossGradient, LossRequest, Surrogate } from './surrogate.js';

/**
 * LGV's attack as its code runs it (Gubri et al. 2207.13129; `ExtendedProjectedGradientDescentPyTorch`
 * takes estimators[i % K] at iteration i): the gradient of step i of the gradient loop is snapshot
 * i mod K's alone. What the loop does not number (logits, C&W's and AdvGAN's own loops) is answered by
 * `whole`, the snapshots' mean-logits ensemble; feature taps by the snapshots themselves (snapshotTaps).
 * Stateless, so a resumed run or another attack on the same surrogate sees the same snapshot at the same step.
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
    const taps = snapshotTaps(snapshots);
    if (taps !== undefined) this.taps = taps;
    else if (whole.taps !== undefined) this.taps = whole.taps;
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

/**
 * Feature taps on the snapshots, whose layers are named as the base network's (the whole's graph names them s<k>/...,
 * so that one suite names one layer for a substitute and its LGV): a call numbered by the loop's step (ILPD's decayed
 * pass) goes to snapshot i mod K, as the loss gradient does; an unnumbered one (FIA's, NAA's and ILA's taps) to
 * snapshot 0. Undefined when a snapshot has no taps.
 */
function snapshotTaps(snapshots: readonly Surrogate[]): FeatureTaps | undefined {
  const all = snapshots.map((s) => s.taps);
  const first = all[0];
  if (first === undefined || all.some((t) => t === undefined)) return undefined;
  const at = (iteration: number | undefined) => all[(iteration ?? 0) % all.length] as FeatureTaps;
  const decayed = all.every((t) => t?.decayedLossGradient !== undefined);
  return {
    layers: () => first.layers(),
    featureGradient: (images, labels, layer, request) =>
      at(request.iteration).featureGradient(images, labels, layer, request),
    featureObjectiveGradient: (images, request) => first.featureObjectiveGradient(images, request),
    ...(decayed
      ? {
          decayedLossGradient: (images: Float32Array, labels: Int32Array, request: LossRequest, decay: FeatureDecay) =>
            (at(request.iteration).decayedLossGradient as NonNullable<FeatureTaps['decayedLossGradient']>)(
              images,
              labels,
              request,
              decay,
            ),
        }
      : {}),
  };
}
