// Issue 11.7: the init handshake accepts any transfer length the camera's
// init block gives (word 0x4C), as gphoto2 does, except 0xFFFFFFFF (then the
// default 0x1400): clamped to what one host read can be, never refused.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import type { UsbDevice } from "../src/usb/device.ts";
import { decodeInitBlock, MAX_TRANSFER_LENGTH } from "../src/protocol/codec.ts";

/** `inner` with word 0x4C of its init block replaced by `word`. */
function withInitWord(inner: VirtualCamera, word: number): UsbDevice {
  return {
    vendorId: inner.vendorId,
    productId: inner.productId,
    configuration: inner.configuration,
    get opened() {
      return inner.opened;
    },
    open: () => inner.open(),
    close: () => inner.close(),
    claimInterface: (n) => inner.claimInterface(n),
    releaseInterface: (n) => inner.releaseInterface(n),
    controlTransferIn: async (setup, length, options) => {
      const result = await inner.controlTransferIn(setup, length, options);
      if (setup.value === 0x01 && result.data && result.data.byteLength === 0x58) {
        const copy = new Uint8Array(0x58);
        copy.set(new Uint8Array(result.data.buffer, result.data.byteOffset, 0x58));
        new DataView(copy.buffer).setUint32(0x4c, word, true);
        return { status: result.status, data: new DataView(copy.buffer) };
      }
      return result;
    },
    controlTransferOut: (s, d, o) => inner.controlTransferOut(s, d as BufferSource, o),
    transferIn: (e, l, o) => inner.transferIn(e, l, o),
    transferOut: (e, d, o) => inner.transferOut(e, d as BufferSource, o),
    readBulkChunks: (e, l, o) => inner.readBulkChunks(e, l, o),
  };
}

function block(word: number): Uint8Array {
  const raw = new Uint8Array(0x58);
  new DataView(raw.buffer).setUint32(0x4c, word, true);
  return raw;
}

Deno.test("tier 1: init transfer lengths are clamped, never refused; 0xFFFFFFFF means 0x1400", () => {
  assert.equal(decodeInitBlock(block(0xffffffff)).transferLength, 0x1400);
  assert.equal(decodeInitBlock(block(0)).transferLength, 0x40);
  assert.equal(decodeInitBlock(block(0x20)).transferLength, 0x40);
  assert.equal(decodeInitBlock(block(0x1401)).transferLength, 0x1400);
  assert.equal(decodeInitBlock(block(0x10000)).transferLength, 0x10000);
  assert.equal(decodeInitBlock(block(0x7fffffff)).transferLength, MAX_TRANSFER_LENGTH);
  assert.equal(decodeInitBlock(block(0xfffffffe)).transferLength, MAX_TRANSFER_LENGTH);
});

for (const word of [0, 0x20, 0x1401, 0x7fffffff, 0xfffffffe]) {
  Deno.test(
    `tier 2: a camera whose init block says ${word.toString(16)} connects and downloads intact`,
    async () => {
      const vc = new VirtualCamera();
      await using cam = await Camera.connect(withInitWord(vc, word));
      assert.ok(cam.transferLength >= 0x40 && cam.transferLength <= MAX_TRANSFER_LENGTH);
      const path = "/DCIM/100CANON/IMG_0001.JPG";
      const segments = path.split("/").filter(Boolean);
      const want = vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
      assert.deepEqual(await cam.storage.read(path), want);
    },
  );
}
