// The umockdev bridge: a UsbFunction in front of the real libusb, reached by
// the project's libusb device in this process (run with
// LD_PRELOAD=libumockdev-preload.so.0, as `deno task test` does) and by child
// processes through `deno task emulate`.

import assert from "node:assert/strict";
import type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbFunction,
} from "../src/emulator/engine/usb_function.ts";
import {
  UmockdevError,
  UmockdevTestbed,
  withEmulatedDevice,
} from "../src/emulator/umockdev/testbed.ts";
import { listUsbDevices, openUsbDevice } from "../src/usb/discovery.ts";
import type { LibusbDevice } from "../src/usb/libusb_device.ts";
import { UsbError } from "../src/usb/errors.ts";
import { skipWithout } from "./_support.ts";
import { decodeCanonTrace } from "../src/trace/decode.ts";
import { G3_DELAYS } from "../src/emulator/engine/timing.ts";
import { parseEmulateArgs } from "../src/cli/emulate.ts";

const VENDOR_ID = 0x1209;
const PRODUCT_ID = 0x7e57;

// deno-fmt-ignore
const DEVICE_DESCRIPTOR = Uint8Array.of(
  0x12, 0x01, 0x10, 0x01, 0xff, 0x00, 0x00, 0x40, // USB 1.1, vendor class, ep0 64 bytes
  VENDOR_ID & 0xff, VENDOR_ID >> 8, PRODUCT_ID & 0xff, PRODUCT_ID >> 8,
  0x23, 0x01, 0x01, 0x02, 0x03, 0x01, // bcdDevice 1.23, strings 1/2/3, one configuration
);
// deno-fmt-ignore
const CONFIGURATION_DESCRIPTOR = Uint8Array.of(
  0x09, 0x02, 0x2e, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32, // 46 bytes, bus powered, 100 mA
  0x09, 0x04, 0x00, 0x00, 0x04, 0xff, 0x00, 0x00, 0x00, // interface 0, 4 endpoints
  0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00, // bulk IN 0x81: replies (echo of 0x02)
  0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00, // bulk OUT 0x02
  0x07, 0x05, 0x83, 0x03, 0x10, 0x00, 0x0a, // interrupt IN 0x83: events
  0x07, 0x05, 0x84, 0x02, 0x40, 0x00, 0x00, // bulk IN 0x84: endless data
);

/** Vendor requests of the test function. */
const REQUEST = { ECHO: 0x01, STALL: 0x02, THROW: 0x03, BABBLE: 0x04, QUEUE_REPLY: 0x10 } as const;

/** A small device: echoes bulk OUT on bulk IN, queues interrupt events, stalls on demand. */
class LoopbackFunction implements UsbFunction {
  readonly descriptors = {
    device: DEVICE_DESCRIPTOR,
    configuration: CONFIGURATION_DESCRIPTOR,
    strings: { 1: "canon-remote tests", 2: "Loopback function", 3: "LOOP-0001" },
    speedMbps: 12,
  };
  connected = true;
  readonly halted = new Set<number>();
  readonly calls: string[] = [];
  readonly #replies: Uint8Array[] = [];
  readonly #events: Uint8Array[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #stream = new Uint8Array(1 << 20).map((_, i) => i & 0xff);

  /** Make bytes available on bulk IN 0x81 (as a reply the device produced later). */
  produce(bytes: Uint8Array): void {
    this.#replies.push(bytes);
    this.#notify();
  }

  /** Queue an interrupt packet on 0x83. */
  event(bytes: Uint8Array): void {
    this.#events.push(bytes);
    this.#notify();
  }

  unplug(): void {
    this.connected = false;
    this.#notify();
  }

  controlIn(setup: SetupPacket): Uint8Array | "stall" {
    if (setup.bmRequestType === 0x80 && setup.bRequest === 0x06) return this.#descriptor(setup);
    if ((setup.bmRequestType & 0x60) !== 0x40) return "stall";
    switch (setup.bRequest) {
      case REQUEST.ECHO: {
        const out = new Uint8Array(setup.wLength);
        for (let i = 0; i < out.length; i++) out[i] = (setup.wValue + i) & 0xff;
        return out;
      }
      case REQUEST.THROW:
        throw new Error("the test function failed on purpose");
      case REQUEST.BABBLE:
        return new Uint8Array(setup.wLength + 4).fill(0xbb);
      default:
        return "stall";
    }
  }

  controlOut(setup: SetupPacket, data: Uint8Array): FunctionWrite {
    if (setup.bRequest === REQUEST.QUEUE_REPLY) {
      this.produce(data.slice());
      return "ok";
    }
    return setup.bRequest === REQUEST.STALL ? "stall" : "ok";
  }

  read(endpoint: number, maxLength: number): FunctionRead {
    if (this.halted.has(endpoint)) return "stall";
    if (endpoint === 0x84) return this.#stream.subarray(0, maxLength);
    const queue = endpoint === 0x83 ? this.#events : this.#replies;
    const next = queue[0];
    if (!next) return null;
    if (next.length <= maxLength) return queue.shift()!;
    queue[0] = next.subarray(maxLength);
    return next.subarray(0, maxLength);
  }

  write(endpoint: number, data: Uint8Array): FunctionWrite {
    if (this.halted.has(endpoint)) return "stall";
    this.produce(data.slice());
    return "ok";
  }

  clearHalt(endpoint: number): void {
    this.calls.push(`clearHalt 0x${endpoint.toString(16)}`);
    this.halted.delete(endpoint);
  }

  reset(): void {
    this.calls.push("reset");
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #descriptor(setup: SetupPacket): Uint8Array | "stall" {
    const type = setup.wValue >> 8;
    const index = setup.wValue & 0xff;
    let bytes: Uint8Array;
    if (type === 1) bytes = DEVICE_DESCRIPTOR;
    else if (type === 2) bytes = CONFIGURATION_DESCRIPTOR;
    else if (type === 3 && index === 0) bytes = Uint8Array.of(4, 3, 0x09, 0x04);
    else if (type === 3 && index in this.descriptors.strings) {
      const text = this.descriptors.strings[index as 1 | 2 | 3];
      bytes = new Uint8Array(2 + 2 * text.length);
      bytes[0] = bytes.length;
      bytes[1] = 3;
      for (let i = 0; i < text.length; i++) bytes[2 + 2 * i] = text.charCodeAt(i);
    } else return "stall";
    return bytes.subarray(0, Math.min(bytes.length, setup.wLength));
  }
}

const vendor = (request: number, value = 0) => ({
  requestType: "vendor" as const,
  recipient: "device" as const,
  request,
  value,
  index: 0,
});

const bytesOf = (view: DataView | undefined): number[] =>
  view ? [...new Uint8Array(view.buffer, view.byteOffset, view.byteLength)] : [];

async function openAt(bus: number, address: number): Promise<LibusbDevice> {
  const device = await openUsbDevice({ bus, address });
  await device.open();
  await device.claimInterface(0);
  return device;
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UsbError, `expected a UsbError, got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("the emulated device enumerates with its IDs, bus, address, speed and strings", async () => {
  using testbed = UmockdevTestbed.open();
  assert.ok(testbed.preloaded, "run this test with LD_PRELOAD=libumockdev-preload.so.0");
  const first = testbed.attach(new LoopbackFunction());
  const second = testbed.attach(new LoopbackFunction());
  assert.deepEqual([first.bus, first.address, first.devnode], [1, 2, "/dev/bus/usb/001/002"]);
  assert.deepEqual([second.bus, second.address], [1, 3]);

  const listed = await listUsbDevices({ vendorId: VENDOR_ID });
  assert.deepEqual(
    listed.map((d) => [d.bus, d.address, d.productId, d.bcdDevice, d.speed, d.portPath]),
    [[1, 2, PRODUCT_ID, 0x0123, "full", "1-1"], [1, 3, PRODUCT_ID, 0x0123, "full", "1-2"]],
  );
  assert.equal(await Deno.readTextFile(`${first.sysfsPath}/product`), "Loopback function\n");

  const device = await openAt(1, 2);
  try {
    assert.equal(device.manufacturerName, "canon-remote tests");
    assert.equal(device.productName, "Loopback function");
    assert.equal(device.serialNumber, "LOOP-0001");
  } finally {
    await device.close();
  }
});

Deno.test("a second open in the same isolate fails until the first testbed is closed", () => {
  const testbed = UmockdevTestbed.open();
  try {
    assert.throws(() => UmockdevTestbed.open(), UmockdevError);
    testbed.attach(new LoopbackFunction(), { bus: 3, address: 7 });
    assert.throws(
      () => testbed.attach(new LoopbackFunction(), { bus: 3, address: 7 }),
      /already has a device at address 7/,
    );
  } finally {
    testbed.close();
  }
  UmockdevTestbed.open().close();
});

Deno.test("a testbed opened in another isolate of the process waits for the first to close", async () => {
  // `deno test --parallel` runs test modules as isolates of one process, as this worker is.
  const testbed = UmockdevTestbed.open();
  const module = new URL("../src/emulator/umockdev/testbed.ts", import.meta.url).href;
  const code = `
    import { UmockdevTestbed } from "${module}";
    self.postMessage("opening");
    const started = performance.now();
    const testbed = UmockdevTestbed.open({ waitMs: 10000 });
    const waited = performance.now() - started;
    testbed.close();
    self.postMessage({ waited, root: testbed.root });
  `;
  const url = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const messages: unknown[] = [];
  let wake = () => {};
  worker.onmessage = (event) => {
    messages.push(event.data);
    wake();
  };
  const next = async () => {
    while (!messages.length) await new Promise<void>((resolve) => wake = resolve);
    return messages.shift();
  };
  try {
    assert.equal(await next(), "opening");
    await new Promise((resolve) => setTimeout(resolve, 300));
    testbed.close();
    const result = await next() as { waited: number; root: string };
    assert.ok(result.waited >= 250, `the worker waited ${result.waited} ms`);
    assert.notEqual(result.root, testbed.root);
  } finally {
    testbed.close();
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("closing the testbed removes its directory and restores UMOCKDEV_DIR", async () => {
  // Other test files share this process (deno test --parallel) and may hold a
  // testbed until ours opens, so "before" is what it was once ours got the lock.
  const testbed = UmockdevTestbed.open();
  testbed.attach(new LoopbackFunction());
  assert.ok(await exists(testbed.root));
  assert.equal(Deno.env.get("UMOCKDEV_DIR"), testbed.root);
  testbed.close();
  testbed.close();
  assert.equal(await exists(testbed.root), false);
  assert.notEqual(Deno.env.get("UMOCKDEV_DIR"), testbed.root);
});

Deno.test("control transfers reach the function: data, stall and babble", async () => {
  await withEmulatedDevice(new LoopbackFunction(), async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      const echo = await device.controlTransferIn(vendor(REQUEST.ECHO, 0x40), 4);
      assert.deepEqual([echo.status, bytesOf(echo.data)], ["ok", [0x40, 0x41, 0x42, 0x43]]);
      assert.equal((await device.controlTransferIn(vendor(REQUEST.STALL), 4)).status, "stall");
      assert.equal((await device.controlTransferIn(vendor(REQUEST.BABBLE), 8)).status, "babble");
      const out = await device.controlTransferOut(vendor(REQUEST.STALL), Uint8Array.of(1));
      assert.equal(out.status, "stall");
    } finally {
      await device.close();
    }
  });
});

Deno.test("a pending bulk IN completes when the function produces data later", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      const started = performance.now();
      const timer = setTimeout(() => fn.produce(Uint8Array.of(7, 8, 9)), 100);
      const result = await device.transferIn(1, 64, { timeout: 3000 });
      clearTimeout(timer);
      assert.deepEqual([result.status, bytesOf(result.data)], ["ok", [7, 8, 9]]);
      assert.ok(performance.now() - started >= 90, "the read waited for the data");

      // A reply produced while the host's write is being handled (same call chain).
      await device.controlTransferOut(vendor(REQUEST.QUEUE_REPLY), Uint8Array.of(1, 2));
      await device.transferOut(2, Uint8Array.of(3, 4, 5));
      assert.deepEqual(bytesOf((await device.transferIn(1, 64)).data), [1, 2]);
      assert.deepEqual(bytesOf((await device.transferIn(1, 64)).data), [3, 4, 5]);
    } finally {
      await device.close();
    }
  });
});

Deno.test("pending reads on one endpoint complete in submission order", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      const reads = [1, 2, 3].map(() => device.transferIn(3, 16, { timeout: 3000 }));
      setTimeout(() => {
        fn.event(Uint8Array.of(1));
        fn.event(Uint8Array.of(2));
        fn.event(Uint8Array.of(3));
      }, 50);
      const results = await Promise.all(reads);
      assert.deepEqual(results.map((r) => bytesOf(r.data)), [[1], [2], [3]]);
    } finally {
      await device.close();
    }
  });
});

Deno.test("a read given fewer bytes than its buffer ends short", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      fn.produce(Uint8Array.of(1, 2, 3, 4, 5));
      const result = await device.transferIn(1, 512);
      assert.deepEqual([result.status, result.data?.byteLength], ["ok", 5]);
    } finally {
      await device.close();
    }
  });
});

Deno.test("a read that times out is discarded cleanly: later data goes to the next read", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      const started = performance.now();
      await rejectsWithCode(device.transferIn(1, 64, { timeout: 150 }), "TIMEOUT");
      assert.ok(performance.now() - started < 2000);
      fn.produce(Uint8Array.of(0xaa, 0xbb));
      const result = await device.transferIn(1, 64, { timeout: 1000 });
      assert.deepEqual(bytesOf(result.data), [0xaa, 0xbb]);
      const echo = await device.controlTransferIn(vendor(REQUEST.ECHO, 1), 2);
      assert.deepEqual(bytesOf(echo.data), [1, 2]);
    } finally {
      await device.close();
    }
  });
});

Deno.test("a halted endpoint reports stall until the host clears the halt", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      fn.halted.add(0x81);
      assert.equal((await device.transferIn(1, 64)).status, "stall");
      await device.clearHalt("in", 1);
      assert.deepEqual(fn.calls, ["clearHalt 0x81"]);
      fn.produce(Uint8Array.of(1));
      assert.deepEqual(bytesOf((await device.transferIn(1, 64)).data), [1]);
      await device.reset();
      assert.deepEqual(fn.calls, ["clearHalt 0x81", "reset"]);
    } finally {
      await device.close();
    }
  });
});

Deno.test("an exception in the function fails that transfer with EIO, is logged once, and the device goes on", async () => {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    await withEmulatedDevice(new LoopbackFunction(), async (dev) => {
      const device = await openAt(dev.bus, dev.address);
      try {
        await rejectsWithCode(device.controlTransferIn(vendor(REQUEST.THROW), 4), "IO");
        await rejectsWithCode(device.controlTransferIn(vendor(REQUEST.THROW), 4), "IO");
        const echo = await device.controlTransferIn(vendor(REQUEST.ECHO, 9), 1);
        assert.deepEqual(bytesOf(echo.data), [9]);
      } finally {
        await device.close();
      }
    });
  } finally {
    console.error = original;
  }
  assert.equal(logged.length, 1);
  assert.match(String(logged[0][0]), /threw in controlIn/);
});

Deno.test("detaching mid-read fails the read and every later call with NO_DEVICE", async () => {
  const fn = new LoopbackFunction();
  const testbed = UmockdevTestbed.open();
  try {
    const dev = testbed.attach(fn);
    const device = await openAt(dev.bus, dev.address);
    try {
      setTimeout(() => dev.detach(), 100);
      await rejectsWithCode(device.transferIn(1, 64, { timeout: 3000 }), "NO_DEVICE");
      assert.equal(dev.attached, false);
      await rejectsWithCode(device.controlTransferIn(vendor(REQUEST.ECHO), 1), "NO_DEVICE");
      fn.produce(Uint8Array.of(1)); // nobody listens any more
    } finally {
      await device.close();
    }
    assert.equal(await exists(dev.devnode), false);
    assert.deepEqual(await listUsbDevices({ vendorId: VENDOR_ID }), []);
    // The address is free again.
    assert.equal(testbed.attach(new LoopbackFunction(), { address: dev.address }).address, 2);
  } finally {
    testbed.close();
  }
  assert.equal(await exists(testbed.root), false);
});

Deno.test("a function that disconnects itself is unplugged", async () => {
  const fn = new LoopbackFunction();
  await withEmulatedDevice(fn, async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      setTimeout(() => fn.unplug(), 50);
      await rejectsWithCode(device.transferIn(1, 64, { timeout: 3000 }), "NO_DEVICE");
      assert.equal(dev.attached, false);
    } finally {
      await device.close();
    }
  });
});

Deno.test("a second client cannot claim an interface that the first holds", async () => {
  await withEmulatedDevice(new LoopbackFunction(), async (dev) => {
    const first = await openAt(dev.bus, dev.address);
    const second = await openUsbDevice({ bus: dev.bus, address: dev.address });
    try {
      await second.open();
      await rejectsWithCode(second.claimInterface(0), "BUSY");
      await first.close();
      await second.claimInterface(0);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

Deno.test("bulk IN moves 64 KiB transfers intact", async () => {
  await withEmulatedDevice(new LoopbackFunction(), async (dev) => {
    const device = await openAt(dev.bus, dev.address);
    try {
      for (let i = 0; i < 8; i++) {
        const result = await device.transferIn(4, 65536);
        assert.equal(result.data?.byteLength, 65536);
        assert.equal(result.data?.getUint8(65535), 0xff);
        assert.equal(result.data?.getUint8(1000), 1000 & 0xff);
      }
    } finally {
      await device.close();
    }
  });
});

// --- deno task emulate ---------------------------------------------------------

const EMULATE = new URL("../src/cli/emulate.ts", import.meta.url).pathname;
const PROJECT_ROOT = new URL("..", import.meta.url).pathname;

/** The environment of this process, minus the preload (a user's shell has none), with a private TMPDIR. */
function cliEnv(tmpdir: string): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.LD_PRELOAD;
  delete env.UMOCKDEV_DIR;
  env.TMPDIR = tmpdir;
  return env;
}

async function emulate(
  args: string[],
  tmpdir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  // Through `deno task emulate`, as a user types it.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "emulate", ...args],
    cwd: PROJECT_ROOT,
    env: { ...cliEnv(tmpdir), ...extraEnv },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

async function withTmpdir(body: (tmpdir: string) => Promise<void>): Promise<void> {
  const tmpdir = await Deno.makeTempDir({ prefix: "emulate-test-" });
  try {
    await body(tmpdir);
    assert.deepEqual([...Deno.readDirSync(tmpdir)].map((e) => e.name), [], "testbed left behind");
  } finally {
    await Deno.remove(tmpdir, { recursive: true });
  }
}

Deno.test("emulate runs the command with the testbed and exits with its code", async () => {
  await withTmpdir(async (tmpdir) => {
    const result = await emulate(
      ["--", "sh", "-c", 'test -e "$UMOCKDEV_DIR/dev/bus/usb/001/002" && exit 3'],
      tmpdir,
    );
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /PowerShot G3 \(04a9:306e\) on bus 001 device 002/);
    const traced = await emulate(["--verbose", "--", "true"], tmpdir);
    assert.equal(traced.code, 0, traced.stderr);
    assert.match(traced.stderr, /\[umockdev\] attached 04a9:306e at \/dev\/bus\/usb\/001\/002/);
  });
});

Deno.test("emulate says what to install when umockdev is missing", async () => {
  await withTmpdir(async (tmpdir) => {
    const result = await emulate(["--", "true"], tmpdir, {
      CANON_REMOTE_LIBUMOCKDEV: "/nonexistent/libumockdev.so.0",
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /libumockdev could not be loaded .*apt-get install umockdev/);
  });
});

Deno.test("emulate exits 128+n when the command dies of signal n", async () => {
  await withTmpdir(async (tmpdir) => {
    const result = await emulate(["--quiet", "--", "sh", "-c", "kill -TERM $$"], tmpdir);
    assert.equal(result.code, 143);
    assert.equal(result.stderr, "");
  });
});

Deno.test("emulate passes SIGTERM on to the command and still removes the testbed", async () => {
  await withTmpdir(async (tmpdir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", EMULATE, "-q", "--", "sh", "-c", "echo ready; exec sleep 30"],
      env: cliEnv(tmpdir),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "ready\n");
    child.kill("SIGTERM");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    assert.equal(status.code, 143);
  });
});

Deno.test("emulate without a command, or with an unknown model, is a usage error", async () => {
  await withTmpdir(async (tmpdir) => {
    const none = await emulate([], tmpdir);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: deno task emulate/);
    const unknown = await emulate(["--model", "Brownie", "--", "true"], tmpdir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown model "Brownie"; known models: .*PowerShot G3/);
  });
});

function installed(command: string): boolean {
  try {
    new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "gphoto2 --auto-detect finds the virtual PowerShot G3 through emulate",
  ignore: skipWithout(installed("gphoto2"), "gphoto2"),
  async fn() {
    await withTmpdir(async (tmpdir) => {
      const result = await emulate(["-q", "--", "gphoto2", "--auto-detect"], tmpdir);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Canon PowerShot G3 \(normal mode\)\s+usb:001,002/);
    });
  },
});

Deno.test({
  name: "emulate --timing answers as slowly as a real G3: gphoto2 waits 50 ms for the disk name",
  ignore: skipWithout(installed("gphoto2"), "gphoto2"),
}, async () => {
  await withTmpdir(async (tmpdir) => {
    // The time from the flash-device-ident (disk name) command to gphoto2's next command, as
    // the recording shows it.
    const diskNameGaps = async (flags: string[]): Promise<number[]> => {
      const file = await Deno.makeTempFile({ suffix: ".pcapng" });
      try {
        const result = await emulate(
          [...flags, "--quiet", "--record", file, "--", "gphoto2", "--storage-info"],
          tmpdir,
        );
        assert.equal(result.code, 0, result.stderr);
        const { commands } = decodeCanonTrace(await Deno.readFile(file));
        const gaps = commands.flatMap((command, i) =>
          command.name === "FlashDeviceIdent" && commands[i + 1]
            ? [commands[i + 1].time - command.time]
            : []
        );
        assert.ok(
          gaps.length > 0,
          `no disk name asked for in ${commands.map((c) => c.name).join(", ")}`,
        );
        return gaps;
      } finally {
        await Deno.remove(file).catch(() => {});
      }
    };
    const timed = await diskNameGaps(["--timing"]);
    assert.ok(
      timed.every((gap) => gap >= G3_DELAYS.disk / 1000),
      `every disk name answered after ${G3_DELAYS.disk} ms or more: ${timed}`,
    );
    const untimed = await diskNameGaps([]);
    assert.ok(
      Math.min(...untimed) < Math.min(...timed),
      `without --timing the camera answers sooner: ${untimed} vs ${timed}`,
    );
  });
});

Deno.test("emulate --help tells of --timing, and the flag parses", async () => {
  await withTmpdir(async (tmpdir) => {
    const help = await emulate(["--help"], tmpdir);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--timing +answer each command after the delay a real PowerShot G3/);
  });
  assert.equal(parseEmulateArgs(["--timing", "--", "true"]).timing, true);
  assert.equal(parseEmulateArgs(["--", "true"]).timing, undefined);
});
