import { badDataFile } from '../../common/errors.js';
import { checkDataset, type Dataset } from '../dataset.js';
import { readDataFile, toDataset, type RawArray } from './raw-array.js';

/** NumPy dtype descriptors we read -> element reader (little-endian, or byte-sized). */
const NPY_TYPES: Record<string, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  '|u1': { name: 'uint8', bytes: 1, read: (v, o) => v.getUint8(o) },
  '|i1': { name: 'int8', bytes: 1, read: (v, o) => v.getInt8(o) },
  '<i4': { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o, true) },
  '<i8': { name: 'int64', bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '<f4': { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o, true) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Reads a C-ordered .npy file (format versions 1-3). */
export function readNpy(file: string): RawArray {
  const bytes = readDataFile(file);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw badDataFile(file, 'wrong magic number (not a .npy file)', 'save the array with numpy.save');
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) throw badDataFile(file, 'truncated header', 're-save the array with numpy.save');
  const header = bytes.subarray(headerStart, dataStart).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw badDataFile(file, `unreadable header ${JSON.stringify(header.trim())}`, 're-save the array with numpy.save');
  }
  const type = NPY_TYPES[descr];
  if (type === undefined) {
    throw badDataFile(
      file,
      `unsupported dtype ${descr}`,
      `convert with arr.astype(...) to one of ${Object.values(NPY_TYPES)
        .map((t) => t.name)
        .join(', ')}`,
    );
  }
  if (fortran === 'True') throw badDataFile(file, 'array is Fortran-ordered', 'save numpy.ascontiguousarray(arr)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length < dataStart + count * type.bytes) {
    throw badDataFile(
      file,
      `truncated: shape [${shape.join(', ')}] of ${type.name} needs ` +
        `${dataStart + count * type.bytes} bytes, file has ${bytes.length}`,
      're-save the array',
    );
  }
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = type.read(view, dataStart + i * type.bytes);
  return { file, dtype: type.name, shape, values };
}

/** An images .npy ([N,H,W] or [N,H,W,C], uint8 or float32 in [0,1]) and a labels .npy ([N]). */
export function loadNpyPair(
  imagesFile: string,
  labelsFile: string,
  options: { name: string; classNames?: readonly string[] },
): Dataset {
  return checkDataset(
    toDataset(readNpy(imagesFile), readNpy(labelsFile), { ...options, source: `NPY ${imagesFile} + ${labelsFile}` }),
  );
}
