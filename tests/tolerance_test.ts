// Issue 11 point 7, the tolerance parts: a camera that cannot report its zoom
// still has settings; a camera whose product id is the same in PTP and native
// mode is tried in native mode, and told apart from one that speaks only PTP.
import assert from "node:assert/strict";
import { Camera, CameraNotFoundError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { SHARED_ID_MODELS, sharedIdModel } from "../src/protocol/models.ts";
import { cameraInfo } from "../src/camera/discovery.ts";
import type {
  UsbConfigurationInfo,
  UsbDevice,
  UsbInResult,
  UsbOutResult,
} from "../src/usb/device.ts";

const GET_ZOOM = { cmd1: 0x13, cmd2: 0x12, subcommand: 0x0b };

Deno.test("a refused zoom read leaves settings(), choices() and set() working, without zoom", async () => {
  const vc = new VirtualCamera({ model: "PowerShot G3" });
  await using cam = await Camera.connect(vc);
  await using _remote = await cam.capture.start();
  vc.faults.inject({ kind: "status", status: 0x02000086 }, { command: GET_ZOOM, times: Infinity });
  const settings = await cam.capture.settings();
  assert.equal(settings.iso, 50);
  assert.equal(settings.zoom, undefined);
  const choices = await cam.capture.choices();
  assert.deepEqual(choices.zoom, [], "no zoom to offer");
  assert.ok(choices.iso.length > 0);
  const after = await cam.capture.set({ iso: 200 });
  assert.equal(after.iso, 200);
  vc.faults.clear();
  assert.equal((await cam.capture.settings()).zoom, 0, "zoom comes back when the camera answers");
});

Deno.test("another refusal of the zoom read (0x02000085) does not break settings() either", async () => {
  const vc = new VirtualCamera({ model: "PowerShot G3" });
  await using cam = await Camera.connect(vc);
  await using _remote = await cam.capture.start();
  vc.faults.inject({ kind: "status", status: 0x02000085 }, { command: GET_ZOOM });
  assert.equal((await cam.capture.settings()).zoom, undefined);
});

Deno.test("ids shared by PTP and native mode are in the table, from libgphoto2's canon.c", () => {
  const ids = SHARED_ID_MODELS.map((m) => m.productId);
  // A70, A60, S400, G5, A80, S1 IS, S60, S70, G6, S500, A75, A85, A95, S410, SD400, A510, SD500, A610.
  for (
    const id of [
      0x3073,
      0x3074,
      0x3075,
      0x3085,
      0x309a,
      0x309c,
      0x30b2,
      0x30b1,
      0x30b3,
      0x30b4,
      0x30b5,
      0x30b9,
      0x30bb,
      0x30ba,
      0x30c1,
      0x30c2,
      0x30f2,
      0x30fd,
    ]
  ) assert.ok(ids.includes(id), `0x${id.toString(16)}`);
  const found = cameraInfo({ bus: 1, address: 2, productId: 0x3073, vendorId: 0x04a9 } as never);
  assert.equal(found.modelName, "PowerShot A70");
  assert.equal(found.supported, true);
  assert.equal(found.mode, "ptp-or-normal");
});

Deno.test("a shared-id camera that speaks the native protocol is driven natively", async () => {
  // A camera answering the Canon protocol under the PowerShot G6's id (0x30b3, class 5).
  const vc = new VirtualCamera({ model: "PowerShot G3", productId: 0x30b3 });
  await using cam = await Camera.connect(vc);
  assert.equal(cam.model.name, "PowerShot G6");
  assert.equal(cam.model.cameraClass, sharedIdModel(0x30b3)!.cameraClass);
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  await cam.storage.info();
});

/** A camera in PTP mode: it stalls Canon's vendor requests, as a PTP device does. */
class PtpOnlyCamera implements UsbDevice {
  readonly vendorId = 0x04a9;
  readonly productId = 0x3073;
  readonly configuration: UsbConfigurationInfo = {
    configurationValue: 1,
    interfaces: [{
      interfaceNumber: 0,
      alternate: {
        endpoints: [
          { endpointNumber: 1, direction: "in", type: "bulk", packetSize: 64 },
          { endpointNumber: 2, direction: "out", type: "bulk", packetSize: 64 },
          { endpointNumber: 3, direction: "in", type: "interrupt", packetSize: 8 },
        ],
      },
    }],
  };
  opened = false;
  vendorRequests = 0;
  open() {
    this.opened = true;
    return Promise.resolve();
  }
  close() {
    this.opened = false;
    return Promise.resolve();
  }
  claimInterface() {
    return Promise.resolve();
  }
  controlTransferIn(): Promise<UsbInResult> {
    this.vendorRequests++;
    return Promise.resolve({ status: "stall" });
  }
  controlTransferOut(): Promise<UsbOutResult> {
    this.vendorRequests++;
    return Promise.resolve({ status: "stall", bytesWritten: 0 });
  }
  transferIn(): Promise<UsbInResult> {
    return Promise.resolve({ status: "stall" });
  }
  transferOut(): Promise<UsbOutResult> {
    return Promise.resolve({ status: "stall", bytesWritten: 0 });
  }
}

Deno.test("a shared-id camera that answers as PTP: 'speaks only PTP', and what to use instead", async () => {
  const device = new PtpOnlyCamera();
  const error = await Camera.connect(device).catch((e) => e);
  assert.ok(error instanceof CameraNotFoundError, String(error));
  assert.ok(device.vendorRequests > 0, "the native protocol was tried first");
  assert.match(error.message, /PowerShot A70.*only as a PTP camera/);
  assert.doesNotMatch(error.message, /switch (its|the) USB mode/i);
  assert.match(error.hint ?? "", /ptp2/);
  assert.equal(device.opened, false, "the device is closed again");
});
