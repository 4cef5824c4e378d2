/**
 * The payment identifiers every transfer carries, as ISO 20022 defines them. Pure, safe to import anywhere.
 */

/** UUIDv4Identifier, lower case as the schemas require: the Unique End-to-end Transaction Reference. */
export const uetrPattern = /^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$/;

/** The end-to-end id is a Max35Text in every message that carries it. */
export const endToEndIdLengthMax = 35;

/**
 * The SWIFT "X" character set (letters, digits and / - ? : ( ) . , ' + and space), 1 to 35 of them,
 * not starting or ending with a space: what every network and bank on the way can carry unchanged.
 */
export const endToEndIdPattern = /^[A-Za-z0-9/\-?:().,'+](?:[A-Za-z0-9/\-?:().,'+ ]{0,33}[A-Za-z0-9/\-?:().,'+])?$/;

/** The longest identifier a Max35Text holds. */
export const text35Max = 35;

/** BICFIDec2014Identifier: 4 letters or digits for the institution, 2 letters for the country, 2 for the location, and an optional 3 for the branch. */
export const bicPattern = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/;
