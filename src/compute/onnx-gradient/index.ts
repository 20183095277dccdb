/** Gradients through any ONNX classifier on onnxruntime (issue 18); see the README section. */
export { buildGradientModel, buildLogitsModel, type GradientModelOptions } from './build.js';
export { GRADIENT_IO, type OnnxModelDescription } from './heads.js';
export { GRADIENT_BUILDERS } from './registry.js';
export { createOnnxSurrogate, type OnnxSurrogateOptions } from './surrogate.js';
export type { BackwardTricks } from './tricks.js';
export { checkVariantGraph } from './variants.js';
export { buildFeatureGradientModel, buildFeatureObjectiveModel, FEATURE_IO, featureLayers } from './taps.js';
export { buildDecayedGradientModel, DECAY_IO } from './decay.js';
