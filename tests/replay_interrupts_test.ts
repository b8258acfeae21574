// Replay: the interrupt packets of a real EOS D60, PowerShot G2 and EOS 300D
// (libgphoto2's Protocol.xml) through the public interrupt decoder and the
// capture sequence: what each packet means, and where a capture ends.
import assert from "node:assert/strict";
import { decodeInterruptPacket } from "../src/protocol/mod.ts";
import {
  advanceCapture,
  type CaptureAdvance,
  INTERRUPT_CODE,
  startCapture,
  TRANSFER_MODE,
} from "../src/protocol/capture_codec.ts";
import { type CameraClass, modelByProductId } from "../src/protocol/models.ts";
import { traitsOf } from "../src/protocol/traits.ts";
import * as real from "./fixtures/real/interrupts_protocol_xml.ts";

const PC = TRANSFER_MODE.THUMB_TO_PC | TRANSFER_MODE.FULL_TO_PC;

/** Feed packets in order; return every step's outcome. */
function play(
  mode: number,
  cameraClass: CameraClass,
  productId: number,
  packets: Uint8Array[],
): CaptureAdvance[] {
  const rules = traitsOf({ cameraClass, quirks: modelByProductId(productId)?.quirks }).captureRules;
  let progress = startCapture(mode);
  const out: CaptureAdvance[] = [];
  for (const p of packets) {
    const step = advanceCapture(progress, p, rules);
    out.push(step);
    progress = step.progress;
  }
  return out;
}

Deno.test("replay D60 interrupts: descriptors decode to key 0x17b000eb, thumbnail 7,680 and image 426,181 bytes", () => {
  const thumb = decodeInterruptPacket(real.D60_THUMBNAIL);
  assert.equal(thumb.code, INTERRUPT_CODE.THUMBNAIL);
  assert.equal(thumb.length, 0x17);
  assert.equal(thumb.word0c, 0x17b000eb);
  assert.equal(thumb.word10, 0x1e00);
  const image = decodeInterruptPacket(real.D60_IMAGE);
  assert.equal(image.code, INTERRUPT_CODE.IMAGE);
  // The document: the key is the same for a thumbnail and its full image.
  assert.equal(image.word0c, thumb.word0c);
  assert.equal(image.word10, 426181);
  const failure = decodeInterruptPacket(real.D60_FAILURE);
  assert.equal(failure.code, INTERRUPT_CODE.STATUS);
  assert.equal(failure.word0c, 0x0a);
  assert.equal(failure.word10, 1);
});

Deno.test("replay D60 interrupts: a capture to the PC and the card runs to 'complete' with both descriptors", () => {
  const steps = play(PC | TRANSFER_MODE.FULL_TO_DRIVE, 4, 0x3060, [
    new Uint8Array(0), // "Most responses have a length of zero"
    real.STATUS_STARTED,
    real.D60_THUMBNAIL,
    real.D60_IMAGE,
    real.STATUS_FINISHED,
    real.EOS_CARD_WRITTEN,
    real.EOS_COMPLETE,
  ]);
  assert.deepEqual(steps.map((s) => s.kind), [
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "continue",
    "done",
  ]);
  const last = steps[steps.length - 1].progress;
  assert.deepEqual(last.thumbnail, { key: 0x17b000eb, size: 7680 });
  assert.deepEqual(last.image, { key: 0x17b000eb, size: 426181 });
  assert.equal(last.step, 3);
});

Deno.test("replay D60 interrupts: the 0x14-byte failure report fails the capture with code 1", () => {
  const steps = play(PC, 4, 0x3060, [real.STATUS_STARTED, real.D60_THUMBNAIL, real.D60_FAILURE]);
  const last = steps[steps.length - 1];
  assert.equal(last.kind, "failed");
  if (last.kind === "failed") assert.equal(last.code, 1);
  assert.equal(last.progress.image, undefined, "no image announced");
});

Deno.test("replay G2 interrupts: key 1, thumbnail 3,081 and image 641,882 bytes; 'finished' ends it", () => {
  const steps = play(PC, 1, 0x3055, [
    real.STATUS_STARTED,
    real.G2_THUMBNAIL,
    real.G2_IMAGE,
    real.STATUS_FINISHED,
  ]);
  assert.deepEqual(steps.map((s) => s.kind), ["continue", "continue", "continue", "done"]);
  const last = steps[3].progress;
  assert.deepEqual(last.thumbnail, { key: 1, size: 3081 });
  assert.deepEqual(last.image, { key: 1, size: 641882 });
  assert.equal(decodeInterruptPacket(real.G2_IMAGE).word10, 0x09cb5a);
});

Deno.test("replay 300D interrupts: the init packet is code 0x20, 16 bytes, and no capture step", () => {
  const init = decodeInterruptPacket(real.EOS300D_INIT);
  assert.equal(init.code, INTERRUPT_CODE.INIT);
  assert.equal(init.length, 0x10);
  const steps = play(PC, 4, 0x3084, [real.EOS300D_INIT]);
  assert.notEqual(steps[0].kind, "done");
  assert.notEqual(steps[0].kind, "failed");
});
