/// <reference types="npm:@types/w3c-web-usb@1.0.10" />
// Contract: the device contract is WebUSB (issue 13, point 1).
//
// The type half: a `USBDevice` from the standard WebUSB typings
// (`@types/w3c-web-usb`) is a `UsbDevice`, with no cast; `deno check` fails
// this file if the contract asks for anything WebUSB does not give.
//
// The runtime half: a plain WebUSB-shaped device, written against those
// typings only: it opens unconfigured (`configuration` null until
// `selectConfiguration`), has no product or manufacturer string (`null`, as
// the spec's nullable attributes are), ignores any third argument (no
// timeouts: a read waits until data comes), and has no `readBulkChunks` or
// other extension. It forwards to a VirtualCamera, and the Camera API works
// over it end to end.
import assert from "node:assert/strict";
import { Camera, type UsbDevice } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";

/** The assignment the issue asks for: compiles only while the contract is WebUSB. */
function asContract(device: USBDevice): UsbDevice {
  const d: UsbDevice = device;
  return d;
}

// The spec's nullable strings are accepted, and a wrong type is not.
const nameless: Pick<UsbDevice, "productName" | "manufacturerName"> = {
  productName: null,
  manufacturerName: null,
};
// @ts-expect-error a product name is a string or null, never a number
const wrongName: UsbDevice["productName"] = 3;

const notSupported = () =>
  Promise.reject(new DOMException("not supported by this device", "NotSupportedError"));

/** A WebUSB device and nothing more, over a VirtualCamera. */
class PlainWebUsbDevice implements USBDevice {
  readonly usbVersionMajor = 1;
  readonly usbVersionMinor = 1;
  readonly usbVersionSubminor = 0;
  readonly deviceClass = 0;
  readonly deviceSubclass = 0;
  readonly deviceProtocol = 0;
  readonly deviceVersionMajor = 0;
  readonly deviceVersionMinor = 0;
  readonly deviceVersionSubminor = 1;
  // WebUSB's attributes are `DOMString?`: null when the device has no string.
  readonly manufacturerName = null as unknown as undefined;
  readonly productName = null as unknown as undefined;
  readonly serialNumber = undefined;
  readonly configurations: USBConfiguration[];
  /** Every bConfigurationValue selected, in order. */
  readonly selected: number[] = [];
  /** Every call's name and argument count, to see that no extension is used. */
  readonly calls: string[] = [];
  #configuration: USBConfiguration | null = null;
  readonly #inner: VirtualCamera;

  constructor(inner: VirtualCamera) {
    this.#inner = inner;
    const info = inner.configuration;
    const alternate = (endpoints: USBEndpoint[]) => ({
      alternateSetting: 0,
      interfaceClass: 0xff,
      interfaceSubclass: 0xff,
      interfaceProtocol: 0xff,
      interfaceName: undefined,
      endpoints,
    });
    const configuration: USBConfiguration = {
      configurationValue: info.configurationValue,
      configurationName: undefined,
      interfaces: info.interfaces.map((i) => {
        const alt = alternate(i.alternate.endpoints.map((e) => ({ ...e })));
        return {
          interfaceNumber: i.interfaceNumber,
          alternate: alt,
          alternates: [alt],
          claimed: false,
        };
      }),
    };
    this.configurations = [configuration];
  }

  get vendorId(): number {
    return this.#inner.vendorId;
  }
  get productId(): number {
    return this.#inner.productId;
  }
  // The WebUSB typings declare it optional; the spec says null while unconfigured.
  get configuration(): USBConfiguration | undefined {
    return this.#configuration as USBConfiguration | undefined;
  }
  get opened(): boolean {
    return this.#inner.opened;
  }
  #note(name: string, args: IArguments): void {
    this.calls.push(`${name}/${args.length}`);
  }
  open(): Promise<void> {
    this.#note("open", arguments);
    return this.#inner.open();
  }
  async close(): Promise<void> {
    this.#note("close", arguments);
    this.#configuration = null;
    await this.#inner.close();
  }
  forget(): Promise<void> {
    return notSupported();
  }
  selectConfiguration(value: number): Promise<void> {
    this.#note("selectConfiguration", arguments);
    const found = this.configurations.find((c) => c.configurationValue === value);
    if (!found) return Promise.reject(new DOMException("no such configuration", "NotFoundError"));
    this.selected.push(value);
    this.#configuration = found;
    return Promise.resolve();
  }
  claimInterface(interfaceNumber: number): Promise<void> {
    this.#note("claimInterface", arguments);
    if (this.#configuration === null) {
      return Promise.reject(new DOMException("the device is not configured", "InvalidStateError"));
    }
    return this.#inner.claimInterface(interfaceNumber);
  }
  releaseInterface(interfaceNumber: number): Promise<void> {
    this.#note("releaseInterface", arguments);
    return this.#inner.releaseInterface(interfaceNumber);
  }
  selectAlternateInterface(): Promise<void> {
    return notSupported();
  }
  controlTransferIn(setup: USBControlTransferParameters, length: number) {
    this.#note("controlTransferIn", arguments);
    return this.#inner.controlTransferIn(setup, length, { timeout: 0 }) as Promise<
      USBInTransferResult
    >;
  }
  controlTransferOut(setup: USBControlTransferParameters, data?: BufferSource) {
    this.#note("controlTransferOut", arguments);
    return this.#inner.controlTransferOut(setup, data, { timeout: 0 }) as Promise<
      USBOutTransferResult
    >;
  }
  clearHalt(direction: USBDirection, endpointNumber: number): Promise<void> {
    this.#note("clearHalt", arguments);
    return this.#inner.clearHalt(direction, endpointNumber);
  }
  transferIn(endpointNumber: number, length: number) {
    this.#note("transferIn", arguments);
    // timeout 0: wait for data without limit, as a WebUSB read does.
    return this.#inner.transferIn(endpointNumber, length, { timeout: 0 }) as Promise<
      USBInTransferResult
    >;
  }
  transferOut(endpointNumber: number, data: BufferSource) {
    this.#note("transferOut", arguments);
    return this.#inner.transferOut(endpointNumber, data, { timeout: 0 }) as Promise<
      USBOutTransferResult
    >;
  }
  isochronousTransferIn(): Promise<USBIsochronousInTransferResult> {
    return notSupported();
  }
  isochronousTransferOut(): Promise<USBIsochronousOutTransferResult> {
    return notSupported();
  }
  reset(): Promise<void> {
    this.#note("reset", arguments);
    return this.#inner.reset();
  }
}

Deno.test("contract: the WebUSB typings' USBDevice is a UsbDevice; names may be null", () => {
  assert.equal(nameless.productName, null);
  assert.equal(wrongName, 3); // kept only for the @ts-expect-error above
  const device = new PlainWebUsbDevice(new VirtualCamera());
  assert.equal(asContract(device).productName, null);
  assert.equal(asContract(device).configuration, null);
  assert.equal("readBulkChunks" in device, false);
});

Deno.test("contract: Camera works over a plain WebUSB device, selecting configuration 1", async () => {
  const vc = new VirtualCamera({ owner: "WebUSB" });
  const device = new PlainWebUsbDevice(vc);
  {
    await using cam = await Camera.connect(asContract(device));
    assert.deepEqual(device.selected, [1], "configuration 1 selected before claiming");
    assert.equal(cam.modelName, "Canon PowerShot G3", "model found by product id, not productName");
    assert.equal((await cam.identify()).owner, "WebUSB");
    const files = await cam.storage.list("/DCIM/100CANON");
    const jpeg = files.find((f) => f.name.endsWith(".JPG"));
    assert.ok(jpeg, "the card has a JPEG");
    const dir = await Deno.makeTempDir({ prefix: "canon-webusb-" });
    try {
      const result = await cam.storage.download(jpeg.path, dir);
      assert.ok(result.file, "written to a file");
      const bytes = await Deno.readFile(result.file);
      assert.equal(bytes.length, jpeg.size);
      assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], "a JPEG arrived whole");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  assert.equal(device.opened, false, "closing the camera closed the device it opened");
  assert.deepEqual(
    device.calls.slice(0, 3).map((call) => call.split("/")[0]),
    ["open", "selectConfiguration", "claimInterface"],
    "opened, configured, then claimed, as WebUSB's examples do",
  );
});
