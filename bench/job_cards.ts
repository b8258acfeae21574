// The cards of the jobs benchmark (bench/compare.ts, part 6) and of its
// trace (bench/import_trace.ts): a whole card of camera JPEGs of 256 KiB to
// 2 MiB, and a card of many small files for the recursive listing.
import { MemoryCard } from "../src/emulator/card/memory_card.ts";

/**
 * A camera JPEG (EXIF with its thumbnail) grown to `size` bytes with COM
 * segments before its end marker: still a valid JPEG, whose thumbnail and
 * picture are those of `base`.
 */
function paddedJpeg(base: Uint8Array, size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const body = base.length - 2; // without FF D9
  out.set(base.subarray(0, body));
  let at = body;
  let x = seed | 1;
  while (at < size - 2) {
    const room = size - 2 - at;
    let length = Math.min(0xfffd, room - 2);
    // Never leave 1..3 bytes: too few for one more segment.
    const left = room - 2 - length;
    if (left > 0 && left < 4) length -= 4;
    out[at] = 0xff;
    out[at + 1] = 0xfe;
    out[at + 2] = (length >> 8) & 0xff;
    out[at + 3] = length & 0xff;
    for (let i = at + 4; i < at + 2 + length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0x7f;
    }
    at += 2 + length;
  }
  out[size - 2] = 0xff;
  out[size - 1] = 0xd9;
  return out;
}

/** The whole-card card: `count` JPEGs of 256 KiB to 2 MiB, 100 to a DCF folder. */
export function importCard(count: number): { card: MemoryCard; bytes: number } {
  const source = new MemoryCard();
  const basePath = ["DCIM", "100CANON", "IMG_0001.JPG"];
  const base = source.read(basePath, 0, source.find(basePath)!.size);
  const content = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    // Sizes spread evenly over 256 KiB .. 2 MiB, in a scrambled order.
    const size = 256 * 1024 +
      Math.floor((((i * 7919) % count) / Math.max(1, count - 1)) * 1792 * 1024);
    bytes += size;
    const folder = 100 + Math.floor(i / 100);
    const name = `IMG_${String(i + 1).padStart(4, "0")}.JPG`;
    content.push({ path: `/DCIM/${folder}CANON/${name}`, bytes: paddedJpeg(base, size, i + 1) });
  }
  return { card: new MemoryCard({ content, capacity: 0xfff00000 }), bytes };
}

/** The listing card: `count` small files, 100 to a DCF folder. */
export function listingCard(count: number): MemoryCard {
  const content = [];
  for (let i = 0; i < count; i++) {
    const folder = 100 + Math.floor(i / 100);
    content.push({
      path: `/DCIM/${folder}CANON/IMG_${String(i + 1).padStart(4, "0")}.JPG`,
      size: 1000 + (i % 50),
    });
  }
  return new MemoryCard({ content, capacity: 0xfff00000 });
}
