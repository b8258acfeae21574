// The project's import graph, from `deno info --json`: which imports run
// upward (from a lower layer to a higher one) and which files import each
// other in a cycle.
//   deno run --allow-read --allow-run scripts/import_graph.ts [--json] [entry ...]
// Without entries, every entry point of deno.json plus the CLI is read.

/** The layers, lowest first: a file may import only from its own layer or lower ones. */
export const LAYERS: readonly { name: string; prefix: string }[] = [
  { name: "ffi", prefix: "ffi/" },
  { name: "usb", prefix: "src/usb/" },
  { name: "protocol", prefix: "src/protocol/" },
  { name: "camera", prefix: "src/camera/" },
  { name: "trace", prefix: "src/trace/" },
  { name: "emulator", prefix: "src/emulator/" },
  { name: "cli", prefix: "src/cli/" },
];

/** One import between two files of the project, paths relative to the root. */
export interface Edge {
  /** The importing file. */
  from: string;
  /** The imported file. */
  to: string;
}

/** What the graph shows. */
export interface GraphReport {
  /** Project files reached from the entries. */
  files: number;
  /** Imports between project files. */
  edges: number;
  /** Imports from a lower layer to a higher one. */
  upward: Edge[];
  /** Groups of files that import each other (strongly connected, more than one file). */
  cycles: string[][];
}

/** The layer index of `path` (relative to the root); -1 for files outside every layer. */
export function layerOf(path: string): number {
  return LAYERS.findIndex((layer) => path.startsWith(layer.prefix));
}

/** The project's file-to-file imports reached from `entries`, via `deno info --json`. */
export async function readGraph(root: string, entries: string[]): Promise<Edge[]> {
  const edges = new Map<string, Edge>();
  const rootUrl = new URL(`file://${root.endsWith("/") ? root : root + "/"}`).href;
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    for (const module of info.modules) {
      if (!module.specifier.startsWith(rootUrl)) continue;
      const from = module.specifier.slice(rootUrl.length);
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (!target?.startsWith(rootUrl)) continue;
          const to = target.slice(rootUrl.length);
          edges.set(`${from} ${to}`, { from, to });
        }
      }
    }
  }
  return [...edges.values()].sort((a, b) =>
    a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from)
  );
}

/** Upward imports and file cycles of `edges`. */
export function analyse(edges: readonly Edge[]): GraphReport {
  const files = new Set<string>();
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    files.add(from);
    files.add(to);
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  const upward = edges.filter(({ from, to }) => {
    const a = layerOf(from);
    const b = layerOf(to);
    return a >= 0 && b >= 0 && b > a;
  });
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) cycles.push(group.sort());
    }
  };
  for (const file of [...files].sort()) if (!index.has(file)) visit(file);
  cycles.sort((a, b) => a[0].localeCompare(b[0]));
  return { files: files.size, edges: edges.length, upward, cycles };
}

/** The entry points named in deno.json's `exports`, plus the CLI. */
export async function defaultEntries(root: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as {
    exports: Record<string, string>;
  };
  return [...new Set([...Object.values(config.exports), "./src/cli/main.ts"])];
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const json = Deno.args.includes("--json");
  const given = Deno.args.filter((a) => !a.startsWith("--"));
  const entries = given.length ? given : await defaultEntries(root);
  const report = analyse(await readGraph(root, entries));
  if (json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`${report.files} files, ${report.edges} imports (from ${entries.join(", ")})`);
    console.log(`${report.upward.length} upward imports:`);
    for (const { from, to } of report.upward) console.log(`  ${from} -> ${to}`);
    console.log(`${report.cycles.length} file cycles:`);
    for (const group of report.cycles) console.log(`  ${group.join(" <-> ")}`);
  }
}
