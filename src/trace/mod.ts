/**
 * Traces of canon-remote: read and write pcapng captures (usbmon, as
 * Wireshark and tshark write them), record what a device exchanges, and
 * decode a trace into Canon commands.
 *
 * ```ts ignore
 * import { decodeCanonTrace } from "@canon-remote/canon-remote/trace";
 *
 * const trace = decodeCanonTrace(await Deno.readFile("camera.pcapng"));
 * for (const line of trace.lines) console.log(line);
 * ```
 *
 * @module
 */

export { decodeCanonTrace, decodeCanonTraceStream, TraceDecodeError } from "./decode.ts";
export type {
  DecodedCommand,
  DecodedTrace,
  DecodeOptions,
  StreamDecodeOptions,
  TracedDevice,
  TraceSummary,
} from "./decode.ts";
export { PcapngWriter, readTrace, readTraceStream, TraceFormatError, TraceReader } from "./pcap.ts";
export type { PcapngWriterOptions, TraceFile, TracePacket } from "./pcap.ts";
export { recordDevice, UsbRecorder } from "./recorder.ts";
export type { RecordedTransfer, RecorderOptions } from "./recorder.ts";
export type { TransferType } from "./usbmon.ts";
