// Hostile and broken captures (issue 14, points 4 and 8): blocks too short for
// their kind, a capture cut short, lengths that claim gigabytes, a file that
// never ends, and a big capture. The reader raises only TraceFormatError
// (and only for what is not a capture at all), decodes a damaged capture as far
// as it is whole with a warning, and `canon decode` reads the file as a stream:
// its memory does not grow with the file, and its exit code is 1 as documented.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { decodeCanonTrace, decodeCanonTraceStream } from "../src/trace/decode.ts";
import {
  MAX_CAPTURE_BLOCK,
  PcapngWriter,
  readTrace,
  TraceFormatError,
  TraceReader,
} from "../src/trace/pcap.ts";
import { recordDevice, UsbRecorder } from "../src/trace/recorder.ts";

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

function joined(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A short session with the virtual camera, recorded as pcapng. */
async function recordSession(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const recorder = new UsbRecorder((bytes) => chunks.push(bytes.slice()));
  try {
    await using cam = await Camera.connect(recordDevice(new VirtualCamera(), recorder));
    await cam.storage.list("/DCIM", { recursive: true });
    await cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG");
  } finally {
    recorder.close();
  }
  return joined(chunks);
}

const capture = await recordSession();

/** One pcapng block, little-endian. */
function block(type: number, body: Uint8Array, length = 12 + body.length): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, length, true);
  out.set(body, 8);
  view.setUint32(8 + body.length, length, true);
  return out;
}

const SECTION = block(
  0x0a0d0d0a,
  Uint8Array.of(0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, ...new Array(8).fill(0xff)),
);
const INTERFACE = block(1, Uint8Array.of(220, 0, 0, 0, 0, 0, 0, 0));

async function canon(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, ...args],
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: output.code, out: text.decode(output.stdout), err: text.decode(output.stderr) };
}

/**
 * `canon ARGS` with its output thrown away; the exit code and the peak RSS in
 * MiB (GNU time). V8 runs with a small heap (old space 24 MiB, semi-spaces
 * 1 MiB), so that what is kept shows, not how lazily V8 collects: a decoder
 * that kept something per packet would run out of heap.
 */
async function peakRss(args: string[]): Promise<{ code: number; mib: number; err: string }> {
  const output = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "PEAK %M",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=24,--max-semi-space-size=1",
      CLI,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
  }).output();
  const err = new TextDecoder().decode(output.stderr);
  const match = /PEAK (\d+)\s*$/.exec(err);
  assert.ok(match, err);
  return { code: output.code, mib: Number(match[1]) / 1024, err };
}

Deno.test("short simple-packet and interface blocks are skipped with a warning, never a RangeError", () => {
  const shortSimple = joined([SECTION, INTERFACE, block(3, new Uint8Array(0))]);
  const shortInterface = joined([SECTION, block(1, Uint8Array.of(220, 0, 0, 0))]);
  for (const file of [shortSimple, shortInterface]) {
    const read = readTrace(file);
    assert.equal(read.format, "pcapng");
    assert.equal(read.packets.length, 0);
    assert.match(
      read.warnings.join("\n"),
      /block at offset \d+ has \d+ bytes, fewer than its \d+; skipped/,
    );
  }
});

Deno.test("canon decode of a crafted capture exits 1 with a message, not 2 (usage error)", async () => {
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    for (
      const bytes of [
        joined([SECTION, INTERFACE, block(3, new Uint8Array(0))]),
        joined([SECTION, block(1, Uint8Array.of(220, 0, 0, 0))]),
        new TextEncoder().encode("this is not a capture at all"),
      ]
    ) {
      await Deno.writeFile(file, bytes);
      const run = await canon(["decode", file]);
      assert.equal(run.code, 1, run.err);
      assert.match(run.err, /the capture has no packets|not a capture file/);
      assert.doesNotMatch(run.err, /RangeError|usage/i);
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a capture cut short decodes as far as it is whole, with a warning", async () => {
  const whole = decodeCanonTrace(capture);
  assert.deepEqual(whole.warnings, []);
  const cut = capture.subarray(0, Math.floor(capture.length * 0.45));
  const partial = decodeCanonTrace(cut);
  assert.match(partial.warnings.join("\n"), /cut short/);
  assert.ok(partial.commands.length > 2 && partial.commands.length < whole.commands.length);
  // Every line but the last reply (incomplete where it was cut) is as in the whole decode.
  const shared = partial.lines.length - 2;
  assert.deepEqual(partial.lines.slice(0, shared), whole.lines.slice(0, shared));

  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    await Deno.writeFile(file, cut);
    const run = await canon(["decode", file]);
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.err,
      /^decode: warning: the capture is cut short: \d+ bytes of an unfinished block; the capture is read up to offset \d+$/m,
    );
    assert.equal(run.out.trimEnd().split("\n").length, partial.lines.length);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a block claiming gigabytes is refused before anything is allocated for it", () => {
  const reader = new TraceReader();
  const huge = new Uint8Array(16);
  const view = new DataView(huge.buffer);
  view.setUint32(0, 6, true);
  view.setUint32(4, 0xfffffff0, true);
  const packets = reader.push(joined([SECTION, INTERFACE, huge]));
  assert.equal(packets.length, 0);
  // Nothing more is kept once the length is known to be damage.
  for (let i = 0; i < 64; i++) assert.deepEqual(reader.push(new Uint8Array(1 << 20)), []);
  reader.finish();
  assert.match(reader.warnings[0], /bad length 4294967280; the capture is read up to offset 48/);
  // A classic pcap record as well.
  const pcap = new Uint8Array(24 + 16);
  const p = new DataView(pcap.buffer);
  p.setUint32(0, 0xa1b2c3d4, true);
  p.setUint32(20, 220, true);
  p.setUint32(24 + 8, MAX_CAPTURE_BLOCK + 1, true);
  assert.match(readTrace(pcap).warnings[0], /packet 1 announces 16777217 bytes/);
});

Deno.test("a capture fed a byte at a time reads the same as at once", () => {
  const reader = new TraceReader();
  const packets = [];
  for (let i = 0; i < capture.length; i++) packets.push(...reader.push(capture.subarray(i, i + 1)));
  reader.finish();
  assert.deepEqual(reader.warnings, []);
  assert.deepEqual(packets, readTrace(capture).packets);
});

Deno.test("canon decode /dev/zero stops at once: it is not a capture", async () => {
  const started = performance.now();
  const run = await peakRss(["decode", "/dev/zero"]);
  assert.equal(run.code, 1, run.err);
  assert.match(run.err, /not a capture file/);
  assert.ok(performance.now() - started < 20_000);
  assert.ok(run.mib < 256, `${run.mib} MiB`);
});

/** A pcapng file of `megabytes` made of the session's packets over and over. */
async function bigCapture(megabytes: number): Promise<string> {
  const packets = readTrace(capture).packets;
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  using handle = await Deno.open(file, { write: true });
  const parts: Uint8Array[] = [];
  let size = 0;
  let written = 0;
  const writer = new PcapngWriter((bytes) => {
    parts.push(bytes);
    size += bytes.length;
  });
  let time = 1_700_000_000_000_000n;
  while (written < megabytes * 1024 * 1024) {
    for (const packet of packets) writer.writePacket(packet.data, time++);
    await handle.write(joined(parts));
    written += size;
    parts.length = 0;
    size = 0;
  }
  return file;
}

Deno.test("canon decode reads a capture as a stream: memory does not grow with its size", async () => {
  const small = await bigCapture(4);
  const big = await bigCapture(48);
  try {
    const a = await peakRss(["decode", small]);
    const b = await peakRss(["decode", big]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    console.log(
      `canon decode peak RSS: 4 MiB capture ${a.mib.toFixed(0)} MiB, 48 MiB capture ${
        b.mib.toFixed(0)
      } MiB`,
    );
    // The packets' bytes are garbage outside V8's heap, collected once some tens of MiB of it
    // have come (V8's external-memory trigger): a constant, whatever the file's size. The old
    // reader held the whole file and every event: 3 GB for a 96 MB capture.
    const slack = 40;
    assert.ok(b.mib < a.mib + slack, `${a.mib} MiB for 4 MiB, ${b.mib} MiB for 48 MiB`);
    const json = await peakRss(["decode", big, "--json"]);
    assert.equal(json.code, 0, json.err);
    console.log(`--json: ${json.mib.toFixed(0)} MiB`);
    assert.ok(json.mib < a.mib + slack, `--json: ${json.mib} MiB`);
  } finally {
    await Deno.remove(small);
    await Deno.remove(big);
  }
});

Deno.test("the streaming decode tells the same as the in-memory one, JSON included", async () => {
  const lines: string[] = [];
  const commands: unknown[] = [];
  const summary = await decodeCanonTraceStream(
    () => [capture.subarray(0, 1000), capture.subarray(1000)],
    {
      onLine: (line) => lines.push(line),
      onCommand: (command) => commands.push(command),
    },
  );
  const reference = decodeCanonTrace(capture);
  assert.deepEqual(lines, reference.lines);
  assert.deepEqual(commands, reference.commands);
  assert.equal(summary.commands, reference.commands.length);
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    await Deno.writeFile(file, capture);
    const run = await canon(["decode", file, "--json"]);
    assert.equal(run.code, 0, run.err);
    const json = JSON.parse(run.out);
    assert.deepEqual(json.lines, reference.lines);
    assert.deepEqual(json.commands, JSON.parse(JSON.stringify(reference.commands)));
    assert.equal(json.format, "pcapng");
    assert.deepEqual(json.device, JSON.parse(JSON.stringify(reference.device)));
    assert.deepEqual(json.warnings, []);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("readTrace raises only TraceFormatError, for what is no capture at all", () => {
  assert.throws(() => readTrace(new Uint8Array(5)), TraceFormatError);
  assert.throws(() => readTrace(new Uint8Array(64)), TraceFormatError);
  const noMagic = SECTION.slice();
  noMagic[8] = 0;
  assert.throws(() => readTrace(noMagic), /no byte-order magic/);
});
