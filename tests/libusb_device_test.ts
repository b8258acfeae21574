// Tier 3: the libusb-backed device, through the real libusb-1.0, against a
// device emulated by the umockdev bridge in this same process. Needs
// LD_PRELOAD=libumockdev-preload.so.0 (as `deno task test` sets it); without
// it these tests are reported as ignored.
import assert from "node:assert/strict";
import { type EmulatedUsbDevice, UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "../src/emulator/engine/usb_function.ts";
import { listUsbDevices, openUsbDevice } from "../src/usb/discovery.ts";
import { type LibusbDevice, UsbTimeoutError } from "../src/usb/libusb_device.ts";
import { libusbContextUsers, startLibusbEarly } from "../src/usb/libusb_context.ts";
import { UsbError } from "../src/usb/errors.ts";
import { inResultBytes } from "../src/usb/device.ts";

const underUmockdev = (Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload");

const CONFIGURATION = Uint8Array.of(
  0x09,
  0x02,
  0x27,
  0x00,
  0x01,
  0x01,
  0x00,
  0xc0,
  0x01, // configuration 1, wTotalLength 39
  0x09,
  0x04,
  0x00,
  0x00,
  0x03,
  0xff,
  0xff,
  0xff,
  0x00, // interface 0, 3 endpoints, vendor class
  0x07,
  0x05,
  0x81,
  0x02,
  0x40,
  0x00,
  0x00, // 0x81 bulk IN, 64
  0x07,
  0x05,
  0x02,
  0x02,
  0x40,
  0x00,
  0x00, // 0x02 bulk OUT, 64
  0x07,
  0x05,
  0x83,
  0x03,
  0x10,
  0x00,
  0x0a, // 0x83 interrupt IN, 16, every 10 ms
);
const DEVICE = Uint8Array.of(
  0x12,
  0x01,
  0x10,
  0x01,
  0x00,
  0x00,
  0x00,
  0x40, // USB 1.1, ep0 64
  0xa9,
  0x04,
  0x6e,
  0x30,
  0x01,
  0x00, // 04a9:306e, bcdDevice 0x0001
  0x01,
  0x02,
  0x00,
  0x01, // iManufacturer 1, iProduct 2, no serial, 1 configuration
);

/** Vendor requests understood by the test device. */
const REQ = { ECHO: 0x01, HALT_ENDPOINT: 0x7e, STALL: 0x7f } as const;

/**
 * A small G3-shaped device: standard descriptors; vendor control OUT stores
 * its data and vendor control IN request ECHO returns it; other control IN
 * requests return a counting pattern; bulk IN 0x81 returns what bulk OUT 0x02
 * last received, else exactly the length asked for (pattern i & 0xff);
 * interrupt IN 0x83 has data only when queued by the test.
 */
class TestCamera implements UsbFunction {
  readonly descriptors: UsbDescriptorSet = {
    device: DEVICE,
    configuration: CONFIGURATION,
    strings: { 1: "Canon Inc.", 2: "Canon Digital Camera" },
    speedMbps: 12,
  };
  connected = true;
  stored = new Uint8Array(0);
  bulkEcho: Uint8Array | null = null;
  interrupts: Uint8Array[] = [];
  halted = new Set<number>();
  clearedHalts: number[] = [];
  #listeners = new Set<() => void>();

  controlIn(setup: SetupPacket): Uint8Array | "stall" {
    const type = (setup.bmRequestType >> 5) & 3;
    if (type === 0 && setup.bRequest === 0x06) return this.#descriptor(setup);
    if (setup.bRequest === REQ.STALL) return "stall";
    if (setup.bRequest === REQ.ECHO) return this.stored.slice(0, setup.wLength);
    const out = new Uint8Array(setup.wLength);
    for (let i = 0; i < out.length; i++) out[i] = (0xa0 + i) & 0xff;
    return out;
  }

  controlOut(setup: SetupPacket, data: Uint8Array): FunctionWrite {
    if (setup.bRequest === REQ.STALL) return "stall";
    if (setup.bRequest === REQ.HALT_ENDPOINT) {
      this.halted.add(setup.wIndex);
      return "ok";
    }
    this.stored = data.slice();
    return "ok";
  }

  read(endpointAddress: number, maxLength: number): FunctionRead {
    if (this.halted.has(endpointAddress)) return "stall";
    if (endpointAddress === 0x83) return this.interrupts.shift()?.slice(0, maxLength) ?? null;
    if (this.bulkEcho) {
      const out = this.bulkEcho.slice(0, maxLength);
      this.bulkEcho = null;
      return out;
    }
    const out = new Uint8Array(maxLength);
    for (let i = 0; i < out.length; i++) out[i] = i & 0xff;
    return out;
  }

  write(endpointAddress: number, data: Uint8Array): FunctionWrite {
    if (this.halted.has(endpointAddress)) return "stall";
    this.bulkEcho = data.slice();
    return "ok";
  }

  clearHalt(endpointAddress: number): void {
    this.clearedHalts.push(endpointAddress);
    this.halted.delete(endpointAddress);
  }

  resets = 0;

  reset(): void {
    this.resets++;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Queue an interrupt packet and wake a waiting read. */
  raiseInterrupt(packet: Uint8Array): void {
    this.interrupts.push(packet);
    for (const l of [...this.#listeners]) l();
  }

  /** How many string descriptors (the language list too) were asked for. */
  stringRequests = 0;

  #descriptor(setup: SetupPacket): Uint8Array | "stall" {
    const kind = setup.wValue >> 8, index = setup.wValue & 0xff;
    if (kind === 3) this.stringRequests++;
    let d: Uint8Array | undefined;
    if (kind === 1) d = DEVICE;
    else if (kind === 2) d = CONFIGURATION;
    else if (kind === 3 && index === 0) d = Uint8Array.of(4, 3, 0x09, 0x04);
    else if (kind === 3 && this.descriptors.strings[index] !== undefined) {
      const s = this.descriptors.strings[index];
      d = new Uint8Array(2 + 2 * s.length);
      d[0] = d.length;
      d[1] = 3;
      for (let i = 0; i < s.length; i++) d[2 + 2 * i] = s.charCodeAt(i);
    }
    return d ? d.slice(0, setup.wLength) : "stall";
  }
}

const VENDOR = { requestType: "vendor", recipient: "device", value: 0, index: 0 } as const;

/** A testbed with one TestCamera at 001/005, torn down after `body`. */
async function withCamera(
  body: (camera: TestCamera, plug: EmulatedUsbDevice) => Promise<void>,
): Promise<void> {
  const testbed = UmockdevTestbed.open();
  try {
    const camera = new TestCamera();
    const plug = testbed.attach(camera, { bus: 1, address: 5 });
    await body(camera, plug);
  } finally {
    testbed.close();
  }
  // Every device was closed, so no libusb context outlives the testbed.
  assert.equal(libusbContextUsers(), 0);
}

/** Open and claim the camera at 001/005. */
async function openCamera(): Promise<LibusbDevice> {
  const dev = await openUsbDevice({ bus: 1, address: 5 });
  await dev.open();
  await dev.claimInterface(0);
  return dev;
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !underUmockdev, fn });

test("listing shows the emulated camera's bus, address, IDs and full speed", async () => {
  await withCamera(async () => {
    const all = await listUsbDevices();
    const canon = await listUsbDevices({ vendorId: 0x04a9, productId: 0x306e });
    assert.equal(canon.length, 1);
    const { portPath, ...rest } = canon[0];
    assert.deepEqual(rest, {
      bus: 1,
      address: 5,
      vendorId: 0x04a9,
      productId: 0x306e,
      bcdDevice: 0x0001,
      speed: "full",
    });
    assert.match(portPath ?? "", /^1-\d+$/);
    assert.ok(all.some((d) => d.bus === 1 && d.address === 5));
    assert.deepEqual(await listUsbDevices({ vendorId: 0x1234 }), []);
  });
});

test("an unknown device is NOT_FOUND, and the message lists what is attached", async () => {
  await withCamera(async () => {
    await assert.rejects(openUsbDevice({ vendorId: 0x04a9, productId: 0x3070 }), (e) => {
      assert.ok(e instanceof UsbError);
      assert.equal(e.code, "NOT_FOUND");
      assert.match(e.message, /04a9:3070/);
      assert.match(e.message, /001\/005 04a9:306e/);
      return true;
    });
  });
});

test("open reads the product and manufacturer strings and the configuration", async () => {
  await withCamera(async () => {
    const dev = await openUsbDevice({ vendorId: 0x04a9, productId: 0x306e });
    assert.equal(dev.opened, false);
    assert.equal(dev.productName, undefined);
    await dev.open();
    try {
      assert.equal(dev.opened, true);
      assert.equal(dev.productName, "Canon Digital Camera");
      assert.equal(dev.manufacturerName, "Canon Inc.");
      assert.equal(dev.serialNumber, undefined);
      assert.equal(dev.bus, 1);
      assert.equal(dev.address, 5);
      assert.deepEqual(dev.configuration, {
        configurationValue: 1,
        interfaces: [{
          interfaceNumber: 0,
          alternate: {
            endpoints: [
              { endpointNumber: 1, direction: "in", type: "bulk", packetSize: 64 },
              { endpointNumber: 2, direction: "out", type: "bulk", packetSize: 64 },
              { endpointNumber: 3, direction: "in", type: "interrupt", packetSize: 16 },
            ],
          },
        }],
      });
      await dev.claimInterface(0);
    } finally {
      await dev.close();
    }
    assert.equal(dev.opened, false);
  });
});

test("readStrings: false opens without asking for a string descriptor", async () => {
  await withCamera(async (camera) => {
    await using dev = await openUsbDevice({ bus: 1, address: 5 }, { readStrings: false });
    await dev.open();
    assert.equal(dev.opened, true);
    assert.equal(dev.productName, undefined);
    assert.equal(dev.manufacturerName, undefined);
    assert.equal(camera.stringRequests, 0);
    // The default still reads them: the language list, then both strings.
    await using named = await openUsbDevice({ bus: 1, address: 5 });
    await named.open();
    assert.equal(named.productName, "Canon Digital Camera");
    assert.equal(camera.stringRequests, 3);
  });
});

test("control OUT then control IN round-trips the bytes", async () => {
  await withCamera(async () => {
    await using dev = await openCamera();
    const payload = new TextEncoder().encode("owner: Deno");
    const out = await dev.controlTransferOut({ ...VENDOR, request: 0x10 }, payload);
    assert.deepEqual(out, { status: "ok", bytesWritten: payload.length });
    const back = await dev.controlTransferIn({ ...VENDOR, request: REQ.ECHO }, 0x40);
    assert.equal(back.status, "ok");
    assert.deepEqual(inResultBytes(back), payload);
    const pattern = await dev.controlTransferIn({ ...VENDOR, request: 0x04, value: 1 }, 0x58);
    assert.equal(pattern.data?.byteLength, 0x58);
    assert.equal(pattern.data?.getUint8(0x57), (0xa0 + 0x57) & 0xff);
  });
});

test("bulk IN returns exactly the lengths asked for, and bulk OUT data echoes back", async () => {
  await withCamera(async () => {
    await using dev = await openCamera();
    for (const n of [1, 63, 64, 65, 0x50, 4096, 65536]) {
      const r = await dev.transferIn(1, n);
      assert.equal(r.status, "ok");
      const b = inResultBytes(r);
      assert.equal(b.length, n, `bulk IN of ${n}`);
      assert.equal(b[n - 1], (n - 1) & 0xff);
    }
    const sent = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    assert.deepEqual(await dev.transferOut(2, sent), { status: "ok", bytesWritten: 300 });
    assert.deepEqual(inResultBytes(await dev.transferIn(1, 512)), sent);
  });
});

test("interrupt IN waits for an event, and times out with TIMEOUT when none comes", async () => {
  await withCamera(async (camera) => {
    await using dev = await openCamera();
    setTimeout(() => camera.raiseInterrupt(Uint8Array.of(0x21, 0, 0, 0)), 50);
    const event = await dev.transferIn(3, 0x10, { timeout: 2000 });
    assert.deepEqual(inResultBytes(event), Uint8Array.of(0x21, 0, 0, 0));

    const started = performance.now();
    await assert.rejects(dev.transferIn(3, 0x10, { timeout: 200 }), (e) => {
      assert.ok(e instanceof UsbTimeoutError);
      assert.equal(e.code, "TIMEOUT");
      assert.equal(e.partial, 0);
      assert.match(e.message, /interrupt IN transfer on endpoint 0x83 .* timed out after 200 ms/);
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 190 && elapsed < 2000, `timed out after ${elapsed} ms`);
    // The device is still usable after a timeout.
    assert.equal((await dev.transferIn(1, 8)).status, "ok");
  });
});

test("a stalled request or endpoint resolves with status 'stall', and clearHalt recovers", async () => {
  await withCamera(async (camera) => {
    await using dev = await openCamera();
    assert.deepEqual(await dev.controlTransferIn({ ...VENDOR, request: REQ.STALL }, 4), {
      status: "stall",
    });
    assert.equal((await dev.controlTransferOut({ ...VENDOR, request: REQ.STALL })).status, "stall");
    await dev.controlTransferOut({ ...VENDOR, request: REQ.HALT_ENDPOINT, index: 0x81 });
    assert.equal((await dev.transferIn(1, 64)).status, "stall");
    await dev.clearHalt("in", 1);
    assert.deepEqual(camera.clearedHalts, [0x81]);
    assert.equal((await dev.transferIn(1, 64)).status, "ok");
  });
});

test("unplugging the camera mid-use fails transfers with NO_DEVICE", async () => {
  await withCamera(async (_camera, plug) => {
    const dev = await openCamera();
    try {
      assert.equal((await dev.transferIn(1, 64)).status, "ok");
      const waiting = dev.transferIn(3, 16, { timeout: 3000 });
      await new Promise((r) => setTimeout(r, 50));
      plug.detach();
      const started = performance.now();
      for (const attempt of [() => waiting, () => dev.transferIn(1, 64)]) {
        await assert.rejects(attempt(), (e) => {
          assert.ok(e instanceof UsbError);
          assert.equal(e.code, "NO_DEVICE");
          assert.match(e.message, /unplugged or switched off/);
          return true;
        });
      }
      assert.ok(performance.now() - started < 2500);
    } finally {
      await dev.close();
    }
  });
});

test("reset reaches the device and leaves the session usable", async () => {
  await withCamera(async (camera) => {
    await using dev = await openCamera();
    await dev.reset();
    assert.equal(camera.resets, 1);
    assert.equal(dev.opened, true);
    assert.equal((await dev.transferIn(1, 16)).status, "ok");
  });
});

test("close is idempotent, and a transfer after close is a clear error", async () => {
  await withCamera(async () => {
    const dev = await openCamera();
    await dev.close();
    await dev.close();
    await assert.rejects(dev.transferIn(1, 8), (e) => {
      assert.ok(e instanceof UsbError);
      assert.equal(e.code, "NO_DEVICE");
      assert.match(e.message, /is closed/);
      return true;
    });
    // Reopening works.
    await dev.open();
    assert.equal((await dev.transferIn(1, 8)).status, "ok");
    await dev.close();
  });
});

test("a second testbed in the same process is enumerated fresh", async () => {
  for (const address of [7, 9]) {
    const testbed = UmockdevTestbed.open();
    try {
      testbed.attach(new TestCamera(), { bus: 2, address });
      const found = await listUsbDevices({ vendorId: 0x04a9 });
      assert.deepEqual(found.map((d) => [d.bus, d.address]), [[2, address]]);
      await using dev = await openUsbDevice({ bus: 2, address });
      await dev.open();
      assert.equal(dev.productName, "Canon Digital Camera");
    } finally {
      testbed.close();
    }
  }
});

test("startLibusbEarly: the next open takes over the early context, and it ends with the device", async () => {
  await withCamera(async (camera) => {
    startLibusbEarly();
    // The head start holds the context once libusb_init has run.
    for (let i = 0; i < 200 && libusbContextUsers() === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(libusbContextUsers(), 1);
    startLibusbEarly(); // a context is alive: nothing more is started
    const dev = await openCamera();
    // The device's own hold replaced the head start's: one holder left.
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(libusbContextUsers(), 1);
    // A transfer through the taken-over context reaches the device.
    const r = await dev.controlTransferIn({ ...VENDOR, request: 0x10 }, 4);
    assert.deepEqual(inResultBytes(r), Uint8Array.of(0xa0, 0xa1, 0xa2, 0xa3));
    assert.equal(camera.stringRequests, 3);
    await dev.close();
  });
});
