import { Registry } from '../common/registry.js';
import { dynamicDistillation } from './dynamic-distillation.js';
import { groundTruth } from './ground-truth.js';
import { jacobian } from './jacobian.js';
import { lgv } from './lgv.js';
import { pretrained } from './pretrained.js';
import { staticDistillation } from './static-distillation.js';
import { swa } from './swa.js';
import type { SubstituteStrategy } from './types.js';
import { whiteBox } from './white-box.js';

/** Every substitute strategy, in the order `transferbench list substitutes` shows them. */
export const STRATEGIES = new Registry<SubstituteStrategy>('substitute strategy')
  .add(groundTruth.name, groundTruth)
  .add(staticDistillation.name, staticDistillation)
  .add(dynamicDistillation.name, dynamicDistillation)
  .add(jacobian.name, jacobian)
  .add(whiteBox.name, whiteBox)
  .add(pretrained.name, pretrained)
  .add(lgv.name, lgv)
  .add(swa.name, swa);
