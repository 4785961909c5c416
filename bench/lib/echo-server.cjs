// The ceiling for the HTTP benchmarks, and the floor for start-up time and RSS: a bare node:http server
// that parses the JSON body and writes it back, with the same headers the emulator sends. Run as its own
// process, like the emulator. Plain CommonJS, so Node loads it as the emulator's built output is loaded
// (no type stripping).
"use strict";
const { randomUUID } = require("node:crypto");
const { createServer } = require("node:http");

const port = Number(process.env["PORT"] ?? 0);
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let value = {};
    try {
      value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      value = { error: "bad json" };
    }
    const payload = JSON.stringify(value);
    res.writeHead(200, {
      "content-type": "application/x-amz-json-1.1",
      "x-amzn-requestid": randomUUID(),
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);
  });
});
server.listen(port, process.env["HOST"] ?? "127.0.0.1");
process.once("SIGTERM", () => server.close(() => process.exit(0)));
