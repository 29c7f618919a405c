/** Image sizes read from a file's header, so a size can be refused before any pixel is decoded. */

/** Pixel size of an image as its header declares it. */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

function corrupt(what: string, format: string, why: string): Error {
  return new Error(`${what} is not a readable ${format} image: the file is truncated or corrupt (${why})`);
}

/** Width and height from the IHDR chunk, which the PNG format puts first, right after the 8-byte signature. */
export function pngSize(bytes: Uint8Array, what: string): ImageSize {
  const isIhdr =
    bytes.length >= 24 &&
    bytes[12] === 0x49 &&
    bytes[13] === 0x48 &&
    bytes[14] === 0x44 &&
    bytes[15] === 0x52;
  if (!isIhdr) {
    throw corrupt(
      what,
      'PNG',
      bytes.length < 24 ? `${bytes.length} bytes, no room for a header` : 'no IHDR header',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Start-of-frame markers (SOF0..SOF15) that carry the image size; C4, C8 and CC are other segments. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Width and height from the first start-of-frame segment, found by walking the segments after SOI. */
export function jpegSize(bytes: Uint8Array, what: string): ImageSize {
  let i = 2;
  for (;;) {
    if (i >= bytes.length) throw corrupt(what, 'JPEG', 'it ends before the frame header');
    if (bytes[i] !== 0xff) throw corrupt(what, 'JPEG', `no segment marker at byte ${i}`);
    while (bytes[i + 1] === 0xff) i++;
    const marker = bytes[i + 1];
    i += 2;
    if (marker === undefined) throw corrupt(what, 'JPEG', 'it ends before the frame header');
    // Markers without a length: SOI, TEM and the restart markers.
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) {
      throw corrupt(what, 'JPEG', 'no frame header before the image data');
    }
    if (i + 2 > bytes.length) throw corrupt(what, 'JPEG', 'it ends before the frame header');
    const length = (bytes[i] << 8) | bytes[i + 1];
    if (length < 2) throw corrupt(what, 'JPEG', `a segment of length ${length} at byte ${i - 2}`);
    if (isStartOfFrame(marker)) {
      if (i + 7 > bytes.length) throw corrupt(what, 'JPEG', 'it ends inside the frame header');
      return { height: (bytes[i + 3] << 8) | bytes[i + 4], width: (bytes[i + 5] << 8) | bytes[i + 6] };
    }
    i += length;
  }
}
