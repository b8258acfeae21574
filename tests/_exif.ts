// Shared by the capture tests: the exposure a JPEG's EXIF records, read
// independently of the emulator's writer.

/** The exposure tags of a picture. */
export interface ExifExposure {
  /** ISOSpeedRatings. */
  iso: number;
  /** FNumber. */
  fNumber: number;
  /** ExposureTime in seconds. */
  exposureTime: number;
  /** Flash: bit 0 = fired. */
  flashFired: boolean;
  /** ExposureBiasValue in EV. */
  exposureBias: number;
  /** PixelXDimension × PixelYDimension. */
  width: number;
  /** PixelYDimension. */
  height: number;
}

/** Read the Exif IFD of a JPEG whose APP1 "Exif" segment follows SOI. */
export function exifExposure(jpeg: Uint8Array): ExifExposure {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff || jpeg[3] !== 0xe1) {
    throw new Error("no EXIF APP1 segment after SOI");
  }
  const tiff = jpeg.subarray(12);
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const entries = (at: number) => {
    const out = new Map<number, { type: number; at: number }>();
    const count = v.getUint16(at, true);
    for (let i = 0; i < count; i++) {
      const p = at + 2 + 12 * i;
      const type = v.getUint16(p + 2, true);
      const inline = type === 3 || type === 4;
      out.set(v.getUint16(p, true), { type, at: inline ? p + 8 : v.getUint32(p + 8, true) });
    }
    return out;
  };
  const ifd0 = entries(v.getUint32(4, true));
  const exif = entries(v.getUint32(ifd0.get(0x8769)!.at, true));
  const num = (tag: number): number => {
    const e = exif.get(tag);
    if (!e) throw new Error(`no EXIF tag 0x${tag.toString(16)}`);
    switch (e.type) {
      case 3:
        return v.getUint16(e.at, true);
      case 4:
        return v.getUint32(e.at, true);
      case 5:
        return v.getUint32(e.at, true) / v.getUint32(e.at + 4, true);
      case 10:
        return v.getInt32(e.at, true) / v.getInt32(e.at + 4, true);
      default:
        throw new Error(`EXIF tag 0x${tag.toString(16)} has type ${e.type}`);
    }
  };
  return {
    iso: num(0x8827),
    fNumber: num(0x829d),
    exposureTime: num(0x829a),
    flashFired: (num(0x9209) & 1) === 1,
    exposureBias: num(0x9204),
    width: num(0xa002),
    height: num(0xa003),
  };
}

/** Width and height from a JPEG's SOF marker. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  let offset = 2;
  while (offset + 9 < jpeg.length) {
    const marker = jpeg[offset + 1];
    const length = (jpeg[offset + 2] << 8) | jpeg[offset + 3];
    if (marker >= 0xc0 && marker <= 0xc2) {
      return {
        height: (jpeg[offset + 5] << 8) | jpeg[offset + 6],
        width: (jpeg[offset + 7] << 8) | jpeg[offset + 8],
      };
    }
    offset += 2 + length;
  }
  throw new Error("no SOF marker");
}
