import jpeg from 'jpeg-js';
import { extname } from 'node:path';
import { PNG } from 'pngjs';
import { badDataFile } from '../../common/errors.js';
import { readDataFile } from './raw-array.js';

/** A decoded image: 8-bit RGB, row-major, 3 bytes per pixel (alpha dropped). */
export interface DecodedImage {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  /** No pixel has colour (R = G = B everywhere): a grey image, whatever the file stored. */
  readonly grey: boolean;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

// Decoding refuses images past this size instead of exhausting memory on a corrupt header.
const MAX_MEGAPIXELS = 100;

/** RGBA -> RGB, dropping alpha as PIL's convert('RGB') (TransferAttack's loader) does. */
function fromRgba(file: string, width: number, height: number, rgba: Uint8Array): DecodedImage {
  const rgb = new Uint8Array(width * height * 3);
  let grey = true;
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    const r = rgba[p] as number;
    const g = rgba[p + 1] as number;
    const b = rgba[p + 2] as number;
    rgb[q] = r;
    rgb[q + 1] = g;
    rgb[q + 2] = b;
    if (r !== g || g !== b) grey = false;
  }
  return { file, width, height, rgb, grey };
}

/**
 * Decodes a PNG (pngjs; 16-bit samples are scaled to 8) or a JPEG (jpeg-js, baseline and
 * progressive), chosen by the file's first bytes; the extension must be one of IMAGE_EXTENSIONS.
 */
export function decodeImage(file: string): DecodedImage {
  const extension = extname(file).toLowerCase();
  if (!(IMAGE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw badDataFile(
      file,
      `unsupported image type "${extension || '(none)'}"`,
      `convert it to one of ${IMAGE_EXTENSIONS.join(', ')}`,
    );
  }
  const bytes = readDataFile(file);
  try {
    if (bytes[0] === 0x89 && bytes[1] === 0x50) {
      const png = PNG.sync.read(bytes);
      return fromRgba(file, png.width, png.height, png.data);
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS });
      return fromRgba(file, image.width, image.height, image.data);
    }
  } catch (error) {
    throw badDataFile(file, `cannot be decoded (${(error as Error).message})`, 're-save the image as PNG or JPEG');
  }
  throw badDataFile(file, 'is neither a PNG nor a JPEG (wrong signature bytes)', 're-save the image as PNG or JPEG');
}
