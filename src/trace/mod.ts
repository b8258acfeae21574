/**
 * Traces of canon-remote: read and write pcapng captures (usbmon, as
 * Wireshark and tshark write them), record what a device or a USB function
 * exchanges, and decode a capture into Canon commands.
 *
 * ```ts ignore
 * import { decodeCanonCapture } from "@canon-remote/canon-remote/trace";
 *
 * const trace = decodeCanonCapture(await Deno.readFile("camera.pcapng"));
 * for (const line of trace.lines) console.log(line);
 * ```
 *
 * @module
 */

export { decodeCanonCapture, TraceDecodeError } from "./decode.ts";
export type { CapturedDevice, DecodedCommand, DecodedTrace, DecodeOptions } from "./decode.ts";
export { CaptureFormatError, PcapngWriter, readCapture } from "./pcap.ts";
export type { CapturedPacket, CaptureFile, PcapngWriterOptions } from "./pcap.ts";
export { recordDevice, recordFunction, UsbRecorder } from "./recorder.ts";
export type { PendingTransfer, RecorderOptions } from "./recorder.ts";
export type { TransferType } from "./usbmon.ts";
