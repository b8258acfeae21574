// Peak memory and time of a recursive listing of a 2 000-file card, two
// checkouts side by side through one emulated camera (bus model and timing
// on): `bench/list_once.ts` (Storage.list in a fresh process) and
// `canon ls -R /` (the CLI, peak RSS from /usr/bin/time), alternating runs.
//   deno run --allow-all bench/list_side_by_side.ts [--runs=5] ROOT_A ROOT_B
import { median, MIB, runMeasured } from "./_lib.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";

const runs = Number(Deno.args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 5);
const roots = Deno.args.filter((a) => !a.startsWith("--"));
if (roots.length === 0) roots.push(new URL("..", import.meta.url).pathname);
const FILES = 2000;

const content = [];
for (let i = 0; i < FILES; i++) {
  content.push({
    path: `/DCIM/${100 + Math.floor(i / 100)}CANON/IMG_${String(i + 1).padStart(4, "0")}.JPG`,
    size: 1000 + (i % 50),
  });
}
const camera = new VirtualCamera({
  card: new MemoryCard({ content, capacity: 0xfff00000 }),
  busModel: true,
  timing: true,
});
const figures = new Map<string, { api: number[]; apiMs: number[]; cli: number[]; cliMs: number[] }>(
  roots.map((r) => [r, { api: [], apiMs: [], cli: [], cliMs: [] }]),
);
try {
  using testbed = UmockdevTestbed.open();
  testbed.attach(camera.usbFunction);
  const env = testbed.env();
  for (let run = 0; run < runs; run++) {
    for (const root of roots) {
      const f = figures.get(root)!;
      const m = JSON.parse(
        (await runMeasured(Deno.execPath(), ["run", "--allow-all", `${root}/bench/list_once.ts`], {
          env,
        })).stdout,
      );
      if (m.files !== FILES) throw new Error(`${root}: listed ${m.files} files`);
      f.api.push((m.peakRss - m.idleRss) / MIB);
      f.apiMs.push(m.listMs);
      const c = await runMeasured("/usr/bin/time", [
        "-f",
        "@@rss %M",
        Deno.execPath(),
        "run",
        "--allow-all",
        `${root}/src/cli/main.ts`,
        "ls",
        "-R",
        "/",
      ], { env });
      const lines = c.stdout.split("\n").filter((l) => /\.JPG\s/.test(l)).length;
      if (lines !== FILES) throw new Error(`${root}: ls -R printed ${lines} files`);
      f.cli.push(Number(/@@rss (\d+)/.exec(c.stderr)?.[1]) * 1024 / MIB);
      f.cliMs.push(c.ms);
    }
  }
} finally {
  await camera[Symbol.asyncDispose]();
}
for (const [root, f] of figures) {
  console.log(
    `${root}: Storage.list peak RSS above idle ${median(f.api).toFixed(1)} MiB ` +
      `(runs ${f.api.map((x) => x.toFixed(1)).join(" ")}), list ${
        median(f.apiMs).toFixed(0)
      } ms; ` +
      `canon ls -R peak RSS ${median(f.cli).toFixed(1)} MiB ` +
      `(runs ${f.cli.map((x) => x.toFixed(1)).join(" ")}), ${median(f.cliMs).toFixed(0)} ms`,
  );
}
