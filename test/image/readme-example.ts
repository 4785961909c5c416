// The README's CLI walkthrough is executable documentation: the test runs exactly the commands between
// the markers, so the README cannot drift from what the image does.
export const EXAMPLE_START = "<!-- example:cli:start -->";
export const EXAMPLE_END = "<!-- example:cli:end -->";

/** The URL and image the README uses; the test swaps in its own server and the offline busybox. */
export const README_ENDPOINT = "http://localhost:8000";
export const README_IMAGE = "busybox:latest";

/** The body of the ```bash block between the markers; throws a message that says what is missing. */
export function extractCliExample(readme: string): string {
  const start = readme.indexOf(EXAMPLE_START);
  const end = readme.indexOf(EXAMPLE_END);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`README.md has no ${EXAMPLE_START} … ${EXAMPLE_END} section holding the CLI example`);
  }
  const section = readme.slice(start + EXAMPLE_START.length, end);
  const fence = /```(?:bash|sh|shell)[ \t]*\r?\n([\s\S]*?)\r?\n```/.exec(section);
  if (fence?.[1] === undefined) {
    throw new Error(`the README's CLI example section has no \`\`\`bash code block`);
  }
  return fence[1];
}

/** What the README says the example prints (`This prints \`…\``), whitespace-normalised; undefined if it says nothing. */
export function statedOutput(readme: string): string | undefined {
  const end = readme.indexOf(EXAMPLE_END);
  if (end < 0) return undefined;
  const m = /^[^\n]*\bprints\s+`([^`]+)`/m.exec(readme.slice(end + EXAMPLE_END.length));
  return m?.[1]?.trim().split(/\s+/).join(" ");
}

/**
 * A stand-in `aws` for the example: the AWS CLI v2 at `cli`, always aimed at `endpoint`. Debian's CLI v2
 * (2.9) predates AWS_ENDPOINT_URL_ECS, so without this a README that relies on that variable would send the
 * example's calls to real AWS instead of the server under test.
 */
export function awsShim(cli: string, endpoint: string): string {
  return [
    "#!/bin/sh",
    `case " $* " in *" --endpoint-url "*|*" --endpoint-url="*) exec ${cli} "$@" ;; esac`,
    `exec ${cli} --endpoint-url ${endpoint} "$@"`,
    "",
  ].join("\n");
}

/** The script with the test's endpoint and task image in place of the README's. */
export function adaptCliExample(script: string, endpoint: string, image: string): string {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return script
    .replace(new RegExp(escape(README_ENDPOINT), "g"), endpoint)
    .replace(new RegExp(`(?<![\\w./-])${escape(README_IMAGE)}`, "g"), image);
}
