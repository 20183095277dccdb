import { Registry } from '../../common/registry.js';
import { admix } from './admix.js';
import { di } from './di.js';
import { si } from './si.js';
import { ti } from './ti.js';
import type { InputTransform } from './types.js';

/** Every input transformation, in the order `transferbench list attacks` shows them. */
export const TRANSFORMS = new Registry<InputTransform>('transformation')
  .add(di.name, di)
  .add(ti.name, ti)
  .add(si.name, si)
  .add(admix.name, admix);
