export * from './types.js';
export { ATTACKS, craftAdversarial, resolveParams, resolveTrainingLabels, type CraftRequest } from './registry.js';
export { perturbationNorms } from './norms.js';
export { leastLikely, predictedLabels } from './gradient-loop.js';
export { kurakinSteps } from './bim.js';
