import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Copy, DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { expandGrid, parseShard, shardCells } from '../../src/runner/grid.js';
import { loadSuite } from '../../src/runner/suite.js';
import {
  kubernetesManifests,
  loadKubernetesValues,
  parseKubernetesValues,
  renderKubernetes,
  type KubernetesValues,
} from '../../src/deploy/kubernetes.js';
import { tempDir } from '../fixtures/files.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VALUES = join(ROOT, 'deploy', 'kubernetes', 'values.json');

function shardJob(values: KubernetesValues): IJob {
  const job = kubernetesManifests(values).find(
    (m): m is IJob => m.kind === 'Job' && m.metadata?.labels?.['transferbench/stage'] === 'shards',
  );
  assert.ok(job, 'no shards job');
  return job;
}

/** A transferbench that prints its arguments as JSON: on PATH for pods, as TRANSFERBENCH_ROOT for Slurm. */
function fakeTransferbench(): { bin: string; root: string } {
  const root = tempDir('transferbench-fake-');
  mkdirSync(join(root, 'dist', 'src', 'cli'), { recursive: true });
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  writeFileSync(main, 'console.log(JSON.stringify(process.argv.slice(2)));\n');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'transferbench'), `#!/bin/sh\nexec node ${JSON.stringify(main)} "$@"\n`);
  chmodSync(join(bin, 'transferbench'), 0o755);
  return { bin, root };
}

function lastJsonLine(stdout: string): string[] {
  return JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
}

const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];

describe('Kubernetes manifests (transferbench kubernetes)', () => {
  const values = loadKubernetesValues(VALUES);

  it('validate against the Kubernetes API schemas (kubernetes-models)', () => {
    const manifests = JSON.parse(renderKubernetes(values)) as { kind: string; items: { kind: string }[] };
    assert.equal(manifests.kind, 'List');
    assert.deepEqual(
      manifests.items.map((m) => m.kind),
      ['PersistentVolumeClaim', 'Job', 'Job', 'Job'],
    );
    for (const item of manifests.items) {
      const model = item.kind === 'Job' ? new Job(item as never) : new PersistentVolumeClaim(item as never);
      model.validate();
    }
    // The validator can fail: a shard count as text is not an integer.
    const broken = { ...shardJob(values), spec: { ...shardJob(values).spec, completions: '4' } };
    assert.throws(() => new Job(broken as never).validate(), /completions must be integer/);
  });

  it('take image, suite and shard count from one place: N sets completions, parallelism and --shard', () => {
    for (const shards of [1, 7]) {
      const job = shardJob({ ...values, shards, suite: 'bench/repro-kurakin.json', image: 'registry.example/tb:1' });
      assert.equal(job.spec?.completions, shards);
      assert.equal(job.spec?.parallelism, shards);
      assert.equal(job.spec?.completionMode, 'Indexed');
      const container = job.spec?.template.spec?.containers[0];
      assert.equal(container?.image, 'registry.example/tb:1');
      const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env.SHARDS, String(shards));
      assert.equal(env.SUITE, 'bench/repro-kurakin.json');
    }
    const rendered = renderKubernetes(values);
    for (const m of JSON.parse(rendered).items as {
      kind: string;
      spec: { template?: { spec: { containers: { image: string }[] } } };
    }[]) {
      if (m.kind === 'Job') assert.equal(m.spec.template?.spec.containers[0]?.image, values.image);
    }
  });

  it('refuses bad values, naming the key, what was found and what is allowed', () => {
    assert.throws(
      () => parseKubernetesValues({ ...values, shards: '4' }, 'v.json'),
      /^TransferbenchError: v\.json: shards must be integer, got "4"$/m,
    );
    assert.throws(
      () => parseKubernetesValues({ ...values, name: 'Quick_start' }, 'v.json'),
      /v\.json: name must match pattern .*, got "Quick_start"/,
    );
    assert.throws(
      () => parseKubernetesValues({ ...values, shard: 3 }, 'v.json'),
      /v\.json: shard must NOT have additional properties/,
    );
    const { image: _image, ...noImage } = values;
    assert.throws(() => parseKubernetesValues(noImage, 'v.json'), /v\.json: image must have required property 'image'/);
  });

  it('map completion index i onto the same --shard, cells and order as Slurm array task i + 1', () => {
    const fake = fakeTransferbench();
    const shards = 3;
    const job = shardJob({ ...values, shards });
    const container = job.spec?.template.spec?.containers[0];
    const env = Object.fromEntries(
      (container?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]),
    );
    const suite = loadSuite(join(ROOT, 'bench', 'quickstart.json'));
    const cells = expandGrid(suite);
    const seen: string[] = [];
    for (let index = 0; index < shards; index++) {
      const pod = spawnSync(
        container?.command?.[0] ?? '',
        [...(container?.command?.slice(1) ?? []), ...(container?.args ?? [])],
        {
          encoding: 'utf8',
          env: {
            ...env,
            CPUS: '2',
            JOB_COMPLETION_INDEX: String(index),
            PATH: `${fake.bin}:${process.env.PATH ?? ''}`,
          },
        },
      );
      assert.equal(pod.status, 0, pod.stderr);
      const slurm = spawnSync('bash', [join(ROOT, 'deploy', 'slurm', 'run-suite.sbatch')], {
        encoding: 'utf8',
        env: {
          ...process.env,
          SUITE: env.SUITE,
          OUT: env.OUT,
          SHARDS: String(shards),
          TRANSFERBENCH_ROOT: fake.root,
          SLURM_ARRAY_TASK_ID: String(index + 1),
          SLURM_JOB_ID: '1',
          SLURM_CPUS_PER_TASK: '2',
        },
      });
      assert.equal(slurm.status, 0, slurm.stderr);
      const podArgs = lastJsonLine(pod.stdout);
      const slurmArgs = lastJsonLine(slurm.stdout);
      assert.equal(flag(podArgs, '--shard'), `${index + 1}/${shards}`);
      assert.equal(flag(slurmArgs, '--shard'), flag(podArgs, '--shard'));
      assert.deepEqual([flag(podArgs, '--shard-by'), flag(slurmArgs, '--shard-by')], ['round-robin', 'round-robin']);
      assert.deepEqual([podArgs[0], podArgs[1], flag(podArgs, '--parallel')], ['run', 'bench/quickstart.json', '2']);
      assert.deepEqual(
        [slurmArgs[0], slurmArgs[1], flag(slurmArgs, '--parallel')],
        ['run', 'bench/quickstart.json', '2'],
      );
      assert.ok(podArgs.includes('--resume') && slurmArgs.includes('--resume'));
      const podCells = shardCells(cells, parseShard(flag(podArgs, '--shard'))).map((c) => c.id);
      const slurmCells = shardCells(cells, parseShard(flag(slurmArgs, '--shard'))).map((c) => c.id);
      assert.deepEqual(podCells, slurmCells);
      seen.push(...podCells);
    }
    assert.deepEqual([...seen].sort(), cells.map((c) => c.id).sort(), 'the shards cover every cell once');
  });
});

describe('Dockerfile (parsed and checked here; npm run test:image builds it with buildah)', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = DockerfileParser.parse(text).getInstructions();
  const stages: { keyword: string; from: string | null | undefined; args: string[] }[][] = [];
  /** ARG defaults declared before the first FROM: what the base images are when no --build-arg is given. */
  const defaults = new Map<string, string>();
  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.getArgumentsContent()?.split('=') ?? [];
      if (name !== undefined && value !== undefined) defaults.set(name, value);
    }
    if (keyword === 'FROM') stages.push([]);
    const from = instruction instanceof Copy ? instruction.getFromFlag()?.getValue() : undefined;
    stages[stages.length - 1]?.push({ keyword, from, args: instruction.getArguments().map((a) => a.getValue()) });
  }
  const final = stages[stages.length - 1] ?? [];

  it('lints clean (dockerfile-utils, the VS Code Docker language service)', () => {
    assert.deepEqual(
      lintDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`),
      [],
    );
  });

  it('copies only files that exist in a clean clone and are not excluded from the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const sources = stages
      .flat()
      .filter((i) => i.keyword === 'COPY' && i.from === undefined)
      .flatMap((i) => i.args.slice(0, -1));
    assert.ok(sources.length >= 5, sources.join(' '));
    for (const source of sources) {
      const tracked = spawnSync('git', ['ls-files', '--error-unmatch', source], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(tracked.status, 0, `COPY ${source}: not in the repository`);
      assert.ok(!ignored.includes(source), `COPY ${source}: excluded by .dockerignore`);
    }
  });

  it('builds in one stage and runs the transferbench entry point from a slim stage with no build tools', () => {
    assert.equal(stages.length, 2);
    // The base images are build arguments (buildah builds on a local base, see deploy/image/) whose
    // defaults stay the official Node 20 images.
    const base = (stage: typeof final | undefined) =>
      (stage?.[0]?.args[0] ?? '').replace(/^\$\{(\w+)\}$/, (_, name: string) => defaults.get(name) ?? `unset ${name}`);
    assert.deepEqual([base(stages[0]), base(final)], ['node:20-bookworm', 'node:20-bookworm-slim']);
    const finalRuns = final.filter((i) => i.keyword === 'RUN').map((i) => i.args.join(' '));
    assert.ok(
      finalRuns.every((r) => !/\b(npm (ci|install)|apt-get|gcc|make|python)\b/.test(r)),
      finalRuns.join('\n'),
    );
    assert.ok(
      stages[0]?.some(
        (i) => i.keyword === 'RUN' && /npm ci/.test(i.args.join(' ')) && /npm prune --omit=dev/.test(i.args.join(' ')),
      ),
    );
    assert.deepEqual(final.find((i) => i.keyword === 'ENTRYPOINT')?.args, ['["transferbench"]']);
    // The entry point is the compiled CLI that the build stage produces and the final stage copies.
    const link = /ln -s (\S+) \/usr\/local\/bin\/transferbench/.exec(finalRuns.join(' '))?.[1];
    assert.equal(link, '/app/dist/src/cli/main.js');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(`/app/${pkg.bin.transferbench}`, link);
    assert.ok(
      existsSync(join(ROOT, 'src', 'cli', 'main.ts')) && existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')),
      'tsc turns src/cli/main.ts into dist/src/cli/main.js',
    );
    assert.ok(final.some((i) => i.keyword === 'COPY' && i.from === 'build' && i.args[0] === '/app/dist'));
    const shardImage = shardJob(loadKubernetesValues(VALUES)).spec?.template.spec?.containers[0]?.image;
    assert.match(
      readFileSync(join(ROOT, 'Dockerfile'), 'utf8'),
      new RegExp(`docker build -t ${shardImage?.replace(/[.:]/g, '\\$&')} \\.`),
      'the Dockerfile says how to build the image the manifests name',
    );
  });
});
