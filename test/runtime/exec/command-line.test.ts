import { describe, expect, it } from "vitest";
import { splitCommandLine } from "../../../src/runtime/exec/command-line.ts";

describe("splitCommandLine (the SSM agent's container-mode splitting)", () => {
  it.each([
    ["/bin/sh", ["/bin/sh"]],
    ["  /bin/sh  ", ["/bin/sh"]],
    ["", ["sh"]],
    ["   ", ["sh"]],
    ["ls -l /tmp", ["ls", "-l", "/tmp"]],
    ["sh -c 'echo $HOME; exit 3'", ["sh", "-c", "echo $HOME; exit 3"]],
    ['sh -c "echo \\"quoted\\" \\$x"', ["sh", "-c", 'echo "quoted" $x']],
    ["echo a\\ b", ["echo", "a b"]],
    ["echo 'it'\"'\"'s'", ["echo", "it's"]],
    ["echo ''", ["echo", ""]],
    ["a\tb\nc", ["a", "b", "c"]],
    ["echo x # a comment", ["echo", "x"]],
    ["echo x#y", ["echo", "x#y"]],
    ["# only a comment\nls", ["ls"]],
    ["echo ünïcödé 日本", ["echo", "ünïcödé", "日本"]],
  ])("%j → %j", (command, argv) => {
    expect(splitCommandLine(command)).toEqual({ ok: true, argv });
  });

  it.each([
    ["sh -c 'unterminated", /closing quote/],
    ['echo "unterminated', /closing quote/],
    ["echo trailing\\", /escape/],
    ['echo "x\\', /escape/],
  ])("refuses %j", (command, error) => {
    const r = splitCommandLine(command);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(error);
  });
});
