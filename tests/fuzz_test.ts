// Property-based tests of every decoder: random bytes and mutations of valid
// replies (taken from the virtual camera, which builds them from the
// protocol reference) never raise anything but ProtocolError, and what an
// encoder writes decodes back. A quick run here; `deno task fuzz` runs a
// million cases per decoder (FUZZ_RUNS).
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { COMMANDS } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { decodeCanonTrace, TraceDecodeError } from "../src/trace/decode.ts";
import { PcapngWriter, readTrace, TraceFormatError, TraceReader } from "../src/trace/pcap.ts";
import { recordDevice, UsbRecorder } from "../src/trace/recorder.ts";
import {
  decodeUsbmon,
  LINKTYPE_USB_LINUX,
  LINKTYPE_USB_LINUX_MMAPPED,
  setupFields,
} from "../src/trace/usbmon.ts";
import { readU32, writeU32 } from "../src/protocol/bytes.ts";
import {
  decodeFixedReply,
  decodeIdentify,
  decodeInitBlock,
  decodeInterruptPacket,
  decodeLongHeader,
  decodePowerStatus,
  encodeCommand,
  encodeInitWrite,
  encodeOwner,
  encodeSetTime,
} from "../src/protocol/codec.ts";
import {
  checkName,
  decodeDirectoryEntries,
  decodeDiskInfo,
  decodeDriveName,
  decodeListing,
  encodeUploadBlock,
  ListingDecoder,
  type RawDirectoryEntry,
  splitCardPath,
  toHostPath,
} from "../src/protocol/storage_codec.ts";
import { fromCameraTime, toCameraTime } from "../src/protocol/clock.ts";
import { extractThumbnail } from "../src/protocol/exif.ts";
import { modelByProductId } from "../src/protocol/models.ts";
import { traitsOf } from "../src/protocol/traits.ts";
import { ProtocolError } from "../src/protocol/errors.ts";
import {
  advanceCapture,
  APERTURES,
  decodeCustomFunctionReply,
  decodeCustomFunctions2,
  decodeGetReleaseParams,
  decodePictureAbilities,
  decodeReleaseParams,
  decodeZoom,
  encodeReleaseSettings,
  ISO_SPEEDS,
  SHUTTER_SPEEDS,
  startCapture,
} from "../src/protocol/capture_codec.ts";
import {
  bytesLike,
  describe,
  fc,
  mutate,
  mutations,
  onlyProtocolErrors,
  params,
  validReplies,
} from "./_fuzz.ts";

const S = await validReplies();
const data = (raw: Uint8Array) => raw.subarray(0x54);
const longHeader = (length: number) => {
  const header = new Uint8Array(0x40);
  header[4] = 0x02;
  header[5] = 0x03;
  writeU32(header, 6, length);
  return header;
};
// Interrupt packets of the reference (§4.4.3): capture started, finished, a descriptor.
const PACKETS = [
  Uint8Array.of(2, 0, 0, 0, 0x0a, 0, 0, 0, 0x10, 0, 0, 0, 0x1c, 0, 0, 0),
  Uint8Array.of(2, 0, 0, 0, 0x0a, 0, 0, 0, 0x10, 0, 0, 0, 0x1d, 0, 0, 0),
  Uint8Array.of(2, 0, 0, 0, 0x0c, 0, 0, 0, 0x17, 0, 0, 0, 1, 0, 0, 0, 0, 0x10, 0x27, 0, 0, 0, 0),
  Uint8Array.of(2, 0, 0, 0, 0x0e, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
];

// ---- every decoder: only ProtocolError -------------------------------------

/** [name, decode, valid samples, largest random input] */
const DECODERS: [string, (bytes: Uint8Array) => unknown, Uint8Array[], number][] = [
  ["decodeFixedReply", (b) => decodeFixedReply(COMMANDS.identify, b), [S.identify], 0x200],
  ["decodeIdentify", (b) => decodeIdentify(b), [data(S.identify)], 0x100],
  ["decodeInitBlock", (b) => decodeInitBlock(b), [S.initBlock], 0x80],
  ["decodeLongHeader", (b) => decodeLongHeader(COMMANDS.getFile, b), [longHeader(29380)], 0x80],
  ["decodePowerStatus", (b) => decodePowerStatus(b), [data(S.power)], 0x20],
  ["decodeInterruptPacket", (b) => decodeInterruptPacket(b), PACKETS, 0x40],
  ["decodeDirectoryEntries", (b) => decodeDirectoryEntries(b), [S.listing, S.listingFlat], 0x800],
  ["decodeListing", (b) => decodeListing(b, ["DCIM"]), [S.listing, S.listingFlat], 0x800],
  ["decodeDiskInfo", (b) => decodeDiskInfo(b), [data(S.diskInfo)], 0x20],
  ["decodeDriveName", (b) => decodeDriveName(b), [S.drive], 0x20],
  ["extractThumbnail", (b) => extractThumbnail(b), [S.thumbnail, S.jpeg], 0x1000],
  ["decodeReleaseParams", (b) => decodeReleaseParams(b, b.length % 2 === 0), [S.g3Release], 0x40],
  ["decodeGetReleaseParams", (b) => decodeGetReleaseParams(b), [S.releaseReply], 0x60],
  [
    "decodeZoom",
    (b) => decodeZoom(b),
    [Uint8Array.of(0x0b, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x11, 0)],
    0x20,
  ],
  ["decodePictureAbilities", (b) => decodePictureAbilities(b), [data(S.abilities)], 0x400],
  [
    "decodeCustomFunctionReply",
    (b) => decodeCustomFunctionReply(b),
    [Uint8Array.of(0x0f, 0, 0, 0, 0x0a, 0, 0, 0, 4, 0, 4, 0, 1, 0)],
    0x20,
  ],
  [
    "decodeCustomFunctions2",
    (b) => decodeCustomFunctions2(b),
    [Uint8Array.of(0x0c, 0, 0, 0, 1, 0, 2, 0, 0, 1, 0, 0)],
    0x80,
  ],
  [
    "advanceCapture",
    (b) => {
      const outcome = advanceCapture(
        startCapture(b[0] ?? 0x0f),
        b,
        traitsOf(modelByProductId(0x306e)!).captureRules,
      );
      assert.ok(["continue", "done", "failed", "unexpected"].includes(outcome.kind), outcome.kind);
    },
    PACKETS,
    0x40,
  ],
];

for (const [name, decode, samples, maxLength] of DECODERS) {
  Deno.test(`fuzz ${name}: random and mutated replies raise only ProtocolError`, () => {
    for (const sample of samples) decode(sample); // the valid replies decode
    fc.assert(
      fc.property(
        bytesLike(samples, maxLength),
        (bytes) => onlyProtocolErrors(() => decode(bytes)),
      ),
      params(300),
    );
  });
}

// ---- decoders whose output must stay sane ----------------------------------

Deno.test("fuzz decodeInitBlock: an accepted block gives a usable transfer length", () => {
  fc.assert(
    fc.property(bytesLike([S.initBlock], 0x58), (bytes) => {
      let init;
      try {
        init = decodeInitBlock(bytes);
      } catch (error) {
        if (error instanceof Error && error.name === "ProtocolError") return;
        throw error;
      }
      assert.ok(init.transferLength >= 0x40 && init.transferLength <= 0x100000);
      assert.equal(init.transferLength % 0x40, 0);
      // Round trip: the host's reply carries init bytes 0x48..0x57.
      const written = encodeInitWrite(init);
      assert.equal(readU32(written, 0), 0x10);
      assert.deepEqual(written.subarray(0x40), bytes.subarray(0x48, 0x58));
    }),
    params(300),
  );
});

Deno.test("fuzz decodeListing: every name it accepts is a plain, safe file name", () => {
  fc.assert(
    fc.property(bytesLike([S.listing, S.listingFlat], 0x800), (bytes) => {
      let entries;
      try {
        entries = decodeListing(bytes, ["DCIM"]);
      } catch (error) {
        if (error instanceof Error && error.name === "ProtocolError") return;
        throw error;
      }
      for (const entry of entries) {
        assert.equal(checkName(entry.name, "camera"), entry.name);
        assert.ok(!entry.name.includes("/") && !entry.name.includes("\\"));
        for (const segment of entry.parent) assert.equal(checkName(segment, "camera"), segment);
      }
    }),
    params(300),
  );
});

Deno.test("fuzz decodeListing: deep nesting is refused in linear time, never exhausting memory", () => {
  // Found by review while writing these properties: each descent copied the
  // path, so 40,000 nested ".\\A" entries (560 KB, under the 1 MiB listing
  // limit) took the process down with an out-of-memory crash.
  const descent = Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2e, 0x5c, 0x41, 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 50_000 }), (depth) => {
      const bytes = new Uint8Array(11 + descent.length * depth);
      for (let i = 0; i < depth; i++) bytes.set(descent, 11 + i * descent.length);
      const start = performance.now();
      onlyProtocolErrors(() => decodeListing(bytes, []));
      assert.ok(performance.now() - start < 500, `depth ${depth}`);
    }),
    params(20, 0.001),
  );
  assert.throws(
    () =>
      decodeListing(
        new Uint8Array(11 + descent.length * 40_000).map((_, i) =>
          i < 11 ? 0 : descent[(i - 11) % descent.length]
        ),
        [],
      ),
    /nested more than 32 directories deep/,
  );
});

Deno.test("fuzz extractThumbnail: a thumbnail found is a JPEG inside the input", () => {
  fc.assert(
    fc.property(bytesLike([S.thumbnail, S.jpeg], 0x1000), (bytes) => {
      let thumb;
      try {
        thumb = extractThumbnail(bytes);
      } catch (error) {
        if (error instanceof Error && error.name === "ProtocolError") return;
        throw error;
      }
      assert.deepEqual([...thumb.subarray(0, 2)], [0xff, 0xd8]);
      assert.ok(thumb.buffer === bytes.buffer && thumb.length <= bytes.length);
    }),
    params(300),
  );
});

// ---- round trips --------------------------------------------------------------

/** A directory entry as the camera writes it (§4.3.6): attribute, 0, size, time, name, NUL. */
function encodeEntry(e: RawDirectoryEntry): Uint8Array {
  const out = new Uint8Array(11 + e.name.length);
  out[0] = e.attributes;
  writeU32(out, 2, e.size);
  writeU32(out, 6, e.time);
  for (let i = 0; i < e.name.length; i++) out[10 + i] = e.name.charCodeAt(i);
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const u32 = fc.nat({ max: 0xffffffff });
const latin1Name = fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 255 }).map((codes) =>
  String.fromCharCode(...codes)
);
const safeName = fc.stringMatching(/^[A-Z0-9_][A-Z0-9_~ .-]{0,11}$/).filter((n) =>
  n !== "." && n !== ".."
);

Deno.test("round trip: directory entries decode to what was encoded", () => {
  const entry = fc.record({
    attributes: fc.nat({ max: 255 }),
    size: u32,
    time: u32,
    name: latin1Name,
  });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
      assert.deepEqual(decodeDirectoryEntries(join(entries.map(encodeEntry))), entries);
    }),
    params(300),
  );
});

interface Tree {
  name: string;
  size: number;
  children?: Tree[];
}

const tree: fc.Arbitrary<Tree[]> = fc.letrec<{ node: Tree; nodes: Tree[] }>((self) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ name: safeName, size: u32 }),
    fc.record({ name: safeName, size: fc.constant(0), children: self("nodes") }),
  ),
  nodes: fc.uniqueArray(self("node"), { selector: (n) => n.name, maxLength: 4 }),
})).nodes;

Deno.test("round trip: a tree listed as the camera lists it decodes to its paths", () => {
  fc.assert(
    fc.property(tree, (nodes) => {
      // The listed directory itself first, then its contents, descended (§4.3.6).
      const parts = [encodeEntry({ attributes: 0x10, size: 0, time: 0, name: "DCIM" })];
      const expected: string[] = [];
      const walk = (list: Tree[], parent: string[]) => {
        for (const node of list) {
          const path = toHostPath([...parent, node.name]);
          expected.push(`${path}${node.children ? "/" : ""} ${node.children ? 0 : node.size}`);
          if (!node.children) {
            parts.push(
              encodeEntry({ attributes: 0x20, size: node.size, time: 1, name: node.name }),
            );
            continue;
          }
          parts.push(encodeEntry({ attributes: 0x80, size: 0, time: 1, name: `.\\${node.name}` }));
          walk(node.children, [...parent, node.name]);
          parts.push(encodeEntry({ attributes: 0x80, size: 0, time: 0, name: ".." }));
        }
      };
      walk(nodes, ["DCIM"]);
      parts.push(new Uint8Array(11));
      const decoded = decodeListing(join(parts), ["DCIM"]).map((e) =>
        `${toHostPath([...e.parent, e.name])}${e.isDirectory ? "/" : ""} ${e.size}`
      );
      assert.deepEqual(decoded, expected);
    }),
    params(200),
  );
});

Deno.test("round trip: command blocks carry their codes, length and serial", () => {
  const specs = Object.values(COMMANDS);
  fc.assert(
    fc.property(
      fc.constantFrom(...specs),
      u32,
      fc.uint8Array({ maxLength: 1024 - 0x50 }),
      fc.boolean(),
      (spec, serial, payload, newProtocol) => {
        const block = encodeCommand(spec, serial, payload, newProtocol);
        assert.equal(block.length, 0x50 + payload.length);
        assert.equal(readU32(block, 0), 0x10 + payload.length);
        assert.equal(readU32(block, 0x48), 0x10 + payload.length);
        assert.equal(readU32(block, 4), spec.cmd3);
        assert.equal(readU32(block, 0x4c), serial);
        assert.deepEqual([block[0x40], block[0x44], block[0x47]], [2, spec.cmd1, spec.cmd2]);
        assert.deepEqual(block.subarray(0x50), payload);
      },
    ),
    params(300),
  );
});

Deno.test("round trip: upload blocks carry offset, length, path and data", () => {
  fc.assert(
    fc.property(
      fc.array(safeName, { minLength: 1, maxLength: 4 }),
      u32,
      fc.uint8Array({ maxLength: 0x1400 }),
      u32,
      (segments, offset, bytes, serial) => {
        const path = `D:\\${segments.join("\\")}`;
        const block = encodeUploadBlock(path, offset, bytes, serial);
        assert.equal(readU32(block, 0), block.length - 0x40);
        assert.equal(readU32(block, 0x48), block.length - 0x40);
        assert.equal(readU32(block, 0x4c), serial);
        assert.equal(readU32(block, 0x54), offset);
        assert.equal(readU32(block, 0x58), bytes.length);
        const name = String.fromCharCode(...block.subarray(0x5c, 0x5c + path.length));
        assert.equal(name, path);
        assert.equal(block[0x5c + path.length], 0);
        assert.deepEqual(block.subarray(0x5d + path.length), bytes);
      },
    ),
    params(200),
  );
});

Deno.test("round trip: an owner name set is the owner identify reports", () => {
  const owner = fc.stringMatching(/^[\x20-\x7e]{0,30}$/);
  fc.assert(
    fc.property(owner, (name) => {
      const reply = data(S.identify).slice();
      reply.fill(0, 0x28, 0x48);
      reply.set(encodeOwner(name), 0x28);
      assert.equal(decodeIdentify(reply).owner, name);
    }),
    params(300),
  );
});

Deno.test("round trip: camera time survives fromCameraTime and toCameraTime", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffffffff }), (seconds) => {
      const date = fromCameraTime(seconds)!;
      const wall = new Date(seconds * 1000);
      // A wall-clock time that does not exist in the host's zone (a DST gap) moves.
      fc.pre(date.getHours() === wall.getUTCHours() && date.getDate() === wall.getUTCDate());
      assert.equal(toCameraTime(date), seconds);
      assert.equal(readU32(encodeSetTime(toCameraTime(date)), 0), seconds);
    }),
    params(300),
  );
});

Deno.test("round trip: host paths split back into their segments", () => {
  fc.assert(
    fc.property(fc.array(safeName, { maxLength: 6 }), (segments) => {
      assert.deepEqual(splitCardPath(toHostPath(segments)), segments);
    }),
    params(300),
  );
});

Deno.test("round trip: release settings written to a block read back the same", () => {
  const settings = fc.record({
    iso: fc.constantFrom(...ISO_SPEEDS.map((r) => r.value)),
    aperture: fc.constantFrom(...APERTURES.map((r) => r.value)),
    shutterSpeed: fc.constantFrom(...SHUTTER_SPEEDS.map((r) => r.value)),
  }, { requiredKeys: [] });
  fc.assert(
    fc.property(settings, fc.boolean(), (changes, eos) => {
      const decoded = decodeReleaseParams(encodeReleaseSettings(S.g3Release, changes, eos), eos);
      for (const [key, value] of Object.entries(changes)) {
        assert.deepEqual(decoded[key as keyof typeof decoded], value, key);
      }
      const reply = S.releaseReply.slice();
      reply.set(encodeReleaseSettings(S.g3Release, changes, eos), 8);
      assert.deepEqual(decodeGetReleaseParams(reply), reply.subarray(8));
    }),
    params(300),
  );
});

// ---- the capture reader and the trace decoder ------------------------------

/** A short session with the virtual camera, recorded (pcapng), and the same as classic pcap. */
async function captureSamples(): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const recorder = new UsbRecorder((bytes) => chunks.push(bytes.slice()));
  try {
    await using cam = await Camera.connect(recordDevice(new VirtualCamera(), recorder));
    await cam.storage.list("/DCIM");
  } finally {
    recorder.close();
  }
  const pcapng = joinAll(chunks);
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b2c3d4, true); // microseconds
  header.setUint32(20, 220, true);
  parts.push(new Uint8Array(header.buffer));
  const packets = readTrace(pcapng).packets.slice(0, 16);
  const short: Uint8Array[] = [];
  const writer = new PcapngWriter((bytes) => short.push(bytes));
  for (const packet of packets) {
    writer.writePacket(packet.data, packet.timeMicros);
    const record = new DataView(new ArrayBuffer(16));
    record.setUint32(8, packet.data.length, true);
    record.setUint32(12, packet.data.length, true);
    parts.push(new Uint8Array(record.buffer), packet.data);
  }
  return [joinAll(short), joinAll(parts)];
}

function joinAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const CAPTURES = await captureSamples();
// Length fields of the pcapng section, interface and first packet blocks, and of the pcap records.
const captureInput = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(fc.constantFrom(...CAPTURES), mutations([4, 8, 28, 32, 36, 40, 52, 56, 60, 64, 72]))
    .map(([base, edits]) => mutate(base, edits)),
);

function onlyCaptureErrors(read: () => unknown): void {
  try {
    read();
  } catch (error) {
    if (error instanceof TraceFormatError || error instanceof TraceDecodeError) return;
    throw new Error(`the trace reader threw ${describe(error)}`, { cause: error });
  }
}

Deno.test("fuzz readTrace: only TraceFormatError, and never more bytes than the file holds", () => {
  for (const sample of CAPTURES) assert.deepEqual(readTrace(sample).warnings, []);
  fc.assert(
    fc.property(captureInput, (bytes) =>
      onlyCaptureErrors(() => {
        const { packets } = readTrace(bytes);
        // Nothing is made up from a length field: every packet's bytes are in the file.
        const held = packets.reduce((n, p) => n + p.data.length, 0);
        assert.ok(held <= bytes.length, `${held} bytes of packets from a file of ${bytes.length}`);
      })),
    params(300),
  );
});

Deno.test("fuzz decodeCanonTrace: only TraceFormatError or TraceDecodeError", () => {
  for (const sample of CAPTURES) assert.ok(decodeCanonTrace(sample).commands.length > 0);
  fc.assert(
    fc.property(captureInput, (bytes) => onlyCaptureErrors(() => decodeCanonTrace(bytes))),
    params(300),
  );
});

Deno.test("fuzz TraceReader: a capture read in any pieces reads as at once", () => {
  fc.assert(
    fc.property(captureInput, fc.array(fc.nat({ max: 4096 }), { maxLength: 8 }), (bytes, cuts) => {
      let whole: ReturnType<typeof readTrace> | undefined;
      try {
        whole = readTrace(bytes);
      } catch (error) {
        if (!(error instanceof TraceFormatError)) throw error;
      }
      const reader = new TraceReader();
      const packets = [];
      try {
        let from = 0;
        for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
          packets.push(...reader.push(bytes.subarray(from, Math.max(from, cut))));
          from = Math.max(from, cut);
        }
        packets.push(...reader.push(bytes.subarray(from)));
        reader.finish();
      } catch (error) {
        if (!(error instanceof TraceFormatError)) throw error;
        assert.equal(whole, undefined, `in pieces: ${describe(error)}; at once it read`);
        return;
      }
      if (bytes.length < 12) return; // readTrace refuses those before reading
      assert.ok(whole, "in pieces it read; at once it was refused");
      assert.deepEqual(packets, whole.packets);
      assert.deepEqual(reader.warnings, whole.warnings);
    }),
    params(300),
  );
});

// ---- the listing decoder, fed as the camera sends ---------------------------

Deno.test("fuzz ListingDecoder: a listing in any pieces decodes as at once, or fails the same", () => {
  const outcome = (decode: () => unknown) => {
    try {
      return { entries: decode() };
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return { error: error.message };
    }
  };
  fc.assert(
    fc.property(
      bytesLike([S.listing, S.listingFlat], 0x800),
      fc.array(fc.nat({ max: 0x800 }), { maxLength: 8 }),
      (bytes, cuts) => {
        const whole = outcome(() => decodeListing(bytes, ["DCIM"]));
        const pieces = outcome(() => {
          const decoder = new ListingDecoder(["DCIM"]);
          const entries = [];
          let from = 0;
          for (const cut of cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b)) {
            entries.push(...decoder.push(bytes.subarray(from, Math.max(from, cut))));
            from = Math.max(from, cut);
          }
          entries.push(...decoder.push(bytes.subarray(from)));
          decoder.finish();
          return entries;
        });
        assert.deepEqual(pieces, whole);
      },
    ),
    params(300),
  );
});

Deno.test("fuzz ListingDecoder: more entries than allowed are refused, as they arrive", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 200 }), (n, cap) => {
      const file = Uint8Array.of(0x20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x41, 0);
      const bytes = new Uint8Array(11 + file.length * n);
      for (let i = 0; i < n; i++) bytes.set(file, 11 + i * file.length);
      const decoder = new ListingDecoder([], cap);
      let seen = 0;
      try {
        for (let i = 0; i < bytes.length; i += 7) {
          seen += decoder.push(bytes.subarray(i, i + 7)).length;
        }
        decoder.finish();
        assert.ok(n <= cap && seen === n, `${n} entries, cap ${cap}, ${seen} decoded`);
      } catch (error) {
        assert.ok(error instanceof ProtocolError && n > cap, String(error));
        assert.ok(seen <= cap);
        assert.match(error.message, new RegExp(`more than ${cap} entries`));
      }
    }),
    params(100, 0.1),
  );
});

Deno.test("fuzz decodeUsbmon: only TraceFormatError, and its data within the packet", () => {
  const events = readTrace(CAPTURES[0]).packets.map((p) => p.data);
  fc.assert(
    fc.property(
      bytesLike(events, 0x80),
      fc.constantFrom(LINKTYPE_USB_LINUX, LINKTYPE_USB_LINUX_MMAPPED, 1),
      fc.boolean(),
      (bytes, linkType, littleEndian) =>
        onlyCaptureErrors(() => {
          const event = decodeUsbmon(bytes, linkType, littleEndian);
          assert.ok(event.data.length <= bytes.length);
          if (event.setup) setupFields(event.setup);
        }),
    ),
    params(300),
  );
});
