import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './fixtures/files.js';
import { tinySuite } from './runner/fixture-suite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a researcher writes: the package by its name, a tiny suite run, merged and read back. */
const SCRIPT = `import {
  ATTACKS, STRATEGIES, leaderboardTables, loadSuite, mergeResults,
  readResults, resultFiles, runSuite, TransferbenchError,
} from 'transferbench';
const [suitePath, targetsDir, out] = process.argv.slice(2);
const suite = loadSuite(suitePath);
const run = await runSuite(suite, { outDir: out, targetsDir, cacheDir: out + '/cache', backend: 'wasm' });
const merged = mergeResults(out);
const results = resultFiles(out).flatMap((f) => readResults(f));
let refused: string | undefined;
try { STRATEGIES.get('nope'); } catch (e) { refused = e instanceof TransferbenchError ? e.code : 'other'; }
const summary: {
  ran: number; attacks: number; strategies: boolean; rows: number; targets: string[]; refused?: string;
} = {
  ran: run.ran,
  attacks: ATTACKS.names().length,
  strategies: STRATEGIES.names().includes('ground-truth'),
  rows: leaderboardTables(results)['results.csv']?.rows.length ?? 0,
  targets: merged.tables['transfer-matrix.csv']?.columns.slice(1) as string[],
  ...(refused !== undefined ? { refused } : {}),
};
console.log(JSON.stringify(summary));
`;

describe('transferbench as a library', function () {
  this.timeout(600000);

  /**
   * The package as npm would publish it (npm pack, without rebuilding), unpacked into a fresh
   * project's node_modules beside links to the dependencies already installed here.
   */
  function installPacked(): string {
    const project = tempDir('transferbench-user-');
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, pack.stderr);
    const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const packed = files.map((f) => f.path);
    for (const entry of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'package.json'])
      assert.ok(packed.includes(entry), `${entry} is published`);
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, 'transferbench'), { recursive: true });
    const untar = spawnSync('tar', [
      '-xzf',
      join(project, filename),
      '-C',
      join(modules, 'transferbench'),
      '--strip-components=1',
    ]);
    assert.equal(untar.status, 0, String(untar.stderr));
    for (const dependency of readdirSync(join(ROOT, 'node_modules'))) {
      if (dependency !== 'transferbench' && dependency !== '.bin')
        symlinkSync(join(ROOT, 'node_modules', dependency), join(modules, dependency));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
    return project;
  }

  it(
    'is imported by name, type-checks against its published types, ' + 'and runs, merges and reads a tiny suite',
    async () => {
      const fixture = await tinySuite('library');
      const suitePath = join(fixture.dir, 'library-small.json');
      writeFileSync(
        suitePath,
        JSON.stringify({
          ...fixture.suite,
          name: 'library-small',
          evaluationSize: 20,
          examples: 0,
          rubbish: undefined,
          substitutes: [
            {
              strategy: 'ground-truth',
              architectures: ['softmax'],
              budgets: [0],
              params: { trainImages: 200 },
              training: { epochs: 1 },
            },
          ],
          attacks: [{ name: 'fgsm', eps: [0.1, 0.2] }],
          labelSources: ['true'],
        }),
      );
      const project = installPacked();
      writeFileSync(join(project, 'use.ts'), SCRIPT);
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['use.ts'],
        }),
      );
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], {
        encoding: 'utf8',
      });
      assert.equal(
        tsc.status,
        0,
        `the user's script does not type-check against the published types:\n${tsc.stdout}${tsc.stderr}`,
      );
      const out = join(project, 'out');
      const run = spawnSync(process.execPath, [join(project, 'use.js'), suitePath, fixture.targetsDir, out], {
        cwd: project,
        encoding: 'utf8',
        timeout: 300000,
      });
      assert.equal(run.status, 0, run.stderr);
      const summary = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
      assert.deepEqual(summary, {
        ran: 2,
        attacks: summary.attacks,
        strategies: true,
        rows: 2,
        targets: ['tiny-softmax'],
        refused: 'UNKNOWN_NAME',
      });
      assert.ok((summary.attacks as number) > 0);
      assert.match(readFileSync(join(out, 'results.csv'), 'utf8'), /^cell,cell_id,target/);
    },
  );
});
