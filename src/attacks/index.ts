export * from './types.js';
export {
  ATTACKS,
  attackFor,
  attackIdentity,
  craftAdversarial,
  craftAdversarialSync,
  resolveParams,
  resolvePoolLabels,
  type CraftRequest,
} from './registry.js';
export { TRANSFORMS } from './transforms/registry.js';
export type { InputTransform } from './transforms/types.js';
export { PARAMETERS, describeRange, type ParamSpec, type ParamRange } from './params.js';
export { perturbationNorms } from './norms.js';
export { drive, driveSync, type Crafting } from './crafting.js';
export { leastLikely, predictedLabels } from './gradient-loop.js';
export { kurakinSteps } from './bim.js';
export { TARGET_CLASSES, randomTarget, targetClasses, type TargetClassSource } from './target-classes.js';
