#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { TransferbenchError } from '../common/errors.js';
import { backendsCommand } from './commands/backends.js';
import { dataCommand } from './commands/data.js';
import { listCommand } from './commands/list.js';
import { DEFAULT_ZOO, targetsCommand } from './commands/targets.js';
import { mergeCommand, reportCommand, runCommand, validateCommand } from './commands/bench.js';
import { reproCommand } from './commands/repro.js';
import { quickstartCommand } from './commands/quickstart.js';
import { consoleReporter } from './reporter.js';

const HELP = `transferbench: black-box adversarial transfer benchmarks against opaque ONNX classifiers

Usage: transferbench <command> [options]

Commands:
  quickstart             build the quickstart targets if missing, run bench/quickstart.json, merge, show leaderboards
  run SUITE              run a suite's cells [--shard K/N] [--resume] [--out DIR] [--no-cache]
                         [--parallel N: groups at once in worker threads, default the number of cores]
  repro [NAME...]        build the targets the reproduction suites (bench/repro-*.json) need, run and merge them
                         [--out ROOT: write ROOT/<suite> and compare every CSV with the committed reports/<suite>]
  merge DIR              gather every shard's results in DIR into the CSV leaderboards, manifest.json and the report
  report DIR             SVG plots and a static index.html from merged results
  validate SUITE         check a suite file against bench/suite.schema.json
  backends               list compute backends (loaded, or why not) and the one selected
  data NAME              load a data set and show its split
                         NAME: mnist-embedded | fashion-mnist | idx:IMAGES,LABELS | npy:IMAGES,LABELS
  list attacks           the registered attacks with their parameters and defaults
  list substitutes       the substitute strategies with their parameters
  list architectures     the network architectures targets and substitutes are built from
  targets build          train the zoo (targets/zoo.json), export to ONNX, write descriptors
                         [--only a,b] [--out targets] [--zoo FILE] [--dataset mnist-embedded|fashion-mnist]
  targets inspect FILE   print an ONNX model's inputs and outputs, draft its target.json and say whether
                         it can serve as a pretrained surrogate [--write: save the draft beside FILE]

Options:
  --backend NAME         tensorflow | wasm | cpu (default: fastest that loads; env TRANSFERBENCH_BACKEND)
  --seed N               seed for every random choice (default 0)
  --quiet                print less
  --verbose              print stack traces on errors
  -h, --help             this text
`;

function parallelOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new TransferbenchError('BAD_OPTION', `--parallel: got ${JSON.stringify(text)}, expected a positive integer`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string' },
      seed: { type: 'string', default: '0' },
      quiet: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      zoo: { type: 'string' },
      dataset: { type: 'string' },
      shard: { type: 'string' },
      resume: { type: 'boolean', default: false },
      parallel: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      'targets-dir': { type: 'string', default: 'targets' },
      'cache-dir': { type: 'string', default: 'substitutes' },
    },
  });
  const reporter = consoleReporter({ quiet: values.quiet, verbose: values.verbose });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new TransferbenchError('BAD_OPTION', `--seed: got ${JSON.stringify(values.seed)}, expected an integer`);
  const backend = values.backend ?? process.env['TRANSFERBENCH_BACKEND'];
  switch (command) {
    case 'backends':
      return backendsCommand(reporter, backend);
    case 'data': {
      const name = rest[0];
      if (name === undefined) throw new TransferbenchError('BAD_OPTION', 'data: missing NAME; e.g. `transferbench data mnist-embedded`');
      return dataCommand(reporter, name, seed);
    }
    case 'repro':
      return reproCommand(reporter, rest, { targetsDir: values['targets-dir'], cacheDir: values['cache-dir'], seed, quiet: values.quiet, ...(values.out !== undefined ? { out: values.out } : {}), ...(backend !== undefined ? { backend } : {}) });
    case 'quickstart':
      return quickstartCommand(reporter, { targetsDir: values['targets-dir'], cacheDir: values['cache-dir'], seed, quiet: values.quiet, ...(backend !== undefined ? { backend } : {}) });
    case 'run': {
      const suite = rest[0];
      if (suite === undefined) throw new TransferbenchError('BAD_OPTION', 'run: missing SUITE; e.g. `transferbench run bench/quickstart.json`');
      return runCommand(reporter, suite, {
        resume: values.resume,
        targetsDir: values['targets-dir'],
        cacheDir: values['cache-dir'],
        useCache: !values['no-cache'],
        quiet: values.quiet,
        ...(values.shard !== undefined ? { shard: values.shard } : {}),
        ...(values.parallel !== undefined ? { parallel: parallelOption(values.parallel) } : {}),
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...(backend !== undefined ? { backend } : {}),
      });
    }
    case 'merge': {
      const dir = rest[0];
      if (dir === undefined) throw new TransferbenchError('BAD_OPTION', 'merge: missing DIR; e.g. `transferbench merge reports/quickstart`');
      return mergeCommand(reporter, dir);
    }
    case 'report': {
      const dir = rest[0];
      if (dir === undefined) throw new TransferbenchError('BAD_OPTION', 'report: missing DIR; e.g. `transferbench report reports/quickstart`');
      return reportCommand(reporter, dir);
    }
    case 'validate': {
      const file = rest[0];
      if (file === undefined) throw new TransferbenchError('BAD_OPTION', 'validate: missing SUITE file');
      return validateCommand(reporter, file);
    }
    case 'targets':
      return targetsCommand(reporter, rest[0], rest.slice(1), {
        zoo: values.zoo ?? DEFAULT_ZOO,
        out: values.out ?? 'targets',
        seed,
        write: values.write,
        ...(values.only !== undefined ? { only: values.only } : {}),
        ...(values.dataset !== undefined ? { dataset: values.dataset } : {}),
        ...(backend !== undefined ? { backend } : {}),
      });
    case 'list':
      return listCommand(reporter, rest[0]);
    default:
      throw new TransferbenchError('UNKNOWN_NAME', `unknown command "${command}"; run \`transferbench --help\``);
  }
}

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`transferbench: ${message}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = error instanceof TransferbenchError ? 2 : 1;
  },
);
