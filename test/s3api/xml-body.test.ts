/**
 * The strict XML body reader of the S3 front: character references are decoded (decimal, hex, the
 * five predefined entities) in text but not in CDATA, and anything that could expand, or that is
 * not one well-formed document, is MalformedXML.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isInferqError } from '../../src/errors/index.js';
import { decodeXmlText, MAX_DEPTH, parseXmlBody } from '../../src/s3api/xml-body.js';

const parse = (xml: string): Record<string, unknown> => parseXmlBody(Buffer.from(xml, 'utf8'));

function malformed(xml: string): void {
  assert.throws(() => parse(xml), (err: unknown) => isInferqError(err) && err.code === 'MalformedXML', xml.slice(0, 80));
}

describe('parseXmlBody', () => {
  test('decodes decimal, hex and predefined references in text', () => {
    assert.deepEqual(parse('<Delete><Object><Key>it&#39;s &#x22;q&quot; &lt;&gt;&amp;&apos; &#233;&#x1F600;</Key></Object></Delete>'), {
      Delete: { Object: [{ Key: 'it\'s "q" <>&\' é😀' }] },
    });
    assert.deepEqual(parse('<CompleteMultipartUpload><Part><ETag>&#34;abc&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'), {
      CompleteMultipartUpload: { Part: [{ ETag: '"abc"', PartNumber: '1' }] },
    });
  });

  test('decodes each reference once (&amp;lt; is "&lt;") and keeps CDATA as written', () => {
    assert.equal(decodeXmlText('&amp;lt; &amp;#39;'), '&lt; &#39;');
    assert.deepEqual(parse('<a><![CDATA[x&#39;<y>]]>&amp;</a>'), { a: "x&#39;<y>&" });
  });

  test('keeps whitespace, drops comments, declarations, namespaces and attributes; repeats become arrays', () => {
    const doc = parse('\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/" a="1">\n  <s3:Object><s3:Key> sp </s3:Key></s3:Object>\n  <Quiet>true</Quiet><X>1</X><X>2</X>\n</s3:Delete>');
    assert.deepEqual(doc, { Delete: { Object: [{ Key: ' sp ' }], Quiet: 'true', X: ['1', '2'] } });
    assert.deepEqual(parse('<CreateBucketConfiguration/>'), { CreateBucketConfiguration: '' });
  });

  test('refuses document types, undefined entities, bare ampersands and references to forbidden characters', () => {
    malformed('<!DOCTYPE d [<!ENTITY a "x">]><Delete><Object><Key>&a;</Key></Object></Delete>');
    malformed('<!DOCTYPE d SYSTEM "http://example.com/d.dtd"><Delete/>');
    for (const text of ['&nbsp;', '&a;', 'a & b', '&#;', '&#x;', '&#0;', '&#x1;', '&#xD800;', '&#xFFFE;', '&#x110000;', '&#99999999999;', 'a&b']) {
      malformed(`<Delete><Object><Key>${text}</Key></Object></Delete>`);
    }
  });

  test('refuses what is not exactly one well-formed document, and deep nesting', () => {
    for (const xml of ['', '   ', 'text', '<a>', '<a></b>', '<a/><b/>', '<a/><a/>', 'x<a/>', '<a/>x', '<Part>1</Part>', '<a><b></a></b>']) malformed(xml);
    const deep = (n: number): string => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;
    assert.doesNotThrow(() => parse(deep(MAX_DEPTH)));
    malformed(deep(MAX_DEPTH + 2));
    malformed(deep(100_000));
  });
});
