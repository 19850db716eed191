/**
 * What JSON.parse does not tell: whether the text named a member twice in one object (JSON.parse keeps the
 * last, other parsers the first), and whether a string holds a lone UTF-16 surrogate (legal as a JSON escape,
 * impossible in UTF-8, Parquet or Athena). Both run only when the validator's single pass cannot rule the
 * case out (see validate.ts), so they favour clarity over speed. Pure, iterative (no recursion on nesting).
 */

/** A lone (unpaired) UTF-16 surrogate: with the 'u' flag a class matches code points, so a pair never matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** JSON Pointer of the first string value or member name holding a lone surrogate, or undefined. */
export function findLoneSurrogate(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}/${i}`]);
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        const p = `${path}/${escapePointer(k)}`;
        if (LONE_SURROGATE.test(k)) return p;
        stack.push([(v as Record<string, unknown>)[k], p]);
      }
    }
  }
  return undefined;
}

interface Container {
  readonly path: string;
  /** Member names seen so far (objects only). */
  readonly names?: Set<string>;
  /** Name of the member whose value comes next (objects), or the index of the next element (arrays). */
  key: string;
  index: number;
  expectingName: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * The first member name that occurs twice in one object of a JSON text, with the JSON Pointer of that
 * object's member, or undefined. Names are compared after unescaping ("a" and "\u0061" are the same name).
 * `text` must be valid JSON (JSON.parse accepted it).
 */
export function findDuplicateName(text: string): { path: string; name: string } | undefined {
  const stack: Container[] = [];
  const childPath = () => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.names ? `${top.path}/${escapePointer(top.key)}` : `${top.path}/${top.index}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // The closing quote is the next one not escaped by an odd run of backslashes.
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        let b = j - 1;
        while (text.charCodeAt(b) === BACKSLASH) b--;
        if ((j - 1 - b) % 2 === 0) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.names && top.expectingName) {
        const raw = text.slice(i + 1, j);
        const name = raw.indexOf('\\') === -1 ? raw : (JSON.parse(text.slice(i, j + 1)) as string);
        if (top.names.has(name)) return { path: `${top.path}/${escapePointer(name)}`, name };
        top.names.add(name);
        top.key = name;
        top.expectingName = false;
      }
      i = j;
    } else if (c === 123 /* { */) {
      stack.push({ path: childPath(), names: new Set(), key: '', index: 0, expectingName: true });
    } else if (c === 91 /* [ */) {
      stack.push({ path: childPath(), key: '', index: 0, expectingName: false });
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
    } else if (c === 44 /* , */) {
      const top = stack[stack.length - 1]!;
      if (top.names) top.expectingName = true;
      else top.index++;
    }
  }
  return undefined;
}
