/**
 * Traces of canon-remote: read and write pcapng captures (usbmon, as
 * Wireshark and tshark write them), record what a device exchanges, and
 * decode a trace into Canon commands.
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

export { decodeCanonCapture, decodeCanonCaptureStream, TraceDecodeError } from "./decode.ts";
export type {
  CapturedDevice,
  DecodedCommand,
  DecodedTrace,
  DecodeOptions,
  StreamDecodeOptions,
  TraceSummary,
} from "./decode.ts";
export {
  CaptureFormatError,
  CaptureReader,
  PcapngWriter,
  readCapture,
  readCaptureStream,
} from "./pcap.ts";
export type { CapturedPacket, CaptureFile, PcapngWriterOptions } from "./pcap.ts";
export { recordDevice, UsbRecorder } from "./recorder.ts";
export type { PendingTransfer, RecorderOptions } from "./recorder.ts";
export type { TransferType } from "./usbmon.ts";
