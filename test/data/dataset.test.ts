import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  FASHION_MNIST_DIR,
  loadEmbeddedMnist,
  loadSplit,
  parseDatasetSpec,
  stratifiedSplit,
} from '../../src/data/index.js';

describe('embedded MNIST', () => {
  const all = loadEmbeddedMnist();

  it('holds the 10,000 real digits of the mnist package, 28x28x1 in [0, 1]', () => {
    assert.equal(all.labels.length, 10000);
    assert.deepEqual(all.imageShape, [28, 28, 1]);
    assert.equal(all.images.length, 10000 * 784);
    const perClass = all.classNames.map((_, k) => all.labels.filter((y) => y === k).length);
    assert.deepEqual(perClass, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it('splits stratified: every class keeps its share in the test part', () => {
    const { train, test } = stratifiedSplit(all, 0.2, 7);
    assert.equal(train.labels.length + test.labels.length, 10000);
    for (let k = 0; k < 10; k++) {
      const inTest = test.labels.filter((y) => y === k).length;
      const inAll = all.labels.filter((y) => y === k).length;
      assert.ok(Math.abs(inTest - inAll * 0.2) <= 1, `class ${k}: ${inTest} of ${inAll}`);
    }
  });

  it('splits deterministically by seed', () => {
    const a = stratifiedSplit(all, 0.2, 1).test.labels;
    const b = stratifiedSplit(all, 0.2, 1).test.labels;
    const c = stratifiedSplit(all, 0.2, 2).test.labels;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

describe('dataset specs', () => {
  it('parses names and file pairs', () => {
    assert.deepEqual(parseDatasetSpec('mnist-embedded'), { kind: 'mnist-embedded' });
    assert.deepEqual(parseDatasetSpec('idx:a.gz,b.gz'), { kind: 'idx', images: 'a.gz', labels: 'b.gz' });
  });

  it('refuses an unknown name and lists the forms it takes', () => {
    assert.throws(
      () => parseDatasetSpec('cifar'),
      /--dataset: got "cifar", expected one of mnist-embedded, fashion-mnist, idx:IMAGES,LABELS/,
    );
  });

  it('says how to get Fashion-MNIST when it is not installed', () => {
    if (existsSync(FASHION_MNIST_DIR)) {
      const { test } = loadSplit({ kind: 'fashion-mnist' }, 0);
      assert.equal(test.labels.length, 10000);
      assert.equal(test.classNames[9], 'Ankle boot');
    } else {
      assert.throws(() => loadSplit({ kind: 'fashion-mnist' }, 0), /apt-get install dataset-fashion-mnist/);
    }
    assert.throws(
      () => loadSplit({ kind: 'fashion-mnist', dir: '/nonexistent' }, 0),
      /not found; pass the folder holding the Fashion-MNIST IDX files/,
    );
  });
});
