import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';

/** The ISO 20022 schemas the project ships (lib/iso20022/xsd). */
export type ShippedSchema = 'pacs.002.001.11' | 'pacs.004.001.10' | 'camt.053.001.08';

const xsdFolder = join(__dirname, '..', '..', 'lib', 'iso20022', 'xsd');

/** Validates a document against a shipped XSD with libxml2 (xmllint compiled to WebAssembly): its errors, none when valid. */
export async function xsdErrors(xml: string, schema: ShippedSchema): Promise<string[]> {
  const xsd = await readFile(join(xsdFolder, `${schema}.xsd`), 'utf8');
  const result = await validateXML({ xml: [{ fileName: 'document.xml', contents: xml }], schema: [{ fileName: `${schema}.xsd`, contents: xsd }] });
  return result.valid ? [] : result.errors.map((error) => error.rawMessage);
}
