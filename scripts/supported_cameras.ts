// Writes the "Supported cameras" table of README.md from the model table.
//   deno run --allow-read --allow-write --allow-run scripts/supported_cameras.ts [--check]
import { MODELS, REAL_BYTES_EVIDENCE } from "../src/protocol/models.ts";
import { diskInfoUnitEvidence } from "../src/protocol/traits.ts";
import { EMULATED_MODELS } from "../src/emulator/engine/emulated_models.ts";

const BEGIN = "<!-- supported-cameras:begin -->";
const END = "<!-- supported-cameras:end -->";

const CLASS_NOTES: Record<number, string> = {
  0: "old protocol, no key lock",
  1: "old protocol, keys locked while connected",
  2: "old protocol, keys locked while connected",
  3: "old protocol, keys locked, no delete",
  4: "old protocol, EOS key lock around captures",
  5: "old protocol, keys locked while connected",
  6: "new protocol (EOS 20D generation)",
};

/** The README table: one row per product id. */
export function supportedCamerasTable(): string {
  const emulated = new Set(Object.values(EMULATED_MODELS).map((m) => m.productId));
  const rows = MODELS.map((m) => {
    const disk = diskInfoUnitEvidence(m);
    const unit = `${disk.unit === 1 ? "bytes" : "KiB"}, ${disk.proof}`;
    return `| ${[m.name, ...m.aliases].join(" / ")} | \`04a9:${
      m.productId.toString(16).padStart(4, "0")
    }\` | ${m.cameraClass} (${CLASS_NOTES[m.cameraClass]}) | ${m.capture} | ${
      emulated.has(m.productId) ? "yes" : ""
    } | ${unit} | ${REAL_BYTES_EVIDENCE[m.productId] ?? "inferred from its class"} |`;
  });
  return [
    BEGIN,
    "| Model | USB id | Class | Remote capture | Virtual camera | Disk-info unit | Proven by real bytes |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    END,
  ].join("\n");
}

/** `text` as `deno fmt` formats Markdown (tables aligned), so `deno fmt --check` agrees. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error("deno fmt failed on README.md");
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const readme = await Deno.readTextFile("README.md");
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0) throw new Error("README.md has no supported-cameras markers");
  const updated = await formatMarkdown(
    readme.slice(0, start) + supportedCamerasTable() + readme.slice(end + END.length),
  );
  if (Deno.args.includes("--check")) {
    if (updated !== readme) {
      console.error("README.md's camera table is out of date: run deno task readme");
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile("README.md", updated);
  }
}
