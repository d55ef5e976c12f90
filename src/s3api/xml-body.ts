/**
 * The strict reader of XML request bodies (CompleteMultipartUpload, Delete,
 * CreateBucketConfiguration). fast-xml-parser checks well-formedness and splits the document in
 * order (text and CDATA apart); this module then decodes references in text itself: decimal and
 * hex character references and the five predefined entities. A document type declaration, any
 * other entity, a bare `&`, a reference to a character XML forbids, more than one root element or
 * nesting deeper than {@link MAX_DEPTH} is MalformedXML, so no entity can expand and no body can
 * reach a 500.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { InferqError } from '../errors/index.js';

/** Deepest element nesting accepted (S3's documents nest at most 3 levels). */
export const MAX_DEPTH = 32;
/** Elements that are always arrays in the parsed tree. */
const ALWAYS_ARRAY = new Set(['Part', 'Object']);
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&(?:#([0-9]+)|#x([0-9A-Fa-f]+)|([A-Za-z_][A-Za-z0-9._-]*));/g;

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  preserveOrder: true,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
});

function malformed(cause?: unknown): InferqError {
  return new InferqError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', {}, cause === undefined ? undefined : { cause });
}

/** Runs fast-xml-parser's validator and ordered parse; whatever either refuses or throws on is MalformedXML. */
function parseOrdered(text: string): unknown {
  let valid: unknown;
  let ordered: unknown;
  try {
    valid = XMLValidator.validate(text);
    if (valid === true) ordered = parser.parse(text);
  } catch (err) {
    // The parser refuses what it will not expand (entities, nesting past its own limit).
    throw malformed(err);
  }
  if (valid !== true) throw malformed();
  return ordered;
}

/** Whether `cp` is a character XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Decodes the references in XML character data.
 * @throws InferqError MalformedXML for a bare `&`, an undefined entity or a forbidden character.
 */
export function decodeXmlText(raw: string): string {
  let out = '';
  let last = 0;
  for (const match of raw.matchAll(REFERENCE)) {
    const between = raw.slice(last, match.index);
    if (between.includes('&')) throw malformed();
    const [, dec, hex, name] = match;
    let decoded: string | undefined;
    if (name !== undefined) decoded = PREDEFINED[name];
    else {
      const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
      if (isXmlChar(cp)) decoded = String.fromCodePoint(cp);
    }
    if (decoded === undefined) throw malformed();
    out += between + decoded;
    last = match.index + match[0].length;
  }
  const tail = raw.slice(last);
  if (tail.includes('&')) throw malformed();
  return out + tail;
}

/** One node of fast-xml-parser's ordered output: `{ name: children }`, `{ '#text': s }` or `{ '#cdata': [{ '#text': s }] }`. */
type OrderedNode = Record<string, unknown>;

function asNodes(value: unknown): OrderedNode[] {
  if (!Array.isArray(value)) throw malformed();
  return value.filter((n): n is OrderedNode => typeof n === 'object' && n !== null);
}

const rawText = (node: OrderedNode): string => (typeof node['#text'] === 'string' ? node['#text'] : '');

function textOf(node: OrderedNode): string | undefined {
  if ('#text' in node) return decodeXmlText(rawText(node));
  if ('#cdata' in node) return asNodes(node['#cdata']).map(rawText).join('');
  return undefined;
}

/** Converts one element's ordered children into a plain value: its text, or its child elements by name. */
function toValue(children: readonly OrderedNode[], depth: number): unknown {
  if (depth > MAX_DEPTH) throw malformed();
  const elements: Record<string, unknown> = {};
  let text = '';
  let hasElements = false;
  for (const node of children) {
    if ('#comment' in node) continue;
    const piece = textOf(node);
    if (piece !== undefined) {
      text += piece;
      continue;
    }
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name.startsWith('?')) continue;
    hasElements = true;
    const value = toValue(asNodes(node[name]), depth + 1);
    const existing = elements[name];
    if (Array.isArray(existing)) existing.push(value);
    else if (existing !== undefined) elements[name] = [existing, value];
    else elements[name] = ALWAYS_ARRAY.has(name) ? [value] : value;
  }
  return hasElements ? elements : text;
}

/**
 * Parses an XML request body into a plain tree: an element with child elements becomes an object
 * of them by name (repeated names become arrays; `Part` and `Object` always are), any other
 * element its decoded text.
 * @throws InferqError MalformedXML
 */
export function parseXmlBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  // The document must begin and end with markup (fast-xml-parser drops text after a self-closed root).
  const bounded = /^\s*</.test(text) && />\s*$/.test(text);
  if (!bounded || /<!DOCTYPE|<!ENTITY/i.test(text)) throw malformed();
  const top = asNodes(parseOrdered(text));
  if (top.some((node) => typeof node['#text'] === 'string' && node['#text'].trim() !== '')) throw malformed();
  const tree = toValue(top, 0);
  if (typeof tree !== 'object' || tree === null || Object.keys(tree).length !== 1 || Object.values(tree).some(Array.isArray)) throw malformed();
  return tree as Record<string, unknown>;
}
