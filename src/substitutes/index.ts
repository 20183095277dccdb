export * from './types.js';
export { STRATEGIES } from './registry.js';
export { paramsSchema, resolveStrategyParams, ResolvedParams, type ParameterSpec, type StrategyParams } from './params.js';
export { obtainSubstitute, substituteCacheKey, canonicalJson, type ObtainOptions } from './obtain.js';
export { fidelityMeter } from './fidelity.js';
export { jacobianQueriesPerRound, type JacobianPlan } from './jacobian.js';
