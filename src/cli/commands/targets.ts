import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TransferbenchError } from '../../common/errors.js';
import { useBackend } from '../../compute/backend.js';
import { describeEngine, resolveEngine } from '../../compute/engine.js';
import { loadSplit, parseDatasetSpec } from '../../data/index.js';
import { inspectOnnx } from '../../targets/inspect.js';
import { candidateLayers, gradientSupport } from '../../targets/owned-model.js';
import { buildTarget, loadZoo } from '../../targets/zoo.js';
import { formatTable, type Reporter } from '../reporter.js';

/** The zoo recipes shipped with the package. */
export const DEFAULT_ZOO = fileURLToPath(new URL('../../../../targets/zoo.json', import.meta.url));

export interface TargetsOptions {
  readonly zoo: string;
  readonly out: string;
  readonly only?: string;
  readonly dataset?: string;
  readonly backend?: string;
  readonly seed: number;
  /** inspect: write the draft as target.json beside the model. */
  readonly write?: boolean;
}

/** `transferbench targets build|inspect`. */
export async function targetsCommand(
  reporter: Reporter,
  action: string | undefined,
  args: string[],
  options: TargetsOptions,
): Promise<number> {
  if (action === 'inspect') {
    const file = args[0];
    if (file === undefined || !existsSync(file))
      throw new TransferbenchError(
        'BAD_OPTION',
        `targets inspect: give an existing .onnx file (got ${JSON.stringify(file ?? '')})`,
      );
    const report = inspectOnnx(file);
    const row = (t: { name: string; elemType: string; shape: (number | string)[] }) => [
      t.name,
      t.elemType,
      `[${t.shape.join(', ')}]`,
    ];
    reporter.info(`opset ${report.opset}, last op ${report.lastOp}`);
    reporter.info(
      formatTable([
        ['', 'name', 'type', 'shape'],
        ...report.inputs.map((t) => ['input', ...row(t)]),
        ...report.outputs.map((t) => ['output', ...row(t)]),
      ]),
    );
    reporter.info('\ndraft target.json (check layout, inputRange, normalization, classNames and dataset):');
    reporter.info(JSON.stringify(report.draft, null, 2));
    // The same descriptor makes the model a pretrained surrogate: say whether its gradient can be built.
    const bytes = readFileSync(file);
    const layers = await candidateLayers(bytes, report.draft);
    if (layers.length > 0) {
      reporter.info('\nlayers a feature-level attack can tap (params.layer):');
      reporter.info(
        formatTable([['layer', 'op', 'shape'], ...layers.map((l) => [l.name, l.opType, `[${l.shape.join(', ')}]`])]),
      );
    }
    const gradient = await gradientSupport(bytes, report.draft);
    const descriptorPath = join(dirname(file), 'target.json');
    reporter.info(
      gradient.supported
        ? `\nas a pretrained surrogate: gradients supported; in a suite: ` +
            `{ "strategy": "pretrained", "budgets": [0], "params": { "model": ` +
            `${JSON.stringify(descriptorPath)} } }`
        : `\nas a pretrained surrogate: not supported (${gradient.reason})`,
    );
    if (options.write) {
      if (existsSync(descriptorPath))
        throw new TransferbenchError(
          'BAD_OPTION',
          `targets inspect --write: ${descriptorPath} exists; remove it or edit it by hand`,
        );
      writeFileSync(descriptorPath, `${JSON.stringify(report.draft, null, 2)}\n`);
      reporter.info(`wrote ${descriptorPath}`);
    }
    return 0;
  }
  if (action !== 'build')
    throw new TransferbenchError(
      'UNKNOWN_NAME',
      `targets: expected build or inspect, got ${JSON.stringify(action ?? '')}`,
    );
  const zoo = loadZoo(options.zoo);
  const wanted = options.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = wanted?.filter((name) => !zoo.targets.some((t) => t.name === name)) ?? [];
  if (unknown.length > 0)
    throw new TransferbenchError(
      'UNKNOWN_NAME',
      `--only: unknown target(s) ${unknown.join(', ')}; zoo targets: ${zoo.targets.map((t) => t.name).join(', ')}`,
    );
  const recipes = zoo.targets.filter((t) => wanted === undefined || wanted.includes(t.name));
  const backend = await useBackend(options.backend);
  const datasetName = options.dataset ?? zoo.dataset;
  const split = loadSplit(parseDatasetSpec(datasetName), options.seed);
  const engine = await resolveEngine();
  reporter.info(
    `building ${recipes.length} target(s) on ${datasetName} (${split.train.labels.length} ` +
      `train / ${split.test.labels.length} test images), backend ${backend.name}, ` +
      `engine ${describeEngine(engine)}`,
  );
  const rows = [['target', 'clean accuracy', 'train s']];
  for (const recipe of recipes) {
    const built = await buildTarget(recipe, split, datasetName, options.out);
    reporter.info(
      `${built.name}: clean accuracy ${(built.cleanAccuracy * 100).toFixed(2)}%, ` +
        `${built.trainSeconds.toFixed(0)} s -> ${built.descriptorPath}`,
    );
    rows.push([built.name, `${(built.cleanAccuracy * 100).toFixed(2)}%`, built.trainSeconds.toFixed(0)]);
  }
  reporter.info(`\n${formatTable(rows)}`);
  return 0;
}
