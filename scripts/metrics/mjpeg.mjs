// Splits an MJPEG stream (concatenated baseline/progressive JPEGs, as `ffmpeg -f mjpeg` writes
// them) into frames by walking the JPEG marker structure, so bytes inside tables or entropy-coded
// data are never mistaken for frame boundaries.

/**
 * @param {Uint8Array} bytes the whole .mjpeg file
 * @returns {{ offset: number, length: number }[]} byte range of every frame, in stream order
 */
export function mjpegFrames(bytes) {
  const frames = [];
  let i = 0;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff || bytes[i + 1] !== 0xd8) throw new Error(`mjpeg: no SOI marker at byte ${i}`);
    const start = i;
    i += 2;
    for (;;) {
      // marker segments up to the start of scan: FF xx LEN(2) payload
      while (bytes[i] === 0xff && bytes[i + 1] === 0xff) i++; // fill bytes
      if (bytes[i] !== 0xff) throw new Error(`mjpeg: expected a marker at byte ${i}`);
      const marker = bytes[i + 1];
      if (marker === 0xd9) { i += 2; break; } // EOI without scan (not expected)
      const length = (bytes[i + 2] << 8) | bytes[i + 3];
      i += 2 + length;
      if (marker !== 0xda) continue;
      // entropy-coded data: ends at a marker that is neither stuffing (FF00) nor a restart (FFD0-D7)
      while (i + 1 < bytes.length && !(bytes[i] === 0xff && bytes[i + 1] !== 0x00 && (bytes[i + 1] < 0xd0 || bytes[i + 1] > 0xd7))) i++;
      // progressive JPEGs have several scans (with tables between them): keep walking segments
    }
    frames.push({ offset: start, length: i - start });
    while (i < bytes.length && bytes[i] !== 0xff) i++; // tolerate padding between frames
  }
  return frames;
}
