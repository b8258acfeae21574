// Replay: a real EOS 20D's Remote Capture Control replies (libgphoto2's
// Protocol.xml) played to the public API through tests/_replay.ts: the
// release settings the camera reports, and the RC replies' meaning.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import {
  toBytes,
  type UsbControlSetup,
  type UsbData,
  type UsbOutResult,
} from "../src/usb/device.ts";
import { type Exchange, ReplayDevice } from "./_replay.ts";
import { decodeInterruptPacket } from "../src/protocol/mod.ts";
import {
  advanceCapture,
  INTERRUPT_CODE,
  startCapture,
  TRANSFER_MODE,
} from "../src/protocol/capture_codec.ts";
import { modelByProductId } from "../src/protocol/models.ts";
import { traitsOf } from "../src/protocol/traits.ts";
import * as real from "./fixtures/real/eos20d_protocol_xml.ts";
import * as rc from "./fixtures/real/eos20d_remote_protocol_xml.ts";
import { EOS_20D_CONNECTION } from "./fixtures/real/init.ts";

const SOURCE = "libgphoto2 camlibs/canon/doc/Protocol.xml, EOS 20D";

function sub(code: number): Uint8Array {
  return Uint8Array.of(code, 0, 0, 0);
}

function remote(code: number, reply: Uint8Array): Exchange {
  return { cmd1: 0x25, cmd2: 0x12, cmd3: 0x201, payloadPrefix: sub(code), reply, source: SOURCE };
}

const EXCHANGES: Exchange[] = [
  { cmd1: 0x01, cmd2: 0x12, cmd3: 0x201, reply: real.IDENTIFY, source: SOURCE },
  { cmd1: 0x05, cmd2: 0x12, cmd3: 0x201, reply: real.GET_OWNER, source: SOURCE },
  { cmd1: 0x23, cmd2: 0x12, cmd3: 0x201, reply: real.BODY_ID, source: SOURCE },
  { cmd1: 0x24, cmd2: 0x12, cmd3: 0x201, reply: real.ABILITIES, source: SOURCE },
  { cmd1: 0x13, cmd2: 0x12, cmd3: 0x201, reply: real.POWER, source: SOURCE },
  { cmd1: 0x03, cmd2: 0x12, cmd3: 0x201, reply: real.GET_TIME, source: SOURCE },
  { cmd1: 0x1d, cmd2: 0x12, cmd3: 0x201, reply: real.CUSTOM_FUNCTIONS, source: SOURCE },
  remote(0x00, rc.RC_INIT),
  remote(0x01, rc.RC_EXIT),
  remote(0x04, rc.RC_RELEASE),
  remote(0x07, rc.RC_SET_PARAMS),
  remote(0x09, rc.RC_SET_TRANSFER_MODE),
  remote(0x0a, rc.RC_GET_PARAMS),
  remote(0x0d, rc.RC_AVAILABLE_SHOT),
  remote(0x10, rc.RC_EXT_PARAMS_SIZE),
];

/** The replay device, also noting each RC sub-command the host sent (payload word 0). */
class RemoteReplay extends ReplayDevice {
  readonly remoteCodes: number[] = [];
  override controlTransferOut(setup: UsbControlSetup, payload?: UsbData): Promise<UsbOutResult> {
    const data = toBytes(payload);
    if (data.length > 0x50 && data[0x44] === 0x25) this.remoteCodes.push(data[0x50]);
    return super.controlTransferOut(setup, payload);
  }
}

function replay20D(): RemoteReplay {
  return new RemoteReplay({ ...EOS_20D_CONNECTION, exchanges: EXCHANGES });
}

Deno.test("replay 20D remote control: large RAW, program AE, one-shot AF, ISO 400, beep off, no compensation", async () => {
  const device = replay20D();
  await using cam = await Camera.connect(device);
  const s = await cam.capture.settings();
  assert.deepEqual(s.imageFormat, { size: "large", quality: "raw", raw: true });
  assert.equal(s.shootingMode, "P");
  assert.equal(s.focusMode, "one-shot");
  assert.equal(s.iso, 400);
  assert.equal(s.beep, false);
  assert.equal(s.exposureCompensation, 0);
  // The block as the camera sent it (0x30 bytes after the count word): aperture code 0x1c and
  // shutter code 0x74 at 0x1c/0x1e are half-stop values (this body's C.Fn-06 is 1, half stops),
  // halfway between f/2 (0x18) and f/2.8 (0x20), and between 1/125 (0x70) and 1/250 (0x78).
  assert.equal(s.raw.length, 0x30);
  assert.equal(s.raw[0x1c], 0x1c);
  assert.equal(s.raw[0x1e], 0x74);
  assert.equal(s.aperture, 2.5);
  assert.equal(s.shutterSpeed, "1/180");
  // Remote control was entered (RC 0x00) and the parameters read (RC 0x0a): no other requests.
  assert.deepEqual(device.remoteCodes, [0x00, 0x0a]);
  assert.deepEqual(device.unexpected, []);
});

Deno.test("replay 20D remote control: a session starts and ends on the camera's own replies", async () => {
  const device = replay20D();
  await using cam = await Camera.connect(device);
  const remote = await cam.capture.start();
  await remote.stop();
  // RC 0x00 (camera control initialization) in, RC 0x01 (exit release control) out; both
  // replies carry status 0 and echo the sub-command, as the 20D sent them.
  assert.deepEqual(device.remoteCodes, [0x00, 0x01]);
  assert.deepEqual(device.unexpected, []);
});

Deno.test("replay 20D interrupt after command 0x22: a full-image descriptor, key 7, 8,496,173 bytes", () => {
  const p = decodeInterruptPacket(rc.INTERRUPT_IMAGE_AFTER_22);
  assert.equal(p.code, INTERRUPT_CODE.IMAGE);
  assert.equal(p.length, 0x17);
  assert.equal(p.word0c, 7);
  // 2d a4 81 00 at 0x11: 0x0081a42d, a RAW file's size (the byte at 0x10 is 2 here, 1 on older bodies).
  assert.equal(p.word10, 8_496_173);
  const rules = traitsOf(modelByProductId(0x30eb)!).captureRules;
  const step = advanceCapture(startCapture(TRANSFER_MODE.FULL_TO_PC), p.raw, rules);
  assert.deepEqual(step.progress.image, { key: 7, size: 8_496_173 });
  assert.equal(step.kind, "done", "class 6 is done once the asked-for descriptors are in");
});
