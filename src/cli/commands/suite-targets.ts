import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replicateTargetPath, replicateTargetsDir, targetDescriptorPath } from '../../runner/targets.js';
import { loadSuite, replicateSeeds, retrainsTargets, type Suite } from '../../runner/suite.js';
import { TransferbenchError } from '../../common/errors.js';
import { useBackend } from '../../compute/backend.js';
import { loadSplit, parseDatasetSpec } from '../../data/index.js';
import { buildTarget, loadZoo } from '../../targets/zoo.js';
import type { Reporter } from '../reporter.js';
import { targetsCommand } from './targets.js';

const TARGETS = fileURLToPath(new URL('../../../../targets/', import.meta.url));

/** The shipped zoo files, targets/zoo*.json. */
export function shippedZooFiles(): string[] {
  return readdirSync(TARGETS)
    .filter((f) => /^zoo.*\.json$/.test(f))
    .sort()
    .map((f) => join(TARGETS, f));
}

/** Which shipped zoo file holds each recipe name. */
function zooOf(): Map<string, string> {
  const owners = new Map<string, string>();
  for (const file of shippedZooFiles()) for (const recipe of loadZoo(file).targets) owners.set(recipe.name, file);
  return owners;
}

/**
 * The suite's zoo targets not built in `targetsDir`, each with the shipped zoo file that builds
 * it. Targets named by a target.json path are the user's own and never built here; a missing
 * name that no zoo file holds is refused, naming it.
 */
export function missingTargets(suite: Suite, targetsDir: string): Map<string, string> {
  const missing = suite.targets.filter((t) => !t.endsWith('.json') && !existsSync(targetDescriptorPath(t, targetsDir)));
  if (missing.length === 0) return new Map();
  const owners = zooOf();
  const orphans = missing.filter((t) => !owners.has(t));
  if (orphans.length > 0)
    throw new TransferbenchError(
      'UNKNOWN_NAME',
      `${suite.name}: target(s) ${orphans.join(', ')} are not built ` +
        `in ${targetsDir} and are in no targets/zoo*.json; build them ` +
        `or name their target.json`,
    );
  return new Map(missing.map((t) => [t, owners.get(t) as string]));
}

/**
 * Builds the suite's zoo targets that are not built yet (and only those), each from the shipped zoo file holding it.
 */
export async function buildMissingTargets(
  reporter: Reporter,
  suite: Suite,
  options: { targetsDir: string; seed: number; backend?: string },
): Promise<string[]> {
  const missing = missingTargets(suite, options.targetsDir);
  for (const zoo of new Set(missing.values())) {
    const only = [...missing.keys()].filter((t) => missing.get(t) === zoo);
    reporter.info(`${suite.name}: building ${only.join(', ')} from ${zoo}`);
    await targetsCommand(reporter, 'build', [], {
      zoo,
      out: options.targetsDir,
      only: only.join(','),
      seed: options.seed,
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
    });
  }
  return [...missing.keys(), ...(await buildReplicateTargets(reporter, suite, options))];
}

/** The replicates' own builds of the suite's zoo targets that are not built yet (none unless replicates retrain). */
function missingReplicateTargets(suite: Suite, targetsDir: string): { seed: number; name: string }[] {
  if (!retrainsTargets(suite)) return [];
  return replicateSeeds(suite)
    .filter((seed) => seed !== suite.seed)
    .flatMap((seed) => suite.targets.filter((t) => !t.endsWith('.json')).map((name) => ({ seed, name })))
    .filter(({ seed, name }) => !existsSync(replicateTargetPath(name, targetsDir, suite, seed, true)));
}

/**
 * With replicates: { targets: "retrain" }, each replicate's own build of the suite's zoo targets
 * (those not built yet): the recipe trained from seed recipe.seed + (replicate seed - suite seed)
 * on the same split as the suite's targets (the one `--seed` draws), so no evaluation image was
 * trained on, into replicateTargetsDir. Returns them as replicate-seedS/NAME.
 */
async function buildReplicateTargets(
  reporter: Reporter,
  suite: Suite,
  options: { targetsDir: string; seed: number; backend?: string },
): Promise<string[]> {
  const owners = zooOf();
  const built: string[] = [];
  for (const { seed, name } of missingReplicateTargets(suite, options.targetsDir)) {
    const zooFile = owners.get(name);
    const zoo = zooFile === undefined ? undefined : loadZoo(zooFile);
    const recipe = zoo?.targets.find((t) => t.name === name);
    if (zoo === undefined || recipe === undefined)
      throw new TransferbenchError(
        'UNKNOWN_NAME',
        `${suite.name}: replicates retrain ${name}, which no targets/zoo*.json holds`,
      );
    await useBackend(options.backend);
    const out = replicateTargetsDir(options.targetsDir, seed);
    reporter.info(`${suite.name}: building ${name} for the replicate of seed ${seed} -> ${out}`);
    const split = loadSplit(parseDatasetSpec(zoo.dataset), options.seed);
    await buildTarget({ ...recipe, seed: recipe.seed + seed - suite.seed }, split, zoo.dataset, out);
    built.push(`replicate-seed${seed}/${name}`);
  }
  return built;
}

/**
 * `transferbench targets missing SUITE` (the names, one per line: what a scheduler script needs
 * to decide whether to submit a build job) and `transferbench targets build --suite SUITE`.
 */
export async function suiteTargetsCommand(
  reporter: Reporter,
  action: string | undefined,
  suitePath: string | undefined,
  options: { targetsDir: string; seed: number; backend?: string },
): Promise<number> {
  if (suitePath === undefined)
    throw new TransferbenchError(
      'BAD_OPTION',
      `targets ${action ?? ''}: missing SUITE; e.g. \`transferbench targets missing bench/quickstart.json\``,
    );
  const suite = loadSuite(suitePath);
  if (action === 'missing') {
    for (const name of missingTargets(suite, options.targetsDir).keys()) process.stdout.write(`${name}\n`);
    for (const { seed, name } of missingReplicateTargets(suite, options.targetsDir))
      process.stdout.write(`replicate-seed${seed}/${name}\n`);
    return 0;
  }
  if (action !== 'build')
    throw new TransferbenchError('BAD_OPTION', `--suite: only for \`targets build\` (got \`targets ${action ?? ''}\`)`);
  const built = await buildMissingTargets(reporter, suite, options);
  if (built.length === 0) reporter.info(`${suite.name}: every zoo target it names is built in ${options.targetsDir}`);
  return 0;
}
