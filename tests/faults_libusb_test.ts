// Tier 3 fault matrix: the same faults × operations as tests/faults_test.ts,
// through the real stack: Camera -> LibusbDevice -> libusb-1.0 -> umockdev ->
// VirtualCamera, in this process. A cell plugs the camera into a fresh
// testbed; after an unplug, the camera is powered on again (replug) and
// plugged in anew (a new address), and Camera.open() must find it.
import { Camera } from "../mod.ts";
import type { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev.ts";
import { cells, type MatrixTier, runCell, saveResults } from "./_fault_matrix.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const TIMEOUT = 250;

function tierWith(testbed: UmockdevTestbed): MatrixTier {
  return {
    name: "tier 3",
    timeout: TIMEOUT,
    open: (vc) => {
      testbed.attach(vc.usbFunction);
      return Camera.open({ timeout: TIMEOUT });
    },
    reopen: (vc: VirtualCamera) => {
      for (const device of testbed.devices) {
        if (device.usbFunction === vc.usbFunction) device.detach();
      }
      vc.replug();
      testbed.attach(vc.usbFunction);
      return Camera.open({ timeout: TIMEOUT });
    },
  };
}

for (const [fault, op] of cells()) {
  Deno.test({
    name: `tier 3 fault: ${fault.name} × ${op.name}`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      using testbed = UmockdevTestbed.open();
      await runCell(tierWith(testbed), fault, op);
    },
  });
}

Deno.test({
  name: "tier 3 fault matrix: results saved when FAULT_MATRIX_OUT is set",
  ignore,
  async fn() {
    await saveResults();
  },
});
