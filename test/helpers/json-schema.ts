// A JSON Schema validator for the keywords the vendored SARIF 2.1.0 schema and our report
// schema use (draft-07 / 2020-12 subset: $ref to local definitions, type, enum, const,
// properties, required, additionalProperties, items, min/maxItems, uniqueItems,
// minimum/maximum, pattern, minLength, anyOf/oneOf/allOf, format uri|uri-reference|
// date-time|uuid). Any other assertion keyword throws, so a schema is never half-checked.

type Schema = boolean | { [keyword: string]: unknown };

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'definitions', '$defs', 'deprecated', 'readOnly']);
const ASSERTIONS = new Set([
  '$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems',
  'uniqueItems', 'minimum', 'maximum', 'pattern', 'minLength', 'anyOf', 'oneOf', 'allOf', 'format', 'patternProperties',
]);

const FORMATS: Record<string, (s: string) => boolean> = {
  uri: (s) => /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/.test(s),
  'uri-reference': (s) => !/[\s<>"{}|\\^`]/.test(s),
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s),
  uuid: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
};

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)]));
  return v;
}

/** Problems of `value` against `root`, as "path: what" lines; empty when valid. */
export function validate(root: Schema, value: unknown): string[] {
  const problems: string[] = [];
  const resolve = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, not ${ref}`);
    let node: unknown = root;
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
    return node as Schema;
  };
  const check = (schema: Schema, v: unknown, path: string, out: string[]): void => {
    if (schema === true) return;
    if (schema === false) {
      out.push(`${path}: not allowed`);
      return;
    }
    for (const k of Object.keys(schema)) {
      if (!ANNOTATIONS.has(k) && !ASSERTIONS.has(k)) throw new Error(`unsupported schema keyword '${k}' at ${path}`);
    }
    if (typeof schema.$ref === 'string') check(resolve(schema.$ref), v, path, out);
    const t = typeOf(v);
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
      if (!types.some((x) => x === t || (x === 'number' && t === 'integer'))) {
        out.push(`${path}: is ${t}, not ${types.join('|')}`);
        return;
      }
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => deepEqual(e, v))) out.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(schema.enum)}`);
    if ('const' in schema && !deepEqual(schema.const, v)) out.push(`${path}: must be ${JSON.stringify(schema.const)}`);
    if (t === 'string') {
      const s = v as string;
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(s)) out.push(`${path}: '${s}' does not match /${schema.pattern}/`);
      if (typeof schema.minLength === 'number' && [...s].length < schema.minLength) out.push(`${path}: shorter than ${schema.minLength}`);
      if (typeof schema.format === 'string') {
        const f = FORMATS[schema.format];
        if (!f) throw new Error(`unsupported format '${schema.format}'`);
        if (!f(s)) out.push(`${path}: '${s}' is not a ${schema.format}`);
      }
    }
    if (t === 'integer' || t === 'number') {
      const n = v as number;
      if (typeof schema.minimum === 'number' && n < schema.minimum) out.push(`${path}: ${n} < minimum ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && n > schema.maximum) out.push(`${path}: ${n} > maximum ${schema.maximum}`);
    }
    if (t === 'array') {
      const a = v as unknown[];
      if (typeof schema.minItems === 'number' && a.length < schema.minItems) out.push(`${path}: fewer than ${schema.minItems} items`);
      if (typeof schema.maxItems === 'number' && a.length > schema.maxItems) out.push(`${path}: more than ${schema.maxItems} items`);
      if (schema.uniqueItems === true) {
        const seen = new Set<string>();
        for (const x of a) {
          const key = JSON.stringify(canonical(x));
          if (seen.has(key)) out.push(`${path}: duplicate item ${key.slice(0, 80)}`);
          seen.add(key);
        }
      }
      if (schema.items !== undefined) a.forEach((x, i) => check(schema.items as Schema, x, `${path}[${i}]`, out));
    }
    if (t === 'object') {
      const o = v as Record<string, unknown>;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const r of (schema.required ?? []) as string[]) if (!(r in o)) out.push(`${path}: missing required '${r}'`);
      const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>);
      for (const [k, x] of Object.entries(o)) {
        const p = `${path}.${k}`;
        let matched = false;
        if (k in props) {
          matched = true;
          check(props[k]!, x, p, out);
        }
        for (const [re, s] of patterns) {
          if (new RegExp(re, 'u').test(k)) {
            matched = true;
            check(s, x, p, out);
          }
        }
        if (!matched && schema.additionalProperties !== undefined) check(schema.additionalProperties as Schema, x, p, out);
      }
    }
    if (Array.isArray(schema.allOf)) for (const s of schema.allOf as Schema[]) check(s, v, path, out);
    if (Array.isArray(schema.anyOf)) {
      const branches = (schema.anyOf as Schema[]).map((s) => {
        const o: string[] = [];
        check(s, v, path, o);
        return o;
      });
      if (!branches.some((b) => b.length === 0)) out.push(`${path}: matches none of anyOf (${branches.map((b) => b[0]).join('; ')})`);
    }
    if (Array.isArray(schema.oneOf)) {
      const passing = (schema.oneOf as Schema[]).filter((s) => {
        const o: string[] = [];
        check(s, v, path, o);
        return o.length === 0;
      }).length;
      if (passing !== 1) out.push(`${path}: matches ${passing} of oneOf, not exactly 1`);
    }
  };
  check(root, value, '$', problems);
  return problems;
}
