import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generate, HEADER } from "../../codegen/generate.ts";
import { CodegenModel, DEFAULT_MODEL_PATH } from "../../codegen/model.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const modelPath = resolve(repoRoot, DEFAULT_MODEL_PATH);
const committedDir = join(repoRoot, "generated");

describe.skipIf(!existsSync(modelPath))("codegen output", () => {
  const outDir = mkdtempSync(join(tmpdir(), "codegen-test-"));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("the CLI and an in-process run give byte-identical files, equal to the committed generated/", () => {
    execFileSync(process.execPath, [join(repoRoot, "codegen/main.ts"), "--model", modelPath, "--out", outDir], {
      stdio: "pipe",
    });
    const inProcess = generate(CodegenModel.load(modelPath));

    const names = [...inProcess.keys()];
    expect(names).toEqual([
      "errors.ts",
      "examples.ts",
      "operations.ts",
      "router.ts",
      "serde.ts",
      "shapes.ts",
      "validators.ts",
    ]);
    expect(readdirSync(outDir).sort()).toEqual(names);
    expect(readdirSync(committedDir).filter((n) => n.endsWith(".ts")).sort()).toEqual(names);
    for (const name of names) {
      const text = inProcess.get(name);
      expect(text?.startsWith(`${HEADER}\n`), name).toBe(true);
      expect(readFileSync(join(outDir, name), "utf8"), name).toBe(text);
      expect(readFileSync(join(committedDir, name), "utf8"), `${name} is stale: run npm run codegen`).toBe(text);
    }
  });

  it("does not depend on the order of shapes in the model file", () => {
    const ast = JSON.parse(readFileSync(modelPath, "utf8")) as { shapes: Record<string, unknown> };
    const reversed = { ...ast, shapes: Object.fromEntries(Object.entries(ast.shapes).reverse()) };
    const fromReversed = generate(new CodegenModel(reversed as ConstructorParameters<typeof CodegenModel>[0]));
    const original = generate(CodegenModel.load(modelPath));
    for (const [name, text] of original) expect(fromReversed.get(name), name).toBe(text);
  });
});
