// The USB layer alone, through node-usb 2.x (npm `usb`, libusb-based), against
// the pattern device bench/compare.ts emulates: bulk IN throughput in 64 KiB
// reads (one at a time, then 8 in flight with startPoll) and the round trip
// of a small control transfer. Prints one JSON line, like bench/usb_layer.ts.
//
//   node bench/node/usb_layer.cjs BYTES CONTROL_ROUND_TRIPS
"use strict";
const usb = require("usb");

const [bytes, trips] = process.argv.slice(2).map(Number);
const READ = 64 * 1024;
const reads = Math.ceil(bytes / READ);

async function main() {
  const dev = usb.findByIds(0x1234, 0x5678);
  if (!dev) throw new Error("the pattern device is not there");
  dev.open();
  const iface = dev.interface(0);
  iface.claim();
  const ep = iface.endpoint(0x81);
  const read = () =>
    new Promise((resolve, reject) => ep.transfer(READ, (e, d) => (e ? reject(e) : resolve(d))));

  let start = performance.now();
  let got = 0;
  for (let i = 0; i < reads; i++) got += (await read()).length;
  const bulkMs = performance.now() - start;

  start = performance.now();
  const piped = await new Promise((resolve, reject) => {
    let n = 0;
    let stopped = false;
    ep.on("data", (d) => {
      n += d.length;
      if (n >= reads * READ && !stopped) {
        stopped = true;
        ep.stopPoll(() => resolve(n));
      }
    });
    ep.on("error", reject);
    ep.startPoll(8, READ);
  });
  const pipelinedMs = performance.now() - start;

  start = performance.now();
  for (let i = 0; i < trips; i++) {
    await new Promise((resolve, reject) =>
      dev.controlTransfer(0xc0, 1, 0, 0, 8, (e, d) => (e ? reject(e) : resolve(d)))
    );
  }
  const controlMs = performance.now() - start;

  await new Promise((resolve) => iface.release(true, resolve));
  dev.close();
  console.log(JSON.stringify({
    bulkMBps: got / 1e6 / (bulkMs / 1000),
    bulkPipelinedMBps: piped / 1e6 / (pipelinedMs / 1000),
    controlUs: (controlMs * 1000) / trips,
  }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
