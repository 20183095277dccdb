import { Registry } from '../../common/registry.js';
import { clipGradient, leakyReluGradient, reluGradient, sigmoidGradient, tanhGradient } from './ops/activation.js';
import { convGradient } from './ops/conv.js';
import { depthToSpaceGradient, spaceToDepthGradient } from './ops/depth-space.js';
import { eluGradient, mishGradient, seluGradient, softplusGradient } from './ops/exponential-activation.js';
import { groupNormalizationGradient, instanceNormalizationGradient } from './ops/group-normalization.js';
import { hardSigmoidGradient, hardSwishGradient } from './ops/hard-activation.js';
import { preluGradient } from './ops/prelu.js';
import { resizeGradient } from './ops/resize.js';
import { convTransposeGradient } from './ops/conv-transpose.js';
import {
  addGradient,
  divGradient,
  expGradient,
  identityGradient,
  logGradient,
  mulGradient,
  negGradient,
  subGradient,
} from './ops/elementwise.js';
import { gemmGradient, matMulGradient } from './ops/gemm.js';
import { absGradient, maxGradient, meanGradient, minGradient, powGradient, sumGradient } from './ops/arithmetic.js';
import { expandGradient, tileGradient, whereGradient } from './ops/broadcast.js';
import { einsumGradient } from './ops/einsum.js';
import { erfGradient, geluGradient } from './ops/erf.js';
import { gatherElementsGradient, gatherGradient } from './ops/gather.js';
import { layerNormalizationGradient } from './ops/layer-normalization.js';
import { sliceGradient, splitGradient } from './ops/slice.js';
import { batchNormalizationGradient } from './ops/normalization.js';
import { averagePoolGradient, globalAveragePoolGradient, globalMaxPoolGradient, maxPoolGradient } from './ops/pool.js';
import { reduceL2Gradient, reduceMaxGradient, reduceMeanGradient, reduceSumGradient } from './ops/reduce.js';
import { concatGradient, padGradient, reshapeGradient, transposeGradient } from './ops/shape.js';
import { sqrtGradient } from './ops/sqrt.js';
import { logSoftmaxGradient, softmaxGradient } from './ops/softmax.js';
import type { GradientBuilder } from './ops/types.js';

/**
 * Op type -> gradient builder (onnxruntime's gradient_builder_registry.cc): the one list of
 * operators a gradient flows through. Operators off the differentiated path (Shape, Gather on
 * shapes, Equal, Cast of labels, attention masks) need no entry: they are folded or never reached.
 */
export const GRADIENT_BUILDERS = new Registry<GradientBuilder>('differentiable operator')
  .add('Conv', convGradient)
  .add('ConvTranspose', convTransposeGradient)
  .add('Gemm', gemmGradient)
  .add('MatMul', matMulGradient)
  .add('Add', addGradient)
  .add('Sub', subGradient)
  .add('Mul', mulGradient)
  .add('Div', divGradient)
  .add('Neg', negGradient)
  .add('Max', maxGradient)
  .add('Log', logGradient)
  .add('Exp', expGradient)
  .add('Sqrt', sqrtGradient)
  .add('Relu', reluGradient)
  .add('LeakyRelu', leakyReluGradient)
  .add('Sigmoid', sigmoidGradient)
  .add('Tanh', tanhGradient)
  .add('Clip', clipGradient)
  .add('Softmax', softmaxGradient)
  .add('LogSoftmax', logSoftmaxGradient)
  .add('MaxPool', maxPoolGradient)
  .add('AveragePool', averagePoolGradient)
  .add('GlobalAveragePool', globalAveragePoolGradient)
  .add('BatchNormalization', batchNormalizationGradient)
  .add('Flatten', reshapeGradient)
  .add('Reshape', reshapeGradient)
  .add('Squeeze', reshapeGradient)
  .add('Unsqueeze', reshapeGradient)
  .add('Transpose', transposeGradient)
  .add('Concat', concatGradient)
  .add('Pad', padGradient)
  .add('ReduceMean', reduceMeanGradient)
  .add('ReduceSum', reduceSumGradient)
  .add('ReduceMax', reduceMaxGradient)
  .add('Identity', identityGradient)
  .add('Dropout', identityGradient)
  // Mobile networks (MobileNet-V3, EfficientNet variants) and generators.
  .add('HardSigmoid', hardSigmoidGradient)
  .add('HardSwish', hardSwishGradient)
  .add('Softplus', softplusGradient)
  .add('Mish', mishGradient)
  .add('Elu', eluGradient)
  .add('Selu', seluGradient)
  .add('PRelu', preluGradient)
  .add('InstanceNormalization', instanceNormalizationGradient)
  .add('GroupNormalization', groupNormalizationGradient)
  .add('Resize', resizeGradient)
  .add('DepthToSpace', depthToSpaceGradient)
  .add('SpaceToDepth', spaceToDepthGradient)
  .add('GlobalMaxPool', globalMaxPoolGradient)
  // Transformers (ViT, Swin, ConvNeXt) and channel shuffles (ShuffleNet-V2).
  .add('LayerNormalization', layerNormalizationGradient)
  .add('Erf', erfGradient)
  .add('Gelu', geluGradient)
  .add('Gather', gatherGradient)
  .add('GatherElements', gatherElementsGradient)
  .add('Slice', sliceGradient)
  .add('Split', splitGradient)
  .add('Expand', expandGradient)
  .add('Tile', tileGradient)
  .add('Where', whereGradient)
  .add('Pow', powGradient)
  .add('Abs', absGradient)
  .add('Min', minGradient)
  .add('Sum', sumGradient)
  .add('Mean', meanGradient)
  .add('Einsum', einsumGradient)
  // Swin-V2's cosine attention normalises queries and keys (F.normalize).
  .add('ReduceL2', reduceL2Gradient)
  // Only float32 values are differentiated (wire.ts), so a Cast on the path is float32 to float32.
  .add('Cast', identityGradient);
