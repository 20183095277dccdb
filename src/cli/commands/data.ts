import { countOf, loadSplit, parseDatasetSpec, type Dataset } from '../../data/index.js';
import { formatTable, type Reporter } from '../reporter.js';

/** `transferbench data NAME [--seed S]`: what a data set holds once loaded and split. */
export function dataCommand(reporter: Reporter, name: string, seed: number): number {
  const split = loadSplit(parseDatasetSpec(name), seed);
  const describe = (part: string, ds: Dataset) => {
    const perClass = ds.classNames.map((_, k) => ds.labels.filter((y) => y === k).length);
    return [part, String(countOf(ds)), ds.imageShape.join('x'), perClass.join(' ')];
  };
  reporter.info(`${split.train.name.split('/')[0]}: ${split.train.source}`);
  reporter.info(
    formatTable([
      ['part', 'images', 'shape', 'per class'],
      describe('train', split.train),
      describe('test', split.test),
    ]),
  );
  return 0;
}
