/**
 * The live heap a V8 heap snapshot describes: the sum of its nodes' self sizes (JS objects, strings,
 * code, and the backing stores of ArrayBuffers/Buffers, which V8 reports as native nodes). Taking the
 * snapshot runs a full GC first, so this is what is retained, not what happens to be allocated.
 */
export function heapSnapshotBytes(json: string): number {
  const snapshot = JSON.parse(json) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const stride = fields.length;
  const selfSize = fields.indexOf("self_size");
  let total = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += stride) total += snapshot.nodes[i]!;
  return total;
}
