// Tier 1: the remote-capture codecs against the samples and tables of the
// protocol reference (§4.3.13, §4.3.17, §4.4, §6.3–6.8, Appendix A, errata E2, E10).
import assert from "node:assert/strict";
import {
  advanceCapture,
  APERTURES,
  type CaptureAdvance,
  type CaptureProgress,
  decodeCustomFunctionReply,
  decodeCustomFunctions2,
  decodeGetReleaseParams,
  decodePictureAbilities,
  decodeReleaseParams,
  decodeZoom,
  encodeGetCustomFunction,
  encodeGetReleaseParams,
  encodePreviewRequest,
  encodeReleaseSettings,
  encodeRemoteControl,
  encodeRetrieveCapture,
  encodeSetReleaseParams,
  EXPOSURE_COMPENSATIONS,
  HALF_STOP_APERTURES,
  HALF_STOP_SHUTTER_SPEEDS,
  IMAGE_FORMATS,
  ISO_SPEEDS,
  RELEASE_PARAM,
  SHOOTING_MODES,
  SHUTTER_SPEEDS,
  startCapture,
  TRANSFER_MODE,
  UnknownSettingValueError,
} from "../src/protocol/capture_codec.ts";
import { encodeCommand } from "../src/protocol/codec.ts";
import { COMMANDS, NEW_PROTOCOL_COMMANDS } from "../src/protocol/commands.ts";
import { ProtocolError } from "../src/protocol/errors.ts";
import { type CameraClass, modelByProductId } from "../src/protocol/models.ts";
import { traitsOf } from "../src/protocol/traits.ts";

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/), (h) => parseInt(h, 16));
const SERIAL = [0x78, 0x56, 0x34, 0x12];

// §6.3 samples.
const G3_BLOCK = bytes(
  "20 03 01 00 64 00 00 00 01 FF 00 00 03 01 03 30 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 70 00 " +
    "18 18 FF FF 18 00 38 00 E6 00 9A 03 E6 00 20 00",
);
const G1_BLOCK = bytes(
  "FF 03 02 00 64 00 01 01 00 00 00 00 00 01 00 10 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 70 00 " +
    "18 18 FF FF 18 00 38 00 E0 00 A0 02 E0 00 20 00",
);
const EOS_20D_BLOCK = bytes(
  "20 04 02 00 00 00 FF 00 01 01 00 FF 03 FF 02 90 02 FF 00 FF 7F 7F 7F 7F FF FF 58 00 1C 00 74 00 " +
    "00 00 FF FF 18 00 50 00 FF FF FF FF FF FF 01 00",
);

Deno.test("the G3 sample block: large fine JPEG, flash off, beep off, P, macro off, ISO 50, f/4.0, 1/125, bias 0", () => {
  assert.equal(G3_BLOCK.length, 0x30);
  assert.deepEqual(decodeReleaseParams(G3_BLOCK, false), {
    imageFormat: { size: "large", quality: "fine", raw: false },
    flash: "off",
    beep: false,
    shootingMode: "P",
    macro: false,
    focusMode: "one-shot",
    iso: 50,
    aperture: 4,
    shutterSpeed: "1/125",
    exposureCompensation: 0,
  });
  // "Superfine changes byte 0x01 to 0x05."
  const superfine = G3_BLOCK.slice();
  superfine[0x01] = 0x05;
  assert.deepEqual(decodeReleaseParams(superfine, false).imageFormat, {
    size: "large",
    quality: "superfine",
    raw: false,
  });
});

Deno.test("the G1 and 20D samples: known bytes decode (half stops too), unknown ones (0xFF) are undefined", () => {
  const g1 = decodeReleaseParams(G1_BLOCK, false);
  assert.equal(g1.flash, "on");
  assert.equal(g1.beep, true);
  assert.equal(g1.shootingMode, "AUTO");
  assert.equal(g1.iso, 50);
  assert.equal(g1.exposureCompensation, 0);
  const eos = decodeReleaseParams(EOS_20D_BLOCK, true);
  assert.deepEqual(eos.imageFormat, { size: "large", quality: "raw", raw: true });
  assert.equal(eos.flash, undefined, "0xFF is no flash mode");
  assert.equal(eos.macro, undefined, "the 20D has no G3 macro byte");
  assert.equal(eos.shootingMode, "P");
  assert.equal(eos.iso, 400);
  assert.equal(eos.aperture, 2.5, "0x1C is the half stop between f/2 and f/2.8");
  assert.equal(eos.shutterSpeed, "1/180", "0x74 is the half stop between 1/125 and 1/250");
  assert.equal(eos.exposureCompensation, 0, "EOS column: 0x00 = 0 EV");
});

Deno.test("every table value survives encode then decode, and only its own byte changes", () => {
  const check = (change: Parameters<typeof encodeReleaseSettings>[1], offsets: number[]) => {
    const out = encodeReleaseSettings(G3_BLOCK, change, false);
    for (let i = 0; i < G3_BLOCK.length; i++) {
      if (!offsets.includes(i)) {
        assert.equal(out[i], G3_BLOCK[i], `byte ${i} for ${JSON.stringify(change)}`);
      }
    }
    const back = decodeReleaseParams(out, false);
    for (const [key, value] of Object.entries(change)) {
      assert.deepEqual(back[key as keyof typeof back], value, key);
    }
  };
  for (const row of ISO_SPEEDS) check({ iso: row.value }, [RELEASE_PARAM.ISO]);
  for (const row of APERTURES) check({ aperture: row.value }, [RELEASE_PARAM.APERTURE]);
  for (const row of SHUTTER_SPEEDS) {
    check({ shutterSpeed: row.value }, [RELEASE_PARAM.SHUTTER_SPEED]);
  }
  for (const row of SHOOTING_MODES) {
    check({ shootingMode: row.value }, [RELEASE_PARAM.SHOOTING_MODE]);
  }
  for (const row of EXPOSURE_COMPENSATIONS) {
    check({ exposureCompensation: row.value }, [RELEASE_PARAM.EXPOSURE_COMPENSATION]);
  }
  for (const row of IMAGE_FORMATS.filter((r) => r.label !== "RAW 2")) {
    check({ imageFormat: row.value }, [1, 2, 3]);
  }
  check({ flash: "auto", beep: true, macro: true, focusMode: "manual" }, [6, 7, 0x0d, 0x12]);
  assert.equal(encodeReleaseSettings(G3_BLOCK, { iso: 200 }, false)[0x1a], 0x50);
  assert.equal(encodeReleaseSettings(G3_BLOCK, { macro: true }, false)[0x0d], 0x03);
  assert.throws(
    () => encodeReleaseSettings(G3_BLOCK, { iso: 64 as 50 }, false),
    UnknownSettingValueError,
  );
});

Deno.test("exposure compensation: PowerShot and EOS columns of §6.4, chosen by model name", () => {
  const ev = (value: number, eos: boolean) =>
    encodeReleaseSettings(G3_BLOCK, { exposureCompensation: value }, eos)[0x20];
  assert.equal(ev(2, false), 0x08);
  assert.equal(ev(-1, false), 0x20);
  assert.equal(ev(1 / 3, false), 0x15);
  assert.equal(ev(2, true), 0x10);
  assert.equal(ev(-1, true), 0xf8);
  assert.equal(ev(-0.5, true), 0xfc);
  for (const row of EXPOSURE_COMPENSATIONS) assert.equal(row.powerShot, (0x18 - row.eos) & 0xff);
});

Deno.test("half-stop codes read as the camera shows them; set() writes thirds only", () => {
  const read = (aperture: number, shutter: number) => {
    const block = G3_BLOCK.slice();
    block[RELEASE_PARAM.APERTURE] = aperture;
    block[RELEASE_PARAM.SHUTTER_SPEED] = shutter;
    const s = decodeReleaseParams(block, true);
    return [s.aperture, s.shutterSpeed];
  };
  assert.deepEqual(read(0x1c, 0x74), [2.5, "1/180"]); // the 20D's half stops (Protocol.xml)
  assert.deepEqual(read(0x34, 0x6c), [6.7, "1/90"]);
  assert.deepEqual(read(0x3c, 0x2c), [9.5, "3"]);
  assert.deepEqual(read(0x1d, 0x70), [2.5, "1/125"], "thirds are unchanged");
  // Whole stops are multiples of 8 units: every half-stop code sits halfway (4 past one),
  // where the thirds table has no code.
  const tables = [[HALF_STOP_APERTURES, APERTURES], [HALF_STOP_SHUTTER_SPEEDS, SHUTTER_SPEEDS]];
  for (const [half, thirds] of tables as [typeof APERTURES, typeof APERTURES][]) {
    for (const row of half) {
      assert.equal(row.code % 8, 4, row.label);
      assert.ok(!thirds.some((t) => t.code === row.code), `${row.label}: its own code`);
    }
  }
  // set() takes the thirds only: a half-stop value has no code to write.
  assert.throws(
    () => encodeReleaseSettings(G3_BLOCK, { aperture: 6.7 }, true),
    UnknownSettingValueError,
  );
  assert.throws(
    () => encodeReleaseSettings(G3_BLOCK, { shutterSpeed: "1/180" }, true),
    UnknownSettingValueError,
  );
});

Deno.test("1.6 s is written 0x33 and read from 0x33 or 0x32 (errata E2)", () => {
  assert.equal(encodeReleaseSettings(G3_BLOCK, { shutterSpeed: "1.6" }, false)[0x1e], 0x33);
  for (const code of [0x32, 0x33]) {
    const block = G3_BLOCK.slice();
    block[0x1e] = code;
    assert.equal(decodeReleaseParams(block, false).shutterSpeed, "1.6");
  }
});

Deno.test("remote-control payloads: Appendix A blocks, class 6 odd length", () => {
  const init = encodeCommand(COMMANDS.remoteControl, 0x12345678, encodeRemoteControl(0), false);
  assert.deepEqual(
    [...init.subarray(0x40)],
    [...bytes("02 00 00 00 13 00 00 12 18 00 00 00"), ...SERIAL, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  const init2 = encodeCommand(
    NEW_PROTOCOL_COMMANDS.remoteControl!,
    0x12345678,
    encodeRemoteControl(0, [], true),
    true,
  );
  assert.deepEqual(
    [...init2.subarray(0x40)],
    [...bytes("02 00 00 00 25 00 10 12 19 00 00 00"), ...SERIAL, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(
    [...encodeRemoteControl(0x09, [4, 0x0d])],
    [...bytes("09 00 00 00 04 00 00 00 0D 00 00 00")],
  );
  assert.deepEqual([...encodeRemoteControl(0x04, [0])], [...bytes("04 00 00 00 00 00 00 00")]);
  assert.equal(encodeRemoteControl(0x04, [0], true).length, 9);
  assert.deepEqual(
    [...encodeRemoteControl(0x14, Uint8Array.of(1, 0, 0, 0, 3))],
    [...bytes("14 00 00 00 01 00 00 00 03")],
  );
  assert.deepEqual([...encodeGetReleaseParams()], [...bytes("0A 00 00 00 00 00 00 00")]);
});

Deno.test("set release parameters: word 7, word 0x30, the block (block length 0x48; class 6 0x49)", () => {
  const payload = encodeSetReleaseParams(G3_BLOCK);
  assert.equal(payload.length, 0x38);
  assert.deepEqual([...payload.subarray(0, 8)], [...bytes("07 00 00 00 30 00 00 00")]);
  assert.deepEqual(payload.subarray(8), G3_BLOCK);
  const block = encodeCommand(COMMANDS.remoteControl, 1, payload, false);
  assert.equal(block[0], 0x48);
  assert.equal(encodeSetReleaseParams(G3_BLOCK, true).length, 0x39);
  assert.throws(() => encodeSetReleaseParams(G3_BLOCK.subarray(0, 0x2f)), RangeError);
});

Deno.test("get release parameters and get zoom replies decode (§4.4.2, G3 zoom 0..0x11)", () => {
  const reply = new Uint8Array(0x8c - 0x54);
  reply.set(bytes("0A 00 00 00 30 00 00 00"));
  reply.set(G3_BLOCK, 8);
  assert.deepEqual(decodeGetReleaseParams(reply), G3_BLOCK);
  assert.throws(() => decodeGetReleaseParams(new Uint8Array(8)), ProtocolError);
  const zoom = new Uint8Array(0x60 - 0x54);
  zoom.set(bytes("0B 00 00 00 04 00 00 00 03 00 11 00"));
  assert.deepEqual(decodeZoom(zoom), { position: 3, max: 0x11 });
  assert.throws(() => decodeZoom(new Uint8Array(8)), ProtocolError);
});

Deno.test("captured-image and viewfinder requests (Appendix A: thumbnail, key 1, block 0x5000)", () => {
  const payload = encodeRetrieveCapture(1, 1, 0x5000);
  const block = encodeCommand(COMMANDS.retrieveCapture, 0x12345678, payload, false);
  assert.deepEqual([...block.subarray(0, 8)], [0x20, 0, 0, 0, 0x02, 0x02, 0, 0]);
  assert.deepEqual(
    [...block.subarray(0x40)],
    [
      ...bytes("02 00 00 00 17 00 00 12 20 00 00 00"),
      ...SERIAL,
      ...bytes("00 00 00 00 00 50 00 00 01 00 00 00 01 00 00 00"),
    ],
  );
  assert.deepEqual([...encodePreviewRequest()], [...bytes("00 00 00 00 00 50 00 00")]);
});

Deno.test("picture abilities: the §4.3.13 layout decodes to sizes, qualities and formats", () => {
  const data = new Uint8Array(0x394 - 0x54);
  const view = new DataView(data.buffer);
  view.setUint16(0, 0x340, true);
  data.set([0x00, 0x00, 0x19, 0x01], 2);
  data.fill(0xff, 6, 6 + 32);
  data.set(new TextEncoder().encode("PowerShot G3"), 6);
  const rows: [string, number, number, number][] = [
    ["Large:SuperFine", 1536, 2048, 1],
    ["Medium 1:Fine", 1200, 1600, 2],
    ["Medium 2:Normal", 768, 1024, 3],
    ["Small:Fine", 480, 640, 2],
    ["CRW", 1536, 2048, 4],
  ];
  view.setUint32(0x26, rows.length, true);
  rows.forEach(([name, height, width, compression], i) => {
    const at = 0x2a + i * 32;
    data.set(new TextEncoder().encode(name), at);
    view.setUint32(at + 20, height, true);
    view.setUint32(at + 24, width, true);
    view.setUint32(at + 28, compression, true);
  });
  const table = decodePictureAbilities(data);
  assert.equal(table.structureSize, 0x340);
  assert.equal(table.cameraName, "PowerShot G3");
  assert.deepEqual([...table.modelCode], [0x00, 0x00, 0x19, 0x01]);
  assert.deepEqual(table.entries.map((e) => [e.name, e.width, e.height, e.format]), [
    ["Large:SuperFine", 2048, 1536, { size: "large", quality: "superfine", raw: false }],
    ["Medium 1:Fine", 1600, 1200, { size: "medium", quality: "fine", raw: false }],
    ["Medium 2:Normal", 1024, 768, { size: "medium2", quality: "normal", raw: false }],
    ["Small:Fine", 640, 480, { size: "small", quality: "fine", raw: false }],
    ["CRW", 2048, 1536, { size: "large", quality: "raw", raw: true }],
  ]);
  // A count larger than the reply holds reads only the entries that fit.
  view.setUint32(0x26, 1000, true);
  assert.equal(decodePictureAbilities(data).entries.length, Math.floor((data.length - 0x2a) / 32));
});

Deno.test("custom functions: RC 0x0F payload and reply (old EOS), 0x1D reply (20D)", () => {
  const payload = encodeGetCustomFunction(4);
  assert.equal(payload.length, 0x12, "payload 0x12, block 0x62");
  assert.deepEqual(
    [...payload],
    [...bytes("0F 00 00 00 0A 00 00 00 04 00 FF FF 00 00 00 00 00 00")],
  );
  const reply = new Uint8Array(0x66 - 0x54);
  reply.set(bytes("0F 00 00 00 0A 00 00 00 01 00 01 00 01 00"));
  assert.deepEqual(decodeCustomFunctionReply(reply), {
    index: 1,
    value: 1,
    name: "Long exposure noise reduction",
    meaning: "on",
  });
  // Two bytes per function (value, number): see tests/replay_20d_test.ts for the real reply.
  const twenty = new Uint8Array(0x94 - 0x54);
  twenty[0] = 0x28;
  for (let n = 1; n <= 18; n++) twenty.set([0, n], 2 + 2 * n);
  twenty.set([1, 2], 6);
  twenty.set([1, 6], 14);
  const functions = decodeCustomFunctions2(twenty);
  assert.equal(functions.length, 18);
  assert.deepEqual(functions.map((f) => f.index), Array.from({ length: 18 }, (_, i) => i + 1));
  assert.deepEqual(functions[1], {
    index: 2,
    value: 1,
    name: "Long exposure noise reduction",
    meaning: "on",
  });
  assert.equal(functions[5].meaning, "1/3 stop");
  assert.equal(functions[0].meaning, "none");
  assert.throws(() => decodeCustomFunctions2(Uint8Array.of(0xff, 0, 0, 0)), ProtocolError);
  assert.throws(() => decodeCustomFunctions2(Uint8Array.of(7, 0, 0, 0, 0, 1, 0)), /pairs/);
});

// ---- the interrupt state machine (§4.4.3) ----

function packet(code: number, word0c: number, length = 0x10, extra?: (p: Uint8Array) => void) {
  const p = new Uint8Array(length);
  const v = new DataView(p.buffer);
  v.setUint32(0, 2, true);
  v.setUint32(4, code, true);
  v.setUint32(8, length, true);
  v.setUint32(0x0c, word0c, true);
  extra?.(p);
  return p;
}
const started = packet(0x0a, 0x1c);
const finished = packet(0x0a, 0x1d);
const descriptor = (code: number, key: number, size: number, version = 1) =>
  packet(code, key, 0x17, (p) => {
    p[0x10] = version;
    new DataView(p.buffer).setUint32(0x11, size, true);
  });

function run(cameraClass: CameraClass, productId: number, mode: number, packets: Uint8Array[]) {
  const rules = traitsOf({ cameraClass, quirks: modelByProductId(productId)?.quirks }).captureRules;
  let progress: CaptureProgress = startCapture(mode);
  const kinds: string[] = [];
  let last: CaptureAdvance | undefined;
  for (const p of packets) {
    last = advanceCapture(progress, p, rules);
    progress = last.progress;
    kinds.push(last.kind);
  }
  return { kinds, progress, last: last! };
}

Deno.test("PowerShot to card (G3, mode 0x08): started, finished -> done", () => {
  const { kinds, progress } = run(5, 0x306e, TRANSFER_MODE.FULL_TO_DRIVE, [started, finished]);
  assert.deepEqual(kinds, ["continue", "done"]);
  assert.equal(progress.step, 2);
});

Deno.test("PowerShot to host (G2, 0x03): started, thumbnail and image descriptors, finished", () => {
  const { kinds, progress } = run(1, 0x3055, 0x03, [
    started,
    descriptor(0x08, 1, 5000),
    descriptor(0x0c, 1, 900_000),
    finished,
  ]);
  assert.deepEqual(kinds, ["continue", "continue", "continue", "done"]);
  assert.deepEqual(progress.thumbnail, { key: 1, size: 5000 });
  assert.deepEqual(progress.image, { key: 1, size: 900_000 });
  assert.equal(progress.pending, 0);
});

Deno.test("EOS D60 (class 4) to card waits past 'finished' and 'written' for 'complete'; the 10D ends on 'written'", () => {
  const sequence = [started, finished, packet(0x0e, 0), packet(0x0f, 0)];
  assert.deepEqual(run(4, 0x3060, 0x08, sequence).kinds, [
    "continue",
    "continue",
    "continue",
    "done",
  ]);
  assert.deepEqual(run(4, 0x3083, 0x08, sequence.slice(0, 3)).kinds, [
    "continue",
    "continue",
    "done",
  ]);
});

Deno.test("the 300D and the 20D end on the image descriptor; the 20D sends no 'started'", () => {
  assert.deepEqual(run(4, 0x3084, 0x02, [started, descriptor(0x0c, 7, 100)]).kinds, [
    "continue",
    "done",
  ]);
  const twenty = run(6, 0x30eb, 0x02, [descriptor(0x0c, 0x83ad, 123456, 2)]);
  assert.deepEqual(twenty.kinds, ["done"]);
  assert.deepEqual(twenty.progress.image, { key: 0x83ad, size: 123456 });
});

Deno.test("photographic failure carries its code; a 16-byte failure packet has code 0 (E10)", () => {
  const failure = packet(0x0a, 0x0a, 0x14, (p) => new DataView(p.buffer).setUint32(0x10, 1, true));
  const { last } = run(6, 0x3101, 0x08, [started, failure]);
  assert.equal(last.kind, "failed");
  assert.equal(last.kind === "failed" && last.code, 1);
  const bare = run(5, 0x306e, 0x08, [started, packet(0x0a, 0x0a)]).last;
  assert.equal(bare.kind === "failed" && bare.code, 0);
});

Deno.test("out-of-sequence and unknown packets are unexpected; flash wait and unasked descriptors are not", () => {
  // "finished" with "started" lost still ends a PowerShot's capture; a second one is unexpected.
  assert.equal(run(5, 0x306e, 0x08, [finished]).last.kind, "done");
  assert.equal(run(4, 0x3083, 0x08, [finished]).last.kind, "continue");
  assert.equal(run(5, 0x306e, 0x08, [started, finished, finished]).kinds.at(-1), "unexpected");
  assert.equal(run(5, 0x306e, 0x08, [started, started]).last.kind, "unexpected");
  assert.equal(run(5, 0x306e, 0x08, [packet(0x01, 0)]).last.kind, "unexpected");
  assert.equal(run(5, 0x306e, 0x08, [packet(0x20, 0)]).last.kind, "unexpected");
  assert.deepEqual(
    run(4, 0x3060, 0x08, [started, packet(0x0a, 0x1b), descriptor(0x0c, 1, 1)]).kinds,
    ["continue", "continue", "continue"],
  );
});
