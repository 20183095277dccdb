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
export { HARNESS_PARAMETERS, NORMS as ATTACK_NORMS, TRANSFER_LOSSES } from './vocabulary.js';
export { perturbationNorms } from './norms.js';
export { drive, driveSync, type Crafting } from './crafting.js';
export { leastLikely, predictedLabels } from './gradient-loop.js';
export { kurakinSteps } from './bim.js';
export { TARGET_CLASSES, randomTarget, targetClasses, type TargetClassSource } from './target-classes.js';
