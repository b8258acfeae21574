// Contract: one error hierarchy (issue 13, point 4). Failures are driven at
// each layer (libusb loading, the USB device, the protocol session, the
// camera and its storage and capture, trace files) and every error the
// library raises must be a CanonError, its kind told by its subclass.
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  CardPathNotFoundError,
  LibusbNotFoundError,
  PhotographicFailureError,
  ProtocolError,
  UsbError,
} from "../mod.ts";
import {
  decodeCanonTrace,
  PcapngWriter,
  readTrace,
  TraceDecodeError,
  TraceFormatError,
} from "../src/trace/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const IDENTIFY = { cmd1: 0x01, cmd2: 0x12 };
const POWER = { cmd1: 0x0a, cmd2: 0x12 };

/** The error `body` fails with; fails the test when it does not fail. */
async function failure(body: () => Promise<unknown>): Promise<unknown> {
  try {
    await body();
  } catch (error) {
    return error;
  }
  assert.fail("expected a failure");
}

function assertKind(error: unknown, kind: abstract new (...a: never[]) => Error): void {
  assert.ok(error instanceof CanonError, `${String(error)} is a CanonError`);
  assert.ok(error instanceof kind, `${String(error)} is a ${kind.name}`);
}

Deno.test("errors: the USB device layer's errors are CanonErrors (UsbError)", async () => {
  const vc = new VirtualCamera();
  const read = await failure(() => vc.transferIn(1, 64)); // not opened
  assertKind(read, UsbError);
  vc.unplug();
  const connect = await failure(() => Camera.connect(vc, { timeout: 100 }));
  assertKind(connect, UsbError);
  assert.equal((connect as UsbError).code, "NO_DEVICE");
});

Deno.test("errors: libusb that cannot be loaded is a CanonError (LibusbNotFoundError)", async () => {
  const script = `
    import { Camera, CanonError } from ${JSON.stringify(import.meta.resolve("../mod.ts"))};
    try {
      await using cam = await Camera.open();
      console.log(JSON.stringify({ opened: cam.modelName }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, base: e instanceof CanonError }));
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-ffi", "--allow-env", "--allow-read", "-"],
    env: { CANON_LIBUSB_PATH: "/nonexistent/libusb-1.0.so", LD_PRELOAD: "", NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.deepEqual(JSON.parse(text), { name: LibusbNotFoundError.name, base: true });
});

Deno.test("errors: protocol failures are CanonErrors, each of its own kind", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 100 });

  vc.faults.inject({ kind: "silent" }, { command: POWER });
  assertKind(await failure(() => cam.powerStatus()), CameraTimeoutError);

  vc.faults.inject({ kind: "garble" }, { command: IDENTIFY });
  assertKind(await failure(() => cam.identify()), ProtocolError);

  vc.faults.inject({ kind: "status", status: 0x02000029 }, { command: POWER });
  assertKind(await failure(() => cam.powerStatus()), CameraStatusError);

  // The stalled endpoint and the session's recovery: whatever surfaces is a CanonError.
  vc.faults.inject({ kind: "stall" }, { command: POWER });
  const stalled = await cam.powerStatus().then(() => undefined, (e: unknown) => e);
  if (stalled !== undefined) assert.ok(stalled instanceof CanonError, String(stalled));

  vc.faults.inject({ kind: "unplug" }, { command: POWER });
  const gone = await failure(() => cam.powerStatus());
  assert.ok(gone instanceof CanonError, String(gone));
  assertKind(await failure(() => cam.identify()), CameraClosedError);
});

Deno.test("errors: storage and capture failures are CanonErrors", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  assertKind(await failure(() => cam.storage.list("/DCIM/999CANON")), CardPathNotFoundError);
  assertKind(
    await failure(() => cam.storage.delete("/DCIM/100CANON/NOPE_999.JPG")),
    CanonError,
  );
  await using _remote = await cam.capture.start();
  vc.faults.inject({ kind: "capture-failure", code: 1 });
  assertKind(await failure(() => cam.capture.shoot()), PhotographicFailureError);
});

Deno.test("errors: a damaged or foreign trace file is a CanonError", () => {
  let thrown: unknown;
  try {
    readTrace(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  } catch (e) {
    thrown = e;
  }
  assertKind(thrown, TraceFormatError);

  const chunks: Uint8Array[] = [];
  new PcapngWriter((bytes) => chunks.push(bytes.slice()));
  const empty = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    empty.set(c, at);
    at += c.length;
  }
  thrown = undefined;
  try {
    decodeCanonTrace(empty);
  } catch (e) {
    thrown = e;
  }
  assertKind(thrown, TraceDecodeError);
});

Deno.test({
  name: "errors: through libusb and umockdev, an unplugged camera's errors are CanonErrors",
  ignore: skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0"),
  async fn() {
    using testbed = UmockdevTestbed.open();
    const vc = new VirtualCamera();
    const device = testbed.attach(vc.usbFunction);
    await using cam = await Camera.open({ timeout: 250 });
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    device.detach();
    const gone = await failure(() => cam.powerStatus());
    assert.ok(gone instanceof CanonError, String(gone));
    assertKind(await failure(() => cam.identify()), CanonError);
  },
});
