/** AdvGAN's training settings, read by its driver (train.ts) and by both engines' steps. */
export interface AdvGanOptions {
  readonly eps: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Weight of the least-squares GAN loss. */
  readonly alpha: number;
  /** Weight of the hinge loss on the perturbation's L2 norm. */
  readonly beta: number;
  /** The hinge's bound c on ||G(x)||_2. */
  readonly hingeBound: number;
  /** C&W margin kappa of the adversarial loss. */
  readonly confidence: number;
  readonly targeted: boolean;
  readonly seed: number;
}
