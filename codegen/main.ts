// CLI: node codegen/main.ts [--model <path>] [--out <dir>]. Writes generated/ from the ECS Smithy model.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generate } from "./generate.ts";
import { CodegenModel, DEFAULT_MODEL_PATH } from "./model.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const { values } = parseArgs({ options: { model: { type: "string" }, out: { type: "string" } } });

// Explicit paths are relative to the working directory, the defaults to the repository root.
const modelPath = values.model === undefined ? resolve(repoRoot, DEFAULT_MODEL_PATH) : resolve(values.model);
const outDir = values.out === undefined ? resolve(repoRoot, "generated") : resolve(values.out);
const model = CodegenModel.load(modelPath);
const files = generate(model);
mkdirSync(outDir, { recursive: true });
for (const [name, text] of files) writeFileSync(join(outDir, name), text);
console.log(`codegen: ${model.operations.length} operations, ${model.namedShapes.length} shapes -> ${outDir}`);
for (const [from, to] of model.renamed) console.log(`codegen: renamed shape ${from} to ${to}`);
