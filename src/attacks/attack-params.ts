/**
 * The values every attack and transformation is crafted with, and the vocabularies they use:
 * the bottom of src/attacks, so parameters, transformations and attacks can all import it.
 */
export const NORMS = ['linf', 'l2'] as const;
export type Norm = (typeof NORMS)[number];

/**
 * Losses the gradient-loop attacks take (what `SURROGATE_LOSSES` offers them): cross-entropy, the logit loss -z_y of
 * Zhao et al. 2012.11207, which targeted transfer needs over 300 iterations, or Li et al.'s Po+Trip (CVPR 2020;
 * targeted, on tfjs surrogates).
 */
export const TRANSFER_LOSSES = ['cross-entropy', 'logit', 'po-trip'] as const;
export type TransferLoss = (typeof TRANSFER_LOSSES)[number];

/** Images with their labels (the attacker's own, for generative attacks to fit on and Admix to mix in). */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/** Resolved parameters: every attack reads what it needs; defaults are filled in by the registry. */
export interface AttackParams {
  /** Perturbation budget in the attack's norm (L-inf for the leaderboards). */
  readonly eps: number;
  readonly norm: Norm;
  /** Iterations of the gradient loop (or of the optimiser, for C&W). */
  readonly steps: number;
  /** Step size per iteration. */
  readonly stepSize: number;
  /** The loss the gradient loop differentiates. */
  readonly loss: TransferLoss;
  /** Move towards `labels` instead of away from them. */
  readonly targeted: boolean;
  /** Start from a uniformly random point of the eps-ball. */
  readonly randomStart: boolean;
  /** Momentum decay (MI-FGSM). */
  readonly decay: number;
  /** C&W: confidence margin kappa, binary search steps, initial constant, learning rate. */
  readonly confidence: number;
  readonly binarySearchSteps: number;
  readonly initialConst: number;
  readonly learningRate: number;
  /** C&W: clip the L2 result into the L-inf eps-ball so it enters the same leaderboards. */
  readonly clipToLinf: boolean;
  /** AdvGAN: training epochs of the generator, and the weights of its GAN and hinge losses. */
  readonly epochs: number;
  readonly alpha: number;
  readonly beta: number;
  /** AdvGAN: attacker images its generator trains on. */
  readonly trainImages: number;
  /** AdvGAN: the hinge's bound c on the perturbation's L2 norm. */
  readonly hingeBound: number;
  /** VMI/VNI-FGSM: neighbours sampled for the gradient variance, and their radius in units of eps. */
  readonly neighbours: number;
  readonly neighbourhood: number;
  /** DI: padded size relative to the image, and the probability of transforming. */
  readonly resizeRate: number;
  readonly diversityProb: number;
  /** TI: side of the Gaussian kernel smoothing the gradient. */
  readonly kernelSize: number;
  /** SI and Admix: scale copies; Admix: images mixed in per copy and their weight. */
  readonly scaleCopies: number;
  readonly admixCopies: number;
  readonly admixStrength: number;
  /**
   * PI-FGSM: the step's amplification factor beta, the projection kernel's side and the projected noise's size gamma.
   */
  readonly amplification: number;
  readonly projectionKernel: number;
  readonly projectionFactor: number;
  /** Feature-level attacks: the layer (a name `targets inspect` lists); FIA's masked copies and drop rate. */
  readonly layer: string;
  readonly ensembles: number;
  readonly dropRate: number;
  /** ILPD: gamma, the share of the layer's perturbation kept, and sigma, the noise on the clean reference image. */
  readonly perturbationDecay: number;
  readonly referenceNoise: number;
  /** SGM: the residual branches' gradient factor gamma. */
  readonly sgmGamma: number;
  /** LinBP: the value after which every Relu backpropagates linearly (a name `targets inspect` lists). */
  readonly linbpLayer: string;
  /** Ghost networks: the skip erosion range r and the dropout erosion rate. */
  readonly ghostSkipRange: number;
  readonly ghostDropRate: number;
  readonly seed: number;
}
