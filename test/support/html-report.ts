import { SaxesParser } from "saxes";

/** Structural checks on the HTML report (core/report/html): parse it strictly, walk it, find what a browser would fetch. */

/** A parsed element: name, attributes, children and its own text. */
export interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

/** Parses the report strictly as XML (it is polyglot markup): a stray `<` or unescaped `&` fails here. */
export function parseReport(html: string): Node {
  const parser = new SaxesParser({ xmlns: false });
  const root: Node = { name: "#document", attrs: {}, children: [], text: "" };
  const stack = [root];
  parser.on("opentag", (t) => {
    const node: Node = { name: t.name, attrs: t.attributes as Record<string, string>, children: [], text: "" };
    stack.at(-1)!.children.push(node);
    if (!t.isSelfClosing) stack.push(node);
  });
  parser.on("closetag", (t) => {
    if (!t.isSelfClosing) stack.pop();
  });
  parser.on("text", (t) => void (stack.at(-1)!.text += t));
  parser.on("error", (e) => {
    throw e;
  });
  parser.write(html).close();
  return root;
}

export function all(node: Node, pred: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    if (pred(n)) out.push(n);
    for (const c of n.children) walk(c);
  };
  walk(node);
  return out;
}

export const hasClass = (n: Node, c: string) => (n.attrs.class ?? "").split(" ").includes(c);

/** What a self-contained report must not contain: anything the browser would fetch or run. */
export function externalReferences(doc: Node): string[] {
  const found: string[] = [];
  for (const n of all(doc, () => true)) {
    if (["script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignObject"].includes(n.name)) found.push(`<${n.name}>`);
    for (const [k, v] of Object.entries(n.attrs)) {
      if (/^(src|href|xlink:href|srcset|action|formaction|poster|background)$/i.test(k) || /^on/i.test(k)) found.push(`${n.name}@${k}`);
      if (k === "style" && /url\(|@import/i.test(v)) found.push(`${n.name}@style url()`);
    }
    if (n.name === "style" && /url\(|@import/i.test(n.text)) found.push("<style> url()/@import");
  }
  return found;
}
