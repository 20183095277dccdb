/**
 * What `transferbench --help` and `transferbench <command> --help` print: one table of commands,
 * each with its usage, options and an example, so the overview and the per-command help cannot
 * drift apart.
 */
export interface CommandHelp {
  /** As typed: `run`, `targets build`. */
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly (readonly [flag: string, text: string])[];
  readonly examples: readonly string[];
}

const TARGETS_DIR = ['--targets-dir DIR', 'where zoo targets live: DIR/<name>/target.json (default targets)'] as const;
const CACHE_DIR = ['--cache-dir DIR', 'substitute and generator cache (default substitutes)'] as const;
const BACKEND = [
  '--backend NAME',
  'tensorflow | wasm | cpu (default: fastest that loads; env TRANSFERBENCH_BACKEND)',
] as const;
const SEED = ['--seed N', 'seed for every random choice (default 0)'] as const;
const QUIET = ['--quiet', 'print less'] as const;

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'quickstart',
    usage: 'transferbench quickstart [options]',
    summary: 'build the quickstart targets if missing, run bench/quickstart.json, merge, show leaderboards',
    options: [TARGETS_DIR, CACHE_DIR, BACKEND, SEED, QUIET],
    examples: ['transferbench quickstart'],
  },
  {
    name: 'run',
    usage: 'transferbench run SUITE [options]',
    summary: "run a suite's cells (all of them, or one shard), then merge when unsharded",
    options: [
      ['--shard K/N', 'run shard K of N (whole (target, substitute) groups); merge the shards afterwards'],
      [
        '--shard-by HOW',
        'round-robin (default) or cost: deal groups by predicted cost ' +
          '(see `transferbench balance`); the same for every shard',
      ],
      ['--resume', 'continue a results file, skipping finished cells'],
      ['--out DIR', "output folder (default the suite's output, else reports/<name>)"],
      ['--no-cache', 'retrain substitutes and generators even when cached'],
      ['--parallel N', 'groups at once in worker processes (default the number of cores)'],
      TARGETS_DIR,
      CACHE_DIR,
      BACKEND,
      QUIET,
    ],
    examples: [
      'transferbench run bench/quickstart.json',
      'transferbench run bench/substitutes.json --shard 2/4 --out /scratch/substitutes ' +
        '--targets-dir /data/targets --cache-dir /scratch/cache',
    ],
  },
  {
    name: 'repro',
    usage: 'transferbench repro [NAME...] [options]',
    summary: 'build the targets the reproduction suites (bench/repro-*.json) need, run and merge them',
    options: [
      ['--out ROOT', 'write ROOT/<suite> and compare every CSV with the committed reports/<suite>'],
      TARGETS_DIR,
      CACHE_DIR,
      BACKEND,
      SEED,
      QUIET,
    ],
    examples: ['transferbench repro repro-kurakin --out /tmp/repro'],
  },
  {
    name: 'merge',
    usage: 'transferbench merge DIR [--no-report]',
    summary: "gather every shard's results in DIR into the CSV leaderboards, manifest.json and the report",
    options: [
      [
        '--no-report',
        'CSVs and manifest only, no plots, grids or page (later: `transferbench ' +
          'report DIR`); memory does not grow with the records either way',
      ],
    ],
    examples: ['transferbench merge reports/quickstart'],
  },
  {
    name: 'report',
    usage: 'transferbench report DIR',
    summary: 'SVG plots, example grids and a static index.html from merged results',
    options: [],
    examples: ['transferbench report reports/quickstart'],
  },
  {
    name: 'validate',
    usage: 'transferbench validate SUITE [--targets-dir DIR]',
    summary:
      'check a suite without training: its schema, evaluationSize against the data set, model-related attacks ' +
      "against the substitutes' networks, and each built target's descriptor against its model and the data",
    options: [TARGETS_DIR],
    examples: ['transferbench validate bench/quickstart.json'],
  },
  {
    name: 'backends',
    usage: 'transferbench backends [--backend NAME]',
    summary: 'list compute backends (loaded, or why not) and the one selected',
    options: [BACKEND],
    examples: ['transferbench backends'],
  },
  {
    name: 'data',
    usage: 'transferbench data NAME [--seed N]',
    summary:
      'load a data set and show its split (NAME: mnist-embedded | fashion-mnist ' +
      '| idx:IMAGES,LABELS | npy:IMAGES,LABELS | image-folder:DIR | ' +
      'cifar10:DIR)',
    options: [SEED],
    examples: ['transferbench data mnist-embedded', 'transferbench data idx:train-images.gz,train-labels.gz'],
  },
  {
    name: 'list',
    usage: 'transferbench list attacks|query-attacks|substitutes|architectures',
    summary: 'the registered attacks, substitute strategies or architectures, with parameters and defaults',
    options: [],
    examples: ['transferbench list substitutes'],
  },
  {
    name: 'targets build',
    usage: 'transferbench targets build [options]',
    summary: 'train the zoo (targets/zoo.json), export to ONNX, write descriptors',
    options: [
      ['--only A,B', 'build only these zoo targets'],
      ['--out DIR', 'where to write DIR/<name>/ (default targets)'],
      ['--zoo FILE', 'zoo recipes (default the shipped targets/zoo.json)'],
      ['--dataset NAME', "mnist-embedded | fashion-mnist (default the zoo's)"],
      [
        '--suite FILE',
        "build only the suite's zoo targets not yet built in --out, each from the shipped zoo file holding it",
      ],
      BACKEND,
      SEED,
    ],
    examples: [
      'transferbench targets build --only mlp,cnn-small',
      'transferbench targets build --suite bench/repro-kurakin.json --out /shared/targets',
    ],
  },
  {
    name: 'targets missing',
    usage: 'transferbench targets missing SUITE [--targets-dir DIR]',
    summary:
      "print the suite's zoo targets not built in --targets-dir, one per line (what a scheduler script needs to know)",
    options: [TARGETS_DIR],
    examples: ['transferbench targets missing bench/quickstart.json --targets-dir /shared/targets'],
  },
  {
    name: 'balance',
    usage: 'transferbench balance SUITE N',
    summary:
      'predicted work per shard of N, groups dealt round robin and by cost, ' +
      "with the largest shard's share over the mean",
    options: [],
    examples: ['transferbench balance bench/repro-papernot.json 4'],
  },
  {
    name: 'kubernetes',
    usage: 'transferbench kubernetes [VALUES]',
    summary:
      'print the Kubernetes manifests (volume, build, Indexed Job of ' +
      'shards, merge) of a sharded run from VALUES (default deploy/kubernetes/values.json)',
    options: [],
    examples: ['transferbench kubernetes deploy/kubernetes/values.json > transferbench.json'],
  },
  {
    name: 'targets inspect',
    usage: 'transferbench targets inspect FILE [--write]',
    summary:
      "print an ONNX model's inputs and outputs, draft its target.json, " +
      'say whether it can serve as a pretrained surrogate',
    options: [['--write', 'save the draft as target.json beside FILE (refused when one exists)']],
    examples: ['transferbench targets inspect /data/models/pt_cnn/model.onnx --write'],
  },
];

const ENGINE = [
  '--engine NAME',
  'onnxruntime | tfjs | auto: where substitutes and targets train; ' +
    'auto times both engines here and keeps the faster (default onnxruntime ' +
    'beside wasm or cpu, auto beside native TensorFlow; env TRANSFERBENCH_ENGINE); ' +
    '--train-threads N: onnxruntime threads (default 1)',
] as const;
const GLOBAL: readonly (readonly [string, string])[] = [
  BACKEND,
  ENGINE,
  SEED,
  TARGETS_DIR,
  CACHE_DIR,
  QUIET,
  ['--verbose', 'print stack traces on errors'],
  ['-h, --help', 'this text; `transferbench COMMAND --help` for one command'],
];

function table(rows: readonly (readonly [string, string])[], indent: string): string {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`).join('\n');
}

/** The overview: every command in a line, and the options every command takes. */
export function overview(): string {
  return `transferbench: black-box adversarial transfer benchmarks against opaque ONNX classifiers

Usage: transferbench <command> [options]

Commands:
${table(
  COMMANDS.map((c) => [c.name, c.summary]),
  '  ',
)}

Options:
${table(GLOBAL, '  ')}

Run \`transferbench <command> --help\` for a command's options and an example.
`;
}

/** One command's help, or undefined when `words` name none. `targets` alone covers both of its subcommands. */
/**
 * The options one command takes: its own (from its help) and the global ones. `undefined` for
 * words that name no single command (the command switch answers those).
 */
export function commandOptions(words: readonly string[]): ReadonlySet<string> | undefined {
  const matches = commandsNamed(words);
  if (matches.length !== 1) return undefined;
  const flags = [...(matches[0] as CommandHelp).options, ...GLOBAL].flatMap(([left, text]) =>
    [...`${left} ${left === ENGINE[0] ? text : ''}`.matchAll(/--([a-z-]+)/g)].map((m) => m[1] as string),
  );
  return new Set([...flags, 'help']);
}

/** The commands the words name: `targets build`, or `run`. */
function commandsNamed(words: readonly string[]): CommandHelp[] {
  const [first, second] = words;
  return COMMANDS.filter((c) => c.name === `${first} ${second}` || c.name === first);
}

export function commandHelp(words: readonly string[]): string | undefined {
  const [first] = words;
  const matches = commandsNamed(words);
  const chosen = matches.length > 0 ? matches : COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (chosen.length === 0) return undefined;
  return `${chosen
    .map((c) => {
      const options = c.options.length > 0 ? `\nOptions:\n${table(c.options, '  ')}\n` : '';
      const examples = c.examples.map((e) => `  ${e}`).join('\n');
      const plural = c.examples.length > 1 ? 's' : '';
      return `Usage: ${c.usage}\n\n${c.summary}\n${options}\nExample${plural}:\n${examples}\n`;
    })
    .join('\n')}`;
}
