// Two or more source trees side by side, for an A/B of a change: one of
// bench:compare's figures, measured for each tree and for the other tool
// through one umockdev testbed, rounds interleaved, medians, ratios.
//   LD_PRELOAD=libumockdev-preload.so.0 deno run --allow-all bench/tree_ab.ts \
//     --job=usb|download|info [--rounds=7] TREE...
// A TREE is a checkout's root (`git worktree add /tmp/base HEAD` gives the base).
//   usb       bench/usb_layer.ts against node-usb (bench/node/usb_layer.cjs; node-usb
//             must be in this tree's bench/node/, where bench:compare installs it):
//             64 KiB reads one at a time and 8 in flight, MB/s; 8-byte control round
//             trip, us (--bytes=67108864 --trips=1000);
//   download  bench/download_once.ts against `gphoto2 --get-file`, a virtual G3 with
//             the bus model off (--mib=32; --bus-model for it on): client CPU s per MiB,
//             MB/s of the whole command;
//   info      `canon info` bundled from each tree (`deno bundle`) against
//             `gphoto2 --summary`, wall ms; beside them Deno's empty-file floor.
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { PatternFunction } from "./pattern_device.ts";
import { benchCard, median, MIB, runMeasured } from "./_lib.ts";

const HERE = new URL("..", import.meta.url).pathname;
const DENO = Deno.execPath();
const option = (name: string, fallback: number): number => {
  const given = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return given ? Number(given.slice(name.length + 3)) : fallback;
};
const job = Deno.args.find((a) => a.startsWith("--job="))?.slice(6) ?? "usb";
const rounds = option("rounds", 7);
const trees = Deno.args.filter((a) => !a.startsWith("--")).map((t) => t.replace(/\/$/, ""));
if (trees.length === 0 || !["usb", "download", "info"].includes(job)) {
  console.error("usage: tree_ab.ts --job=usb|download|info [--rounds=N] TREE...");
  Deno.exit(2);
}

/** One figure: its name, whether more is better, its decimals, and how to read it off a run. */
interface Figure<R> {
  name: string;
  higherIsBetter: boolean;
  digits: number;
  of: (run: R) => number;
}

/** Run every contestant `rounds` times, interleaved, and print medians and ratios to the last. */
async function compare<R>(
  contestants: Map<string, () => Promise<R>>,
  figures: Figure<R>[],
): Promise<void> {
  const results = new Map<string, R[]>([...contestants.keys()].map((k) => [k, []]));
  for (const run of contestants.values()) await run(); // warm-up: page and module caches
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of contestants) results.get(name)!.push(await run());
  }
  const names = [...results.keys()];
  const other = names[names.length - 1];
  const pick = (name: string, f: Figure<R>) => median(results.get(name)!.map(f.of));
  console.log(`${job}: ${rounds} rounds; ratios to ${other} (above 1: better)`);
  for (const name of names) {
    const cells = figures.map((f) => {
      const ratio = f.higherIsBetter
        ? pick(name, f) / pick(other, f)
        : pick(other, f) / pick(name, f);
      return `${f.name} ${pick(name, f).toFixed(f.digits)} (${ratio.toFixed(2)}x)`;
    });
    console.log(`${name}: ${cells.join(", ")}`);
  }
}

using testbed = UmockdevTestbed.open();

if (job === "usb") {
  testbed.attach(new PatternFunction());
  const env = testbed.env();
  const args = [String(option("bytes", 64 * MIB)), String(option("trips", 1000))];
  type Usb = { bulkMBps: number; bulkPipelinedMBps: number; controlUs: number };
  const parse = async (run: Promise<{ stdout: string }>) => JSON.parse((await run).stdout) as Usb;
  const contestants = new Map<string, () => Promise<Usb>>();
  for (const tree of trees) {
    const script = `${tree}/bench/usb_layer.ts`;
    contestants.set(tree, () => parse(runMeasured(DENO, ["run", "-A", script, ...args], { env })));
  }
  const node = `${HERE}bench/node/usb_layer.cjs`;
  contestants.set("node-usb", () => parse(runMeasured("node", [node, ...args], { env })));
  await compare(contestants, [
    { name: "64 KiB reads MB/s", higherIsBetter: true, digits: 1, of: (r) => r.bulkMBps },
    { name: "8 in flight MB/s", higherIsBetter: true, digits: 1, of: (r) => r.bulkPipelinedMBps },
    { name: "control us", higherIsBetter: false, digits: 1, of: (r) => r.controlUs },
  ]);
} else if (job === "download") {
  const FILE = "/DCIM/100CANON/MVI_0001.AVI";
  const mib = option("mib", 32);
  const camera = new VirtualCamera({
    card: benchCard([{ path: FILE, size: mib * MIB }]),
    busModel: Deno.args.includes("--bus-model"),
  });
  try {
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const dir = await Deno.makeTempDir({ prefix: "tree-ab-" });
    type Run = { ms: number; cpu: number };
    const contestants = new Map<string, () => Promise<Run>>();
    for (const tree of trees) {
      const script = `${tree}/bench/download_once.ts`;
      contestants.set(tree, () => runMeasured(DENO, ["run", "-A", script, FILE, dir], { env }));
    }
    contestants.set(
      "gphoto2",
      () =>
        runMeasured("gphoto2", ["--get-file", FILE, "--force-overwrite"], {
          env: { ...env, LANG: "C" },
          cwd: dir,
        }),
    );
    await compare(contestants, [
      { name: "client CPU s/MiB", higherIsBetter: false, digits: 4, of: (r) => r.cpu / mib },
      { name: "MB/s", higherIsBetter: true, digits: 1, of: (r) => (mib * MIB) / 1e3 / r.ms },
    ]);
    await Deno.remove(dir, { recursive: true });
  } finally {
    await camera[Symbol.asyncDispose]();
  }
} else {
  const camera = new VirtualCamera();
  const dir = await Deno.makeTempDir({ prefix: "tree-ab-" });
  try {
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const contestants = new Map<string, () => Promise<{ ms: number }>>();
    for (const [i, tree] of trees.entries()) {
      const bundle = `${dir}/canon-${i}.js`;
      const built = await new Deno.Command(DENO, {
        args: ["bundle", "--platform", "deno", "-o", bundle, `${tree}/src/cli/main.ts`],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!built.success) throw new Error(`deno bundle of ${tree} failed`);
      contestants.set(tree, () => runMeasured(DENO, ["run", "-A", bundle, "info"], { env }));
    }
    await Deno.writeTextFile(`${dir}/empty.js`, "");
    contestants.set("empty file", () => runMeasured(DENO, ["run", `${dir}/empty.js`], { env }));
    contestants.set(
      "gphoto2",
      () => runMeasured("gphoto2", ["--summary"], { env: { ...env, LANG: "C" } }),
    );
    await compare(contestants, [{ name: "ms", higherIsBetter: false, digits: 1, of: (r) => r.ms }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await camera[Symbol.asyncDispose]();
  }
}
