// The tier-3 harness (tests/_support.ts) must be able to fail: a testbed, a
// libusb device handle or a libusb transfer left behind is named.
import assert from "node:assert/strict";
import { openUsbDevice } from "../src/usb/mod.ts";
import { UmockdevTestbed, VirtualCamera } from "../src/emulator/mod.ts";
import { leftoversBefore, leftoversSince, tier3Test } from "./_support.ts";

tier3Test({
  name: "harness: an open testbed and an open device handle are reported, then not",
  async fn() {
    const before = leftoversBefore();
    const testbed = UmockdevTestbed.open();
    try {
      const vc = new VirtualCamera();
      testbed.attach(vc.usbFunction);
      const device = await openUsbDevice({ vendorId: vc.vendorId, productId: vc.productId });
      await device.open();
      const left = await leftoversSince(before, 50);
      assert.equal(left.length, 2, left.join("; "));
      assert.match(left[0], /device handle/);
      assert.match(left[1], /testbed is still open/);
      await device.close();
    } finally {
      testbed.close();
    }
    assert.deepEqual(await leftoversSince(before), []);
  },
});
