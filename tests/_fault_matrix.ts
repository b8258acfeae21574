// The fault matrix shared by tier 2 (tests/faults_test.ts, in-process) and
// tier 3 (tests/faults_libusb_test.ts, libusb + umockdev): every fault the
// virtual camera can inject, crossed with the operations a user runs. Each
// cell checks what a user would notice: the error's type and message, that
// it came within a bounded time, that no partial file was left behind, and
// that the camera recovered (the same call works again) or reported itself
// closed (and a new session after a replug works).
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraStatusError,
  CameraTimeoutError,
  ProtocolError,
} from "../mod.ts";
import {
  type Fault,
  type FaultTarget,
  type UmockdevTestbed,
  VirtualCamera,
} from "../src/emulator/mod.ts";

/** How a tier reaches the camera. */
export interface MatrixTier {
  /** "tier 2" or "tier 3", for names. */
  readonly name: string;
  /** Transfer timeout given to Camera (ms). */
  readonly timeout: number;
  /** Open a session on `vc` (a new device each time in tier 3). */
  open(vc: VirtualCamera): Promise<Camera>;
  /** After the camera vanished: power it on again, plug it in, and open a new session. */
  reopen(vc: VirtualCamera): Promise<Camera>;
}

/** One operation of the matrix. */
export interface MatrixOperation {
  readonly name: "identify" | "power" | "list" | "download" | "upload";
  /** The command a fault is aimed at. */
  readonly target: FaultTarget;
  /** Whether that command has a long reply (0x202). */
  readonly long: boolean;
  /** Run the operation (attempt numbers keep upload names apart) and check its result. */
  run(cam: Camera, vc: VirtualCamera, dir: string, attempt: number): Promise<void>;
}

/** What a fault makes the operation do. */
export type Outcome = "ok" | "timeout" | "protocol" | "status" | "closed";

/** One fault of the matrix. */
export interface MatrixFault {
  readonly name: string;
  /** Arm the fault for `op` (undefined: the fault does not apply to it). */
  arm(vc: VirtualCamera, op: MatrixOperation, timeout: number): (() => void) | undefined;
  /** The expected outcome for `op`. */
  expect(op: MatrixOperation): Outcome;
  /** The message the error must carry. */
  message?(op: MatrixOperation, timeout: number): RegExp;
}

const DOWNLOAD = "/DCIM/100CANON/IMG_0001.JPG"; // 29,380 bytes: several chunks
const UPLOAD_SIZE = 0x1400 * 2 + 777; // three upload blocks

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

function uploadBytes(attempt: number): Uint8Array {
  return Uint8Array.from({ length: UPLOAD_SIZE }, (_, i) => (i * 13 + attempt) & 0xff);
}

/** The operations, each with the command its faults hit. */
export const OPERATIONS: readonly MatrixOperation[] = [
  {
    name: "identify",
    target: { cmd1: 0x01, cmd2: 0x12 },
    long: false,
    async run(cam) {
      assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    },
  },
  {
    name: "power",
    target: { cmd1: 0x0a, cmd2: 0x12 },
    long: false,
    async run(cam) {
      assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
    },
  },
  {
    name: "list",
    target: { cmd1: 0x0b, cmd2: 0x11 },
    long: true,
    async run(cam) {
      const names = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
      assert.ok(names.includes("IMG_0001.JPG") && names.includes("CRW_0006.CRW"), String(names));
    },
  },
  {
    name: "download",
    target: { cmd1: 0x01, cmd2: 0x11 },
    long: true,
    async run(cam, vc, dir) {
      const result = await cam.storage.download(DOWNLOAD, dir, { overwrite: true });
      assert.deepEqual(await Deno.readFile(result.file!), cardBytes(vc, DOWNLOAD));
    },
  },
  {
    name: "upload",
    target: { cmd1: 0x03, cmd2: 0x11 },
    long: false,
    async run(cam, vc, _dir, attempt) {
      const name = `UPL_000${attempt}.JPG`;
      const bytes = uploadBytes(attempt);
      await cam.storage.upload(bytes, "/DCIM/100CANON", { name });
      assert.deepEqual(cardBytes(vc, `/DCIM/100CANON/${name}`), bytes);
    },
  },
];

function inject(fault: Fault) {
  return (vc: VirtualCamera, op: MatrixOperation) => () =>
    vc.faults.inject(fault, { command: op.target });
}

/** The faults, with what each must do to each operation. */
export const FAULTS: readonly MatrixFault[] = [
  {
    name: "never answers (silent)",
    arm: inject({ kind: "silent" }),
    expect: () => "timeout",
    message: (_, t) => new RegExp(`no answer from the camera within ${t} ms`),
  },
  {
    name: "answers late, after the timeout (delay 4×T)",
    arm: (vc, op, t) => () =>
      vc.faults.inject({ kind: "delay", ms: 4 * t }, { command: op.target }),
    expect: () => "timeout",
    message: (_, t) => new RegExp(`no answer from the camera within ${t} ms`),
  },
  {
    name: "answers late, within the timeout (delay T/4)",
    arm: (vc, op, t) => () =>
      vc.faults.inject({ kind: "delay", ms: Math.floor(t / 4) }, { command: op.target }),
    expect: () => "ok",
  },
  {
    name: "short read (truncated reply)",
    arm: (vc, op) => () =>
      vc.faults.inject({ kind: "truncate", length: op.long ? 0x40 + 16 : 0x50 }, {
        command: op.target,
      }),
    // A fixed reply cut short is seen at once; a long one waits for the rest.
    expect: (op) => op.long ? "timeout" : "protocol",
    message: (op) => op.long ? /no answer from the camera/ : /the camera sent \d+ bytes where/,
  },
  {
    name: "corrupt header (garbled length words and cmd3 echo)",
    arm: inject({ kind: "garble" }),
    // Long replies take their length from offset 6 only, which garble keeps.
    expect: (op) => op.long ? "ok" : "protocol",
    message: () => /the camera sent \d+ bytes where/,
  },
  {
    name: "oversized reply (0x40 extra bytes)",
    arm: inject({ kind: "oversize", extra: 0x40 }),
    expect: () => "ok",
  },
  {
    name: "camera busy (status 0x02000085)",
    arm: (vc, op) => op.long ? undefined : inject({ kind: "status", status: 0x02000085 })(vc, op),
    expect: () => "status",
    message: () => /failed: could not enter capture mode \(status 0x2000085\)/,
  },
  {
    name: "length claim of 4 GiB",
    arm: (vc, op) =>
      op.long ? inject({ kind: "length-claim", length: 0xffffffff })(vc, op) : undefined,
    expect: () => "protocol",
    message: () => /announces 4294967295 \(0xffffffff\) bytes, more than the \d+ this reply can/,
  },
  {
    name: "wrong length (claims 1 MiB, sends less)",
    arm: (vc, op) =>
      op.long ? inject({ kind: "length-claim", length: 0xfffff })(vc, op) : undefined,
    expect: () => "timeout",
    message: () => /no answer from the camera/,
  },
  {
    name: "stalled endpoint",
    arm: inject({ kind: "stall" }),
    expect: () => "protocol",
    message: () => /stalled the bulk IN endpoint/,
  },
  {
    name: "unplugged as the command arrives",
    arm: inject({ kind: "unplug" }),
    expect: () => "closed",
    message: () => /disconnected \(unplugged or switched off\)/,
  },
  {
    name: "unplugged mid-transfer",
    arm: (vc, op) => () =>
      vc.faults.inject({
        kind: "unplug",
        afterBytes: op.name === "download" ? 0x40 + 0x2800 : 0x40,
      }, { command: op.target }),
    expect: () => "closed",
    message: () => /disconnected/,
  },
  {
    name: "switched off between calls",
    arm: (vc) => () => vc.unplug(),
    expect: () => "closed",
    message: () => /disconnected \(unplugged or switched off\)/,
  },
];

const OUTCOME_CLASS: Record<Exclude<Outcome, "ok">, new (...args: never[]) => Error> = {
  timeout: CameraTimeoutError,
  protocol: ProtocolError,
  status: CameraStatusError,
  closed: CameraClosedError,
};

/** What one cell measured. */
export interface CellResult {
  tier: string;
  fault: string;
  operation: string;
  outcome: Outcome;
  error?: string;
  ms: number;
  recovery: "same call works again" | "closed; reopened after replug";
  recoveryMs: number;
}

/** Every cell that applies, as [fault, operation] pairs. */
export function cells(): [MatrixFault, MatrixOperation][] {
  const out: [MatrixFault, MatrixOperation][] = [];
  const probe = new VirtualCamera();
  for (const fault of FAULTS) {
    for (const op of OPERATIONS) {
      if (fault.arm(probe, op, 100)) out.push([fault, op]);
    }
  }
  probe.faults.clear();
  return out;
}

/**
 * Run one cell: open, do the operation once cleanly (so the drive name is
 * known and the fault hits the operation's own command), arm the fault, run
 * the operation, check the outcome, then recover.
 */
export async function runCell(
  tier: MatrixTier,
  fault: MatrixFault,
  op: MatrixOperation,
): Promise<CellResult> {
  const vc = new VirtualCamera();
  const dir = await Deno.makeTempDir({ prefix: "canon-faults-" });
  let cam = await tier.open(vc);
  try {
    await op.run(cam, vc, dir, 1);
    await Deno.remove(dir, { recursive: true });
    await Deno.mkdir(dir);

    const bound = tier.timeout + 1000;
    fault.arm(vc, op, tier.timeout)!();
    const start = performance.now();
    let error: unknown;
    try {
      await op.run(cam, vc, dir, 2);
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - start;
    const expected = fault.expect(op);
    const where = `${tier.name}: ${fault.name} × ${op.name}`;
    assert.ok(ms < bound, `${where}: took ${ms.toFixed(0)} ms (bound ${bound} ms)`);
    if (expected === "ok") {
      assert.equal(error, undefined, `${where}: ${error}`);
    } else if (
      expected === "closed" && error instanceof ProtocolError &&
      /sent \d+ bytes where/.test(error.message)
    ) {
      // The reply was cut short by the unplug before the device was seen gone:
      // the next call finds out.
      await assert.rejects(() => cam.identify(), (e: Error) => {
        assert.ok(e instanceof CameraClosedError, `${where}: then ${e}`);
        assert.match(e.message, /disconnected \(unplugged or switched off\)/);
        return true;
      });
    } else {
      assert.ok(error instanceof OUTCOME_CLASS[expected], `${where}: got ${error}`);
      assert.match(error.message, fault.message!(op, tier.timeout), where);
    }
    if (op.name === "download") {
      const left = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(left, expected === "ok" ? ["IMG_0001.JPG"] : [], `${where}: files left`);
    }

    const recoveryStart = performance.now();
    let recovery: CellResult["recovery"];
    if (expected === "closed") {
      assert.equal(cam.closed, true, `${where}: the camera reports itself closed`);
      await assert.rejects(() => cam.identify(), CameraClosedError);
      await cam.close();
      cam = await tier.reopen(vc);
      recovery = "closed; reopened after replug";
    } else {
      assert.equal(cam.closed, false, `${where}: the camera stays open`);
      recovery = "same call works again";
    }
    await op.run(cam, vc, dir, 3);
    const result: CellResult = {
      tier: tier.name,
      fault: fault.name,
      operation: op.name,
      outcome: expected,
      ...(error instanceof Error ? { error: `${error.name}: ${error.message}` } : {}),
      ms: Math.round(ms),
      recovery,
      recoveryMs: Math.round(performance.now() - recoveryStart),
    };
    return result;
  } finally {
    await cam.close();
    await Deno.remove(dir, { recursive: true }).catch(() => undefined);
    await vc[Symbol.asyncDispose]();
  }
}

/** Tier 2: Camera over the VirtualCamera device, in this process. */
export function inProcessTier(timeout = 100): MatrixTier {
  return {
    name: "tier 2",
    timeout,
    open: (vc) => Camera.connect(vc, { timeout }),
    reopen: (vc) => {
      vc.replug();
      return Camera.connect(vc, { timeout });
    },
  };
}

/**
 * Tier 3: Camera -> LibusbDevice -> libusb-1.0 -> umockdev -> VirtualCamera.
 * Opening plugs the camera into `testbed`; after an unplug the camera is
 * powered on again (replug) and plugged in anew (a new address), and
 * Camera.open() must find it.
 */
export function libusbTier(testbed: UmockdevTestbed, timeout = 250): MatrixTier {
  return {
    name: "tier 3",
    timeout,
    open: (vc) => {
      testbed.attach(vc.usbFunction);
      return Camera.open({ timeout });
    },
    reopen: (vc) => {
      for (const device of testbed.devices) {
        if (device.usbFunction === vc.usbFunction) device.detach();
      }
      vc.replug();
      testbed.attach(vc.usbFunction);
      return Camera.open({ timeout });
    },
  };
}
