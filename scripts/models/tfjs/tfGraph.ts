/**
 * Reading a TF.js graph model's topology (model.json `modelTopology.node[]`,
 * a GraphDef in JSON with base64 attribute strings): typed attribute access,
 * input references, and pruning to the nodes that requested outputs need.
 */
import type { WeightGroup } from './weights.ts';

export interface TfAttrValue {
  readonly s?: string;
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly type?: string;
  readonly list?: { readonly s?: readonly string[]; readonly i?: readonly (string | number)[]; readonly f?: readonly number[] };
}

export interface TfNodeDef {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, TfAttrValue>>;
}

export interface TfGraphModelJson {
  readonly format?: string;
  readonly modelTopology: { readonly node: readonly TfNodeDef[] };
  readonly weightsManifest: readonly WeightGroup[];
}

const base64 = (s: string) => new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));

export function attrString(node: TfNodeDef, name: string, fallback?: string): string {
  const v = node.attr?.[name]?.s;
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`TF node ${node.name} (${node.op}): attribute "${name}" missing`);
  }
  return base64(v);
}

export function attrStrings(node: TfNodeDef, name: string): string[] {
  return (node.attr?.[name]?.list?.s ?? []).map(base64);
}

export function attrInts(node: TfNodeDef, name: string, fallback?: number[]): number[] {
  const v = node.attr?.[name]?.list?.i;
  if (v === undefined || v.length === 0) {
    if (fallback !== undefined) return fallback;
    throw new Error(`TF node ${node.name} (${node.op}): attribute "${name}" missing`);
  }
  return v.map(Number);
}

export function attrFloat(node: TfNodeDef, name: string, fallback: number): number {
  return node.attr?.[name]?.f ?? fallback;
}

export function attrBool(node: TfNodeDef, name: string, fallback: boolean): boolean {
  return node.attr?.[name]?.b ?? fallback;
}

/** "name", "name:0" -> name; "name:1" is refused (only first outputs are supported); "^name" (control edge) -> null. */
export function inputNode(ref: string, consumer: TfNodeDef): string | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*?)(?::(\d+))?$/.exec(ref);
  if (!m) throw new Error(`TF node ${consumer.name}: input reference ${JSON.stringify(ref)} is not "name" or "name:k"`);
  if (m[2] !== undefined && m[2] !== '0') throw new Error(`TF node ${consumer.name}: uses output ${m[2]} of ${m[1]}; only first outputs are supported`);
  return m[1];
}

export function dataInputs(node: TfNodeDef): string[] {
  return (node.input ?? []).map((r) => inputNode(r, node)).filter((n): n is string => n !== null);
}

/** The nodes the given outputs depend on, in an order where every node follows its inputs. Other heads (e.g. age/gender) drop out. */
export function pruneAndOrder(nodes: readonly TfNodeDef[], outputs: readonly string[]): TfNodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const ordered: TfNodeDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`TF graph has a cycle through ${name}`);
    const node = byName.get(name);
    if (!node) throw new Error(`TF graph has no node named "${name}"`);
    state.set(name, 'visiting');
    for (const dep of dataInputs(node)) visit(dep);
    state.set(name, 'done');
    ordered.push(node);
  };
  for (const o of outputs) visit(o);
  return ordered;
}

/** For each node name, the names of the (kept) nodes that read it. */
export function consumersOf(nodes: readonly TfNodeDef[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of nodes) for (const dep of dataInputs(n)) out.set(dep, [...(out.get(dep) ?? []), n.name]);
  return out;
}
