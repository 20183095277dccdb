import { parseArgs } from 'node:util';
import { ioError, TransferbenchError } from '../common/errors.js';
import { commandHelp, commandOptions, overview } from './help.js';
import { consoleReporter } from './reporter.js';

function parallelOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new TransferbenchError('BAD_OPTION', `--parallel: got ${JSON.stringify(text)}, expected a positive integer`);
  return n;
}

/** The command line without its process: the exit status of a command that ran, or what it threw. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    tokens: true,
    options: {
      backend: { type: 'string' },
      engine: { type: 'string' },
      'train-threads': { type: 'string' },
      seed: { type: 'string', default: '0' },
      quiet: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      zoo: { type: 'string' },
      dataset: { type: 'string' },
      suite: { type: 'string' },
      shard: { type: 'string' },
      'shard-by': { type: 'string' },
      resume: { type: 'boolean', default: false },
      parallel: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      'no-report': { type: 'boolean', default: false },
      'targets-dir': { type: 'string', default: 'targets' },
      'cache-dir': { type: 'string', default: 'substitutes' },
    },
  });
  const reporter = consoleReporter({ quiet: values.quiet, verbose: values.verbose });
  const [command, ...rest] = positionals;
  if (command === undefined || (command === 'help' && rest.length === 0)) {
    process.stdout.write(overview());
    return 0;
  }
  if (values.help || command === 'help') {
    const words = command === 'help' ? rest : positionals;
    const help = commandHelp(words);
    if (help === undefined)
      throw new TransferbenchError(
        'UNKNOWN_NAME',
        `unknown command "${words.join(' ')}"; run \`transferbench --help\``,
      );
    process.stdout.write(help);
    return 0;
  }
  // One option table parses every command; each command accepts only its own options and the global ones.
  const allowed = commandOptions(command === 'targets' ? [command, rest[0] ?? ''] : [command]);
  const given = tokens.filter((t) => t.kind === 'option').map((t) => t.name);
  const stray = allowed === undefined ? undefined : given.find((name) => !allowed.has(name));
  if (stray !== undefined && allowed !== undefined)
    throw new TransferbenchError(
      'BAD_OPTION',
      `${command === 'targets' ? `targets ${rest[0]}` : command}: --${stray} is not an option of this command; ` +
        `it takes ${[...allowed]
          .filter((o) => o !== 'help')
          .map((o) => `--${o}`)
          .join(', ')}`,
    );
  const seed = Number(values.seed);
  if (!Number.isInteger(seed))
    throw new TransferbenchError('BAD_OPTION', `--seed: got ${JSON.stringify(values.seed)}, expected an integer`);
  const backend = values.backend ?? process.env.TRANSFERBENCH_BACKEND;
  // The training engine travels in the environment, so pool workers train on the same one.
  if (values.engine !== undefined) process.env.TRANSFERBENCH_ENGINE = values.engine;
  if (values['train-threads'] !== undefined) process.env.TRANSFERBENCH_TRAIN_THREADS = values['train-threads'];
  // Checked here, so a typo fails before any work; the default waits for the backend.
  if (values.engine !== undefined || values['train-threads'] !== undefined)
    (await import('../compute/engine.js')).checkEngineRequest();
  // Each command's modules load when it runs, so `--help` and typos answer at once.
  switch (command) {
    case 'backends': {
      const { backendsCommand } = await import('./commands/backends.js');
      return backendsCommand(reporter, backend);
    }
    case 'data': {
      const name = rest[0];
      if (name === undefined)
        throw new TransferbenchError('BAD_OPTION', 'data: missing NAME; e.g. `transferbench data mnist-embedded`');
      const { dataCommand } = await import('./commands/data.js');
      return dataCommand(reporter, name, seed);
    }
    case 'repro': {
      const { reproCommand } = await import('./commands/repro.js');
      return reproCommand(reporter, rest, {
        targetsDir: values['targets-dir'],
        cacheDir: values['cache-dir'],
        seed,
        quiet: values.quiet,
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...(backend !== undefined ? { backend } : {}),
      });
    }
    case 'quickstart': {
      const { quickstartCommand } = await import('./commands/quickstart.js');
      return quickstartCommand(reporter, {
        targetsDir: values['targets-dir'],
        cacheDir: values['cache-dir'],
        seed,
        quiet: values.quiet,
        ...(backend !== undefined ? { backend } : {}),
      });
    }
    case 'run': {
      const suite = rest[0];
      if (suite === undefined)
        throw new TransferbenchError(
          'BAD_OPTION',
          'run: missing SUITE; e.g. `transferbench run bench/quickstart.json`',
        );
      const { runCommand } = await import('./commands/bench.js');
      return runCommand(reporter, suite, {
        resume: values.resume,
        targetsDir: values['targets-dir'],
        cacheDir: values['cache-dir'],
        useCache: !values['no-cache'],
        quiet: values.quiet,
        ...(values.shard !== undefined ? { shard: values.shard } : {}),
        ...(values['shard-by'] !== undefined ? { shardBy: values['shard-by'] } : {}),
        ...(values.parallel !== undefined ? { parallel: parallelOption(values.parallel) } : {}),
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...(backend !== undefined ? { backend } : {}),
      });
    }
    case 'merge': {
      const dir = rest[0];
      if (dir === undefined)
        throw new TransferbenchError('BAD_OPTION', 'merge: missing DIR; e.g. `transferbench merge reports/quickstart`');
      const { mergeCommand } = await import('./commands/bench.js');
      return mergeCommand(reporter, dir, { report: !values['no-report'] });
    }
    case 'report': {
      const dir = rest[0];
      if (dir === undefined)
        throw new TransferbenchError(
          'BAD_OPTION',
          'report: missing DIR; e.g. `transferbench report reports/quickstart`',
        );
      const { reportCommand } = await import('./commands/bench.js');
      return reportCommand(reporter, dir);
    }
    case 'validate': {
      const file = rest[0];
      if (file === undefined) throw new TransferbenchError('BAD_OPTION', 'validate: missing SUITE file');
      const { validateCommand } = await import('./commands/bench.js');
      return validateCommand(reporter, file, values['targets-dir'] ?? 'targets');
    }
    case 'targets': {
      if (rest[0] === 'missing' || values.suite !== undefined) {
        const { suiteTargetsCommand } = await import('./commands/suite-targets.js');
        const missing = rest[0] === 'missing';
        return suiteTargetsCommand(reporter, rest[0], missing ? rest[1] : values.suite, {
          targetsDir: missing ? values['targets-dir'] : (values.out ?? 'targets'),
          seed,
          ...(backend !== undefined ? { backend } : {}),
        });
      }
      const { DEFAULT_ZOO, targetsCommand } = await import('./commands/targets.js');
      return targetsCommand(reporter, rest[0], rest.slice(1), {
        zoo: values.zoo ?? DEFAULT_ZOO,
        out: values.out ?? 'targets',
        seed,
        write: values.write,
        ...(values.only !== undefined ? { only: values.only } : {}),
        ...(values.dataset !== undefined ? { dataset: values.dataset } : {}),
        ...(backend !== undefined ? { backend } : {}),
      });
    }
    case 'balance': {
      const [suite, shards] = rest;
      if (suite === undefined || shards === undefined)
        throw new TransferbenchError(
          'BAD_OPTION',
          'balance: give SUITE and N; e.g. `transferbench balance bench/repro-kurakin.json 3`',
        );
      const { balanceCommand } = await import('./commands/balance.js');
      return balanceCommand(reporter, suite, shards);
    }
    case 'kubernetes': {
      const { loadKubernetesValues, renderKubernetes } = await import('../deploy/kubernetes.js');
      process.stdout.write(renderKubernetes(loadKubernetesValues(rest[0] ?? 'deploy/kubernetes/values.json')));
      return 0;
    }
    case 'list': {
      const { listCommand } = await import('./commands/list.js');
      return listCommand(reporter, rest[0]);
    }
    default:
      throw new TransferbenchError('UNKNOWN_NAME', `unknown command "${command}"; run \`transferbench --help\``);
  }
}

/**
 * A failed command as one line and its exit status: 2 for every TransferbenchError (a file-system
 * error no layer below caught becomes one, naming its path), 1 for anything else (a bug).
 */
export function failure(caught: unknown): { message: string; status: number; stack?: string } {
  const errno = caught as NodeJS.ErrnoException;
  const error =
    typeof errno?.code === 'string' && typeof errno.path === 'string' ? ioError(caught, errno.path, 'a file') : caught;
  return {
    message: error instanceof Error ? error.message : String(error),
    status: error instanceof TransferbenchError ? 2 : 1,
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
}
