// Tier 3 fault matrix: the same faults × operations as tests/faults_test.ts,
// through the real stack: Camera -> LibusbDevice -> libusb-1.0 -> umockdev ->
// VirtualCamera, in this process. A cell plugs the camera into a fresh
// testbed; after an unplug, the camera is powered on again (replug) and
// plugged in anew (a new address), and Camera.open() must find it.
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { cells, libusbTier, runCell } from "./_fault_matrix.ts";
import { tier3Test } from "./_support.ts";

for (const [fault, op] of cells()) {
  tier3Test({
    name: `tier 3 fault: ${fault.name} × ${op.name}`,
    async fn() {
      using testbed = UmockdevTestbed.open();
      await runCell(libusbTier(testbed, 250), fault, op);
    },
  });
}
