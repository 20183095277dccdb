import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { checkTargetAgainstModel } from '../targets/check.js';
import { loadTarget } from '../targets/descriptor.js';

/** A suite's target: a zoo name (targets/<name>/target.json) or the path of a target.json. */
export function targetDescriptorPath(target: string, targetsDir: string): string {
  return target.endsWith('.json') ? target : join(targetsDir, target, 'target.json');
}

/**
 * The name every record, CSV, plot and page shows for each of a suite's targets: its
 * descriptor's `name`, whether the suite gave a zoo name or a path. Two targets of one suite
 * with the same name are refused: their rows could not be told apart.
 */
export function targetNames(targets: readonly string[], targetsDir: string, source = 'the suite'): Map<string, string> {
  const names = new Map<string, string>();
  const owner = new Map<string, number>();
  targets.forEach((target, i) => {
    const name = loadTarget(targetDescriptorPath(target, targetsDir)).descriptor.name;
    const first = owner.get(name);
    if (first !== undefined) {
      throw new TransferbenchError(
        'DUPLICATE_NAME',
        `${source}: targets[${first}] (${targets[first]}) and targets[${i}] ` +
          `(${target}) are both named "${name}" in their target.json; leaderboards ` +
          `name targets by that name, so give one of them another "name"`,
      );
    }
    owner.set(name, i);
    names.set(target, name);
  });
  return names;
}

/** Every target's descriptor checked against its model (graph and a probe batch), before anything is queried. */
export async function checkTargets(targets: readonly string[], targetsDir: string): Promise<void> {
  for (const target of targets) await checkTargetAgainstModel(loadTarget(targetDescriptorPath(target, targetsDir)));
}
