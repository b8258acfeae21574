// One waitForCamera() scenario per run, for wait_for_camera_test.ts: each runs
// in its own process (started with LD_PRELOAD=libumockdev-preload.so.0), prints
// one JSON line, and must then end by itself: nothing may keep it alive.
//   deno run -A tests/_wait_scenarios.ts SCENARIO
import { waitForCamera, type WaitForCameraOptions } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";

const scenario = Deno.args[0];
const testbed = UmockdevTestbed.open();
const cameras: VirtualCamera[] = [];
const plug = (options: ConstructorParameters<typeof VirtualCamera>[0], address: number) => {
  const vc = new VirtualCamera({ card: false, ...options });
  cameras.push(vc);
  testbed.attach(vc.usbFunction, { address });
};
const later = (ms: number, action: () => void) => setTimeout(action, ms);

const start = performance.now();
let options: WaitForCameraOptions = { timeout: 10_000 };
switch (scenario) {
  case "hotplug":
  case "poll":
  case "auto":
    options = { ...options, method: scenario, interval: 100 };
    later(300, () => plug({ model: "PowerShot G3" }, 9));
    break;
  case "connected":
    plug({ model: "EOS 10D" }, 4);
    break;
  case "ptp-then-supported":
    later(200, () => plug({ productId: 0x306f }, 5));
    later(500, () => plug({ model: "EOS 20D" }, 6));
    break;
  case "timeout":
    options = { timeout: 600 };
    later(100, () => plug({ productId: 0x30ec }, 5));
    break;
  case "abort": {
    const controller = new AbortController();
    options = { signal: controller.signal };
    later(300, () => controller.abort());
    break;
  }
}
try {
  const found = await waitForCamera(options);
  console.log(JSON.stringify({ ...found, ms: Math.round(performance.now() - start) }));
} catch (error) {
  const e = error as Error;
  console.log(JSON.stringify({
    error: e.name,
    message: e.message,
    ms: Math.round(performance.now() - start),
  }));
} finally {
  testbed.close();
  for (const vc of cameras) await vc[Symbol.asyncDispose]();
}
