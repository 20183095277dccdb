export * from './types.js';
export { STRATEGIES } from './registry.js';
export { resolveStrategyParams, ResolvedParams, type StrategyParams } from './params.js';
export {
  obtainSubstitute,
  substituteCacheKey,
  canonicalJson,
  type ObtainOptions,
  type ObtainedSubstitute,
} from './obtain.js';
export { fidelityMeter, predictClasses } from './fidelity.js';
export { jacobianQueriesPerRound, type JacobianPlan } from './jacobian.js';
export { ownedModelLabel } from './pretrained.js';
export { substituteSurrogate } from './surrogate-of.js';
