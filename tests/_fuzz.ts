// The one place the property-based testing library is imported, and the
// helpers the fuzz tests share: how many cases to run, byte mutations of
// valid replies, and the check that a decoder raises nothing but the
// library's protocol error.
//
// FUZZ_RUNS=n sets the number of cases per decoder property (default: a
// quick run); the session properties run a tenth of that (each is an async
// dialogue). FUZZ_SEED=n replays a run.
import fc from "fast-check";
import { ProtocolError } from "../src/protocol/errors.ts";
import { Camera } from "../mod.ts";
import { COMMANDS } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { writeU32 } from "../src/protocol/bytes.ts";
import {
  encodeDiskInfo,
  encodeGetDirectory,
  encodeGetFile,
} from "../src/protocol/storage_codec.ts";

export { fc };

function envNumber(name: string): number | undefined {
  try {
    const text = Deno.env.get(name);
    return text === undefined || text === "" ? undefined : Number(text);
  } catch {
    return undefined; // no env permission: the quick run
  }
}

/** Cases per property: `FUZZ_RUNS` (times `share`), or `quick`. */
export function runs(quick: number, share = 1): number {
  const wanted = envNumber("FUZZ_RUNS");
  return wanted === undefined ? quick : Math.max(1, Math.round(wanted * share));
}

/** fast-check parameters: the number of runs, the seed when `FUZZ_SEED` is set. */
export function params(quick: number, share = 1): fc.Parameters<unknown> {
  const seed = envNumber("FUZZ_SEED");
  return { numRuns: runs(quick, share), ...(seed === undefined ? {} : { seed }) };
}

/** Whether this is a long run (FUZZ_RUNS set). */
export const longRun: boolean = envNumber("FUZZ_RUNS") !== undefined;

/** Run `decode`; anything it throws must be a {@link ProtocolError}. */
export function onlyProtocolErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (error instanceof ProtocolError) return;
    throw new Error(`the decoder threw ${describe(error)} instead of a ProtocolError`, {
      cause: error,
    });
  }
}

/** `Name: message` of anything thrown. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Values that break length fields: zero, tiny, header-sized, huge, sign-bit. */
const INTERESTING_WORDS = [
  0,
  1,
  0x3f,
  0x40,
  0x54,
  0x58,
  0x100,
  0x1400,
  0xffff,
  0x10000,
  0x100000,
  0x7fffffff,
  0x80000000,
  0xfffffff0,
  0xffffffff,
];

/** One edit of a byte string. */
export type Mutation =
  | { kind: "byte"; at: number; value: number }
  | { kind: "word"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "insert"; at: number; bytes: Uint8Array };

/**
 * Edits of a byte string: byte flips, interesting values written into
 * 32-bit words (at the length fields of the framing, or anywhere), cuts,
 * insertions, deletions and appended junk. Positions are fractions of the
 * length, so one mutation list applies to any input.
 */
export function mutations(words: readonly number[] = [0, 6, 0x48, 0x4c, 0x50]): fc.Arbitrary<
  Mutation[]
> {
  const at = fc.nat({ max: 0xffff });
  const word = fc.oneof(fc.constantFrom(...INTERESTING_WORDS), fc.nat({ max: 0xffffffff }));
  const bytes = fc.uint8Array({ maxLength: 64 });
  return fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("byte" as const), at, value: fc.nat({ max: 255 }) }),
      fc.record({
        kind: fc.constant("word" as const),
        at: fc.oneof(fc.constantFrom(...words.map((w) => -1 - w)), at),
        value: word,
      }),
      fc.record({ kind: fc.constant("truncate" as const), at }),
      fc.record({ kind: fc.constant("append" as const), bytes }),
      fc.record({ kind: fc.constant("delete" as const), at, length: fc.nat({ max: 64 }) }),
      fc.record({ kind: fc.constant("insert" as const), at, bytes }),
    ),
    { minLength: 1, maxLength: 6 },
  );
}

/** Apply `edits` to a copy of `input`. Word positions below 0 are exact offsets (-1 - offset). */
export function mutate(input: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const place = (at: number, size: number) => size === 0 ? 0 : at % size;
  for (const edit of edits) {
    switch (edit.kind) {
      case "byte":
        if (bytes.length) bytes[place(edit.at, bytes.length)] = edit.value;
        break;
      case "word": {
        const offset = edit.at < 0 ? -1 - edit.at : place(edit.at, bytes.length);
        for (let i = 0; i < 4 && offset + i < bytes.length; i++) {
          bytes[offset + i] = (edit.value >>> (8 * i)) & 0xff;
        }
        break;
      }
      case "truncate":
        bytes = bytes.slice(0, place(edit.at, bytes.length + 1));
        break;
      case "append":
        bytes = concat(bytes, edit.bytes);
        break;
      case "delete": {
        const from = place(edit.at, bytes.length);
        bytes = concat(bytes.subarray(0, from), bytes.subarray(from + edit.length));
        break;
      }
      case "insert": {
        const from = place(edit.at, bytes.length + 1);
        bytes = concat(bytes.subarray(0, from), edit.bytes, bytes.subarray(from));
        break;
      }
    }
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Random bytes, or a mutation of one of `samples`. */
export function bytesLike(samples: readonly Uint8Array[], maxLength = 512): fc.Arbitrary<
  Uint8Array
> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.tuple(fc.constantFrom(...samples), mutations()).map(([base, edits]) => mutate(base, edits)),
    fc.constantFrom(...samples),
  );
}

// ---- valid replies, from the virtual camera ----------------------------------

async function collect(cam: Camera, spec: typeof COMMANDS.getFile, payload: Uint8Array) {
  const parts: Uint8Array[] = [];
  await cam.session.exclusive(() =>
    cam.session.longCommand(spec, payload, (c) => {
      parts.push(c.slice());
    })
  );
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Valid replies of the virtual camera (which builds them from the protocol reference). */
export async function validReplies(): Promise<Record<string, Uint8Array>> {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const initBlock = (await vc.controlTransferIn(
    { requestType: "vendor", recipient: "device", request: 0x04, value: 0x01, index: 0 },
    0x58,
  )).data!;
  const fixed = async (spec: typeof COMMANDS.identify, payload?: Uint8Array) =>
    (await cam.session.exclusive(() => cam.session.command(spec, payload))).raw.slice();
  const g3Release = Uint8Array.from(
    "20 03 01 00 64 00 00 00 01 FF 00 00 03 01 03 30 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 70 00 18 18 FF FF 18 00 38 00 E6 00 9A 03 E6 00 20 00"
      .split(" "),
    (h) => parseInt(h, 16),
  );
  const releaseReply = new Uint8Array(8 + 0x30);
  writeU32(releaseReply, 0, 0x0a);
  writeU32(releaseReply, 4, 0x30);
  releaseReply.set(g3Release, 8);
  return {
    initBlock: new Uint8Array(initBlock.buffer, initBlock.byteOffset, initBlock.byteLength).slice(),
    identify: await fixed(COMMANDS.identify),
    power: await fixed(COMMANDS.powerStatus),
    diskInfo: await fixed(COMMANDS.diskInfo, encodeDiskInfo("D:", false)),
    abilities: await fixed(COMMANDS.pictureAbilities),
    drive: await collect(cam, COMMANDS.flashDeviceIdent, new Uint8Array(0)),
    listing: await collect(cam, COMMANDS.getDirectory, encodeGetDirectory("D:\\DCIM", 0x0f)),
    listingFlat: await collect(
      cam,
      COMMANDS.getDirectory,
      encodeGetDirectory("D:\\DCIM\\100CANON", 0),
    ),
    thumbnail: await collect(
      cam,
      COMMANDS.getFile,
      encodeGetFile("D:\\DCIM\\100CANON\\IMG_0001.JPG", true, 0x1400, false),
    ),
    jpeg: (await collect(
      cam,
      COMMANDS.getFile,
      encodeGetFile("D:\\DCIM\\100CANON\\IMG_0003.JPG", false, 0x1400, false),
    )).slice(0, 12000),
    g3Release,
    releaseReply,
  };
}
