import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { TransferbenchError } from '../common/errors.js';

/**
 * The one place a Kubernetes run is described: the manifests (build, shards, merge) are
 * generated from it, so the shard count sets completions, parallelism and --shard together.
 */
export interface KubernetesValues {
  /** Names the jobs and the output folder (lowercase letters, digits and '-'). */
  readonly name: string;
  /** The image built from the repository's Dockerfile. */
  readonly image: string;
  /** Suite file as the container sees it (relative to /app, or on the volume under /results). */
  readonly suite: string;
  /** N of --shard K/N: one pod per shard, all at once. */
  readonly shards: number;
  readonly cpusPerShard: number;
  readonly memoryPerShard: string;
  /** Size of the shared ReadWriteMany volume (targets, substitutes, results). */
  readonly storage: string;
  /** How groups are dealt to shards: round-robin, or cost (see `transferbench balance`). */
  readonly shardBy: 'round-robin' | 'cost';
}

const QUANTITY = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$';
const VALUES_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'image', 'suite', 'shards', 'cpusPerShard', 'memoryPerShard', 'storage', 'shardBy'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$' },
    image: { type: 'string', minLength: 1 },
    suite: { type: 'string', pattern: '\\.json$' },
    shards: { type: 'integer', minimum: 1, maximum: 10000 },
    cpusPerShard: { type: 'integer', minimum: 1 },
    memoryPerShard: { type: 'string', pattern: QUANTITY },
    storage: { type: 'string', pattern: QUANTITY },
    shardBy: { enum: ['round-robin', 'cost'] },
  },
} as const;

const validateValues = new Ajv({ allErrors: true }).compile<KubernetesValues>(VALUES_SCHEMA);

/** Checks a values object, every error naming the key, what was found and what is allowed. */
export function parseKubernetesValues(data: unknown, source: string): KubernetesValues {
  if (validateValues(data)) return data;
  const lines = (validateValues.errors ?? []).map((e) => {
    const key =
      e.instancePath.slice(1) ||
      (e.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ||
      (e.params as { additionalProperty?: string }).additionalProperty ||
      '(root)';
    const found = e.instancePath === '' ? '' : `, got ${JSON.stringify((data as Record<string, unknown>)[key])}`;
    return `${source}: ${key} ${e.message ?? 'is invalid'}${found}`;
  });
  throw new TransferbenchError('BAD_CONFIG', lines.join('\n'));
}

export function loadKubernetesValues(file: string): KubernetesValues {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new TransferbenchError('BAD_CONFIG', `${file}: cannot read the values (${(error as Error).message})`);
  }
  return parseKubernetesValues(data, file);
}

const VOLUME = 'results';
const CLAIM = 'transferbench-results';
/** The shell line of shard pods: the completion index (0-based) is shard index + 1, as a Slurm array task id. */
export const SHARD_COMMAND =
  'exec transferbench run "$SUITE" --shard "$((JOB_COMPLETION_INDEX ' +
  '+ 1))/$SHARDS" --shard-by "$SHARD_BY" --out "$OUT" --targets-dir ' +
  '/results/targets --cache-dir /results/substitutes --parallel ' +
  '"$CPUS" --resume';

type Manifest = IJob | IPersistentVolumeClaim;

function job(
  values: KubernetesValues,
  name: string,
  stage: string,
  container: Omit<IContainer, 'name' | 'image' | 'volumeMounts'>,
  spec: Partial<NonNullable<IJob['spec']>> = {},
): IJob {
  const labels = {
    'app.kubernetes.io/name': 'transferbench',
    'app.kubernetes.io/instance': values.name,
    'transferbench/stage': stage,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      backoffLimit: 3,
      ...spec,
      template: {
        metadata: { labels },
        spec: {
          // A retried container continues on the shared volume: runs resume, builds and merges redo.
          restartPolicy: 'OnFailure',
          // The image runs as user node (uid 1000): make the volume group-writable for it.
          securityContext: { fsGroup: 1000 },
          containers: [
            {
              name: stage,
              image: values.image,
              workingDir: '/app',
              ...container,
              volumeMounts: [{ name: VOLUME, mountPath: '/results' }],
            },
          ],
          volumes: [{ name: VOLUME, persistentVolumeClaim: { claimName: CLAIM } }],
        },
      },
    },
  };
}

/**
 * The manifests of one run, by stage (label transferbench/stage): `prepare` (the shared volume and
 * a job building the suite's missing zoo targets), `shards` (an Indexed Job, one pod per shard),
 * `merge` (the leaderboards). Apply them in that order, waiting for each job to complete.
 */
export function kubernetesManifests(values: KubernetesValues): Manifest[] {
  const out = `/results/reports/${values.name}`;
  const resources = {
    requests: { cpu: String(values.cpusPerShard), memory: values.memoryPerShard },
    limits: { memory: values.memoryPerShard },
  };
  const pvc: IPersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: CLAIM, labels: { 'app.kubernetes.io/name': 'transferbench', 'transferbench/stage': 'prepare' } },
    // Shards run on different nodes and write into the same folder.
    spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: values.storage } } },
  };
  return [
    pvc,
    job(values, `${values.name}-build`, 'prepare', {
      args: ['targets', 'build', '--suite', values.suite, '--out', '/results/targets'],
      resources,
    }),
    job(
      values,
      values.name,
      'shards',
      {
        command: ['/bin/sh', '-c'],
        args: [SHARD_COMMAND],
        env: [
          { name: 'SUITE', value: values.suite },
          { name: 'SHARDS', value: String(values.shards) },
          { name: 'SHARD_BY', value: values.shardBy },
          { name: 'OUT', value: out },
          // Groups in parallel up to the CPUs the pod requested, not the node's core count.
          {
            name: 'CPUS',
            valueFrom: { resourceFieldRef: { containerName: 'shards', resource: 'requests.cpu', divisor: '1' } },
          },
        ],
        resources,
      },
      {
        completionMode: 'Indexed',
        completions: values.shards,
        parallelism: values.shards,
        backoffLimit: 3 * values.shards,
      },
    ),
    job(values, `${values.name}-merge`, 'merge', {
      args: ['merge', out],
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '2Gi' } },
    }),
  ];
}

/** The manifests as one `kubectl apply -f -` document (a List), in apply order. */
export function renderKubernetes(values: KubernetesValues): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kubernetesManifests(values) }, null, 2)}\n`;
}
