import { join } from 'node:path';
import { TransferbenchError } from '../common/errors.js';
import { checkTargetAgainstModel } from '../targets/check.js';
import { loadTarget } from '../targets/descriptor.js';

/**
 * Where a replicate's own build of the zoo targets lives (suites with replicates: { targets: "retrain" }): a folder
 * per seed, each target under its zoo name, so the descriptor and every record name it as the suite does.
 */
export function replicateTargetsDir(targetsDir: string, seed: number): string {
  return join(targetsDir, `replicate-seed${seed}`);
}

/**
 * The descriptor a cell of replicate `seed` queries: the suite's target, or, when replicates retrain the zoo targets,
 * that replicate's build of a zoo target (a target named by its target.json path is the user's own and never rebuilt).
 */
export function replicateTargetPath(
  target: string,
  targetsDir: string,
  suite: { readonly seed: number },
  seed: number,
  retrain: boolean,
): string {
  const own = !retrain || seed === suite.seed || target.endsWith('.json');
  return targetDescriptorPath(target, own ? targetsDir : replicateTargetsDir(targetsDir, seed));
}

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
