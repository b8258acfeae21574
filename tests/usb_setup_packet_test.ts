// The setup-packet codec and the transfer-outcome reader of the USB layer:
// known byte vectors (each hand-checked against USB 2.0 § 9.3), a round
// trip over every request type and recipient, and the refusals.
import assert from "node:assert/strict";
import {
  decodeSetupPacket,
  encodeSetupPacket,
  encodeWebUsbSetup,
  setupPacketFields,
  webUsbSetupOf,
  writeSetupPacket,
} from "../src/usb/setup_packet.ts";
import { transferOutcome } from "../src/usb/libusb_pipeline.ts";
import { LIBUSB_TRANSFER_STATUS } from "../ffi/libusb.ts";
import { UsbError } from "../src/usb/errors.ts";
import type { UsbRecipient, UsbRequestType } from "../src/usb/device.ts";

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

Deno.test("setup packet: Canon's vendor IN request encodes as c0 04 ...", () => {
  // The PowerShot's "read 0x50 bytes of the camera's state" request.
  const bytes = encodeWebUsbSetup(
    { requestType: "vendor", recipient: "device", request: 0x04, value: 0x0001, index: 0 },
    "in",
    0x50,
  );
  assert.equal(hex(bytes), "c0 04 01 00 00 00 50 00");
});

Deno.test("setup packet: a vendor OUT request with a 16-bit value and length", () => {
  const bytes = encodeWebUsbSetup(
    { requestType: "vendor", recipient: "device", request: 0x10, value: 0x1234, index: 0xabcd },
    "out",
    0x0210,
  );
  assert.equal(hex(bytes), "40 10 34 12 cd ab 10 02");
});

Deno.test("setup packet: GET_DESCRIPTOR(string 3, en-US) is 80 06 03 03 09 04 ff 00", () => {
  const bytes = encodeWebUsbSetup(
    { requestType: "standard", recipient: "device", request: 0x06, value: 0x0303, index: 0x0409 },
    "in",
    255,
  );
  assert.equal(hex(bytes), "80 06 03 03 09 04 ff 00");
});

Deno.test("setup packet: class and recipient bits", () => {
  const cases: [UsbRequestType, UsbRecipient, "in" | "out", number][] = [
    ["class", "interface", "out", 0x21],
    ["class", "endpoint", "in", 0xa2],
    ["standard", "other", "out", 0x03],
    ["vendor", "interface", "in", 0xc1],
  ];
  for (const [requestType, recipient, direction, expected] of cases) {
    const f = setupPacketFields(
      { requestType, recipient, request: 1, value: 0, index: 0 },
      direction,
      0,
    );
    assert.equal(f.bmRequestType, expected, `${requestType} ${recipient} ${direction}`);
  }
});

Deno.test("setup packet: every request type, recipient and direction round-trips", () => {
  for (const requestType of ["standard", "class", "vendor"] as const) {
    for (const recipient of ["device", "interface", "endpoint", "other"] as const) {
      for (const direction of ["in", "out"] as const) {
        const setup = { requestType, recipient, request: 0xfe, value: 0xfffe, index: 0x8001 };
        const decoded = webUsbSetupOf(
          decodeSetupPacket(encodeWebUsbSetup(setup, direction, 0xffff)),
        );
        assert.deepEqual(decoded, { ...setup, direction, length: 0xffff });
      }
    }
  }
});

Deno.test("setup packet: written in place at an offset, decoded from a view", () => {
  const buffer = new Uint8Array(20).fill(0xee);
  const fields = { bmRequestType: 0xc0, bRequest: 0x0c, wValue: 0x55, wIndex: 0, wLength: 1 };
  writeSetupPacket(fields, buffer.subarray(4), 2);
  assert.equal(hex(buffer.subarray(6, 14)), "c0 0c 55 00 00 00 01 00");
  assert.equal(buffer[5], 0xee);
  assert.equal(buffer[14], 0xee);
  assert.deepEqual(decodeSetupPacket(buffer.subarray(6)), fields);
  assert.deepEqual(encodeSetupPacket(fields), buffer.subarray(6, 14));
});

Deno.test("setup packet: refusals", () => {
  const good = {
    requestType: "vendor",
    recipient: "device",
    request: 1,
    value: 0,
    index: 0,
  } as const;
  const bad = [
    { ...good, requestType: "reserved" as UsbRequestType },
    { ...good, recipient: "toString" as UsbRecipient },
    { ...good, request: 0x100 },
    { ...good, value: -1 },
    { ...good, index: 1.5 },
  ];
  for (const setup of bad) {
    assert.throws(
      () => encodeWebUsbSetup(setup, "in", 0),
      (e) => e instanceof UsbError && e.code === "INVALID_PARAM",
    );
  }
  assert.throws(() => encodeWebUsbSetup(good, "in", 0x10000), UsbError);
  assert.throws(() => decodeSetupPacket(new Uint8Array(7)), RangeError);
  // The reserved type (bits 6..5 = 3) and recipients 4..31 have no WebUSB name.
  const raw = { bmRequestType: 0x60, bRequest: 0, wValue: 0, wIndex: 0, wLength: 0 };
  assert.equal(webUsbSetupOf(raw), undefined);
  assert.equal(webUsbSetupOf({ ...raw, bmRequestType: 0x44 }), undefined);
});

Deno.test("transfer outcome: every libusb status, and the length clamped", () => {
  const S = LIBUSB_TRANSFER_STATUS;
  assert.deepEqual(transferOutcome(S.COMPLETED, 64, 64), { status: "ok", length: 64 });
  assert.deepEqual(transferOutcome(S.COMPLETED, 100, 64), { status: "ok", length: 64 });
  assert.deepEqual(transferOutcome(S.COMPLETED, -3, 64), { status: "ok", length: 0 });
  assert.deepEqual(transferOutcome(S.STALL, 0, 64), { status: "stall", length: 0 });
  assert.deepEqual(transferOutcome(S.OVERFLOW, 64, 64), { status: "babble", length: 64 });
  assert.deepEqual(transferOutcome(S.CANCELLED, 12, 64), { status: "cancelled", length: 12 });
  assert.deepEqual(transferOutcome(S.TIMED_OUT, 8, 64), { status: "error", code: -7, length: 8 });
  assert.deepEqual(transferOutcome(S.NO_DEVICE, 0, 64), { status: "error", code: -4, length: 0 });
  assert.deepEqual(transferOutcome(S.ERROR, 0, 64), { status: "error", code: -1, length: 0 });
  assert.deepEqual(transferOutcome(99, 0, 64), { status: "error", code: -1, length: 0 });
});
