import { gunzipSync } from 'node:zlib';
import { badDataFile } from '../../common/errors.js';
import { checkDataset, type Dataset } from '../dataset.js';
import { readDataFile, toDataset, type RawArray } from './raw-array.js';

/** IDX type codes (http://yann.lecun.com/exdb/mnist/ file format) -> element reader. */
const IDX_TYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  8: { name: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
  9: { name: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
  11: { name: 'int16', bytes: 2, read: (v, o) => v.getInt16(o, false) },
  12: { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, false) },
  13: { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, false) },
  14: { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o, false) },
};

const FIX = 'expected an IDX file such as train-images-idx3-ubyte(.gz)';

/** Reads one IDX file, gzipped or raw (told apart by the gzip magic, not the name). */
export function readIdx(file: string): RawArray {
  let bytes: Buffer = readDataFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw badDataFile(
        file,
        `gzip stream is corrupt or truncated (${(error as Error).message})`,
        're-download or re-extract the file',
      );
    }
  }
  if (bytes.length < 4) throw badDataFile(file, `only ${bytes.length} bytes, too short for an IDX header`, FIX);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const typeCode = bytes[2] as number;
  const rank = bytes[3] as number;
  const type = IDX_TYPES[typeCode];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || rank === 0) {
    const magic = view.getUint32(0, false).toString(16).padStart(8, '0');
    throw badDataFile(
      file,
      `wrong magic number 0x${magic}`,
      `${FIX} (magic 0x0000TTRR: type code TT in 08,09,0b,0c,0d,0e; rank RR >= 1)`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    throw badDataFile(file, `truncated header (${bytes.length} of ${headerBytes} bytes)`, FIX);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (bytes.length < expected) {
    throw badDataFile(
      file,
      `truncated: shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes, file has ${bytes.length}`,
      're-download the file',
    );
  }
  const values = new Float64Array(count);
  if (type.bytes === 1 && typeCode === 0x08) {
    for (let i = 0; i < count; i++) values[i] = bytes[headerBytes + i] as number;
  } else {
    for (let i = 0; i < count; i++) values[i] = type.read(view, headerBytes + i * type.bytes);
  }
  return { file, dtype: type.name, shape, values };
}

export interface IdxPairOptions {
  readonly name: string;
  readonly classNames?: readonly string[];
}

/** An images file and a labels file, as in MNIST, Fashion-MNIST, EMNIST and KMNIST. */
export function loadIdxPair(imagesFile: string, labelsFile: string, options: IdxPairOptions): Dataset {
  const images = readIdx(imagesFile);
  const labels = readIdx(labelsFile);
  return checkDataset(toDataset(images, labels, { ...options, source: `IDX ${imagesFile} + ${labelsFile}` }));
}
