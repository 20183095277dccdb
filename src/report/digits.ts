/**
 * A 3x5 bitmap font for the digits 0-9: example grids label each image with a class index, and
 * drawing those few glyphs needs no font file, canvas or native module.
 */
const GLYPHS: readonly string[] = [
  '111101101101111',
  '010110010010111',
  '111001111100111',
  '111001111001111',
  '101101111001001',
  '111100111001111',
  '111100111101111',
  '111001001001001',
  '111101111101111',
  '111101111001111',
];

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** Calls `plot(x, y)` for every lit pixel of `text` (digits only) drawn at `scale`, glyphs one column apart. */
export function drawDigits(text: string, scale: number, plot: (x: number, y: number) => void): number {
  let x0 = 0;
  for (const ch of text) {
    const glyph = GLYPHS[ch.charCodeAt(0) - 48];
    if (glyph === undefined) throw new RangeError(`drawDigits draws digits only, got "${ch}"`);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (glyph[gy * GLYPH_WIDTH + gx] !== '1') continue;
        for (let sy = 0; sy < scale; sy++)
          for (let sx = 0; sx < scale; sx++) plot(x0 + gx * scale + sx, gy * scale + sy);
      }
    }
    x0 += (GLYPH_WIDTH + 1) * scale;
  }
  return Math.max(0, x0 - scale);
}
