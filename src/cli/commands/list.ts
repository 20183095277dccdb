import { ATTACKS, TRANSFORMS } from '../../attacks/index.js';
import { describeParams, type AnyParam } from '../../common/params.js';
import { QUERY_ATTACKS } from '../../query-attacks/index.js';
import { NETWORKS } from '../../compute/network/architectures.js';
import { TransferbenchError } from '../../common/errors.js';
import { STRATEGIES } from '../../substitutes/index.js';
import { formatTable, type Reporter } from '../reporter.js';

const LISTS = ['attacks', 'query-attacks', 'substitutes', 'architectures'] as const;

/** `transferbench list attacks|architectures`: the registries, with parameters and defaults. */
export function listCommand(reporter: Reporter, what: string | undefined): number {
  switch (what) {
    case 'attacks': {
      const parameters = (declared: readonly AnyParam[]) => {
        const rows = describeParams(declared).map((p) => [
          `    ${p.name}`,
          `default ${p.default}`,
          p.range,
          p.description,
        ]);
        if (rows.length > 0) reporter.info(formatTable(rows));
      };
      for (const attack of ATTACKS.values()) {
        const composition = attack.composition
          ? `, = ${attack.composition.method} + ${attack.composition.transforms.join(' + ')}`
          : '';
        reporter.info(
          `${attack.name}  [${attack.kind}${attack.usesLabels ? '' : ', ignores labels'}` +
            `${attack.transformable ? '' : ', no transforms'}${composition}] ` +
            ` ${attack.description}`,
        );
        parameters(attack.composition ? [] : attack.parameters);
      }
      reporter.info(
        '\ninput transformations (a suite stacks them on a gradient-loop ' +
          'attack: { "name": "mi-fgsm", "transforms": ["di", "ti"] }):',
      );
      for (const transform of TRANSFORMS.values()) {
        reporter.info(`${transform.name}  ${transform.description}`);
        parameters(transform.parameters);
      }
      reporter.info('\nevery attack also takes: eps (L-inf budget, in [0, 1]), labelSource (true | predicted), seed');
      return 0;
    }
    case 'query-attacks': {
      for (const attack of QUERY_ATTACKS.values()) {
        reporter.info(`${attack.name}  [${attack.kind}; ${attack.norms.join(', ')}]  ${attack.description}`);
        // Defaults shown for a 28x28x1 image at L-inf eps 0.3 / L2 eps 2 (some scale with them).
        const norm = attack.norms[0] ?? 'linf';
        const context = { norm, eps: norm === 'l2' ? 2 : 0.3, shape: [28, 28, 1] as const };
        const rows = describeParams(attack.parameters, context).map((p) => [
          `    ${p.name}`,
          `default ${p.default}`,
          p.description,
        ]);
        if (rows.length > 0) reporter.info(formatTable(rows));
      }
      reporter.info(
        "\nevery query attack also takes (in a suite's queryAttacks): eps, norm, start (a transfer attack to start " +
          'from), oracles, substitutes',
      );
      return 0;
    }
    case 'substitutes': {
      for (const strategy of STRATEGIES.values()) {
        reporter.info(`${strategy.name}${strategy.reference ? '  [reference]' : ''}  ${strategy.description}`);
        const rows = describeParams(strategy.parameters).map((p) => [
          `    ${p.name}`,
          p.default !== undefined ? `default ${p.default}` : '',
          `${p.description}; ${p.range}`,
        ]);
        if (rows.length > 0) reporter.info(formatTable(rows));
      }
      reporter.info(
        '\nevery strategy also takes: architecture, budget (substitute-training ' +
          'queries), seed, epochs, batch size, learning rate',
      );
      return 0;
    }
    case 'architectures':
      reporter.info(
        formatTable(NETWORKS.values().map((a) => [a.name, `${a.description}${a.tfjs ? '' : ' (onnxruntime engine)'}`])),
      );
      reporter.info(
        "\nor a path to an ONNX model's descriptor (target.json format), trained or fine-tuned (training.init)",
      );
      return 0;
    default:
      throw new TransferbenchError(
        'UNKNOWN_NAME',
        `list: expected one of ${LISTS.join(', ')}, got ${JSON.stringify(what ?? '')}`,
      );
  }
}
