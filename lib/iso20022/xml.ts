/**
 * A small XML writer for the ISO 20022 renders: elements as nested arrays of children, text
 * escaped, attributes in the order given. Renders are built from the record and the ledgers,
 * never from strings a client sent unescaped.
 */

export interface XmlElement {
  name: string;
  attributes?: Readonly<Record<string, string>>;
  children: readonly XmlNode[];
}

/** A child is an element or text; undefined children are left out, so optional fields read naturally. */
export type XmlNode = XmlElement | string;
export type XmlChild = XmlNode | undefined | false;

/** `el('Amt', { Ccy: 'EUR' }, '120.50')` or `el('GrpHdr', el('MsgId', id), …)`. */
export function el(name: string, ...rest: Array<XmlChild | Readonly<Record<string, string>>>): XmlElement {
  const [first, ...others] = rest;
  const hasAttributes = first !== undefined && first !== false && typeof first === 'object' && !('name' in first && 'children' in first);
  const children = (hasAttributes ? others : rest).filter((child): child is XmlNode => child !== undefined && child !== false) as XmlNode[];
  return hasAttributes ? { name, attributes: first as Record<string, string>, children } : { name, children };
}

/** An element only when its value is there: `optional('EndToEndId', view.endToEndId)`. */
export function optional(name: string, value: string | undefined | null): XmlElement | undefined {
  return value === undefined || value === null || value === '' ? undefined : el(name, value);
}

/**
 * Characters XML 1.0 cannot hold even escaped (most C0 controls, lone surrogates, U+FFFE/U+FFFF):
 * a text field (an account owner's name) holding one would make the document unreadable.
 */
// eslint-disable-next-line no-control-regex
const nonXmlCharacters = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes markup, and replaces characters XML cannot hold with U+FFFD. */
export function escapeXml(text: string): string {
  return text.replace(nonXmlCharacters, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function renderNode(node: XmlNode, depth: number): string {
  const indent = '  '.repeat(depth);
  if (typeof node === 'string') return indent + escapeXml(node);
  const attributes = Object.entries(node.attributes ?? {})
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  if (node.children.length === 0) return `${indent}<${node.name}${attributes}/>`;
  const [only] = node.children;
  if (node.children.length === 1 && typeof only === 'string') return `${indent}<${node.name}${attributes}>${escapeXml(only)}</${node.name}>`;
  const inner = node.children.map((child) => renderNode(child, depth + 1)).join('\n');
  return `${indent}<${node.name}${attributes}>\n${inner}\n${indent}</${node.name}>`;
}

/** The whole document with its declaration; `root` is usually `Document` with the message's xmlns. */
export function renderXml(root: XmlElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderNode(root, 0)}\n`;
}

/** `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:<message>">` around the message's root element. */
export function iso20022Document(message: string, body: XmlElement): XmlElement {
  return el('Document', { xmlns: `urn:iso:std:iso:20022:tech:xsd:${message}` }, body);
}
