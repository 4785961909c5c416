// Turns Smithy documentation (HTML) into a one-line JSDoc summary: the first sentence, tags stripped. Full docs
// would triple the size of shapes.ts; the model stays the reference for details.

const ENTITIES: Readonly<Record<string, string>> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&nbsp;": " " };
const MAX_LENGTH = 200;

export function summarize(documentation: unknown): string | undefined {
  if (typeof documentation !== "string") return undefined;
  const firstParagraph = documentation.split(/<\/p>/i)[0] ?? documentation;
  const text = firstParagraph
    .replace(/<[^>]*>/g, "")
    .replace(/&[a-z#0-9]+;/gi, (entity) => ENTITIES[entity.toLowerCase()] ?? entity)
    .replace(/\s+/g, " ")
    .trim();
  if (text === "") return undefined;
  // A sentence ends at ". " before a capital letter (or the end), but not after "e.g." and friends.
  const end = text.search(/(?<!\b(?:e\.g|i\.e|etc|vs))[.!?](?=\s+[A-Z]|$)/);
  let sentence = end === -1 ? text : text.slice(0, end + 1);
  if (sentence.length > MAX_LENGTH) sentence = `${sentence.slice(0, MAX_LENGTH - 3).trimEnd()}...`;
  // A literal "*/" would end the JSDoc comment early.
  return sentence.replace(/\*\//g, "*\\/");
}
