// The USB layer alone, through this library's LibusbDevice, against the
// pattern device (bench/pattern_device.ts) that bench/compare.ts
// emulates: bulk IN throughput in 64 KiB reads (one at a time, then 8 in
// flight) and the round trip of a small control transfer. Prints one JSON
// line. bench/node/usb_layer.cjs does the same with node-usb.
//
//   deno run --allow-all bench/usb_layer.ts BYTES CONTROL_ROUND_TRIPS
import { openUsbDevice } from "../src/usb/discovery.ts";

const [bytes, trips] = Deno.args.map(Number);
const READ = 64 * 1024;
const reads = Math.ceil(bytes / READ);

await using dev = await openUsbDevice({ vendorId: 0x1234, productId: 0x5678 });
await dev.open();
await dev.claimInterface(0);

let start = performance.now();
let got = 0;
for (let i = 0; i < reads; i++) got += (await dev.transferIn(1, READ)).data?.byteLength ?? 0;
const bulkMs = performance.now() - start;

start = performance.now();
let piped = 0;
for await (const r of dev.readBulkChunks(1, Array<number>(reads).fill(READ), { inFlight: 8 })) {
  piped += r.data?.byteLength ?? 0;
}
const pipelinedMs = performance.now() - start;

const setup = {
  requestType: "vendor",
  recipient: "device",
  request: 1,
  value: 0,
  index: 0,
} as const;
start = performance.now();
for (let i = 0; i < trips; i++) await dev.controlTransferIn(setup, 8);
const controlMs = performance.now() - start;

console.log(JSON.stringify({
  bulkMBps: got / 1e6 / (bulkMs / 1000),
  bulkPipelinedMBps: piped / 1e6 / (pipelinedMs / 1000),
  controlUs: (controlMs * 1000) / trips,
}));
