/**
 * `canon web`: build the web app, serve it on `http://localhost:PORT` (a
 * secure context, as WebUSB requires) and open it in the default browser, or
 * print the address when no browser can be opened.
 *
 * @module
 */

import { buildWeb } from "../../web/build.ts";
import type { CommandContext, CommandDef } from "./command.ts";
import { UsageError } from "./exit.ts";

/** The port `canon web` serves on unless told otherwise. */
export const DEFAULT_WEB_PORT = 8765;

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

/** A running web app server. */
export interface WebServer {
  /** The page's address, e.g. "http://localhost:8765/". */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Stop serving and remove the built files. */
  close(): Promise<void>;
  /** Settles when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Build the app into a temporary directory and serve exactly its files on
 * 127.0.0.1.
 *
 * @param port the port (0: any free one)
 * @returns the server
 */
export async function serveWebApp(port: number): Promise<WebServer> {
  const directory = await Deno.makeTempDir({ prefix: "canon-web-" });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    const { files } = await buildWeb(directory);
    const served = new Set(files);
    server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
      const name = new URL(request.url).pathname.replace(/^\/+/, "") || "index.html";
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("method not allowed\n", { status: 405 });
      }
      if (!served.has(name)) return new Response("not found\n", { status: 404 });
      const body = await Deno.readFile(`${directory}/${name}`);
      const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
      return new Response(request.method === "HEAD" ? null : body, {
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    });
  } catch (error) {
    await Deno.remove(directory, { recursive: true }).catch(() => undefined);
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`port ${port} is in use; choose another with --listen`);
    }
    throw error;
  }
  const listening = server.addr.port;
  const finished = server.finished.then(() =>
    Deno.remove(directory, { recursive: true }).catch(() => undefined)
  );
  return {
    url: `http://localhost:${listening}/`,
    port: listening,
    finished,
    close: async () => {
      await server.shutdown();
      await finished;
    },
  };
}

/**
 * Try to open `url` in the user's browser.
 *
 * @param url the address
 * @returns whether a browser opener ran and succeeded
 */
export async function openInBrowser(url: string): Promise<boolean> {
  const os = Deno.build.os;
  if (os === "linux" && !Deno.env.get("DISPLAY") && !Deno.env.get("WAYLAND_DISPLAY")) {
    return false; // no desktop to open a browser on
  }
  const [command, ...args] = os === "darwin"
    ? ["open", url]
    : os === "windows"
    ? ["cmd", "/c", "start", "", url]
    : ["xdg-open", url];
  try {
    const status = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return status.success;
  } catch {
    return false;
  }
}

/** `canon web [--listen PORT] [--no-open]`. */
export const webCommand: CommandDef = {
  name: "web",
  usage: "[--listen PORT] [--no-open]",
  summary: "serve the web app on http://localhost:PORT and open it in the browser",
  details: "The page drives a camera through the browser's WebUSB (Chrome, Edge and other\n" +
    "Chromium-based browsers). With --emulate, the page opens on its own in-page virtual\n" +
    "camera (?emulate), which works in any browser. Serves until Ctrl+C.",
  options: {
    listen: {
      type: "string",
      value: "PORT",
      help: `the port on localhost (default ${DEFAULT_WEB_PORT}; 0: any free one)`,
    },
    "no-open": { type: "boolean", help: "print the address, do not open a browser" },
  },
  async run(context: CommandContext, args): Promise<number> {
    const text = args.values.listen as string | undefined;
    const port = text === undefined ? DEFAULT_WEB_PORT : Number(text);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--listen takes a port number, not ${JSON.stringify(text)}`);
    }
    const server = await serveWebApp(port);
    const emulate = context.options.emulate !== undefined;
    const url = emulate
      ? `${server.url}?emulate${
        context.options.emulate ? `=${encodeURIComponent(context.options.emulate)}` : ""
      }`
      : server.url;
    const stop = () => void server.close();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      context.io.write(`Serving the canon-remote web app at ${url} (Ctrl+C to stop)\n`);
      const opened = !args.values["no-open"] && await openInBrowser(url);
      if (!opened) {
        context.io.write(
          `Open ${url} in Chrome, Edge or another browser with WebUSB` +
            `${emulate ? " (the virtual camera works in any browser)" : ""}.\n`,
        );
      }
      await server.finished;
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
    }
    return 0;
  },
};
