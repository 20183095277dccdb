import type { OnnxModelDescription } from '../../compute/onnx-gradient/heads.js';
import type { TargetDescriptor } from '../descriptor.js';

/** What the ONNX gradient builder needs of a target descriptor (the compute layer never imports targets). */
export function gradientDescriptionOf(d: TargetDescriptor): OnnxModelDescription {
  return {
    inputName: d.inputName,
    outputName: d.outputName,
    layout: d.layout,
    inputShape: [d.inputShape[0] as number, d.inputShape[1] as number, d.inputShape[2] as number],
    inputRange: d.inputRange,
    normalization: d.normalization,
    outputKind: d.outputKind,
    classes: d.classNames.length,
  };
}
