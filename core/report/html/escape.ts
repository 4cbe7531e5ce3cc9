/**
 * Text and attribute escaping for the HTML report. The report is polyglot markup (well-formed XML as well as
 * HTML), so the five XML-special characters are always escaped: a resource name like `<img src=x>` or `a"b`
 * ends up as text, never as markup. Pure.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes text for an element's content or a double-quoted attribute value.
 *
 * @example escapeHtml(`<b a="1">&`) // "&lt;b a=&quot;1&quot;&gt;&amp;"
 */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Renders attributes, escaped, in the given order; undefined values are left out.
 *
 * @example attrs({ x: 1, "data-kind": "created", title: undefined }) // ` x="1" data-kind="created"`
 */
export function attrs(values: Record<string, string | number | boolean | undefined>): string {
  let out = "";
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out += ` ${k}="${escapeHtml(typeof v === "number" ? round(v) : String(v))}"`;
  return out;
}

/** Coordinates rounded to 0.1 px keep the file small and the numbers stable in tests. */
export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** A self-closing SVG element (the report is well-formed XML). */
export function el(name: string, values: Record<string, string | number | boolean | undefined>): string {
  return `<${name}${attrs(values)}/>`;
}

/** An SVG element with escaped text content. */
export function textEl(name: string, values: Record<string, string | number | boolean | undefined>, text: string | number): string {
  return `<${name}${attrs(values)}>${escapeHtml(text)}</${name}>`;
}
