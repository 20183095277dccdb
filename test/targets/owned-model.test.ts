import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../../src/targets/descriptor.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { inspectOnnx } from '../../src/targets/inspect.js';
import { onnx } from '../../src/targets/onnx/graph.js';
import { candidateLayers, gradientSupport, openOwnedModel } from '../../src/targets/owned-model.js';
import { loadTorchFixtures } from '../fixtures/torch-cases.js';

describe('targets inspect on PyTorch exports (drafts usable as pretrained surrogates)', () => {
  for (const fixture of loadTorchFixtures()) {
    it(
      `${fixture.name}: the draft reads names, layout, shape and output ` +
        `kind off the export, and its gradient can be built`,
      async () => {
        const committed = loadTarget(fixture.descriptorPath);
        const { draft } = inspectOnnx(committed.modelPath);
        const pick = (d: typeof draft) => ({
          name: d.name,
          sha256: d.sha256,
          inputName: d.inputName,
          outputName: d.outputName,
          layout: d.layout,
          inputShape: d.inputShape,
          outputKind: d.outputKind,
          classes: d.classNames.length,
        });
        assert.deepEqual(pick(draft), pick(committed.descriptor));
        assert.deepEqual(await gradientSupport(readFileSync(committed.modelPath), draft), { supported: true });
      },
    );
  }

  it('fails when the surrogate is opened, naming the descriptor and every operator it lacks', async () => {
    const fixture = loadTorchFixtures().find((f) => f.name === 'residual-bn');
    assert.ok(fixture);
    const committed = loadTarget(fixture.descriptorPath);
    const model = onnx.ModelProto.decode(readFileSync(committed.modelPath));
    const nodes = model.graph?.node ?? [];
    const relus = nodes.filter((n) => n.opType === 'Relu');
    assert.ok(relus.length >= 3, 'the fixture has three Relus to swap');
    (relus[0] as (typeof nodes)[number]).opType = 'Softsign';
    (relus[1] as (typeof nodes)[number]).opType = 'Softsign';
    (relus[2] as (typeof nodes)[number]).opType = 'Sin';
    const dir = mkdtempSync(join(tmpdir(), 'owned-'));
    try {
      writeFileSync(join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
      const descriptorPath = join(dir, 'target.json');
      writeFileSync(
        descriptorPath,
        JSON.stringify({ ...committed.descriptor, sha256: sha256File(join(dir, 'model.onnx')) }),
      );
      await assert.rejects(openOwnedModel(descriptorPath, { threads: 1 }), (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^${descriptorPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ONNX gradient: no gradient for operators ` +
              `Softsign \\(node [^)]+\\), Sin \\(node [^)]+\\); supported: Conv, `,
          ),
        );
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which operator keeps a model from being a pretrained surrogate', async () => {
    const path = join(loadTorchFixtures()[0]?.descriptorPath ?? '', '..', 'model.onnx');
    const model = onnx.ModelProto.decode(readFileSync(path));
    const node = (model.graph?.node ?? []).find((n) => n.opType === 'Relu' || n.opType === 'Tanh');
    assert.ok(node, 'the fixture has an activation to swap');
    node.opType = 'Softsign';
    const bytes = onnx.ModelProto.encode(model).finish();
    const support = await gradientSupport(bytes, inspectOnnx(path).draft);
    assert.equal(support.supported, false);
    assert.match(support.reason ?? '', /Softsign/);
  });

  it('lists the layers a feature tap can name, with their shapes, as `targets inspect` prints them', async () => {
    const path = join('test', 'fixtures', 'torch', 'inception-concat', 'model.onnx');
    const layers = await candidateLayers(readFileSync(path), inspectOnnx(path).draft);
    assert.equal(layers.length, 20);
    assert.deepEqual(layers[0], { name: '/stem/Conv_output_0', opType: 'Conv', shape: [8, 10, 10] });
    assert.deepEqual(
      layers.find((l) => l.opType === 'Concat'),
      { name: '/Concat_output_0', opType: 'Concat', shape: [18, 10, 10] },
    );
    // The output, renamed because the generated model has a `logits` of its own.
    assert.deepEqual(layers[19], { name: 'model/logits', opType: 'Softmax', shape: [10] });
  });
});
