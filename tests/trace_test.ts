// The wire-trace recorder and decoder: a session recorded as usbmon
// packets in pcapng decodes back to what the live log said, tshark reads the
// file as USB, classic pcap files (48-byte headers, either byte order) decode
// the same, and captures that are not USB are refused with a clear error.
import assert from "node:assert/strict";
import { Camera, setLogLevel, setLogSink } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { decodeCanonTrace, TraceDecodeError } from "../src/trace/decode.ts";
import { readTrace, TraceFormatError } from "../src/trace/pcap.ts";
import { recordDevice, UsbRecorder } from "../src/trace/recorder.ts";
import { decodeUsbmon, encodeUsbmon, LINKTYPE_USB_LINUX_MMAPPED } from "../src/trace/usbmon.ts";
import { hasCommand, skipWithout } from "./_support.ts";

function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A session with the virtual camera, recorded; returns the capture and the live log. */
async function recordSession(): Promise<{ capture: Uint8Array; live: string[]; packets: number }> {
  const chunks: Uint8Array[] = [];
  const live: string[] = [];
  const recorder = new UsbRecorder((bytes) => chunks.push(bytes.slice()), { bus: 3, device: 7 });
  const sink = setLogSink((line) => live.push(line.replace(/^canon INFO /, "")));
  const level = setLogLevel("info");
  try {
    await using cam = await Camera.connect(recordDevice(new VirtualCamera(), recorder));
    await cam.setOwner("Ada");
    await cam.storage.list("/DCIM", { recursive: true });
    await cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG");
    await cam.storage.read("/DCIM/100CANON/IMG_0003.JPG");
    await cam.storage.upload(new Uint8Array(9000).fill(7), "/DCIM/100CANON", { name: "UP.JPG" });
    await cam.storage.delete("/DCIM/100CANON/IMG_0001.JPG");
    await cam.storage.mkdir("/DCIM/102CANON");
  } finally {
    setLogLevel(level);
    setLogSink(sink);
    recorder.close();
  }
  return { capture: joined(chunks), live, packets: recorder.packets };
}

const session = await recordSession();
const WIRE_LINE = /^(-->|<--|control_|bulk_|interrupt_read)/;
const untimed = (line: string) => line.replace(/ in \d+\.\d+ s$/, "");
const comparable = untimed;

Deno.test("a recorded session decodes to the live log, line for line", () => {
  const trace = decodeCanonTrace(session.capture);
  assert.equal(trace.format, "pcapng");
  assert.deepEqual(
    { bus: trace.device?.bus, address: trace.device?.address },
    { bus: 3, address: 7 },
  );
  const live = session.live.filter((l) => WIRE_LINE.test(l)).map(comparable);
  const decoded = trace.lines.filter((l) => WIRE_LINE.test(l)).map(comparable);
  assert.ok(live.length > 100, `only ${live.length} wire lines were logged`);
  assert.equal(decoded.length, live.length);
  for (let i = 0; i < live.length; i++) {
    // The decoder adds decoded arguments and reply contents after what the live log says.
    assert.ok(decoded[i].startsWith(live[i]), `line ${i}: ${decoded[i]} | live: ${live[i]}`);
  }
});

Deno.test("decoding names the commands in order, with their arguments and status", () => {
  const trace = decodeCanonTrace(session.capture);
  const names = trace.commands.map((c) => c.name);
  assert.equal(names[0], "IdentifyCamera");
  assert.ok(names.indexOf("LockKeys") < names.indexOf("SetOwner"));
  for (
    const expected of [
      "SetOwner",
      "GetDirectory",
      "GetThumbnail",
      "GetFile",
      "UploadBlock",
      "DeleteFile",
    ]
  ) {
    assert.ok(names.includes(expected), `${expected} missing from ${names.join(", ")}`);
  }
  assert.equal(names[names.length - 1], "MakeDirectory");
  const owner = trace.commands.find((c) => c.name === "SetOwner")!;
  assert.equal(owner.arguments, '"Ada"');
  assert.equal(owner.status, 0);
  const remove = trace.commands.find((c) => c.name === "DeleteFile")!;
  assert.equal(remove.arguments, '"D:\\DCIM\\100CANON\\IMG_0001.JPG"');
  const upload = trace.commands.filter((c) => c.name === "UploadBlock");
  assert.equal(upload.length, 2); // 9000 bytes in blocks of 0x1400
  assert.match(upload[1].arguments, /UP\.JPG" offset 5120 3880 b$/);
  const file = trace.commands.find((c) => c.name === "GetFile")!;
  assert.ok(file.length! > 1000);
  assert.ok(
    trace.lines.some((l) => l.includes('<-- IdentifyCamera #0 status: 0x0 "Canon PowerShot G3"')),
  );
});

Deno.test("hex dumps and times are added on request", () => {
  const trace = decodeCanonTrace(session.capture, { hexdump: true, times: true });
  assert.match(trace.lines[0], /^\s+0\.\d{6} control_read \(0xc, 0x55\) got 1 \(0x1\) b/);
  // The identify reply, dumped: the model name starts at 0x5C.
  assert.ok(trace.lines.some((l) => /^\s+\d+\.\d{6}\s+0060 {2}6e 20 50 6f 77 65 72 53 /.test(l)));
  assert.ok(!decodeCanonTrace(session.capture).lines.some((l) => /^\s+0060 {2}/.test(l)));
});

const noTshark = skipWithout(await hasCommand("tshark", ["-v"]), "tshark");

Deno.test({
  name: "tshark reads the recording as USB traffic with Canon's vendor requests",
  ignore: noTshark,
}, async () => {
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    await Deno.writeFile(file, session.capture);
    const all = await new Deno.Command("tshark", { args: ["-r", file], stderr: "null" }).output();
    assert.ok(all.success);
    const lines = new TextDecoder().decode(all.stdout).trim().split("\n");
    assert.equal(lines.length, session.packets);
    assert.ok(lines.every((l) => / USB /.test(l)), lines.find((l) => !/ USB /.test(l)));
    const commands = await new Deno.Command("tshark", {
      args: ["-r", file, "-Y", "usb.setup.bRequest == 4 && usb.setup.wValue == 0x10"],
      stderr: "null",
    }).output();
    const count = new TextDecoder().decode(commands.stdout).trim().split("\n").length;
    assert.equal(count, decodeCanonTrace(session.capture).commands.length);
  } finally {
    await Deno.remove(file);
  }
});

/** The recording as a classic pcap with 48-byte usbmon headers (link type 189). */
function toClassicPcap(pcapng: Uint8Array, littleEndian: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b23c4d, littleEndian); // nanosecond timestamps
  header.setUint16(4, 2, littleEndian);
  header.setUint16(6, 4, littleEndian);
  header.setUint32(16, 262144, littleEndian);
  header.setUint32(20, 189, littleEndian);
  parts.push(new Uint8Array(header.buffer));
  for (const packet of readTrace(pcapng).packets) {
    const event = decodeUsbmon(packet.data, LINKTYPE_USB_LINUX_MMAPPED);
    const full = encodeUsbmon(event);
    const body = new Uint8Array(48 + event.data.length);
    body.set(full.subarray(0, 48));
    body.set(event.data, 48);
    if (!littleEndian) {
      const swap = (offset: number, size: number) => body.subarray(offset, offset + size).reverse();
      for (const [offset, size] of [[0, 8], [12, 2], [16, 8], [24, 4], [28, 4], [32, 4], [36, 4]]) {
        swap(offset, size);
      }
    }
    const record = new DataView(new ArrayBuffer(16));
    record.setUint32(0, Number(event.timeMicros / 1_000_000n), littleEndian);
    record.setUint32(4, Number(event.timeMicros % 1_000_000n) * 1000, littleEndian);
    record.setUint32(8, body.length, littleEndian);
    record.setUint32(12, body.length, littleEndian);
    parts.push(new Uint8Array(record.buffer), body);
  }
  return joined(parts);
}

Deno.test("classic pcap with the 48-byte header decodes the same, in either byte order", () => {
  const reference = decodeCanonTrace(session.capture);
  for (const littleEndian of [true, false]) {
    const pcap = toClassicPcap(session.capture, littleEndian);
    const trace = decodeCanonTrace(pcap);
    assert.equal(trace.format, "pcap");
    assert.deepEqual(
      trace.commands.map((c) => [c.name, c.serial, c.arguments, c.status]),
      reference.commands.map((c) => [c.name, c.serial, c.arguments, c.status]),
    );
    assert.deepEqual(trace.lines.map(untimed), reference.lines.map(untimed));
  }
});

Deno.test("a capture without USB packets, or not a capture at all, is refused clearly", () => {
  const ethernet = new Uint8Array(24 + 16 + 60);
  const view = new DataView(ethernet.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  view.setUint32(24 + 8, 60, true);
  view.setUint32(24 + 12, 60, true);
  assert.throws(
    () => decodeCanonTrace(ethernet),
    (e: unknown) =>
      e instanceof TraceDecodeError &&
      /no Linux USB \(usbmon\) packets, only link type\(s\) 1/.test(e.message),
  );
  assert.throws(
    () => decodeCanonTrace(new TextEncoder().encode("hello, this is no capture")),
    TraceFormatError,
  );
  assert.throws(
    () => decodeCanonTrace(session.capture, { device: { bus: 9, address: 9 } }),
    /no packets of device 9\.9; it has 3\.7/,
  );
});

Deno.test({
  name: "deno task emulate --record records what gphoto2 does through libusb",
  ignore: skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
    skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev"),
}, async () => {
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    const emulate = new URL("../src/cli/emulate.ts", import.meta.url).pathname;
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        emulate,
        "--quiet",
        "--record",
        file,
        "--",
        "gphoto2",
        "--summary",
      ],
      stdin: "null",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const trace = decodeCanonTrace(await Deno.readFile(file));
    // libusb reads the descriptors from sysfs: the Canon vendor requests tell the camera.
    assert.deepEqual({
      bus: trace.device?.bus,
      address: trace.device?.address,
      canon: trace.device?.canon,
    }, {
      bus: 1,
      address: 2,
      canon: true,
    });
    const names = trace.commands.map((c) => c.name);
    for (const expected of ["IdentifyCamera", "PowerStatus", "DiskInfo", "GetTime"]) {
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(", ")}`);
    }
    assert.ok(
      trace.commands.every((c) => c.status === 0 || c.length !== undefined),
      "all replies complete",
    );
  } finally {
    await Deno.remove(file);
  }
});
