// `npm run build` (run by `npm ci` through `prepare`, by `npm start` and by the Dockerfile): bundles the
// server into one CommonJS file, dist/local-ecs-api.cjs, behind a small launcher, dist/cli.cjs, which
// `npm start`, the package's bin and the image run. Tests and `node src/cli.ts` keep running the
// TypeScript sources.
//
// Why a bundle and not `tsc` emit (both measured on the same machine, same run, idle RSS after start):
// tsc's ES modules 89 MB, this bundle 66 MB, a bare node:http server 48 MB. A CommonJS entry never starts
// Node's asynchronous ES module loader (+13 MB on its own), and the bundle lets dockerode's eager
// `require`s of features the emulator never uses load on first call instead (below, +20 MB).
// Packages that are only needed by some servers stay outside the bundle and load from node_modules on
// first use (`await import()` becomes `require()` in CommonJS): the AWS SDK (role credentials, secrets,
// awslogs, the upstream proxy's signer), undici (the proxy) and yaml (compose files).
//
// The launcher turns on Node's on-disk compile cache before it loads the bundle: compiling ~1 MB of
// JavaScript is most of the start-up CPU once nothing is type-stripped (~15 % less CPU to the first
// answer here). The cache lives in NODE_COMPILE_CACHE or the OS temp folder; where it cannot be
// written Node simply compiles as before.
//
// Without esbuild (`npm ci --omit=dev` runs `prepare` too) the build cannot fail: it writes a launcher
// that runs the TypeScript sources instead, as `node src/cli.ts` does, and says so.
//
//   node scripts/build.ts            # writes dist/cli.cjs and dist/local-ecs-api.cjs
//   node scripts/build.ts --analyze  # also prints what the bundle is made of
import type { Plugin } from "esbuild";
import { cpSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = "dist/local-ecs-api.cjs";

// The bin keeps the V8 options of `npm start` and the image (env -S splits them; Linux and macOS).
// `--version` is answered by the launcher itself, with the version written in at build time: loading the
// ~1.3 MB bundle for it cost ~40 ms over a bare `node -e 0` (issue 12's target is 100 ms); every other
// command goes to the bundle (src/cli.ts). npm start and the image build first, so it cannot go stale.
const { version } = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { version: string };
const LAUNCHER = `#!/usr/bin/env -S node --max-semi-space-size=2
"use strict";
// Written by scripts/build.ts. Compiled code is cached on disk, so later starts skip most compiling.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(${JSON.stringify(`${version}\n`)});
} else {
  require("node:module").enableCompileCache?.();
  require("./local-ecs-api.cjs");
}
`;

const SOURCES_LAUNCHER = `#!/usr/bin/env node
"use strict";
// Written by scripts/build.ts without esbuild (npm ci --omit=dev): runs the TypeScript sources.
import(require("node:url").pathToFileURL(require("node:path").join(__dirname, "..", "src", "cli.ts")).href);
`;

function writeLauncher(text: string): void {
  mkdirSync(`${root}/dist`, { recursive: true });
  writeFileSync(`${root}/dist/cli.cjs`, text);
  chmodSync(`${root}/dist/cli.cjs`, 0o755);
}

/** Loaded from node_modules when first needed, never bundled. */
const EXTERNAL = ["@aws-sdk/*", "@smithy/*", "@aws-crypto/*", "undici", "yaml"];

/**
 * dockerode requires these at load time for features the emulator never uses: BuildKit sessions over gRPC
 * (session.js, buildkit.js: @grpc/grpc-js, protobufjs), ssh:// Docker hosts (docker-modem's ssh.js: ssh2)
 * and build contexts (tar-fs). Each is replaced by a stand-in that requires the real module from
 * node_modules on first use, so DOCKER_HOST=ssh://… and the rest still work.
 */
const LOAD_ON_FIRST_USE: Record<string, RegExp> = {
  "dockerode/lib/session.js": /node_modules\/dockerode\/lib\/session\.js$/,
  "dockerode/lib/buildkit.js": /node_modules\/dockerode\/lib\/buildkit\.js$/,
  "docker-modem/lib/ssh.js": /node_modules\/docker-modem\/lib\/ssh\.js$/,
  "tar-fs": /node_modules\/tar-fs\/index\.js$/,
};

/**
 * Node built-ins the same packages require at load time only for those features: `https` (TLS Docker
 * hosts; loading it loads `tls`, ~8 MB and ~40 ms) and `zlib` (gzipped build contexts). Keyed by the
 * built-in, with the files whose require of it is deferred.
 */
const BUILTINS_ON_FIRST_USE: Record<string, RegExp> = {
  https: /node_modules\/docker-modem\/lib\/http\.js$/,
  zlib: /node_modules\/dockerode\/lib\/util\.js$/,
};

/** A function target, so the stand-in works for modules that export a function and for objects. */
function standIn(specifier: string): string {
  return `let real;
const load = () => (real ??= __nodeRequire(${JSON.stringify(specifier)}));
module.exports = new Proxy(function () {}, {
  apply: (_, self, args) => load().apply(self, args),
  construct: (_, args) => new (load())(...args),
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
});`;
}

const loadOnFirstUse: Plugin = {
  name: "load-on-first-use",
  setup(b) {
    for (const [specifier, filter] of Object.entries(LOAD_ON_FIRST_USE)) {
      b.onLoad({ filter }, () => ({ loader: "js", contents: standIn(specifier) }));
    }
    b.onResolve({ filter: new RegExp(`^(node:)?(${Object.keys(BUILTINS_ON_FIRST_USE).join("|")})$`) }, (args) => {
      const builtin = args.path.replace(/^node:/, "");
      return BUILTINS_ON_FIRST_USE[builtin]?.test(args.importer) ? { path: builtin, namespace: "builtin-on-first-use" } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "builtin-on-first-use" }, (args) => ({ loader: "js", contents: standIn(`node:${args.path}`) }));
  },
};

const started = performance.now();
rmSync(`${root}/dist`, { recursive: true, force: true });
let esbuild: typeof import("esbuild");
try {
  esbuild = await import("esbuild");
} catch {
  writeLauncher(SOURCES_LAUNCHER);
  process.stderr.write("build: esbuild is not installed (dev dependencies omitted): dist/cli.cjs runs the TypeScript sources\n");
  process.exit(0);
}
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["src/cli.ts"],
  outfile: bundle,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  external: EXTERNAL,
  // Whitespace and syntax only: names stay, so stack traces still read like the sources.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  // src/cli.ts reads ../package.json relative to itself; from dist/ that is the same file.
  define: { "import.meta.url": "__importMetaUrl" },
  banner: {
    js: '"use strict";const __importMetaUrl=require("node:url").pathToFileURL(__filename).href;const __nodeRequire=require;',
  },
  plugins: [loadOnFirstUse],
  metafile: true,
  logLevel: "warning",
});

writeLauncher(LAUNCHER);
// The console's static page sits beside the module that serves it (`new URL("./page/", import.meta.url)`):
// in the bundle that module is dist/local-ecs-api.cjs.
cpSync(`${root}/src/runtime/console/page`, `${root}/dist/page`, { recursive: true });

const output = result.metafile.outputs[bundle];
process.stderr.write(`build: dist/cli.cjs → ${bundle} ${Math.round((output?.bytes ?? 0) / 1024)} KiB in ${Math.round(performance.now() - started)} ms\n`);
if (process.argv.includes("--analyze") && output !== undefined) {
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  for (const [key, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    process.stderr.write(`${String(Math.round(bytes / 1024)).padStart(6)} KiB  ${key}\n`);
  }
}
