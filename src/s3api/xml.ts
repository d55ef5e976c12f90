/**
 * XML for the S3 front: a tiny writer for responses, and (from xml-body.ts) the strict parser for
 * the few request bodies S3 defines (CompleteMultipartUpload, Delete, CreateBucketConfiguration).
 */

/** The S3 document namespace. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value in an XML tree: text, or nested children (an empty list renders an empty element). */
export type XmlValue = string | number | boolean | undefined | XmlNode;
/** An element's children in document order (repeat a name to repeat an element); `undefined` values are skipped. */
export type XmlNode = readonly (readonly [string, XmlValue])[];

/** Escapes text for XML content. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c] ?? c);
}

/** Characters XML 1.0 cannot carry at all, not even as character references. */
const NOT_XML = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const NOT_XML_ALL = new RegExp(NOT_XML.source, 'gu');

/**
 * Escapes free text (an error message, a value the client sent) for XML, replacing the characters
 * XML cannot carry with U+FFFD so the document stays parseable. Object keys in listings are not
 * passed through this: they must round-trip (clients ask for `encoding-type=url`).
 */
export function escapeXmlText(text: string): string {
  return escapeXml(NOT_XML.test(text) ? text.replace(NOT_XML_ALL, '\ufffd') : text);
}

function renderChildren(node: XmlNode, out: string[]): void {
  for (const [name, value] of node) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out.push(`<${name}>${escapeXml(String(value))}</${name}>`);
    } else {
      out.push(`<${name}>`);
      renderChildren(value, out);
      out.push(`</${name}>`);
    }
  }
}

/** Renders a document with one root element in the S3 namespace. */
export function renderXml(root: string, children: XmlNode, withNamespace = true): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', withNamespace ? `<${root} xmlns="${S3_XMLNS}">` : `<${root}>`];
  renderChildren(children, out);
  out.push(`</${root}>`);
  return out.join('');
}

export { parseXmlBody } from './xml-body.js';

/** Formats a date as S3 does in XML (ISO 8601 with milliseconds). */
export function xmlDate(date: Date): string {
  return date.toISOString();
}
