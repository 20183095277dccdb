import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../fixtures/files.js';

/**
 * A real one-node Slurm on this machine for tests: Debian's munged, slurmctld and slurmd run as
 * plain child processes (no systemd), with their key, configuration, state and logs in a
 * temporary folder and ports nobody else uses, so it neither needs nor touches /etc/slurm.
 */
export interface SlurmCluster {
  readonly dir: string;
  /** This host's short name: the one node. */
  readonly node: string;
  /** Environment for Slurm's client commands (sbatch, squeue, scancel, scontrol, sinfo). */
  readonly env: NodeJS.ProcessEnv;
  /** Cancels every job of the cluster, then stops the daemons by their process ids. */
  stop(): Promise<void>;
}

const DAEMONS = ['munged', 'slurmctld', 'slurmd'] as const;
const CLIENTS = ['sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo'] as const;

/** Why this machine cannot start the test cluster, or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  const missing = [...DAEMONS, ...CLIENTS].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0)
    return `Slurm is not installed (missing ${missing.join(', ')}; apt-get install slurm-wlm munge)`;
  // slurmd starts each job's steps as the submitting user, which only root may do.
  if (process.getuid?.() !== 0) return 'the test cluster needs root: slurmd launches job steps as the submitting user';
  return undefined;
}

/** A TCP port free right now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The configuration that works here: why each line is needed is in the comment beside it. */
export function slurmConf(dir: string, node: string, ports: { controller: number; node: number }): string {
  return `${[
    'ClusterName=transferbench-test',
    `SlurmctldHost=${node}(127.0.0.1)`,
    `SlurmctldPort=${ports.controller}`,
    `SlurmdPort=${ports.node}`,
    // Everything runs as root here: no slurm user, no /var/spool ownership to arrange.
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${join(dir, 'munge', 'munge.socket')}`,
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
    'MailProg=/bin/true',
    // No cgroups in a container: track processes through /proc, bind no tasks.
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'SchedulerType=sched/backfill',
    // Without accounting, finished jobs are known only while slurmctld keeps them: keep them an hour.
    'MinJobAge=3600',
    'ReturnToService=2',
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 RealMemory=4096 State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
  ].join('\n')}\n`;
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`test Slurm cluster: ${what} within ${timeoutMs / 1000} s\n${logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts munged, slurmctld and slurmd, and resolves once sinfo shows the node idle. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = tempDir('transferbench-slurm-');
  const node = spawnSync('hostname', ['-s'], { encoding: 'utf8' }).stdout.trim();
  for (const sub of ['munge', 'state', 'spool', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  // munged refuses a key readable by others, and clients need to reach its socket.
  chmodSync(join(dir, 'munge'), 0o755);
  const key = join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, node, { controller: await freePort(), node: await freePort() }));
  const env = { ...process.env, SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const start = (name: string, command: string, args: string[]) => {
    const out = openSync(join(dir, 'log', `${name}.out`), 'a');
    const child = spawn(command, args, { env, stdio: ['ignore', out, out] });
    children.push(child);
  };
  const logs = () =>
    DAEMONS.map((d) => join(dir, 'log', `${d}.out`))
      .filter(existsSync)
      .map((f) => `${f}:\n${readFileSync(f, 'utf8')}`)
      .join('\n');
  // A crashed test must not leave daemons behind.
  const killAll = () => {
    for (const child of children)
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  };
  process.once('exit', killAll);
  const stopDaemons = async () => {
    process.off('exit', killAll);
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.pid === undefined) continue;
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(
        () => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
        10000,
      );
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const socket = join(dir, 'munge', 'munge.socket');
    // --force: munged otherwise refuses to run with the temporary folder's permissions.
    start('munged', 'munged', [
      '--foreground',
      '--force',
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, 'munge', 'munged.pid')}`,
      `--log-file=${join(dir, 'log', 'munged.log')}`,
      `--seed-file=${join(dir, 'munge', 'munged.seed')}`,
    ]);
    await waitFor('munged did not open its socket', 10000, () => existsSync(socket), logs);
    start('slurmctld', 'slurmctld', ['-D', '-f', conf]);
    start('slurmd', 'slurmd', ['-D', '-f', conf]);
    const idle = () =>
      spawnSync('sinfo', ['-h', '-n', node, '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim() === 'idle';
    await waitFor(`node ${node} did not become idle`, 30000, idle, logs);
  } catch (error) {
    await stopDaemons();
    throw error;
  }
  return {
    dir,
    node,
    env,
    async stop() {
      spawnSync('scancel', ['--user', 'root'], { env });
      const empty = () => spawnSync('squeue', ['-h'], { env, encoding: 'utf8' }).stdout.trim() === '';
      await waitFor('jobs did not end after scancel', 20000, empty, logs).catch(() => undefined);
      await stopDaemons();
    },
  };
}
