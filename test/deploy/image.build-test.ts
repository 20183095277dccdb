import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../fixtures/files.js';

// `npm run test:image` (and .ci/run): deploy/image/build.sh builds the Kubernetes image from a
// clean clone with buildah, on a base made from the Debian mirror and the npm registry (no
// container registry), and the image runs. Minutes of work: kept out of `npm test`.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TAG = 'localhost/transferbench:image-test';
const MODEL = join('test', 'fixtures', 'torch', 'mnist-cnn', 'model.onnx');

function sh(command: string, args: string[], timeout = 60000): { status: number | null; out: string } {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, BUILDAH_ISOLATION: 'chroot' },
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function ok(command: string, args: string[], timeout?: number): string {
  const r = sh(command, args, timeout);
  assert.equal(r.status, 0, `${command} ${args.join(' ')}:\n${r.out.slice(-4000)}`);
  return r.out;
}

/** Why buildah cannot build here, or undefined when it can (storage included, probed on an empty container). */
function buildahUnavailable(): string | undefined {
  if (sh('git', ['-C', ROOT, 'rev-parse', '--git-dir']).status !== 0)
    return `${ROOT} is not a git checkout: there is no clean clone to build from`;
  if (sh('buildah', ['--version']).status !== 0) return 'buildah is not installed (apt-get install buildah)';
  if (process.getuid?.() !== 0) return 'deploy/image/base.sh runs debootstrap, which needs root';
  const base = sh('buildah', ['inspect', '--type', 'image', 'localhost/transferbench-base:node20-bookworm']);
  if (base.status !== 0 && sh('debootstrap', ['--version']).status !== 0)
    return 'debootstrap is not installed and no base image is cached (apt-get install debootstrap)';
  const probe = sh('buildah', ['from', 'scratch']);
  if (probe.status !== 0) return `buildah cannot create a container here: ${probe.out.trim()}`;
  const container = probe.out.trim().split('\n').pop() ?? '';
  const mount = sh('buildah', ['mount', container]);
  sh('buildah', ['rm', container]);
  if (mount.status !== 0) return `buildah cannot mount a container's storage here: ${mount.out.trim()}`;
  return undefined;
}

describe('deploy/image/build.sh: the Kubernetes image built from a clean clone with buildah', function () {
  this.timeout(1800000);
  let container = '';
  let built = '';
  let clone = '';

  before(function () {
    const why = buildahUnavailable();
    if (why !== undefined) {
      process.stderr.write(`    skipped: ${why}\n`);
      this.skip();
    }
    clone = join(tempDir('transferbench-image-'), 'clone');
    ok('git', ['clone', '--quiet', ROOT, clone]);
    const started = Date.now();
    built = ok('bash', [join(clone, 'deploy', 'image', 'build.sh'), '--local-base', '--tag', TAG, clone], 1500000);
    console.log(
      `    image built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${/^built .*$/m.exec(built)?.[0] ?? ''}`,
    );
    container = ok('buildah', ['from', TAG]).trim().split('\n').pop() ?? '';
  });

  after(() => {
    if (container !== '') sh('buildah', ['rm', container]);
    if (built !== '') sh('buildah', ['rmi', TAG]);
  });

  const inImage = (...args: string[]) => ok('buildah', ['run', container, '--', ...args]);

  it('starts from the Dockerfile with the local base in place of node:20 (build arguments)', () => {
    assert.match(built, /STEP 1\/\d+: FROM localhost\/transferbench-base:node20-bookworm AS build/);
    assert.match(built, /^built localhost\/transferbench:image-test in \d+ s, [\d.]+ [MG]B$/m);
  });

  it('runs transferbench as the entry point, as user node, on Node 20', () => {
    const image = JSON.parse(ok('buildah', ['inspect', '--type', 'image', TAG])) as {
      OCIv1: { config: { Entrypoint: string[]; Cmd: string[]; User: string; WorkingDir: string } };
    };
    const config = image.OCIv1.config;
    assert.deepEqual(
      [config.Entrypoint, config.Cmd, config.User, config.WorkingDir],
      [['transferbench'], ['--help'], 'node', '/app'],
    );
    assert.match(inImage('transferbench', '--help'), /^Usage: transferbench <command> \[options\]$/m);
    assert.equal(inImage('id', '-un').trim(), 'node');
    assert.match(inImage('node', '--version'), /^v20\./);
  });

  it('lists the attacks, validates a suite and inspects an ONNX model (onnxruntime-node loads)', () => {
    const attacks = inImage('transferbench', 'list', 'attacks');
    for (const attack of ['fgsm', 'bim', 'step-ll']) assert.match(attacks, new RegExp(`^${attack}  \\[`, 'm'));
    assert.match(
      inImage('transferbench', 'validate', 'bench/quickstart.json'),
      new RegExp(
        '^bench\\/quickstart\\.json: valid suite "quickstart", \\d+ cells ' +
          '\\(\\d+ transfer, \\d+ query\\)(; not built in targets, so not ' +
          'checked against their models: mlp, cnn-small, mlp-adv-kurakin)?$',
        'm',
      ),
    );
    ok('buildah', ['copy', container, join(clone, MODEL), '/tmp/model.onnx']);
    const inspected = inImage('transferbench', 'targets', 'inspect', '/tmp/model.onnx');
    const sha256 = createHash('sha256')
      .update(readFileSync(join(ROOT, MODEL)))
      .digest('hex');
    assert.match(inspected, new RegExp(`"sha256": "${sha256}"`));
    assert.match(inspected, /as a pretrained surrogate: gradients supported/);
  });

  it("keeps no sources, tests, dev dependencies or other platforms' binaries", () => {
    const listing = inImage(
      'sh',
      '-c',
      'ls /app; ls /app/dist; ls /app/node_modules; ls /app/node_modules/onnxruntime-node/bin/napi-v*',
    );
    const names = new Set(listing.split(/\s+/));
    for (const present of [
      'dist',
      'node_modules',
      'bench',
      'targets',
      'package.json',
      'src',
      'onnxruntime-node',
      'linux',
    ])
      assert.ok(names.has(present), `${present} missing:\n${listing}`);
    // /app/dist/src is the compiled code; the TypeScript sources and the tests are not in the image.
    assert.equal(inImage('sh', '-c', 'ls -d /app/src /app/test /app/dist/test 2>/dev/null; true').trim(), '');
    for (const absent of ['typescript', 'mocha', 'playwright-core', 'darwin', 'win32'])
      assert.ok(!names.has(absent), `${absent} in the image`);
  });
});
