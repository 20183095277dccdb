import { TransferbenchError } from '../common/errors.js';
import { TRANSFORMS } from './transforms/registry.js';
import type { Attack } from './types.js';

/**
 * An attack with input transformations stacked on it (TransferAttack's compositions, e.g.
 * DI-TI-MI-FGSM): the same gradient method, every gradient evaluation transformed. It takes the
 * method's parameters and the transformations'. Named `method+t1+t2` unless given a name.
 */
export function compose(method: Attack, transformNames: readonly string[], name?: string): Attack {
  if (!method.transformable) {
    const takers = 'the gradient-loop attacks (fgsm, bim, pgd, mi-fgsm, ...)';
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${method.name}: transforms: ${method.name} does not run the ` +
        `gradient loop, so input transformations do not apply; they apply ` +
        `to ${takers}`,
    );
  }
  const baked = method.composition?.transforms ?? [];
  const all = [...baked, ...transformNames];
  const repeated = all.find((t, i) => all.indexOf(t) !== i);
  if (repeated !== undefined)
    throw new TransferbenchError('BAD_CONFIG', `${name ?? method.name}: transforms: "${repeated}" is listed twice`);
  const transforms = transformNames.map((t) => TRANSFORMS.get(t));
  const parameters = [...method.parameters];
  for (const transform of transforms)
    for (const spec of transform.parameters) if (!parameters.some((p) => p.name === spec.name)) parameters.push(spec);
  const base = method.composition?.method ?? method.name;
  return {
    name: name ?? [method.name, ...transformNames].join('+'),
    kind: method.kind,
    description: name
      ? `${base} with ${all.map((t) => t.toUpperCase()).join(' and ')}: ` +
        `${transforms.map((t) => t.description.split(':')[0]).join('; ')}`
      : `${method.description}, with ${all.join(', ')}`,
    usesLabels: method.usesLabels,
    parameters,
    transformable: true,
    composition: { method: base, transforms: all },
    ...(method.variant ? { variant: method.variant } : {}),
    craft: (batch, params, more) => method.craft(batch, params, [...transforms.map((t) => t.bind(params)), ...more]),
  };
}
