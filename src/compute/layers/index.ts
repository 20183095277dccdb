import * as tf from '@tensorflow/tfjs';
import { InstanceNorm } from './instance-norm.js';
import { Maxout } from './maxout.js';
import { Rbf } from './rbf.js';

export { InstanceNorm } from './instance-norm.js';
export { Maxout } from './maxout.js';
export { Rbf } from './rbf.js';

let registered = false;

/** Makes the custom layers known to tfjs's (de)serialiser; called where models are built or loaded. */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(InstanceNorm);
  tf.serialization.registerClass(Maxout);
  tf.serialization.registerClass(Rbf);
  registered = true;
}
